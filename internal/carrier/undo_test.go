package carrier_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

func TestCancelByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 100)
	ctx := t.Context()

	// Every answer lost while the rule stands, including the resend Go's
	// transport makes by itself on a reused connection.
	sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteBook, Mode: faults.ModeDropAnswer, ErrorRate: 1}})
	_, err := c.Book(ctx, "ord-42/shipment/WH-SOUTH", req)
	e := downstreamError(t, err)
	assert.Zero(t, e.Status, "no answer")
	assert.False(t, e.Permanent)
	sim.ClearFaults()
	list, err := sim.Shipments(ctx, "ord-42")
	require.NoError(t, err)
	require.Len(t, list, 1, "booked before the answer was lost")

	undo, err := c.CancelByKey(ctx, "ord-42/shipment/WH-SOUTH/undo", "ord-42/shipment/WH-SOUTH")
	require.NoError(t, err)
	assert.Equal(t, carrier.Undo{Found: true, ShipmentID: list[0].ShipmentID}, undo)
	again, err := c.CancelByKey(ctx, "ord-42/shipment/WH-SOUTH/undo", "ord-42/shipment/WH-SOUTH")
	require.NoError(t, err)
	assert.Equal(t, undo, again)
	tr, err := c.Track(ctx, list[0].ShipmentID)
	require.NoError(t, err)
	assert.Equal(t, carrier.StatusCancelled, tr.Status)

	t.Run("a key never used is nothing to undo", func(t *testing.T) {
		undo, err := c.CancelByKey(ctx, "ord-43/shipment/WH-SOUTH/undo", "ord-43/shipment/WH-SOUTH")
		require.NoError(t, err)
		assert.Equal(t, carrier.Undo{}, undo)
		_, err = c.Book(ctx, "ord-43/shipment/WH-SOUTH", carrier.BookingRequest{Reference: "ord-43", Warehouse: "WH-SOUTH", Lines: req.Lines})
		e := downstreamError(t, err)
		assert.Equal(t, http.StatusConflict, e.Status, "a booking after its undo is refused for good")
		assert.True(t, e.Permanent)
	})

	t.Run("refused before sending without both keys", func(t *testing.T) {
		for _, keys := range [][2]string{{"", "ord-42/shipment/WH-SOUTH"}, {"u", ""}, {"same", "same"}} {
			_, err := c.CancelByKey(ctx, keys[0], keys[1])
			e := downstreamError(t, err)
			assert.True(t, e.Permanent)
			assert.Zero(t, e.Status)
		}
	})
}
