package erpsim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func pricesBody() map[string]any {
	return map[string]any{"customer_id": "ACME-001", "currency": "EUR", "skus": []string{"BOLT-M8"}}
}

func TestFailNextThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetFaults([]erpsim.FaultRule{{Route: erpsim.RoutePrices, FailNext: 2}})

	for i := range 2 {
		r := e.do(t, http.MethodPost, "/v1/prices", "", pricesBody())
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "call %d", i+1)
		assert.Equal(t, "simulated_fault", r.json(t)["error"])
	}
	r := e.do(t, http.MethodPost, "/v1/prices", "", pricesBody())
	assert.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	// Other routes were never affected.
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	calls, err := e.sim.Calls(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(3), calls[erpsim.RoutePrices], "failed calls are counted too")
	assert.Equal(t, int64(1), calls[erpsim.RouteExposure])
	assert.Equal(t, 0, e.sim.Faults()[0].FailNext, "the rule counted down")
}

func TestFaultAnswersBeforeAnyEffect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.available(t)

	// Through the control endpoint this time, with a custom status.
	put := e.do(t, http.MethodPut, "/sim/faults", "", map[string]any{
		"rules": []map[string]any{{"route": "sales-orders.create", "fail_next": 1, "status": 500}}})
	require.Equal(t, http.StatusOK, put.status, "body %s", put.body)

	body := soBody("ord-f1", "ACME-001", "EUR", line{"PUMP-200", 30})
	r := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-f1:reserve", body)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	sos, err := e.sim.SalesOrders(ctx, "ord-f1")
	require.NoError(t, err)
	assert.Empty(t, sos, "a faulted call does nothing")
	assert.Equal(t, before, e.available(t))

	// The retry with the same key is a first execution, not a replay.
	r = e.do(t, http.MethodPost, "/v1/sales-orders", "ord-f1:reserve", body)
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Empty(t, r.header.Get("Idempotent-Replayed"))
	sos, err = e.sim.SalesOrders(ctx, "ord-f1")
	require.NoError(t, err)
	assert.Len(t, sos, 1)

	r = e.do(t, http.MethodGet, "/sim/calls", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, map[string]any{"sales-orders.create": float64(2)}, r.json(t))
}

func TestOutageUntil(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	until := time.Now().Add(500 * time.Millisecond)
	e.sim.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteAll, OutageUntil: until}})

	path := "/v1/customers/ACME-001/exposure?currency=EUR"
	r := e.do(t, http.MethodGet, path, "", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, "body %s", r.body)
	r = e.do(t, http.MethodPost, "/v1/prices", "", pricesBody())
	require.Equal(t, http.StatusServiceUnavailable, r.status, "every route is down")

	deadline := time.Now().Add(10 * time.Second)
	for {
		r = e.do(t, http.MethodGet, path, "", nil)
		if r.status == http.StatusOK {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.True(t, time.Now().Before(deadline), "the outage did not end")
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	assert.False(t, time.Now().Before(until), "the ERP came back before the outage ended")
}

func TestErrorRateAndLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rule       erpsim.FaultRule
		wantStatus int
		minElapsed time.Duration
	}{
		{"error rate 1 always fails with the given status", erpsim.FaultRule{Route: erpsim.RoutePrices, ErrorRate: 1, Status: 502}, 502, 0},
		{"error rate 0 never fails", erpsim.FaultRule{Route: erpsim.RoutePrices, ErrorRate: 0}, 200, 0},
		{"latency delays a call that then succeeds", erpsim.FaultRule{Route: erpsim.RoutePrices, LatencyMS: 150}, 200, 150 * time.Millisecond},
		{"a rule for another route does nothing here", erpsim.FaultRule{Route: erpsim.RouteExposure, FailNext: 5}, 200, 0},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the subtests share the simulator's rules.
			e.sim.SetFaults([]erpsim.FaultRule{tt.rule})
			defer e.sim.ClearFaults()
			for range 3 {
				start := time.Now()
				r := e.do(t, http.MethodPost, "/v1/prices", "", pricesBody())
				assert.Equal(t, tt.wantStatus, r.status, "body %s", r.body)
				assert.GreaterOrEqual(t, time.Since(start), tt.minElapsed)
			}
		})
	}
}

func TestFaultsControlEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, http.MethodPut, "/sim/faults", "", map[string]any{"rules": []map[string]any{{"route": "nope", "fail_next": 1}}})
	assert.Equal(t, http.StatusBadRequest, r.status, "an unknown route is refused")
	r = e.do(t, http.MethodPut, "/sim/faults", "", map[string]any{"rules": []map[string]any{{"route": "*", "error_rate": 2}}})
	assert.Equal(t, http.StatusBadRequest, r.status, "a rate above 1 is refused")
	assert.Empty(t, e.sim.Faults(), "refused rules are not installed")

	r = e.do(t, http.MethodPut, "/sim/faults", "", map[string]any{"rules": []map[string]any{
		{"route": "invoices.void", "fail_next": 3, "latency_ms": 10},
		{"route": "*", "outage_until": "2000-01-01T00:00:00Z"},
	}})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	r = e.do(t, http.MethodGet, "/sim/faults", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	var got struct {
		Rules []erpsim.FaultRule `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(r.body, &got))
	assert.Equal(t, []erpsim.FaultRule{
		{Route: "invoices.void", FailNext: 3, LatencyMS: 10},
		{Route: "*", OutageUntil: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}, got.Rules)
	// An outage in the past is over.
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	r = e.do(t, http.MethodDelete, "/sim/faults", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"rules":[]}`, string(r.body))
	assert.Empty(t, e.sim.Faults())
}

func TestStockEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createSO(t, "ord-s:reserve", "ord-s", line{"MOTOR-7K", 4})
	r := e.do(t, http.MethodGet, "/sim/stock", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	var got struct {
		Stock []erpsim.StockLevel `json:"stock"`
	}
	require.NoError(t, json.Unmarshal(r.body, &got))
	assert.Equal(t, []erpsim.StockLevel{
		{Warehouse: "WH-NORTH", SKU: "BOLT-M8", OnHand: 100000, Available: 100000},
		{Warehouse: "WH-NORTH", SKU: "NUT-M8", OnHand: 100000, Available: 100000},
		{Warehouse: "WH-NORTH", SKU: "PUMP-200", OnHand: 20, Available: 20},
		{Warehouse: "WH-NORTH", SKU: "VALVE-50", OnHand: 200, Available: 200},
		{Warehouse: "WH-SOUTH", SKU: "MOTOR-7K", OnHand: 10, Reserved: 4, Available: 6},
		{Warehouse: "WH-SOUTH", SKU: "PUMP-200", OnHand: 15, Available: 15},
		{Warehouse: "WH-SOUTH", SKU: "VALVE-50", OnHand: 100, Available: 100},
	}, got.Stock)
}
