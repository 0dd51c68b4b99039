package activities_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
)

// countingObserver records what Record reports.
type countingObserver struct {
	mu   sync.Mutex
	seen []string
	in   []time.Duration
}

func (c *countingObserver) ObserveTransition(from, to string, inStatus time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, from+"->"+to)
	c.in = append(c.in, inStatus)
}

// TestRecordObservesEachStatusChangeOnce: Record reports a change of
// status once, with the time spent in the status left; a replayed record
// (a retried activity) and a record that keeps the status report nothing.
func TestRecordObservesEachStatusChangeOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	obs := &countingObserver{}
	f.acts.Transitions = obs
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec := func(seq int64, status order.Status, action string, after time.Duration) activities.RecordInput {
		return activities.RecordInput{OrderID: "ord-obs", CustomerID: "ACME-001", Seq: seq, Status: status,
			Action: action, Details: "now " + string(status), At: at.Add(after)}
	}
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(1, order.StatusQuoting, "order.started", 0))
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(2, order.StatusAwaitingAcceptance, "quote.priced", time.Minute))
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(2, order.StatusAwaitingAcceptance, "quote.priced", time.Minute))
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(3, order.StatusAwaitingAcceptance, "mail.reminder", time.Hour))
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(4, order.StatusAwaitingApproval, "quote.accepted", 2*time.Hour))
	mustRun[activities.RecordResult](t, f.env, f.acts.Record, rec(4, order.StatusAwaitingApproval, "quote.accepted", 2*time.Hour))

	require.Equal(t, []string{"QUOTING->AWAITING_ACCEPTANCE", "AWAITING_ACCEPTANCE->AWAITING_APPROVAL"}, obs.seen,
		"the first record has no status before it; replays and the reminder count nothing")
	require.Equal(t, []time.Duration{time.Minute, 2*time.Hour - time.Minute}, obs.in,
		"time in a status runs from the record that entered it")
}
