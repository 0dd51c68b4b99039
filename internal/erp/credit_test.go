package erp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// invoiced reserves two pumps for orderID and invoices them at 119 000
// gross (19 000 tax).
func invoiced(t *testing.T, c *erp.Client, orderID string) order.Invoice {
	t.Helper()
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, orderID+"/sales-order", pumps(orderID, 2))
	require.NoError(t, err)
	inv, err := c.CreateInvoice(ctx, orderID+"/invoice", erp.InvoiceRequest{OrderID: orderID, SalesOrderID: so.ID,
		CustomerID: "ACME-001", Amount: eur(119000), Net: ptr(eur(100000)), Tax: ptr(eur(19000)), PaymentTermsDays: 30})
	require.NoError(t, err)
	return inv
}

func TestCreditNotes(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	inv := invoiced(t, c, "ord-cn")

	req := erp.CreditNoteRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001", Kind: erp.CreditLines,
		Lines: []erp.CreditLine{{SKU: "PUMP-200", Quantity: 1, Amount: eur(59500)}}, Reason: "one pump returned"}
	cn, err := c.IssueCreditNote(ctx, "ord-cn/credit-1", req)
	require.NoError(t, err)
	assert.Regexp(t, `^CN-\d{6}$`, cn.Number)
	assert.Equal(t, inv.Number, cn.InvoiceNumber)
	assert.Equal(t, eur(59500), cn.Amount)
	assert.Equal(t, eur(50000), cn.Net)
	assert.Equal(t, eur(9500), cn.Tax)
	assert.Equal(t, eur(59500), cn.AppliedToInvoice)
	assert.Equal(t, eur(0), cn.ToCreditBalance)
	again, err := c.IssueCreditNote(ctx, "ord-cn/credit-1", req)
	require.NoError(t, err)
	assert.Equal(t, cn, again, "a retry is the same credit note")
	open, err := c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(1200000+119000-59500), open, "credited once")

	_, err = c.IssueCreditNote(ctx, "ord-cn/credit-2", erp.CreditNoteRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001",
		Kind: erp.CreditAmount, Amount: eur(60000)})
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "credit_exceeds_invoice")

	full, err := c.IssueCreditNote(ctx, "ord-cn/credit-3", erp.CreditNoteRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001", Kind: erp.CreditFull})
	require.NoError(t, err)
	assert.Equal(t, eur(59500), full.Amount)
	assert.Equal(t, eur(9500), full.Tax)

	require.NoError(t, c.VoidCreditNote(ctx, "ord-cn/credit-1/void", cn.CreditNoteID))
	require.NoError(t, c.VoidCreditNote(ctx, "ord-cn/credit-1/void", cn.CreditNoteID))
	open, err = c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(1200000+59500), open)

	err = c.VoidCreditNote(ctx, "ghost/void", "no-such-credit-note")
	requireDownstream(t, err, http.StatusNotFound, true)

	cns, err := sim.CreditNotes(ctx, "ord-cn")
	require.NoError(t, err)
	require.Len(t, cns, 2)
	assert.Equal(t, erpsim.CreditNoteVoid, cns[0].Status)
	assert.Equal(t, erpsim.CreditNoteIssued, cns[1].Status)
}

func TestVoidCreditNoteByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	inv := invoiced(t, c, "ord-lost")

	dropAnswers(sim, erpsim.RouteCreditNotesCreate)
	_, err := c.IssueCreditNote(ctx, "ord-lost/credit", erp.CreditNoteRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001", Kind: erp.CreditFull})
	requireDownstream(t, err, 0, false)
	sim.ClearFaults()
	cns, err := sim.CreditNotes(ctx, "ord-lost")
	require.NoError(t, err)
	require.Len(t, cns, 1, "issued before the answer was lost")

	undo, err := c.VoidCreditNoteByKey(ctx, "ord-lost/credit/undo", "ord-lost/credit")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, CreditNoteID: cns[0].ID}, undo)
	nothing, err := c.VoidCreditNoteByKey(ctx, "ord-lost/other/undo", "ord-lost/other")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{}, nothing)

	_, err = c.IssueCreditNote(ctx, "", erp.CreditNoteRequest{})
	requireDownstream(t, err, 0, true)
}
