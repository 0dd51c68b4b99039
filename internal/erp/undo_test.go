package erp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

// dropAnswers makes every call of route commit and lose its answer, until
// the faults are cleared. Every, not the next one: Go's transport resends a
// keyed request once by itself when a reused connection dies, and that
// resend's answer has to be lost too.
func dropAnswers(sim *erpsim.Sim, route string) {
	sim.SetFaults([]erpsim.FaultRule{{Route: route, Mode: faults.ModeDropAnswer, ErrorRate: 1}})
}

func reservedPumps(t *testing.T, sim *erpsim.Sim) int64 {
	t.Helper()
	stock, err := sim.Stock(context.Background())
	require.NoError(t, err)
	var n int64
	for _, st := range stock {
		if st.SKU == "PUMP-200" {
			n += st.Reserved
		}
	}
	return n
}

func TestCancelSalesOrderByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()

	dropAnswers(sim, erpsim.RouteSalesOrdersCreate)
	_, err := c.CreateSalesOrder(ctx, "ord-1/sales-order", pumps("ord-1", 30))
	requireDownstream(t, err, 0, false) // no answer: transient, worth a retry
	sim.ClearFaults()
	sos, err := sim.SalesOrders(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, sos, 1, "the ERP reserved before the answer was lost")
	require.Equal(t, int64(30), reservedPumps(t, sim))

	undo, err := c.CancelSalesOrderByKey(ctx, "ord-1/sales-order/undo", "ord-1/sales-order")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, SalesOrderID: sos[0].ID}, undo)
	assert.Zero(t, reservedPumps(t, sim), "the reservation is released")

	again, err := c.CancelSalesOrderByKey(ctx, "ord-1/sales-order/undo", "ord-1/sales-order")
	require.NoError(t, err)
	assert.Equal(t, undo, again, "a retried undo gets the same answer")

	t.Run("a key never used is nothing to undo", func(t *testing.T) {
		undo, err := c.CancelSalesOrderByKey(ctx, "ord-2/sales-order/undo", "ord-2/sales-order")
		require.NoError(t, err)
		assert.Equal(t, erp.Undo{}, undo)
		// A create that comes after its undo is refused for good.
		_, err = c.CreateSalesOrder(ctx, "ord-2/sales-order", pumps("ord-2", 1))
		de := requireDownstream(t, err, http.StatusConflict, true)
		assert.Contains(t, de.Detail, "undone_by_key")
		assert.Zero(t, reservedPumps(t, sim))
	})

	t.Run("refused before sending without both keys", func(t *testing.T) {
		before, err := sim.Calls(ctx)
		require.NoError(t, err)
		for _, keys := range [][2]string{{"", "ord-1/sales-order"}, {"u", ""}, {"same", "same"}} {
			_, err := c.CancelSalesOrderByKey(ctx, keys[0], keys[1])
			requireDownstream(t, err, 0, true)
			_, err = c.VoidInvoiceByKey(ctx, keys[0], keys[1])
			requireDownstream(t, err, 0, true)
		}
		after, err := sim.Calls(ctx)
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing reached the ERP")
	})
}

func TestVoidInvoiceByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, "ord-3/sales-order", pumps("ord-3", 2))
	require.NoError(t, err)

	dropAnswers(sim, erpsim.RouteInvoicesCreate)
	_, err = c.CreateInvoice(ctx, "ord-3/invoice", erp.InvoiceRequest{OrderID: "ord-3", SalesOrderID: so.ID,
		CustomerID: "ACME-001", Amount: money.New(242500, "EUR"), PaymentTermsDays: 30})
	requireDownstream(t, err, 0, false)
	sim.ClearFaults()
	open, err := c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	require.Equal(t, money.New(1442500, "EUR"), open, "the ERP invoiced before the answer was lost")

	// The sales order cannot be cancelled while its invoice stands.
	_, err = c.CancelSalesOrderByKey(ctx, "ord-3/sales-order/undo", "ord-3/sales-order")
	requireDownstream(t, err, http.StatusConflict, true)

	invs, err := sim.Invoices(ctx, "ord-3")
	require.NoError(t, err)
	require.Len(t, invs, 1)
	undo, err := c.VoidInvoiceByKey(ctx, "ord-3/invoice/undo", "ord-3/invoice")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, InvoiceID: invs[0].ID}, undo)
	open, err = c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, money.New(1200000, "EUR"), open)

	// Compensation goes on: the sales order is cancelled by its key too.
	cancelled, err := c.CancelSalesOrderByKey(ctx, "ord-3/sales-order/undo", "ord-3/sales-order")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, SalesOrderID: so.ID}, cancelled)

	never, err := c.VoidInvoiceByKey(ctx, "ord-4/invoice/undo", "ord-4/invoice")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{}, never)
}
