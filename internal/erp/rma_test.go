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

func TestRMAs(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	invoiced(t, c, "ord-rma")
	sos, err := sim.SalesOrders(ctx, "ord-rma")
	require.NoError(t, err)
	req := erp.RMARequest{OrderID: "ord-rma", SalesOrderID: sos[0].ID, CustomerID: "ACME-001",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}, Reason: "damaged in transit"}

	rma, err := c.CreateRMA(ctx, "ord-rma/rma", req)
	require.NoError(t, err)
	assert.Regexp(t, `^RMA-\d{6}$`, rma.RMAID)
	assert.Equal(t, "authorised", rma.Status)
	again, err := c.CreateRMA(ctx, "ord-rma/rma", req)
	require.NoError(t, err)
	assert.Equal(t, rma, again)

	over := req
	over.Lines = []order.Line{{SKU: "PUMP-200", Quantity: 2}}
	_, err = c.CreateRMA(ctx, "ord-rma/rma-2", over)
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "return_exceeds_delivered")

	got, err := c.ReceiveRMA(ctx, "ord-rma/rma/receive", rma.RMAID)
	require.NoError(t, err)
	assert.Equal(t, "received", got.Status)
	err = c.CancelRMA(ctx, "ord-rma/rma/cancel", rma.RMAID)
	requireDownstream(t, err, http.StatusConflict, true)

	// The second pump: authorised with its answer lost, then undone by key.
	dropAnswers(sim, erpsim.RouteRMAsCreate)
	_, err = c.CreateRMA(ctx, "ord-rma/rma-3", req)
	requireDownstream(t, err, 0, false)
	sim.ClearFaults()
	undo, err := c.CancelRMAByKey(ctx, "ord-rma/rma-3/undo", "ord-rma/rma-3")
	require.NoError(t, err)
	assert.True(t, undo.Found)
	assert.NotEmpty(t, undo.RMAID)
	require.NoError(t, c.CancelRMA(ctx, "ord-rma/rma-3/cancel", undo.RMAID), "cancelling twice is fine")
}
