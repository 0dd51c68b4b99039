package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
)

// The ERP's cash application: statement lines pay off the invoice they name
// and leave the customer's receivables, once each, never beyond what is open.
func TestBankPaymentsPayOffInvoicesAndLeaveTheReceivables(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
	so := e.createSO(t, "ord-c:reserve", "ord-c", line{"PUMP-200", 2})
	r := e.do(t, http.MethodPost, "/v1/invoices", "ord-c:invoice", invoiceBody("ord-c", so, 250000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	number := r.json(t)["number"].(string)
	invoiceID := r.json(t)["invoice_id"].(string)
	require.Equal(t, int64(1200000+250000), e.receivables(t, "ACME-001", "EUR"))

	post := func(txn, reference string, amount money.Money) money.Money {
		t.Helper()
		applied, err := e.sim.PostBankPayment(ctx, txn, reference, amount)
		require.NoError(t, err)
		return applied
	}
	require.Equal(t, eur(100000), post("BTX-1", number, eur(100000)), "a part payment")
	require.Equal(t, int64(1200000+150000), e.receivables(t, "ACME-001", "EUR"))
	require.Equal(t, eur(0), post("BTX-1", number, eur(100000)), "the same statement line again")
	require.Equal(t, int64(1200000+150000), e.receivables(t, "ACME-001", "EUR"))
	require.Equal(t, eur(0), post("BTX-2", "PO-4711 thanks", eur(5000)), "a reference that names no invoice")
	require.Equal(t, money.New(0, "USD"), post("BTX-3", number, money.New(5000, "USD")), "another currency")

	// Voiding the part-paid invoice takes only what is still open off the receivables.
	r = e.do(t, http.MethodPost, "/v1/invoices/"+invoiceID+"/void", "ord-c:void", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	require.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	require.Equal(t, eur(0), post("BTX-4", number, eur(150000)), "a void invoice takes no payment")

	// A second invoice, overpaid: only what is open is applied.
	r = e.do(t, http.MethodPost, "/v1/invoices", "ord-c:invoice-2", invoiceBody("ord-c", so, 80000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	number2 := r.json(t)["number"].(string)
	require.Equal(t, eur(80000), post("BTX-5", number2, eur(90000)))
	require.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	invs, err := e.sim.Invoices(ctx, "ord-c")
	require.NoError(t, err)
	require.Len(t, invs, 2)
	require.Equal(t, eur(100000), invs[0].Paid)
	require.Equal(t, eur(80000), invs[1].Paid)
}
