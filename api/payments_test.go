package api_test

import (
	"context"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// A paid amount the order answers that would overflow the open balance
// (invoice − paid) does not turn the balance negative: the whole invoice is
// taken as open.
func TestAllocatePaymentOpenBalanceDoesNotOverflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	ctx := context.Background()
	id := e.createOrder("ovf", quoteBody())
	require.NoError(t, e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "inv-ovf", Number: "INV-OVF",
		Amount: money.New(100_00, "EUR"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	live.Store(id, workflows.Details{OrderID: id, Paid: &money.Money{Minor: math.MinInt64 + 1, Currency: "EUR"}})
	_, _, err := e.store.RecordPayment(ctx, store.Payment{BankTransactionID: "txn-ovf", Amount: money.New(100_00, "EUR"),
		Reference: "misc", ReceivedAt: e.now})
	require.NoError(t, err)

	e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/payments/txn-ovf/allocate", token: e.token(order.RoleFinance),
		body: map[string]any{"order_id": id, "reason": "paid in full"}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, order.MatchExact, decode[store.Payment](t, w).MatchKind)
}

// A payment stored before the webhook bounded amounts is never applied.
func TestAllocatePaymentRefusesOutOfRangeAmounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	ctx := context.Background()
	id := e.createOrder("huge", quoteBody())
	require.NoError(t, e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "inv-huge", Number: "INV-HUGE",
		Amount: money.New(100_00, "EUR"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	_, _, err := e.store.RecordPayment(ctx, store.Payment{BankTransactionID: "txn-huge", Amount: money.New(math.MaxInt64, "EUR"),
		Reference: "misc", ReceivedAt: e.now})
	require.NoError(t, err)

	w := e.do(req{method: http.MethodPost, path: "/v1/payments/txn-huge/allocate", token: e.token(order.RoleFinance),
		body: map[string]any{"order_id": id, "reason": "customer says it is theirs"}})
	requireProblem(t, w, http.StatusConflict)
	require.Empty(t, e.calls("SignalWorkflow"))
	p, err := e.store.Payment(ctx, "txn-huge")
	require.NoError(t, err)
	require.Empty(t, p.OrderID)
}
