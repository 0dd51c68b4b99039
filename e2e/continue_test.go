package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// historyLimit is the test's ContinueAsNewAfter: low, so that a few dozen
// carrier events and payments do what months of polling and dunning do.
const historyLimit = 150

// stretch bounds the events an order adds between two chances to continue.
const stretch = 150

// Issue 7, defect 8, on the real Temporal server: an order whose shipment
// keeps sending carrier exceptions, and whose buyer pays in instalments,
// continues as new in its long waits whenever its history passes the limit.
// No run's history grows past the limit by more than one wake's events;
// across the runs the order answers queries and CS actions, keeps its
// audit log in sequence, and completes.
func TestLongLivedOrderContinuesAsNew(t *testing.T) {
	t.Parallel()
	x := startWith(t, func(o *devstack.Options) { o.HistoryLimit = historyLimit })
	ctx := context.Background()
	id := x.createQuote("e2e-long-lived", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	first := x.runID(id)
	sh := v.Live.Shipments[0]

	// A year of a troubled shipment, in carrier events: each is a signal,
	// an audit entry and a CS mail in the order's history.
	at := time.Now().UTC().Add(-time.Hour)
	for i := range 25 {
		ev := webhook.LogisticsEvent{EventID: fmt.Sprintf("exc-%d", i), Type: webhook.LogisticsException,
			ShipmentID: sh.ShipmentID, TrackingNumber: sh.TrackingNumber, Reference: id,
			OccurredAt: at.Add(time.Duration(i) * time.Minute), Detail: fmt.Sprintf("depot delay, day %d", i+1)}
		a := x.signed("/v1/webhooks/logistics", config.DevLogisticsSecret, ev)
		require.Equal(t, http.StatusOK, a.status, "exception webhook: %s", a.body)
		// Carrier events come minutes apart, not in one burst.
		x.waitAudit(id, "(event "+ev.EventID+")")
	}
	x.waitRunChange(id, first)

	// The continued run answers the query with the state it carried, and CS actions.
	v = x.order(id)
	require.Equal(t, order.StatusShipping, v.Status)
	require.Contains(t, v.Live.Waiting, "depot delay")
	require.Equal(t, sh.ShipmentID, v.Live.Shipments[0].ShipmentID)
	resend := x.api(http.MethodPost, "/v1/orders/"+id+"/actions", order.RoleCS,
		map[string]any{"action": "resend", "mail": "shipment-booked", "reason": "buyer lost the tracking number"})
	require.Equal(t, http.StatusOK, resend.status, "resend after continue-as-new: %s", resend.body)
	require.Contains(t, string(resend.body), "Resent")
	resendRun := x.runID(id)

	x.deliver(id, v.Live.Shipments)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	x.answerSurvey(id, 9)
	x.waitAudit(id, "survey.answered")

	// The buyer pays in instalments of 1.00: each is a signal, a store
	// write and an audit entry.
	second := x.runID(id)
	paid := int64(0)
	for i := range 20 {
		txn := fmt.Sprintf("BTX-%s-%d", id, i)
		x.payPart(v, txn, 100)
		paid += 100
		x.waitAudit(id, txn+":")
	}
	x.waitRunChange(id, second)
	v = x.order(id)
	require.Equal(t, order.StatusAwaitingPayment, v.Status)
	x.payPart(v, "BTX-"+id+"-rest", v.Total.Minor-paid)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)

	// Every run of the chain stayed near the limit, far under Temporal's
	// 10,240-event warning. A run passes the limit by at most one stretch
	// without a long wait: an event's handling in a wait, or the way from
	// the delivery through invoicing to the survey's close (about 100
	// events), where the order cannot continue.
	runs := x.runChain(id, first, resendRun)
	require.GreaterOrEqual(t, len(runs), 3, "continued as new in the delivery wait and in the payment wait")
	for i, n := range runs {
		require.Less(t, n, historyLimit+stretch, "run %d has %d events", i, n)
	}
	desc, err := x.s.Client.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.WorkflowExecutionInfo.Status)

	// The audit log runs on across the runs: every seq once, in order.
	a := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	entries, _ := a.json(t)["entries"].([]any)
	var actions []string
	require.NotEmpty(t, entries)
	firstSeq := entries[0].(map[string]any)["seq"].(float64)
	for i, e := range entries {
		m := e.(map[string]any)
		require.EqualValues(t, firstSeq+float64(i), m["seq"], "audit entry %d", i)
		actions = append(actions, m["action"].(string))
	}
	joined := strings.Join(actions, " ")
	require.Contains(t, joined, "shipment.exception")
	require.Contains(t, joined, "payment.partial")
	require.Contains(t, joined, "order.completed")
}

// runID is the id of the order's current run.
func (x *sys) runID(id string) string {
	x.t.Helper()
	d, err := x.s.Client.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(x.t, err)
	return d.WorkflowExecutionInfo.Execution.RunId
}

// waitRunChange waits until the order runs in a run after prev.
func (x *sys) waitRunChange(id, prev string) {
	x.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for x.runID(id) == prev {
		require.True(x.t, time.Now().Before(deadline), "order %s did not continue as new", id)
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// waitAudit waits until the order's audit log holds text (an action or a
// reason).
func (x *sys) waitAudit(id, text string) {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
		require.Equal(x.t, http.StatusOK, a.status)
		if strings.Contains(string(a.body), text) {
			return
		}
		require.True(x.t, time.Now().Before(deadline), "no %q in the audit log of %s", text, id)
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// payPart posts a bank payment of minor units against the order's invoice.
func (x *sys) payPart(v orderView, txn string, minor int64) {
	x.t.Helper()
	ev := webhook.PaymentEvent{EventID: "pay-" + txn, BankTransactionID: txn, Reference: v.InvoiceNumber,
		Payer: "Acme Industrial GmbH", ReceivedAt: time.Now().UTC()}
	ev.Amount.Minor, ev.Amount.Currency = minor, v.Total.Currency
	a := x.signed("/v1/webhooks/payments", config.DevPaymentsSecret, ev)
	require.Equal(x.t, http.StatusOK, a.status, "payment webhook: %s", a.body)
}

// runChain follows the order from its first run through each
// continue-as-new and returns every run's history length; with
// ORDERFLOW_RECORD_HISTORY set it writes the histories of the first run
// and of the run that resent a mail.
func (x *sys) runChain(id, first, resendRun string) []int {
	x.t.Helper()
	var lengths []int
	for run := first; run != ""; {
		it := x.s.Client.GetWorkflowHistory(context.Background(), id, run, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n, next := 0, ""
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(x.t, err)
			n++
			if c := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); c != nil {
				next = c.NewExecutionRunId
			}
		}
		lengths = append(lengths, n)
		switch run {
		case first:
			x.recordRun(id, run, "order_continued_as_new_run1")
		case resendRun:
			x.recordRun(id, run, "order_continued_as_new_resent")
		}
		run = next
	}
	x.t.Logf("history lengths of the runs: %v (limit %d; %s continues as new past %d by default)",
		lengths, historyLimit, workflows.OrderWorkflowName, workflows.ContinueAsNewAfter)
	return lengths
}
