package erp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func TestReplacementOrder(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, "ord-rs/sales-order", pumps("ord-rs", 2))
	require.NoError(t, err)
	req := erp.ReplacementOrderRequest{OrderID: "ord-rs", CustomerID: "ACME-001", Replaces: so.ID,
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, Reason: "lost in transit"}

	rep, err := c.CreateReplacementOrder(ctx, "ord-rs/replacement/WH-NORTH/1", req)
	require.NoError(t, err)
	assert.NotEqual(t, so.ID, rep.ID)
	assert.Equal(t, []erp.Reservation{{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}}}, rep.Reservations)
	again, err := c.CreateReplacementOrder(ctx, "ord-rs/replacement/WH-NORTH/1", req)
	require.NoError(t, err)
	assert.Equal(t, rep, again)

	_, err = c.CreateInvoice(ctx, "ord-rs/replacement/invoice", erp.InvoiceRequest{OrderID: "ord-rs", SalesOrderID: rep.ID,
		CustomerID: "ACME-001", Amount: eur(1), PaymentTermsDays: 30})
	requireDownstream(t, err, http.StatusConflict, true)

	require.NoError(t, c.CancelSalesOrder(ctx, "ord-rs/replacement/cancel", rep.ID))
	sos, err := sim.SalesOrders(ctx, "ord-rs")
	require.NoError(t, err)
	require.Len(t, sos, 2)
	assert.Equal(t, erpsim.SalesOrderCancelled, sos[1].Status)
	assert.Equal(t, so.ID, sos[1].Replaces)

	over := req
	over.Lines = []order.Line{{SKU: "PUMP-200", Quantity: 3}}
	_, err = c.CreateReplacementOrder(ctx, "ord-rs/replacement/WH-NORTH/2", over)
	requireDownstream(t, err, http.StatusUnprocessableEntity, true)
}
