package bank_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/bank"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

func start(t *testing.T) (*banksim.Sim, *bank.Client) {
	t.Helper()
	sim := banksim.New(pgtest.NewPool(t, nil), banksim.Options{}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, sim.Migrate(t.Context()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, bank.New(srv.URL, downstream.NewBreaker(bank.System,
		downstream.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Hour}, nil))
}

func downstreamError(t *testing.T, err error) *downstream.Error {
	t.Helper()
	require.Error(t, err)
	var e *downstream.Error
	require.True(t, errors.As(err, &e), "%T %v is not a *downstream.Error", err, err)
	require.Equal(t, bank.System, e.System)
	return e
}

func TestRefundTransfer(t *testing.T) {
	t.Parallel()
	sim, c := start(t)
	ctx := t.Context()
	txn, _, err := sim.Pay(ctx, "INV-000001", money.New(100000, "EUR"), "Acme Industrial GmbH")
	require.NoError(t, err)

	req := bank.TransferRequest{Amount: money.New(60000, "EUR"), Reference: "Refund RF-000001", RefundOf: txn}
	tr, err := c.Transfer(ctx, "ord-1/refund/1/transfer", req)
	require.NoError(t, err)
	require.NotEmpty(t, tr.TransferID)
	require.Equal(t, "executed", tr.Status)
	require.Equal(t, bank.Payee{Name: "Acme Industrial GmbH"}, tr.To, "back to the payer")
	require.Equal(t, txn, tr.RefundOf)
	again, err := c.Transfer(ctx, "ord-1/refund/1/transfer", req)
	require.NoError(t, err)
	require.Equal(t, tr, again)

	// More than the payment brought in, less what was paid back: refused for good.
	_, err = c.Transfer(ctx, "ord-1/refund/2/transfer", bank.TransferRequest{Amount: money.New(40001, "EUR"), RefundOf: txn})
	e := downstreamError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, e.Status)
	require.True(t, e.Permanent)
	require.Contains(t, e.Detail, "refund_exceeds_payment")

	_, err = c.Transfer(ctx, "", req)
	require.True(t, downstreamError(t, err).Permanent)

	list, err := sim.Transfers(ctx, txn)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestTransferRetriedAfterALostAnswerPaysOnce(t *testing.T) {
	t.Parallel()
	sim, c := start(t)
	ctx := t.Context()
	txn, _, err := sim.Pay(ctx, "INV-000001", money.New(100000, "EUR"), "Acme Industrial GmbH")
	require.NoError(t, err)
	req := bank.TransferRequest{Amount: money.New(100000, "EUR"), RefundOf: txn}

	sim.SetFaults([]banksim.FaultRule{{Route: banksim.RouteTransfersCreate, Mode: faults.ModeDropAnswer, ErrorRate: 1}})
	_, err = c.Transfer(ctx, "ord-1/refund/1/transfer", req)
	require.False(t, downstreamError(t, err).Permanent, "no answer: worth a retry")
	sim.ClearFaults()
	tr, err := c.Transfer(ctx, "ord-1/refund/1/transfer", req)
	require.NoError(t, err)
	list, err := sim.Transfers(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 1, "paid once")
	require.Equal(t, list[0].TransferID, tr.TransferID)
}
