package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/webhook"
)

// recordHistory writes the order's workflow history to
// $ORDERFLOW_RECORD_HISTORY/<name>.json, for workflows/testdata/ (the replay
// test). It does nothing when the variable is unset.
func (x *sys) recordHistory(id, name string) {
	x.t.Helper()
	x.recordRun(id, "", name)
}

// recordRun is recordHistory for one run of the order ("" for the latest).
func (x *sys) recordRun(id, runID, name string) {
	x.t.Helper()
	dir := os.Getenv("ORDERFLOW_RECORD_HISTORY")
	if dir == "" {
		return
	}
	it := x.s.Client.GetWorkflowHistory(context.Background(), id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(x.t, err)
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(x.t, err)
	require.NoError(x.t, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644))
}

// Hole 3 over the real API: the ERP does not know a SKU; the storefront
// learns at once which line, and no order, ERP sales order or mail is left.
func TestUnknownSKUIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	x := start(t)
	body := map[string]any{"customer_id": "ACME-001", "po_number": "PO-NOPE",
		"lines": []map[string]any{{"sku": "PUMP-200", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}}}
	a := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer, body, map[string]string{"Idempotency-Key": "nope-1"})
	require.Equal(t, http.StatusUnprocessableEntity, a.status, "%s", a.body)
	var p struct {
		Errors []order.FieldError `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(a.body, &p))
	require.Equal(t, []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}, p.Errors)

	again := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer, body, map[string]string{"Idempotency-Key": "nope-1"})
	require.Equal(t, http.StatusUnprocessableEntity, again.status, "a replay answers the same: %s", again.body)

	list := x.api(http.MethodGet, "/v1/orders?customer_id=ACME-001", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, list.status)
	require.JSONEq(t, `{"orders":[]}`, string(list.body), "no order is left behind")
	require.Empty(t, x.s.Mail.Messages(mailsink.Filter{}), "nobody was mailed")

	// A known SKU right after: 201 with the priced quote in the answer.
	ok := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer,
		map[string]any{"customer_id": "ACME-001", "lines": []map[string]any{{"sku": "PUMP-200", "quantity": 1}}},
		map[string]string{"Idempotency-Key": "ok-1"})
	require.Equal(t, http.StatusCreated, ok.status, "%s", ok.body)
	var q struct {
		Status order.Status `json:"status"`
		Quote  *order.Quote `json:"quote"`
	}
	require.NoError(t, json.Unmarshal(ok.body, &q))
	require.Equal(t, order.StatusAwaitingAcceptance, q.Status)
	require.NotNil(t, q.Quote)
	require.Equal(t, "EUR", q.Quote.Total.Currency)
}

// Hole 4 over the real API: an old "damaged" event that arrives after the
// shipment's proof of delivery is recorded and changes nothing.
func TestOldCarrierEventAfterDeliveryChangesNothing(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-old-event", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	s := v.Live.Shipments[0]
	delivered := time.Now().UTC().Truncate(time.Second)
	ev := webhook.LogisticsEvent{EventID: "ev-d-" + s.ShipmentID, Type: "delivered", ShipmentID: s.ShipmentID,
		TrackingNumber: s.TrackingNumber, Reference: id, OccurredAt: delivered}
	require.Equal(t, http.StatusOK, x.signed("/v1/webhooks/logistics", config.DevLogisticsSecret, ev).status)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)

	old := webhook.LogisticsEvent{EventID: "ev-old-" + s.ShipmentID, Type: "exception", ShipmentID: s.ShipmentID,
		TrackingNumber: s.TrackingNumber, Reference: id, OccurredAt: delivered.Add(-2 * time.Hour), Detail: "damaged in transit"}
	a := x.signed("/v1/webhooks/logistics", config.DevLogisticsSecret, old)
	require.Less(t, a.status, 300, "%s", a.body)

	var audited bool
	for deadline := time.Now().Add(30 * time.Second); !audited && time.Now().Before(deadline); {
		log := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
		var body struct {
			Entries []struct{ Action string } `json:"entries"`
		}
		require.NoError(t, json.Unmarshal(log.body, &body))
		for _, e := range body.Entries {
			audited = audited || e.Action == "shipment.event-outdated"
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	require.True(t, audited, "the old event is in the audit log")
	v = x.order(id)
	require.Empty(t, v.Live.Shipments[0].Exception, "the delivered shipment is not marked damaged")
	require.Empty(t, x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "cs-alert"}), "CS is not alerted")

	x.answerSurvey(id, 9)
	x.pay(v)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	x.recordHistory(id, "order_completed_old_exception_after_delivery")
}

// Issue 7, defect 2 over the real system: the ERP makes the sales order but
// its answer is lost (the simulator's drop_answer fault), and goes on being
// lost; CS cancels; the undo, registered by the call's idempotency key
// before the call, releases the reservation the order never heard of.
func TestLostReservationAnswerIsUndoneAfterCancel(t *testing.T) {
	t.Parallel()
	x := start(t)
	reserved := func() int64 {
		a := x.call(http.MethodGet, x.s.ERPURL+"/sim/stock", "", nil, nil)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		var body struct {
			Stock []struct {
				SKU      string `json:"sku"`
				Reserved int64  `json:"reserved"`
			} `json:"stock"`
		}
		require.NoError(t, json.Unmarshal(a.body, &body), "%s", a.body)
		n := int64(0)
		for _, s := range body.Stock {
			if s.SKU == "VALVE-50" {
				n += s.Reserved
			}
		}
		return n
	}
	before := reserved()
	id := x.createQuote("e2e-lost-answer", order.Line{SKU: "VALVE-50", Quantity: 3})
	fault := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "",
		map[string]any{"rules": []map[string]any{{"route": "sales-orders.create", "mode": "drop_answer", "error_rate": 1}}}, nil)
	require.Less(t, fault.status, 300, "%s", fault.body)
	x.accept(id)
	for deadline := time.Now().Add(30 * time.Second); reserved() == before && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	require.Equal(t, before+3, reserved(), "the ERP reserved the stock; the order never heard")

	a := x.api(http.MethodPost, "/v1/orders/"+id+"/actions", order.RoleCS, map[string]any{"action": "cancel", "reason": "customer called"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusCancelled, 30*time.Second)
	require.Equal(t, before, reserved(), "the cancel released the reservation")
	clear := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "", map[string]any{"rules": []any{}}, nil)
	require.Less(t, clear.status, 300, "%s", clear.body)
}

// Issue 7, defect 1 over the real system, with a 3-second step budget: the
// ERP simulator is down past the budget; the order needs attention while it
// keeps retrying; the ERP comes back; the flag clears by itself and the
// order completes with no CS action.
func TestERPOutagePastTheBudgetClearsItself(t *testing.T) {
	t.Parallel()
	x := startWith(t, func(o *devstack.Options) {
		o.StepBudget = 3 * time.Second
		o.Breaker = downstream.BreakerSettings{ConsecutiveFailures: 5, OpenFor: time.Second, ProbeWait: 500 * time.Millisecond}
	})
	id := x.createQuote("e2e-outage", order.Line{SKU: "VALVE-50", Quantity: 1})
	down := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "",
		map[string]any{"rules": []map[string]any{{"route": "sales-orders.create", "status": 503, "error_rate": 1}}}, nil)
	require.Less(t, down.status, 300, "%s", down.body)
	x.accept(id)

	v := x.waitAttention(id, 30*time.Second)
	require.True(t, v.NeedsAttention, "past the budget the order needs attention (status %s)", v.Status)
	require.Contains(t, v.Live.Failure.Error, "keeps retrying")
	require.Equal(t, "reserve stock", v.Live.Failure.Step)

	up := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "", map[string]any{"rules": []any{}}, nil)
	require.Less(t, up.status, 300, "%s", up.body)
	v = x.waitStatus(id, order.StatusShipping, time.Minute)
	require.False(t, v.NeedsAttention, "the flag cleared itself")
	x.complete(id)

	log := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
	require.Contains(t, string(log.body), `"action":"step.delayed"`)
	require.Contains(t, string(log.body), `"action":"step.recovered"`)
	require.NotContains(t, string(log.body), `"action":"action.`, "no CS action was needed")
}
