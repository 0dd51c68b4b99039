package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// recordStarts counts the Record attempts that ran as local and as ordinary
// activities.
type recordStarts struct{ local, ordinary int }

func (w *world) countRecords() *recordStarts {
	var n recordStarts
	w.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		if info.ActivityType.Name == "Record" {
			n.local++
		}
	})
	w.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "Record" {
			n.ordinary++
		}
	})
	return &n
}

// Since local-records the projection and audit writes are local activities:
// no activity task, no round trip through the server.
func TestRecordsRunAsLocalActivities(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	n := w.countRecords()
	w.at(time.Hour, func() {
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusQuoteRejected}, w.statuses())
	require.Equal(t, len(w.records), n.local)
	require.Zero(t, n.ordinary)
}

// An order started before local-records keeps writing its records as
// ordinary activities.
func TestRecordsOfOlderOrdersStayActivities(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Older than lean-history too, or the run would take local-records
	// without asking.
	w.env.OnGetVersion("lean-history", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	w.env.OnGetVersion("local-records", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	n := w.countRecords()
	w.at(time.Hour, func() {
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.Equal(t, len(w.records), n.ordinary)
	require.Zero(t, n.local)
}

// The database is down for six hours from the order's first record. Each
// record in flight tries locally for a minute, then as an ordinary activity
// that retries until the database is back (a local activity retrying for
// hours would add a marker and a timer to the history per attempt). No
// record is lost, they keep their order by seq, and once the database is
// back records are local again.
func TestRecordsOutliveADatabaseOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	n := w.countRecords()
	var mu sync.Mutex
	var downUntil time.Time
	failedLocally, failedAsActivity := 0, 0
	w.recordFails = func(in activities.RecordInput, local bool) error {
		mu.Lock()
		defer mu.Unlock()
		if downUntil.IsZero() {
			downUntil = w.env.Now().Add(6 * time.Hour)
		}
		if w.env.Now().Before(downUntil) {
			if local {
				failedLocally++
			} else {
				failedAsActivity++
			}
			return temporal.NewApplicationError("store: dial tcp 127.0.0.1:5432: connection refused", activities.ErrTypeUnavailable)
		}
		return nil
	}
	var startsWhileDown recordStarts
	w.at(7*time.Hour, func() {
		mu.Lock()
		defer mu.Unlock()
		startsWhileDown = *n
		d := w.details()
		require.Equal(t, order.StatusAwaitingAcceptance, d.Status, "the order moved on once its records were written")
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
	})
	res := w.run()
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusQuoteRejected}, w.statuses())
	p := w.projection()
	for i := 1; i < len(p); i++ {
		require.Greater(t, p[i].Seq, p[i-1].Seq, "each record is kept once")
	}
	require.Greater(t, failedLocally, 5, "a minute of local attempts")
	require.Less(t, failedLocally, 30, "a minute of local attempts, not hours")
	require.Greater(t, failedAsActivity, 100, "hours of attempts as an ordinary activity")
	require.Positive(t, startsWhileDown.ordinary)
	require.Zero(t, n.ordinary-startsWhileDown.ordinary, "back to local records after the outage")
	require.Greater(t, n.local, startsWhileDown.local)
}

// A record of another coroutine may still be in flight when the main path
// finishes: the payment's own record (payment.exact, written by the
// coroutine that applies payments) is slower than the main path's
// payment.reconciled and order.completed. A local activity ends with the
// workflow, so the order waits for it before it completes.
func TestOrderEndsOnceItsRecordsAreWritten(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	completed := make(chan struct{})
	w.recordFails = func(in activities.RecordInput, _ bool) error {
		switch in.Action {
		case "order.completed":
			close(completed)
		case "payment.exact":
			select { // the database is slow for this one
			case <-completed:
			case <-time.After(5 * time.Second):
			}
		}
		return nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "") })
	w.at(2*24*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*24*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Subset(t, w.actions(), []string{"payment.exact", "payment.reconciled", "order.completed"})
}
