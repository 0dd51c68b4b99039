package carrier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
)

// startSim serves a migrated carrier simulator on a fresh database.
func startSim(t *testing.T) (*carriersim.Sim, *httptest.Server) {
	t.Helper()
	pool := pgtest.NewPool(t, nil)
	sim := carriersim.New(pool, carriersim.Options{PromiseDays: 4}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, sim.Migrate(t.Context()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv
}

func newClient(url string, failures uint32) *carrier.Client {
	return carrier.New(url, downstream.NewBreaker("carrier",
		downstream.BreakerSettings{ConsecutiveFailures: failures, OpenFor: time.Hour}, nil))
}

var req = carrier.BookingRequest{
	Reference: "ord-42", Warehouse: "WH-SOUTH",
	Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "HOSE-10", Quantity: 20}},
}

// downstreamError asserts err is a *downstream.Error from the carrier.
func downstreamError(t *testing.T, err error) *downstream.Error {
	t.Helper()
	require.Error(t, err)
	var e *downstream.Error
	require.True(t, errors.As(err, &e), "%T %v is not a *downstream.Error", err, err)
	require.Equal(t, "carrier", e.System)
	return e
}

func TestBookTrackCancel(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	ctx := t.Context()

	before := time.Now()
	b, err := c.Book(ctx, "ord-42/book/WH-SOUTH", req)
	require.NoError(t, err)
	require.NotEmpty(t, b.ShipmentID)
	require.NotEmpty(t, b.TrackingNumber)
	require.WithinRange(t, b.PromisedDate, before.AddDate(0, 0, 4).Add(-time.Second), time.Now().AddDate(0, 0, 4))

	again, err := c.Book(ctx, "ord-42/book/WH-SOUTH", req)
	require.NoError(t, err)
	require.Equal(t, b, again, "a retried booking is the same booking")
	list, err := sim.Shipments(ctx, "ord-42")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, req.Lines, list[0].Lines)
	require.Equal(t, "WH-SOUTH", list[0].Warehouse)

	tr, err := c.Track(ctx, b.ShipmentID)
	require.NoError(t, err)
	require.Equal(t, carrier.Tracking{ShipmentID: b.ShipmentID, TrackingNumber: b.TrackingNumber,
		Status: carrier.StatusBooked, PromisedDate: b.PromisedDate}, tr)
	require.False(t, tr.Delivered())

	require.NoError(t, c.Cancel(ctx, "ord-42/cancel/"+b.ShipmentID, b.ShipmentID))
	require.NoError(t, c.Cancel(ctx, "ord-42/cancel/"+b.ShipmentID, b.ShipmentID), "retried cancel")
	tr, err = c.Track(ctx, b.ShipmentID)
	require.NoError(t, err)
	require.Equal(t, carrier.StatusCancelled, tr.Status)
}

func TestTrackDelivered(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	ctx := t.Context()
	b, err := c.Book(ctx, "k1", req)
	require.NoError(t, err)
	_, err = sim.Deliver(ctx, b.ShipmentID)
	require.NoError(t, err)

	tr, err := c.Track(ctx, b.ShipmentID)
	require.NoError(t, err)
	require.True(t, tr.Delivered())
	list, err := sim.Shipments(ctx, "ord-42")
	require.NoError(t, err)
	require.True(t, tr.DeliveredAt.Equal(list[0].DeliveredAt), "tracking %s, sim %s", tr.DeliveredAt, list[0].DeliveredAt)

	e := downstreamError(t, c.Cancel(ctx, "k2", b.ShipmentID))
	require.Equal(t, http.StatusConflict, e.Status)
	require.True(t, e.Permanent, "a delivered shipment stays delivered")
}

func TestPermanentFailures(t *testing.T) {
	t.Parallel()
	_, srv := startSim(t)
	c := newClient(srv.URL, 2)
	ctx := t.Context()
	_, err := c.Book(ctx, "used", req)
	require.NoError(t, err)

	tests := []struct {
		name   string
		call   func() error
		status int // 0: refused before any call
	}{
		{"invalid booking", func() error {
			_, err := c.Book(ctx, "k-invalid", carrier.BookingRequest{Reference: "ord-42", Warehouse: "WH"})
			return err
		}, http.StatusUnprocessableEntity},
		{"key reused with another booking", func() error {
			other := req
			other.Warehouse = "WH-EAST"
			_, err := c.Book(ctx, "used", other)
			return err
		}, http.StatusUnprocessableEntity},
		{"cancel unknown shipment", func() error { return c.Cancel(ctx, "k-cancel", "SHP-NOPE") }, http.StatusNotFound},
		{"track unknown shipment", func() error { _, err := c.Track(ctx, "SHP-NOPE"); return err }, http.StatusNotFound},
		{"book without key", func() error { _, err := c.Book(ctx, "", req); return err }, 0},
		{"cancel without key", func() error { return c.Cancel(ctx, "", "SHP-1") }, 0},
		{"track without id", func() error { _, err := c.Track(ctx, ""); return err }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := downstreamError(t, tc.call())
			require.True(t, e.Permanent, "%v", e)
			require.False(t, e.BreakerOpen)
			require.Equal(t, tc.status, e.Status)
		})
	}
	// Seven permanent failures with a breaker that opens after two transient
	// ones: a 4xx means the carrier is up, so it stays closed.
	_, err = c.Track(ctx, "SHP-NOPE")
	require.False(t, downstreamError(t, err).BreakerOpen)
}

func TestTransientFailures(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	ctx := t.Context()

	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteBook, FailNext: 1, Status: status}})
		_, err := c.Book(ctx, "ord-42/book", req)
		e := downstreamError(t, err)
		require.Equal(t, status, e.Status)
		require.False(t, e.Permanent, "%d is worth retrying", status)
	}
	// The retry with the same key books, once.
	b, err := c.Book(ctx, "ord-42/book", req)
	require.NoError(t, err)
	list, err := sim.Shipments(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, b.ShipmentID, list[0].ShipmentID)

	sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteCancel, FailNext: 1}})
	e := downstreamError(t, c.Cancel(ctx, "cancel", b.ShipmentID))
	require.False(t, e.Permanent)
	require.NoError(t, c.Cancel(ctx, "cancel", b.ShipmentID))
}

func TestTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 5)
	sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteGet, LatencyMS: 10_000}})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Track(ctx, "SHP-1")
	e := downstreamError(t, err)
	require.Zero(t, e.Status)
	require.False(t, e.Permanent)
}

func TestBreakerOpensOnOutage(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(srv.URL, 2)
	sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteAll, FailNext: 10}})
	for range 2 {
		_, err := c.Track(t.Context(), "SHP-1")
		require.Equal(t, http.StatusServiceUnavailable, downstreamError(t, err).Status)
	}
	_, err := c.Book(t.Context(), "k", req)
	e := downstreamError(t, err)
	require.True(t, e.BreakerOpen)
	require.False(t, e.Permanent)
	require.Equal(t, time.Hour, e.RetryAfter)
	require.Equal(t, 8, sim.Faults()[0].FailNext, "an open breaker does not call the carrier")
}

func TestCarrierGoneIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(url, 5).Book(t.Context(), "k", req)
	e := downstreamError(t, err)
	require.Zero(t, e.Status)
	require.False(t, e.Permanent)
}

func TestBrokenAnswerIsPermanent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"status":"booked"}`))
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(srv.URL, 5).Book(t.Context(), "k", req)
	e := downstreamError(t, err)
	require.True(t, e.Permanent)
	require.Contains(t, e.Detail, "shipment_id")
}
