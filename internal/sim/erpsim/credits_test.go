package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// invoiceTaxed raises a 119 000 invoice (100 000 net, 19 000 tax) on a new
// sales order of two pumps for ACME-001 and returns its id and number.
func (e *env) invoiceTaxed(t *testing.T, orderID string) (id, number string) {
	t.Helper()
	so := e.createSO(t, orderID+"/sales-order", orderID, line{"PUMP-200", 2})
	body := invoiceBody(orderID, so, 119000)
	body["net"], body["tax"] = eur(100000), eur(19000)
	r := e.do(t, http.MethodPost, "/v1/invoices", orderID+"/invoice", body)
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	return r.json(t)["invoice_id"].(string), r.json(t)["number"].(string)
}

// creditBalance is ACME-001's credit balance in EUR, as the exposure answers it.
func (e *env) creditBalance(t *testing.T) int64 {
	t.Helper()
	r := e.do(t, http.MethodGet, "/v1/customers/ACME-001/exposure?currency=EUR", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	return int64(r.json(t)["credit_balance"].(map[string]any)["minor"].(float64))
}

func minor(t *testing.T, v any) int64 {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v is no amount", v)
	return int64(m["minor"].(float64))
}

func TestCreditNotesLowerTheReceivables(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invID, number := e.invoiceTaxed(t, "ord-cn")
	require.Equal(t, int64(1200000+119000), e.receivables(t, "ACME-001", "EUR"))
	credit := func(key string, body map[string]any) reply {
		t.Helper()
		body["invoice_id"], body["customer_id"] = invID, "ACME-001"
		return e.do(t, http.MethodPost, "/v1/credit-notes", key, body)
	}

	// By amount: the tax is the invoice's share of it.
	r := credit("ord-cn/credit-1", map[string]any{"kind": "amount", "amount": eur(11900), "reason": "late delivery"})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	cn1 := r.json(t)
	assert.Equal(t, "CN-000001", cn1["number"])
	assert.Equal(t, number, cn1["invoice_number"])
	assert.Equal(t, int64(11900), minor(t, cn1["amount"]))
	assert.Equal(t, int64(10000), minor(t, cn1["net"]))
	assert.Equal(t, int64(1900), minor(t, cn1["tax"]))
	assert.Equal(t, int64(11900), minor(t, cn1["applied_to_invoice"]))
	assert.Equal(t, int64(0), minor(t, cn1["to_credit_balance"]))
	assert.Equal(t, int64(1200000+119000-11900), e.receivables(t, "ACME-001", "EUR"))

	// The same key and body is the same credit note; another body is refused.
	r = credit("ord-cn/credit-1", map[string]any{"kind": "amount", "amount": eur(11900), "reason": "late delivery"})
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	assert.Equal(t, cn1["credit_note_id"], r.json(t)["credit_note_id"])
	r = credit("ord-cn/credit-1", map[string]any{"kind": "amount", "amount": eur(100), "reason": "late delivery"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, "idempotency_key_reused", r.json(t)["error"])
	assert.Equal(t, int64(1200000+119000-11900), e.receivables(t, "ACME-001", "EUR"), "credited once")

	t.Run("by lines: no more of a SKU than the sales order holds", func(t *testing.T) {
		r := credit("ord-cn/credit-2", map[string]any{"kind": "lines", "lines": []map[string]any{
			{"sku": "PUMP-200", "quantity": 1, "amount": eur(59500)}}})
		require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
		assert.Equal(t, int64(59500), minor(t, r.json(t)["amount"]))
		assert.Equal(t, int64(9500), minor(t, r.json(t)["tax"]))

		r = credit("ord-cn/credit-3", map[string]any{"kind": "lines", "lines": []map[string]any{
			{"sku": "PUMP-200", "quantity": 2, "amount": eur(100)}}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
		assert.Equal(t, "credit_exceeds_quantity", r.json(t)["error"])
		assert.Equal(t, "PUMP-200", r.json(t)["sku"])

		r = credit("ord-cn/credit-3", map[string]any{"kind": "lines", "lines": []map[string]any{
			{"sku": "MOTOR-7K", "quantity": 1, "amount": eur(100)}}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
		assert.Equal(t, "sku_not_invoiced", r.json(t)["error"])
	})

	t.Run("never more than the invoice", func(t *testing.T) {
		r := credit("ord-cn/credit-4", map[string]any{"kind": "amount", "amount": eur(119000)})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
		assert.Equal(t, "credit_exceeds_invoice", r.json(t)["error"])
		r = credit("ord-cn/credit-4", map[string]any{"kind": "amount", "amount": money.New(100, "USD")})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
		assert.Equal(t, "currency_mismatch", r.json(t)["error"])
	})

	t.Run("in full: what is left, and the tax adds up", func(t *testing.T) {
		r := credit("ord-cn/credit-5", map[string]any{"kind": "full"})
		require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
		assert.Equal(t, int64(119000-11900-59500), minor(t, r.json(t)["amount"]))
		assert.Equal(t, int64(19000-1900-9500), minor(t, r.json(t)["tax"]))
		assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

		r = credit("ord-cn/credit-6", map[string]any{"kind": "full"})
		require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
		assert.Equal(t, "nothing_to_credit", r.json(t)["error"])
	})

	t.Run("a credited invoice cannot be voided", func(t *testing.T) {
		r := e.do(t, http.MethodPost, "/v1/invoices/"+invID+"/void", "ord-cn/void", nil)
		require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
		assert.Equal(t, "invoice_credited", r.json(t)["error"])
	})

	t.Run("voiding a credit note opens the invoice again", func(t *testing.T) {
		id := cn1["credit_note_id"].(string)
		r := e.do(t, http.MethodPost, "/v1/credit-notes/"+id+"/void", "ord-cn/credit-1/void", nil)
		require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
		assert.JSONEq(t, `{"credit_note_id":"`+id+`","status":"void"}`, string(r.body))
		assert.Equal(t, int64(1200000+11900), e.receivables(t, "ACME-001", "EUR"))
		r = e.do(t, http.MethodPost, "/v1/credit-notes/"+id+"/void", "ord-cn/credit-1/void-again", nil)
		require.Equal(t, http.StatusOK, r.status, "voiding twice is fine")
		assert.Equal(t, int64(1200000+11900), e.receivables(t, "ACME-001", "EUR"))
	})

	cns, err := e.sim.CreditNotes(ctx, "ord-cn")
	require.NoError(t, err)
	require.Len(t, cns, 3)
	assert.Equal(t, erpsim.CreditNoteVoid, cns[0].Status)
	assert.Equal(t, []erpsim.CreditLine{{SKU: "PUMP-200", Quantity: 1, Amount: eur(59500)}}, cns[1].Lines)
	invs, err := e.sim.Invoices(ctx, "ord-cn")
	require.NoError(t, err)
	assert.Equal(t, eur(119000-11900), invs[0].Credited)
}

func TestCreditNoteOnAPaidInvoiceGoesToTheCreditBalance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invID, number := e.invoiceTaxed(t, "ord-paid")
	applied, err := e.sim.PostBankPayment(ctx, "BTX-1", number, eur(100000))
	require.NoError(t, err)
	require.Equal(t, eur(100000), applied)
	require.Equal(t, int64(1200000+19000), e.receivables(t, "ACME-001", "EUR"))

	r := e.do(t, http.MethodPost, "/v1/credit-notes", "ord-paid/credit", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "kind": "amount", "amount": eur(50000)})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(19000), minor(t, r.json(t)["applied_to_invoice"]), "what was still open")
	assert.Equal(t, int64(31000), minor(t, r.json(t)["to_credit_balance"]), "the rest was paid: it is the customer's")
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	assert.Equal(t, int64(31000), e.creditBalance(t))

	// A payment on the fully settled invoice is an overpayment: the customer's too.
	applied, err = e.sim.PostBankPayment(ctx, "BTX-2", number, eur(500))
	require.NoError(t, err)
	assert.Equal(t, eur(0), applied)
	assert.Equal(t, int64(31500), e.creditBalance(t))

	// Voiding the credit note takes it back from the balance and opens the invoice.
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-paid/credit/undo", map[string]any{"forward_key": "ord-paid/credit"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, true, r.json(t)["found"])
	assert.Equal(t, "void", r.json(t)["status"])
	assert.Equal(t, int64(500), e.creditBalance(t))
	assert.Equal(t, int64(1200000+19000), e.receivables(t, "ACME-001", "EUR"))

	bals, err := e.sim.CreditBalances(ctx, "ACME-001")
	require.NoError(t, err)
	assert.Equal(t, []erpsim.CreditBalance{{CustomerID: "ACME-001", Balance: eur(500)}}, bals)
}

func TestVoidingAPaidInvoiceKeepsThePaymentAsCreditBalance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invID, number := e.invoiceTaxed(t, "ord-v")
	_, err := e.sim.PostBankPayment(context.Background(), "BTX-1", number, eur(40000))
	require.NoError(t, err)
	r := e.do(t, http.MethodPost, "/v1/invoices/"+invID+"/void", "ord-v/void", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	assert.Equal(t, int64(40000), e.creditBalance(t))

	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-v/credit", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "kind": "full"})
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "invoice_void", r.json(t)["error"])
}

func TestCreditNoteByKeyUndo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invID, _ := e.invoiceTaxed(t, "ord-k")
	body := map[string]any{"invoice_id": invID, "customer_id": "ACME-001", "kind": "full"}

	dropNext(e, erpsim.RouteCreditNotesCreate)
	e.lost(t, "/v1/credit-notes", "ord-k/credit", body)
	require.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"), "the credit note was issued before the answer was lost")
	r := e.do(t, http.MethodPost, "/v1/credit-notes", "ord-k/credit", body)
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"), "the retry is answered, not credited again")
	id := r.json(t)["credit_note_id"].(string)

	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-k/credit/undo", map[string]any{"forward_key": "ord-k/credit"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.JSONEq(t, `{"forward_key":"ord-k/credit","found":true,"status":"void","credit_note_id":"`+id+`"}`, string(r.body))
	assert.Equal(t, int64(1200000+119000), e.receivables(t, "ACME-001", "EUR"))

	// Nothing under a key: nothing to undo, and the key is fenced.
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-k/never/undo", map[string]any{"forward_key": "ord-k/never"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, false, r.json(t)["found"])
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-k/never", body)
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "undone_by_key", r.json(t)["error"])

	// A key that made something else is not a credit note's.
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-k/invoice/undo", map[string]any{"forward_key": "ord-k/invoice"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "not_a_credit_note_key", r.json(t)["error"])
}

func TestCreditNoteRequestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no invoice", map[string]any{"customer_id": "ACME-001", "kind": "full"}, "invoice_id"},
		{"unknown kind", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "half"}, "kind"},
		{"full with an amount", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "full", "amount": eur(1)}, "kind"},
		{"amount without one", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "amount"}, "amount"},
		{"negative amount", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "amount", "amount": eur(-1)}, "amount"},
		{"lines without lines", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "lines"}, "lines"},
		{"a line of no quantity", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "lines",
			"lines": []map[string]any{{"sku": "PUMP-200", "quantity": 0, "amount": eur(1)}}}, "lines[0].quantity"},
		{"lines in two currencies", map[string]any{"invoice_id": "x", "customer_id": "ACME-001", "kind": "lines",
			"lines": []map[string]any{{"sku": "PUMP-200", "quantity": 1, "amount": eur(1)}, {"sku": "NUT-M8", "quantity": 1, "amount": money.New(1, "USD")}}}, "lines[1].amount"},
	}
	for _, tt := range tests {
		r := e.do(t, http.MethodPost, "/v1/credit-notes", "bad/"+tt.name, tt.body)
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.field, r.json(t)["field"], tt.name)
	}
	r := e.do(t, http.MethodPost, "/v1/credit-notes", "bad/unknown", map[string]any{"invoice_id": "nope", "customer_id": "ACME-001", "kind": "full"})
	assert.Equal(t, http.StatusNotFound, r.status)
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "", map[string]any{"invoice_id": "nope", "customer_id": "ACME-001", "kind": "full"})
	assert.Equal(t, http.StatusBadRequest, r.status, "no key")
}
