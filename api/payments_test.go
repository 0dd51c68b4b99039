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

// An order invoiced per shipment has several invoices: finance names the
// one an unmatched payment pays, or it goes to the oldest with money open;
// an invoice of another order is refused.
func TestAllocatePaymentToOneOfSeveralInvoices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	ctx := context.Background()
	id := e.createOrder("per-shipment", quoteBody())
	other := e.createOrder("another", quoteBody())
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	for _, inv := range []struct {
		order, number string
		amount        int64
	}{{id, "INV-PS-1", 60_00}, {id, "INV-PS-2", 40_00}, {other, "INV-OTHER", 10_00}} {
		require.NoError(t, e.store.SaveInvoice(ctx, inv.order, order.Invoice{InvoiceID: "id-" + inv.number, Number: inv.number,
			Amount: eur(inv.amount), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	}
	live.Store(id, workflows.Details{OrderID: id, Paid: &money.Money{Minor: 60_00, Currency: "EUR"},
		Balances: []workflows.InvoiceBalance{{Number: "INV-PS-1", Open: eur(0)}, {Number: "INV-PS-2", Open: eur(40_00)}}})
	for _, txn := range []string{"txn-a", "txn-b"} {
		_, _, err := e.store.RecordPayment(ctx, store.Payment{BankTransactionID: txn, Amount: eur(40_00), Reference: "misc", ReceivedAt: e.now})
		require.NoError(t, err)
	}
	allocate := func(txn string, body map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/payments/" + txn + "/allocate", token: e.token(order.RoleFinance), body: body})
	}

	p := requireProblem(t, allocate("txn-a", map[string]any{"order_id": id, "reason": "x", "invoice_number": "INV-OTHER"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"invoice_number"}, p.fields())

	e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.MatchedBy(func(s workflows.PaymentSignal) bool {
		return s.Reference == "INV-PS-2"
	})).Return(nil).Once()
	w := allocate("txn-a", map[string]any{"order_id": id, "reason": "remittance advice says the second delivery"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decode[store.Payment](t, w)
	require.Equal(t, "INV-PS-2", got.InvoiceNumber, "the oldest invoice with money open")
	require.Equal(t, order.MatchExact, got.MatchKind)

	// Named: the first invoice is paid, so nothing of it is open; the second is.
	p = requireProblem(t, allocate("txn-b", map[string]any{"order_id": id, "reason": "for the first", "invoice_number": "INV-PS-1"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"invoice_number"}, p.fields())
	e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.MatchedBy(func(s workflows.PaymentSignal) bool {
		return s.Reference == "INV-PS-2"
	})).Return(nil).Once()
	w = allocate("txn-b", map[string]any{"order_id": id, "reason": "remittance names the second", "invoice_number": "INV-PS-2"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "INV-PS-2", decode[store.Payment](t, w).InvoiceNumber)
}
