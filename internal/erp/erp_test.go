package erp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// newSim starts a seeded ERP simulator on a throw-away database.
func newSim(t *testing.T) (*erpsim.Sim, http.Handler) {
	t.Helper()
	ctx := context.Background()
	sim := erpsim.New(pgtest.NewPool(t, nil), zerolog.Nop())
	require.NoError(t, sim.Migrate(ctx))
	require.NoError(t, sim.Seed(ctx))
	return sim, sim.Handler()
}

// serve serves h and returns a client of it whose breaker trips after
// failures consecutive transient failures.
func serve(t *testing.T, h http.Handler, failures uint32) *erp.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return erp.New(srv.URL, downstream.NewBreaker("erp", downstream.BreakerSettings{ConsecutiveFailures: failures, OpenFor: time.Hour}, nil))
}

func newClient(t *testing.T) (*erpsim.Sim, *erp.Client) {
	t.Helper()
	sim, h := newSim(t)
	return sim, serve(t, h, 100)
}

// requireDownstream asserts err is the *downstream.Error of an ERP call with
// the given status and permanence, found through errors.As.
func requireDownstream(t *testing.T, err error, status int, permanent bool) *downstream.Error {
	t.Helper()
	require.Error(t, err)
	var de *downstream.Error
	require.True(t, errors.As(err, &de), "%v is not a *downstream.Error", err)
	assert.Equal(t, "erp", de.System)
	assert.Equal(t, status, de.Status, "status of %v", err)
	assert.Equal(t, permanent, de.Permanent, "permanence of %v", err)
	return de
}

func pumps(orderID string, n int64) erp.SalesOrderRequest {
	return erp.SalesOrderRequest{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: n}}}
}

func TestPrices(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()

	got, err := c.Prices(ctx, "INITECH-003", "USD", []string{"VALVE-50", "NUT-M8"})
	require.NoError(t, err)
	assert.Equal(t, []order.ListPrice{
		{SKU: "VALVE-50", UnitPrice: money.New(9900, "USD")},
		{SKU: "NUT-M8", UnitPrice: money.New(9, "USD")},
	}, got)

	_, err = c.Prices(ctx, "ACME-001", "EUR", []string{"BOLT-M8", "WIDGET-9"})
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "WIDGET-9", "the error names the unknown SKU")
}

func TestOpenReceivables(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()
	tests := []struct {
		customer, currency string
		want               money.Money
	}{
		{"ACME-001", "EUR", money.New(1200000, "EUR")},
		{"GLOBEX-002", "EUR", money.New(150000, "EUR")},
		{"INITECH-003", "USD", money.New(0, "USD")},
	}
	for _, tt := range tests {
		got, err := c.OpenReceivables(ctx, tt.customer, tt.currency)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.customer)
	}
	_, err := c.OpenReceivables(ctx, "NOPE-999", "EUR")
	de := requireDownstream(t, err, http.StatusNotFound, true)
	assert.Contains(t, de.Detail, "customer_not_found")
}

func TestCreateSalesOrderSplitsAcrossWarehouses(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()

	so, err := c.CreateSalesOrder(ctx, "ord-1:reserve", erp.SalesOrderRequest{
		OrderID: "ord-1", CustomerID: "ACME-001", Currency: "EUR",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 30}, {SKU: "BOLT-M8", Quantity: 1000}},
	})
	require.NoError(t, err)
	assert.NotEmpty(t, so.ID)
	assert.Equal(t, []erp.Reservation{
		{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 20}, {SKU: "BOLT-M8", Quantity: 1000}}},
		{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 10}}},
	}, so.Reservations)

	sos, err := sim.SalesOrders(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, so.ID, sos[0].ID)
}

