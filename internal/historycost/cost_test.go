package historycost

import (
	"os"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// TestCountRecordedOrder counts a real completed order (two shipments, a
// survey per shipment). The expected numbers were read independently with jq:
//
//	F=workflows/testdata/order_completed_two_shipments_survey_per_shipment.json
//	jq -r '.events[].eventType' $F | sort | uniq -c          # events by type
//	jq '.events|length' $F                                    # 208
//	jq -r '.events[]|.markerRecordedEventAttributes.markerName // empty' $F | sort | uniq -c
//	jq '[.events[]|.markerRecordedEventAttributes.workflowTaskCompletedEventId // empty]|unique|length' $F   # 13
//	jq -c '.events[]|.upsertWorkflowSearchAttributesEventAttributes.searchAttributes.indexedFields // empty|keys' $F | sort | uniq -c
//	jq -c '[.events[]|.activityTaskStartedEventAttributes.attempt // empty]|unique' $F   # [1]
//
// Billable: 1 start + 19 activities + 13 workflow tasks recording markers
// + 12 timers + 5 signals + 2 updates + (23 upserts − 14 that set only
// TemporalChangeVersion) = 61.
func TestCountRecordedOrder(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../workflows/testdata/order_completed_two_shipments_survey_per_shipment.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Cost{
		Runs: 1, Events: 208, WorkflowTasks: 24,
		Activities: 19, ActivityAttempts: 19,
		LocalActivities: 19, MarkerTasks: 13, Versions: 14,
		Timers: 12, Signals: 5, Updates: 2,
		Upserts: 23, VersionUpserts: 14,
		Billable: 61,
	}
	if got := Count(h.GetEvents()); got != want {
		t.Errorf("Count:\n got %+v\nwant %+v", got, want)
	}
}

// TestBillableRule builds a small history with one of each thing the rule
// treats specially and checks each lands as the rule says.
func TestBillableRule(t *testing.T) {
	t.Parallel()
	ev := func(typ enumspb.EventType, set func(*historypb.HistoryEvent)) *historypb.HistoryEvent {
		e := &historypb.HistoryEvent{EventType: typ}
		if set != nil {
			set(e)
		}
		return e
	}
	marker := func(name string, task int64) *historypb.HistoryEvent {
		return ev(enumspb.EVENT_TYPE_MARKER_RECORDED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: name, WorkflowTaskCompletedEventId: task}}
		})
	}
	upsert := func(names ...string) *historypb.HistoryEvent {
		fields := map[string]*commonpb.Payload{}
		for _, n := range names {
			fields[n] = &commonpb.Payload{}
		}
		return ev(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
				SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields}}}
		})
	}
	started := func(attempt int32) *historypb.HistoryEvent {
		return ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{Attempt: attempt}}
		})
	}
	events := []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, nil), // 1
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, nil),
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, func(e *historypb.HistoryEvent) { // 2 local-activity retries
			e.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
				MeteringMetadata: &commonpb.MeteringMetadata{NonfirstLocalActivityExecutionAttempts: 2}}}
		}),
		// Three markers in workflow task 4, one in task 9: two Actions.
		marker("LocalActivity", 4), marker("LocalActivity", 4), marker("Version", 4), marker("Version", 9),
		upsert("TemporalChangeVersion"),                     // exempt
		upsert("OrderStatus", "TemporalChangeVersion"),      // 1
		upsert("OrderStatus", "OrderTotal"),                 // 1
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, nil), // 1
		started(3), // 2 retries
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, nil),                      // 1, never started
		ev(enumspb.EVENT_TYPE_TIMER_STARTED, nil),                                // 1
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, nil),                  // 1
		ev(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, nil), // billed in the receiver's history
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, nil),           // 1
		ev(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, nil),     // 2
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, nil),          // billed as the next run's start
	}
	got := Count(events)
	want := Cost{
		Runs: 1, Events: len(events), WorkflowTasks: 1,
		Activities: 2, ActivityAttempts: 4, LocalActivities: 2, LocalActivityRetries: 2, MarkerTasks: 2, Versions: 2,
		Timers: 1, Signals: 1, SignalsSent: 1, Updates: 1, Upserts: 3, VersionUpserts: 1, ChildWorkflows: 1, ContinueAsNew: 1,
		// start 1 + activities 2 + retries 2 + marker tasks 2 + LA retries 2
		// + timer 1 + signal 1 + update 1 + upserts 2 + child 2
		Billable: 16,
	}
	if got != want {
		t.Errorf("Count:\n got %+v\nwant %+v", got, want)
	}

	// The next run, started by continue-as-new, bills its start; the sum
	// of the runs is the order's cost.
	next := Count([]*historypb.HistoryEvent{ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, nil), ev(enumspb.EVENT_TYPE_TIMER_STARTED, nil)})
	if sum := got.Add(next); sum.Runs != 2 || sum.Billable != 18 || sum.Timers != 2 || sum.Events != len(events)+2 {
		t.Errorf("two runs: %+v", sum)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	s := Summarize([]Cost{{Events: 10, Billable: 3}, {Events: 30, Billable: 5}, {Events: 20, Billable: 4}})
	ev, ok := s.Row("history events")
	if !ok || s.N != 3 || ev.Mean != 20 || ev.P50 != 20 || ev.Min != 10 || ev.Max != 30 {
		t.Errorf("history events: %+v (n %d)", ev, s.N)
	}
	if b, _ := s.Row("billable actions"); b.P50 != 4 || b.Max != 5 {
		t.Errorf("billable actions: %+v", b)
	}
	if empty := Summarize(nil); empty.N != 0 || empty.Rows != nil {
		t.Errorf("no costs: %+v", empty)
	}
}

// BenchmarkCount counts the recorded two-shipment order: what reading one
// order's cost takes once its history is fetched.
func BenchmarkCount(b *testing.B) {
	f, err := os.Open("../../workflows/testdata/order_completed_two_shipments_survey_per_shipment.json")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if Count(h.GetEvents()).Billable == 0 {
			b.Fatal("no billable actions")
		}
	}
}
