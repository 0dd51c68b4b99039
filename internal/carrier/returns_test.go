package carrier_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

var returnReq = carrier.ReturnRequest{Reference: "ord-42", RMA: "RMA-000001", Warehouse: "WH-SOUTH",
	Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}}

func TestReturnPickup(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	ctx := t.Context()

	before := time.Now()
	b, err := c.BookReturn(ctx, "ord-42/return/RMA-000001", returnReq)
	require.NoError(t, err)
	require.NotEmpty(t, b.ReturnID)
	require.NotEmpty(t, b.TrackingNumber)
	require.WithinRange(t, b.PickupDate, before.AddDate(0, 0, 1).Add(-time.Second), time.Now().AddDate(0, 0, 1))
	again, err := c.BookReturn(ctx, "ord-42/return/RMA-000001", returnReq)
	require.NoError(t, err)
	require.Equal(t, b, again, "a retried booking is the same return pickup")

	_, err = sim.Return(ctx, b.ReturnID)
	require.NoError(t, err)
	tr, err := c.Track(ctx, b.ReturnID)
	require.NoError(t, err)
	require.Equal(t, carrier.StatusReturned, tr.Status)

	e := downstreamError(t, c.CancelReturn(ctx, "ord-42/return/RMA-000001/cancel", b.ReturnID))
	require.Equal(t, http.StatusConflict, e.Status)
	require.True(t, e.Permanent, "the goods are back")
	e = downstreamError(t, c.CancelReturn(ctx, "k", "RET-NOPE"))
	require.Equal(t, http.StatusNotFound, e.Status)
}

func TestCancelReturnByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 100)
	ctx := t.Context()

	sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteReturnBook, Mode: faults.ModeDropAnswer, ErrorRate: 1}})
	_, err := c.BookReturn(ctx, "ord-42/return/RMA-000002", returnReq)
	require.False(t, downstreamError(t, err).Permanent, "no answer: worth a retry")
	sim.ClearFaults()
	list, err := sim.Shipments(ctx, "ord-42")
	require.NoError(t, err)
	require.Len(t, list, 1)

	u, err := c.CancelReturnByKey(ctx, "ord-42/return/RMA-000002/undo", "ord-42/return/RMA-000002")
	require.NoError(t, err)
	require.Equal(t, carrier.ReturnUndo{Found: true, ReturnID: list[0].ShipmentID}, u)
	require.NoError(t, c.CancelReturn(ctx, "ord-42/return/RMA-000002/cancel", list[0].ShipmentID), "cancelling twice is fine")
	_, err = c.BookReturn(ctx, "", returnReq)
	require.True(t, downstreamError(t, err).Permanent)
}

// A reship is another booking for the same order and warehouse, under a
// key of its own.
func TestReshipIsASecondBooking(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	ctx := t.Context()
	first, err := c.Book(ctx, "ord-42/shipment/WH-SOUTH", req)
	require.NoError(t, err)
	_, err = sim.Exception(ctx, first.ShipmentID, "pallet damaged")
	require.NoError(t, err)
	reship, err := c.Book(ctx, "ord-42/reship/WH-SOUTH/1", req)
	require.NoError(t, err)
	require.NotEqual(t, first.ShipmentID, reship.ShipmentID)
	list, err := sim.Shipments(ctx, "ord-42")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, carriersim.StatusException, list[0].Status)
	require.Equal(t, carriersim.StatusBooked, list[1].Status)
}
