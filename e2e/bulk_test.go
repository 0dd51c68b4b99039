package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

// Issue 7, defect 1 over the real system: two orders fail at the
// reservation for good (the ERP answers 409 to every sales order); once
// the fault is cleared, one bulk retry acts on both and they move on, and
// each order's audit log has the retry with CS's name and reason.
func TestBulkRetryAfterReservationsFailedForGood(t *testing.T) {
	t.Parallel()
	x := start(t)
	fault := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "",
		map[string]any{"rules": []map[string]any{{"route": "sales-orders.create", "status": 409, "error_rate": 1}}}, nil)
	require.Less(t, fault.status, 300, "%s", fault.body)

	ids := []string{
		x.createQuote("e2e-bulk-1", order.Line{SKU: "VALVE-50", Quantity: 1}),
		x.createQuote("e2e-bulk-2", order.Line{SKU: "VALVE-50", Quantity: 2}),
	}
	for _, id := range ids {
		x.accept(id)
	}
	for _, id := range ids {
		v := x.waitAttention(id, 30*time.Second)
		require.Equal(t, "reserve stock", v.Live.Failure.Step, "order %s waits for CS at the reservation", id)
	}

	clear := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "", map[string]any{"rules": []any{}}, nil)
	require.Less(t, clear.status, 300, "%s", clear.body)

	a := x.call(http.MethodPost, x.s.APIURL+"/v1/actions/bulk", order.RoleCS, map[string]any{
		"filter": map[string]any{"needs_attention": true, "step": "reserve stock"},
		"action": "retry", "reason": "ERP fault cleared",
	}, map[string]string{"Idempotency-Key": "e2e-bulk-retry"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var got struct {
		Selected int  `json:"selected"`
		Acted    int  `json:"acted"`
		More     bool `json:"more"`
		Results  []struct {
			OrderID string `json:"order_id"`
			Message string `json:"message"`
		} `json:"results"`
		Skipped, Refused, Failed []map[string]any
	}
	require.NoError(t, json.Unmarshal(a.body, &got), "%s", a.body)
	require.Equal(t, 2, got.Selected, "%s", a.body)
	require.Equal(t, 2, got.Acted, "%s", a.body)
	require.False(t, got.More)
	require.Empty(t, got.Skipped)
	require.Empty(t, got.Refused)
	require.Empty(t, got.Failed)
	require.ElementsMatch(t, ids, []string{got.Results[0].OrderID, got.Results[1].OrderID})
	for _, r := range got.Results {
		require.Contains(t, r.Message, "succeeded", "the retry of %s", r.OrderID)
	}

	for _, id := range ids {
		v := x.waitStatus(id, order.StatusShipping, 30*time.Second)
		require.False(t, v.NeedsAttention)
		audit := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
		require.Equal(t, http.StatusOK, audit.status, "%s", audit.body)
		var log struct {
			Entries []struct {
				Action string      `json:"action"`
				Reason string      `json:"reason"`
				Actor  order.Actor `json:"actor"`
			} `json:"entries"`
		}
		require.NoError(t, json.Unmarshal(audit.body, &log))
		found := false
		for _, e := range log.Entries {
			if e.Action == "action.retry" && e.Actor.Subject == "sam@cs" && strings.Contains(e.Reason, "ERP fault cleared") {
				found = true
			}
		}
		require.True(t, found, "order %s's audit log has the bulk retry: %s", id, audit.body)
	}

	// Nothing is stuck any more: the same filter selects nothing.
	again := x.call(http.MethodPost, x.s.APIURL+"/v1/actions/bulk", order.RoleCS, map[string]any{
		"filter": map[string]any{"needs_attention": true, "step": "reserve stock"}, "action": "retry", "reason": "again",
	}, nil)
	require.Equal(t, http.StatusOK, again.status, "%s", again.body)
	require.Equal(t, float64(0), again.json(t)["selected"])
}