func TestInsufficientStockIsPermanent(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()

	_, err := c.CreateSalesOrder(ctx, "ord-2:reserve", pumps("ord-2", 36))
	de := requireDownstream(t, err, http.StatusConflict, true)
	assert.Contains(t, de.Detail, "insufficient_stock")
	assert.Contains(t, de.Detail, "PUMP-200")

	sos, err := sim.SalesOrders(ctx, "ord-2")
	require.NoError(t, err)
	assert.Empty(t, sos)
}

func TestSameKeyOtherRequestIsPermanent(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()
	first, err := c.CreateSalesOrder(ctx, "ord-3:reserve", pumps("ord-3", 1))
	require.NoError(t, err)
	again, err := c.CreateSalesOrder(ctx, "ord-3:reserve", pumps("ord-3", 1))
	require.NoError(t, err)
	assert.Equal(t, first, again)

	_, err = c.CreateSalesOrder(ctx, "ord-3:reserve", pumps("ord-3", 2))
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "idempotency_key_reused")
}

func TestCancelSalesOrder(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, "ord-4:reserve", pumps("ord-4", 25))
	require.NoError(t, err)

	require.NoError(t, c.CancelSalesOrder(ctx, "ord-4:cancel", so.ID))
	require.NoError(t, c.CancelSalesOrder(ctx, "ord-4:cancel", so.ID), "a retried cancel succeeds")
	sos, err := sim.SalesOrders(ctx, "ord-4")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, erpsim.SalesOrderCancelled, sos[0].Status)
	// All 35 pumps can be reserved again.
	_, err = c.CreateSalesOrder(ctx, "ord-5:reserve", pumps("ord-5", 35))
	require.NoError(t, err)

	err = c.CancelSalesOrder(ctx, "ghost:cancel", "SO-999999")
	requireDownstream(t, err, http.StatusNotFound, true)
}

func TestInvoiceAndVoid(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, "ord-6:reserve", pumps("ord-6", 2))
	require.NoError(t, err)
	req := erp.InvoiceRequest{OrderID: "ord-6", SalesOrderID: so.ID, CustomerID: "ACME-001",
		Amount: money.New(242500, "EUR"), PaymentTermsDays: 30}
	inv, err := c.CreateInvoice(ctx, "ord-6:invoice", req)
	require.NoError(t, err)
	due := order.DueDate(inv.IssuedAt, 30) // the ERP dates the invoice and counts the terms from that day
	assert.NotEmpty(t, inv.InvoiceID)
	assert.Regexp(t, `^INV-\d{6}$`, inv.Number)
	assert.Equal(t, money.New(242500, "EUR"), inv.Amount)
	assert.True(t, due.Equal(inv.DueDate), "due date %s, want %s", inv.DueDate, due)
	assert.WithinDuration(t, time.Now(), inv.IssuedAt, time.Minute)

	again, err := c.CreateInvoice(ctx, "ord-6:invoice", req)
	require.NoError(t, err)
	assert.Equal(t, inv, again, "a retried invoice is the same invoice")
	open, err := c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, money.New(1442500, "EUR"), open, "invoiced once")

	// An invoiced sales order cannot be cancelled: permanent until voided.
	err = c.CancelSalesOrder(ctx, "ord-6:cancel", so.ID)
	requireDownstream(t, err, http.StatusConflict, true)

	require.NoError(t, c.VoidInvoice(ctx, "ord-6:void", inv.InvoiceID))
	require.NoError(t, c.VoidInvoice(ctx, "ord-6:void", inv.InvoiceID))
	open, err = c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, money.New(1200000, "EUR"), open)
	invs, err := sim.Invoices(ctx, "ord-6")
	require.NoError(t, err)
	require.Len(t, invs, 1)
	assert.Equal(t, erpsim.InvoiceVoid, invs[0].Status)

	err = c.VoidInvoice(ctx, "ghost:void", "no-such-invoice")
	requireDownstream(t, err, http.StatusNotFound, true)
}

func TestWritesWithoutKeyAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	_, err := c.CreateSalesOrder(ctx, "", pumps("ord-7", 1))
	requireDownstream(t, err, 0, true)
	err = c.CancelSalesOrder(ctx, "", "SO-000001")
	requireDownstream(t, err, 0, true)
	_, err = c.CreateInvoice(ctx, "", erp.InvoiceRequest{})
	requireDownstream(t, err, 0, true)
	err = c.VoidInvoice(ctx, "", "x")
	requireDownstream(t, err, 0, true)

	calls, err := sim.Calls(ctx)
	require.NoError(t, err)
	assert.Empty(t, calls, "nothing reached the ERP")
}

func TestOutageIsTransientAndTheRetryReservesOnce(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	sim.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteSalesOrdersCreate, FailNext: 2}})

	for range 2 {
		_, err := c.CreateSalesOrder(ctx, "ord-8:reserve", pumps("ord-8", 30))
		requireDownstream(t, err, http.StatusServiceUnavailable, false)
	}
	so, err := c.CreateSalesOrder(ctx, "ord-8:reserve", pumps("ord-8", 30))
	require.NoError(t, err)
	again, err := c.CreateSalesOrder(ctx, "ord-8:reserve", pumps("ord-8", 30))
	require.NoError(t, err)
	assert.Equal(t, so, again)

	sos, err := sim.SalesOrders(ctx, "ord-8")
	require.NoError(t, err)
	assert.Len(t, sos, 1)
	calls, err := sim.Calls(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), calls[erpsim.RouteSalesOrdersCreate], "the ERP saw four reservation attempts")
}

// TestLostAnswerRetryReservesOnce covers the dangerous transient failure:
// the ERP reserved the stock but its answer never came back.
func TestLostAnswerRetryReservesOnce(t *testing.T) {
	t.Parallel()
	sim, h := newSim(t)
	ctx := context.Background()
	var lost atomic.Bool
	gateway := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if r.URL.Path == "/v1/sales-orders" && lost.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusBadGateway) // the ERP did the work; the answer got lost on the way
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, rec.Body)
	})
	c := serve(t, gateway, 100)

	_, err := c.CreateSalesOrder(ctx, "ord-9:reserve", pumps("ord-9", 30))
	requireDownstream(t, err, http.StatusBadGateway, false)
	sos, err := sim.SalesOrders(ctx, "ord-9")
	require.NoError(t, err)
	require.Len(t, sos, 1, "the first attempt did reserve")

	so, err := c.CreateSalesOrder(ctx, "ord-9:reserve", pumps("ord-9", 30))
	require.NoError(t, err)
	assert.Equal(t, sos[0].ID, so.ID, "the retry returns the sales order the lost answer carried")

	sos, err = sim.SalesOrders(ctx, "ord-9")
	require.NoError(t, err)
	assert.Len(t, sos, 1)
	stock, err := sim.Stock(ctx)
	require.NoError(t, err)
	var reserved int64
	for _, st := range stock {
		if st.SKU == "PUMP-200" {
			reserved += st.Reserved
		}
	}
	assert.Equal(t, int64(30), reserved, "30 pumps reserved, not 60")
}

func TestBreakerOpensOnOutageAndSparesTheERP(t *testing.T) {
	t.Parallel()
	sim, h := newSim(t)
	c := serve(t, h, 2)
	ctx := context.Background()
	sim.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteAll, OutageUntil: time.Now().Add(time.Hour)}})

	for range 2 {
		_, err := c.OpenReceivables(ctx, "ACME-001", "EUR")
		requireDownstream(t, err, http.StatusServiceUnavailable, false)
	}
	_, err := c.Prices(ctx, "ACME-001", "EUR", []string{"BOLT-M8"})
	de, ok := downstream.AsError(err)
	require.True(t, ok, "%v", err)
	assert.True(t, de.BreakerOpen)
	assert.False(t, de.Permanent)

	calls, err := sim.Calls(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{erpsim.RouteExposure: 2}, calls, "the open breaker kept the third call home")
}
