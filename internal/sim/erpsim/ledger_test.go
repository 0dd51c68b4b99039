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

func writeOffBody(invoiceID string, minor int64) map[string]any {
	return map[string]any{"invoice_id": invoiceID, "customer_id": "ACME-001", "amount": eur(minor), "reason": "short payment within tolerance"}
}

func allocationBody(invoiceID string, minor int64) map[string]any {
	return map[string]any{"invoice_id": invoiceID, "customer_id": "ACME-001", "amount": eur(minor), "reason": "overpayment of INV-1"}
}

// A short payment within tolerance: finance writes the rest off, which
// settles the invoice and takes it off the receivables.
func TestWriteOffSettlesAShortPaidInvoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invID, number := e.invoiceTaxed(t, "ord-wo")
	_, err := e.sim.PostBankPayment(ctx, "BTX-1", number, eur(118950))
	require.NoError(t, err)
	require.Equal(t, int64(1200000+50), e.receivables(t, "ACME-001", "EUR"))

	r := e.do(t, http.MethodPost, "/v1/write-offs", "ord-wo/write-off/1", writeOffBody(invID, 60))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "write_off_exceeds_open", r.json(t)["error"])
	assert.Equal(t, "amount", r.json(t)["field"])

	r = e.do(t, http.MethodPost, "/v1/write-offs", "ord-wo/write-off/1", writeOffBody(invID, 50))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	wo := r.json(t)
	assert.Equal(t, "WO-000001", wo["write_off_id"])
	assert.Equal(t, invID, wo["invoice_id"])
	assert.Equal(t, int64(50), minor(t, wo["amount"]))
	assert.Equal(t, int64(0), minor(t, wo["invoice_open_after"]))
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	// A retry is the same write-off; another write-off finds nothing open.
	r = e.do(t, http.MethodPost, "/v1/write-offs", "ord-wo/write-off/1", writeOffBody(invID, 50))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	r = e.do(t, http.MethodPost, "/v1/write-offs", "ord-wo/write-off/2", writeOffBody(invID, 1))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "invoice_settled", r.json(t)["error"])
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"), "written off once")

	invs, err := e.sim.Invoices(ctx, "ord-wo")
	require.NoError(t, err)
	assert.Equal(t, eur(50), invs[0].WrittenOff)
	assert.Equal(t, eur(0), invs[0].Open)
	assert.Equal(t, erpsim.InvoiceOpen, invs[0].Status, "a settled invoice keeps its status")

	// Nothing is left to credit beyond what was paid: the write-off is no money.
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-wo/credit", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "kind": "full"})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(118950), minor(t, r.json(t)["amount"]))
	assert.Equal(t, int64(118950), e.creditBalance(t))
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-wo/credit/undo", map[string]any{"forward_key": "ord-wo/credit"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)

	// The undo by key opens the invoice again; a second undo changes nothing.
	for _, key := range []string{"ord-wo/write-off/1/undo", "ord-wo/write-off/1/undo-again"} {
		r = e.do(t, http.MethodPost, "/v1/write-offs/void-by-key", key, map[string]any{"forward_key": "ord-wo/write-off/1"})
		require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
		assert.JSONEq(t, `{"forward_key":"ord-wo/write-off/1","found":true,"status":"void","write_off_id":"WO-000001"}`, string(r.body))
		assert.Equal(t, int64(1200000+50), e.receivables(t, "ACME-001", "EUR"))
	}
	wos, err := e.sim.WriteOffs(ctx, "ACME-001")
	require.NoError(t, err)
	require.Len(t, wos, 1)
	assert.Equal(t, erpsim.WriteOffVoid, wos[0].Status)
	assert.Equal(t, "short payment within tolerance", wos[0].Reason)
	assert.Equal(t, number, wos[0].InvoiceNumber)

	// Nothing under a key: nothing to undo, and the key is fenced.
	r = e.do(t, http.MethodPost, "/v1/write-offs/void-by-key", "ord-wo/never/undo", map[string]any{"forward_key": "ord-wo/never"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, false, r.json(t)["found"])
	r = e.do(t, http.MethodPost, "/v1/write-offs", "ord-wo/never", writeOffBody(invID, 10))
	assert.Equal(t, http.StatusConflict, r.status)
	r = e.do(t, http.MethodPost, "/v1/write-offs/void-by-key", "ord-wo/invoice/undo", map[string]any{"forward_key": "ord-wo/invoice"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "not_a_write_off_key", r.json(t)["error"])
}

func TestWriteOffRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invID, _ := e.invoiceTaxed(t, "ord-wr")
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no invoice", map[string]any{"customer_id": "ACME-001", "amount": eur(1), "reason": "x"}, "invoice_id"},
		{"no customer", map[string]any{"invoice_id": invID, "amount": eur(1), "reason": "x"}, "customer_id"},
		{"no amount", map[string]any{"invoice_id": invID, "customer_id": "ACME-001", "reason": "x"}, "amount"},
		{"negative amount", map[string]any{"invoice_id": invID, "customer_id": "ACME-001", "amount": eur(-5), "reason": "x"}, "amount"},
		{"no reason", map[string]any{"invoice_id": invID, "customer_id": "ACME-001", "amount": eur(1)}, "reason"},
	} {
		r := e.do(t, http.MethodPost, "/v1/write-offs", "bad/"+tt.name, tt.body)
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.field, r.json(t)["field"], tt.name)
	}
	r := e.do(t, http.MethodPost, "/v1/write-offs", "bad/usd", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "amount": money.New(1, "USD"), "reason": "x"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "amount", r.json(t)["field"])
	body := writeOffBody(invID, 1)
	body["customer_id"] = "GLOBEX-002"
	r = e.do(t, http.MethodPost, "/v1/write-offs", "bad/customer", body)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "customer_mismatch", r.json(t)["error"])
	r = e.do(t, http.MethodPost, "/v1/write-offs", "bad/unknown", writeOffBody("nope", 1))
	assert.Equal(t, http.StatusNotFound, r.status)

	r = e.do(t, http.MethodPost, "/v1/write-offs", "ord-wr/write-off", writeOffBody(invID, 100))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	// Voiding the invoice voids its write-offs: there is no debt left to give up.
	r = e.do(t, http.MethodPost, "/v1/invoices/"+invID+"/void", "ord-wr/void", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	r = e.do(t, http.MethodPost, "/v1/write-offs", "bad/void", writeOffBody(invID, 1))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "invoice_void", r.json(t)["error"])
	r = e.do(t, http.MethodPost, "/v1/write-offs/void-by-key", "ord-wr/write-off/undo", map[string]any{"forward_key": "ord-wr/write-off"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"), "void with the invoice already")
	r = e.do(t, http.MethodGet, "/sim/write-offs?customer_id=ACME-001", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "void", r.json(t)["write_offs"].([]any)[0].(map[string]any)["status"])
}

// An overpayment of one invoice is the customer's credit balance; finance
// applies it to another invoice.
func TestCreditAllocationAppliesTheBalanceToAnotherInvoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, first := e.invoiceTaxed(t, "ord-a1")
	secondID, _ := e.invoiceTaxed(t, "ord-a2")
	_, err := e.sim.PostBankPayment(ctx, "BTX-1", first, eur(119000+30000))
	require.NoError(t, err)
	require.Equal(t, int64(30000), e.creditBalance(t))
	require.Equal(t, int64(1200000+119000), e.receivables(t, "ACME-001", "EUR"))

	r := e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-a2/allocation/1", allocationBody(secondID, 30001))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "allocation_exceeds_credit_balance", r.json(t)["error"])
	assert.Equal(t, "amount", r.json(t)["field"])
	assert.Equal(t, int64(1200000+119000), e.receivables(t, "ACME-001", "EUR"), "a refusal changes nothing")

	r = e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-a2/allocation/1", allocationBody(secondID, 30000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	a := r.json(t)
	assert.Equal(t, "CA-000001", a["allocation_id"])
	assert.Equal(t, int64(30000), minor(t, a["applied"]))
	assert.Equal(t, int64(0), minor(t, a["credit_balance_after"]))
	assert.Equal(t, int64(89000), minor(t, a["invoice_open_after"]))
	assert.Equal(t, int64(0), e.creditBalance(t))
	assert.Equal(t, int64(1200000+89000), e.receivables(t, "ACME-001", "EUR"))
	r = e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-a2/allocation/1", allocationBody(secondID, 30000))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	assert.Equal(t, int64(0), e.creditBalance(t), "applied once")

	// The rest is paid exactly; a later payment goes to the balance.
	_, err = e.sim.PostBankPayment(ctx, "BTX-2", "INV-000002", eur(89000))
	require.NoError(t, err)
	require.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	// Undone: the invoice is open again by the allocation, the balance has it back.
	r = e.do(t, http.MethodPost, "/v1/credit-allocations/void-by-key", "ord-a2/allocation/1/undo",
		map[string]any{"forward_key": "ord-a2/allocation/1"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.JSONEq(t, `{"forward_key":"ord-a2/allocation/1","found":true,"status":"void","allocation_id":"CA-000001"}`, string(r.body))
	assert.Equal(t, int64(30000), e.creditBalance(t))
	assert.Equal(t, int64(1200000+30000), e.receivables(t, "ACME-001", "EUR"))

	list, err := e.sim.CreditAllocations(ctx, "ACME-001")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, erpsim.AllocationVoid, list[0].Status)
	assert.Equal(t, eur(30000), list[0].Amount)
	r = e.do(t, http.MethodGet, "/sim/credit-allocations", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Len(t, r.json(t)["credit_allocations"], 1)
}

func TestCreditAllocationRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invID, number := e.invoiceTaxed(t, "ord-ar")
	_, err := e.sim.PostBankPayment(ctx, "BTX-1", number, eur(200000)) // 81 000 over
	require.NoError(t, err)
	otherID, _ := e.invoiceTaxed(t, "ord-ar2")

	r := e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-ar/allocation", allocationBody(invID, 1))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "invoice_settled", r.json(t)["error"])

	r = e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-ar2/allocation", allocationBody(otherID, 2000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	r = e.do(t, http.MethodPost, "/v1/credit-allocations", "ord-ar2/allocation-2", allocationBody(otherID, 119000))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "allocation_exceeds_open", r.json(t)["error"])

	// A credit note beyond what is open hands the allocated money back to
	// the balance; the allocation cannot then be voided as well.
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-ar2/credit", map[string]any{
		"invoice_id": otherID, "customer_id": "ACME-001", "kind": "full"})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(2000), minor(t, r.json(t)["to_credit_balance"]))
	r = e.do(t, http.MethodPost, "/v1/credit-allocations/void-by-key", "ord-ar2/allocation/undo",
		map[string]any{"forward_key": "ord-ar2/allocation"})
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "allocation_credited", r.json(t)["error"])
	assert.Equal(t, int64(81000), e.creditBalance(t))

	// Voiding the invoice (after its credit note) gives the balance back
	// what was allocated to it and voids the allocation.
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-ar2/credit/undo", map[string]any{"forward_key": "ord-ar2/credit"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(79000), e.creditBalance(t))
	r = e.do(t, http.MethodPost, "/v1/invoices/"+otherID+"/void", "ord-ar2/void", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(81000), e.creditBalance(t))
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	r = e.do(t, http.MethodPost, "/v1/credit-allocations/void-by-key", "ord-ar2/allocation/undo",
		map[string]any{"forward_key": "ord-ar2/allocation"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(81000), e.creditBalance(t), "void with its invoice already")
}
