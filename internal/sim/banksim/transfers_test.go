package banksim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/internal/webhook/webhooktest"
)

// post sends a keyed JSON write to the bank and returns the status and answer.
func (h *harness) post(t *testing.T, path, key string, body any) (int, map[string]any) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+path, bytes.NewReader(data))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

func TestRefundTransfersNeverPayBackMoreThanCameIn(t *testing.T) {
	t.Parallel()
	h := start(t)
	txn, _, err := h.sim.Pay(t.Context(), "INV-000001", eur(100000), "Acme Industrial GmbH")
	require.NoError(t, err)

	refund := map[string]any{"amount": eur(60000), "reference": "Refund RF-000001 / INV-000001", "refund_of": txn}
	code, first := h.post(t, "/v1/transfers", "ord-1/refund/1/transfer", refund)
	require.Equal(t, http.StatusCreated, code, "%v", first)
	require.Regexp(t, `^TRF-[0-9A-F]{16}$`, first["transfer_id"])
	require.Equal(t, "executed", first["status"])
	require.Equal(t, map[string]any{"name": "Acme Industrial GmbH"}, first["to"], "back to the payer")
	code, again := h.post(t, "/v1/transfers", "ord-1/refund/1/transfer", refund)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, first, again, "a retry is the same transfer")

	over := map[string]any{"amount": eur(40001), "refund_of": txn}
	code, a := h.post(t, "/v1/transfers", "ord-1/refund/2/transfer", over)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", a)
	require.Equal(t, "refund_exceeds_payment", a["error"])
	code, a = h.post(t, "/v1/transfers", "ord-1/refund/2/transfer", map[string]any{"amount": eur(40000), "refund_of": txn})
	require.Equal(t, http.StatusCreated, code, "%v", a)

	list, err := h.sim.Transfers(t.Context(), txn)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, eur(60000), list[0].Amount)
	require.Equal(t, txn, list[0].RefundOf)
	code, all := h.do(t, http.MethodGet, "/sim/transfers", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, all["transfers"], 2)

	tests := []struct {
		name  string
		body  map[string]any
		code  int
		field string
	}{
		{"no payee and no payment", map[string]any{"amount": eur(1)}, 400, "to.name"},
		{"no account and no payment", map[string]any{"amount": eur(1), "to": map[string]any{"name": "Acme"}}, 400, "to.account"},
		{"no amount", map[string]any{"refund_of": txn}, 400, "amount.minor"},
		{"an unknown payment", map[string]any{"amount": eur(1), "refund_of": "BTX-NOPE"}, 422, "refund_of"},
		{"another currency", map[string]any{"amount": money.New(1, "USD"), "refund_of": txn}, 422, "amount.currency"},
	}
	for _, tt := range tests {
		code, a := h.post(t, "/v1/transfers", "bad/"+tt.name, tt.body)
		require.Equal(t, tt.code, code, "%s: %v", tt.name, a)
		require.Equal(t, tt.field, a["field"], tt.name)
	}
	code, a = h.post(t, "/v1/transfers", "", map[string]any{"amount": eur(1), "refund_of": txn})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "idempotency_key_required", a["error"])

	// A payee named outright: a refund of a credit balance, say.
	code, a = h.post(t, "/v1/transfers", "ord-9/refund/1/transfer", map[string]any{"amount": eur(500),
		"to": map[string]any{"name": "Globex Corporation", "account": "DE89370400440532013000"}})
	require.Equal(t, http.StatusCreated, code, "%v", a)
}

func TestTransferWhoseAnswerWasLostIsPaidOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	txn, _, err := h.sim.Pay(t.Context(), "INV-000001", eur(100000), "Acme Industrial GmbH")
	require.NoError(t, err)
	h.sim.SetFaults([]banksim.FaultRule{{Route: banksim.RouteTransfersCreate, Mode: faults.ModeDropAnswer, FailNext: 1}})
	body, err := json.Marshal(map[string]any{"amount": eur(100000), "refund_of": txn})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+"/v1/transfers", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", "ord-1/refund/1/transfer")
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the answer was dropped")

	code, a := h.post(t, "/v1/transfers", "ord-1/refund/1/transfer", map[string]any{"amount": eur(100000), "refund_of": txn})
	require.Equal(t, http.StatusCreated, code, "%v", a)
	list, err := h.sim.Transfers(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, list, 1, "paid once")
	require.Equal(t, list[0].TransferID, a["transfer_id"])
}

func TestRemittanceSplitsAPaymentAcrossInvoices(t *testing.T) {
	t.Parallel()
	type line struct {
		txn, reference string
		amount         money.Money
	}
	var lines []line
	rc := webhooktest.NewReceiver(t, secret)
	pool := pgtest.NewPool(t, nil)
	sim := banksim.New(pool, banksim.Options{WebhookURL: rc.URL, WebhookSecret: secret,
		Statement: func(_ context.Context, txn, reference string, amount money.Money) error {
			lines = append(lines, line{txn, reference, amount})
			return nil
		}}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, sim.Migrate(t.Context()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sim.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	parts := []webhook.RemittancePart{{Reference: "INV-000001", Amount: eur(60000)}, {Reference: " INV-000002", Amount: eur(40000)}}
	txn, _, err := sim.Receive(t.Context(), banksim.Incoming{Reference: "INV-000001 INV-000002", Amount: eur(100000),
		Payer: "Acme Industrial GmbH", Remittance: parts})
	require.NoError(t, err)

	events := webhooktest.WaitEvents[webhook.PaymentEvent](t, rc, 1, 20*time.Second)
	require.Equal(t, []webhook.RemittancePart{{Reference: "INV-000001", Amount: eur(60000)}, {Reference: "INV-000002", Amount: eur(40000)}},
		events[0].Remittance)
	require.Equal(t, []line{{txn + ":INV-000001", "INV-000001", eur(60000)}, {txn + ":INV-000002", "INV-000002", eur(40000)}}, lines,
		"one statement line per part, under the part's id")
	ps, err := sim.Payments(t.Context(), "")
	require.NoError(t, err)
	require.Equal(t, events[0].Remittance, ps[0].Remittance)

	// A refund of one part: never more than the part brought in.
	srv := h(t, sim)
	code, a := srv.post(t, "/v1/transfers", "k1", map[string]any{"amount": eur(40001), "refund_of": txn + ":INV-000002"})
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", a)
	require.Equal(t, "refund_exceeds_payment", a["error"])
	code, a = srv.post(t, "/v1/transfers", "k1", map[string]any{"amount": eur(40000), "refund_of": txn + ":INV-000002"})
	require.Equal(t, http.StatusCreated, code, "%v", a)
	code, a = srv.post(t, "/v1/transfers", "k2", map[string]any{"amount": eur(60001), "refund_of": txn}) // the whole, less the part
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", a)
	code, a = srv.post(t, "/v1/transfers", "k3", map[string]any{"amount": eur(1), "refund_of": txn + ":INV-000009"})
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", a)
	require.Equal(t, "unknown_payment", a["error"])
	list, err := sim.Transfers(t.Context(), txn)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, txn+":INV-000002", list[0].RefundOf)

	_, _, err = sim.Receive(t.Context(), banksim.Incoming{Amount: eur(100), Payer: "p",
		Remittance: []webhook.RemittancePart{{Reference: "INV-1", Amount: eur(60)}, {Reference: "INV-2", Amount: eur(30)}}})
	var fe *order.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "remittance", fe.Field)
}

// h serves sim over HTTP for post.
func h(t *testing.T, sim *banksim.Sim) *harness {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &harness{sim: sim, srv: srv}
}
