package historycost

import (
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// Marker names the Go SDK records (internal_event_handlers.go).
const (
	markerLocalActivity = "LocalActivity"
	markerVersion       = "Version"
)

// changeVersionAttribute is the search attribute the Go SDK's GetVersion
// upserts; Temporal Cloud does not bill upserts of it.
const changeVersionAttribute = "TemporalChangeVersion"

// Cost is what one workflow execution (all its runs) cost in Temporal.
type Cost struct {
	// Runs is how many runs were counted: 1 plus one per continue-as-new.
	Runs int `json:"runs"`
	// Events is the history length, summed over the runs.
	Events int `json:"events"`
	// WorkflowTasks is how many workflow tasks a worker took up
	// (WorkflowTaskStarted).
	WorkflowTasks int `json:"workflow_tasks"`
	// Activities is how many activities were scheduled; ActivityAttempts
	// how many times they ran (ActivityTaskStarted's attempt; an activity
	// that never started counts its scheduling only).
	Activities       int `json:"activities"`
	ActivityAttempts int `json:"activity_attempts"`
	// LocalActivities counts LocalActivity markers; LocalActivityRetries the
	// attempts after the first, as the workflow tasks' metering metadata
	// reports them.
	LocalActivities      int `json:"local_activities"`
	LocalActivityRetries int `json:"local_activity_retries"`
	// MarkerTasks is how many workflow tasks recorded at least one marker
	// (each is one billable Action).
	MarkerTasks int `json:"marker_tasks"`
	// Timers counts TimerStarted.
	Timers int `json:"timers"`
	// Signals counts signals received (WorkflowExecutionSignaled);
	// SignalsSent signals this workflow sent to others.
	Signals     int `json:"signals"`
	SignalsSent int `json:"signals_sent"`
	// Updates counts accepted updates (rejected ones leave no event).
	Updates int `json:"updates"`
	// Upserts counts every UpsertWorkflowSearchAttributes, VersionUpserts
	// those that set only TemporalChangeVersion (not billed).
	Upserts        int `json:"upserts"`
	VersionUpserts int `json:"version_upserts"`
	// Versions counts Version markers (workflow.GetVersion).
	Versions int `json:"versions"`
	// ChildWorkflows counts child workflows initiated.
	ChildWorkflows int `json:"child_workflows"`
	// ContinueAsNew counts runs that ended by continuing as new.
	ContinueAsNew int `json:"continue_as_new"`
	// Billable is the Actions Temporal Cloud bills for what the history
	// shows (the rule in the package doc).
	Billable int `json:"billable_actions"`
}

// Count reads one run's history events and says what they cost. Counting
// a continued-as-new workflow means counting each run and adding the
// results (Cost.Add).
func Count(events []*historypb.HistoryEvent) Cost {
	c := Cost{Runs: 1, Events: len(events)}
	markerTasks := map[int64]bool{}
	activityRetries := 0
	other := 0 // billable Actions that have no count of their own
	for _, e := range events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			c.WorkflowTasks++
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			c.LocalActivityRetries += int(e.GetWorkflowTaskCompletedEventAttributes().GetMeteringMetadata().GetNonfirstLocalActivityExecutionAttempts())
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			if e.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW {
				other++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			c.Activities++
			c.ActivityAttempts++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if n := int(e.GetActivityTaskStartedEventAttributes().GetAttempt()); n > 1 {
				c.ActivityAttempts += n - 1
				activityRetries += n - 1
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			a := e.GetMarkerRecordedEventAttributes()
			switch a.GetMarkerName() {
			case markerLocalActivity:
				c.LocalActivities++
			case markerVersion:
				c.Versions++
			}
			markerTasks[a.GetWorkflowTaskCompletedEventId()] = true
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			c.Timers++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			c.Signals++
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			c.SignalsSent++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			c.Updates++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			c.Upserts++
			if onlyChangeVersion(e.GetUpsertWorkflowSearchAttributesEventAttributes()) {
				c.VersionUpserts++
			}
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			c.ChildWorkflows++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			c.ContinueAsNew++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
			enumspb.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
			enumspb.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
			other++
		}
	}
	c.MarkerTasks = len(markerTasks)
	started := 0
	if len(events) > 0 && events[0].GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
		started = 1 // a client start, or this run's start by continue-as-new
	}
	c.Billable = started +
		c.Activities + activityRetries +
		c.MarkerTasks + c.LocalActivityRetries +
		c.Timers + c.Signals + c.Updates +
		c.Upserts - c.VersionUpserts +
		2*c.ChildWorkflows + other
	return c
}

// onlyChangeVersion reports whether an upsert sets TemporalChangeVersion and
// nothing else.
func onlyChangeVersion(a *historypb.UpsertWorkflowSearchAttributesEventAttributes) bool {
	fields := a.GetSearchAttributes().GetIndexedFields()
	if len(fields) == 0 {
		return false
	}
	for k := range fields {
		if k != changeVersionAttribute {
			return false
		}
	}
	return true
}

// Add sums two costs, as of two runs of one workflow.
func (c Cost) Add(o Cost) Cost {
	return Cost{
		Runs: c.Runs + o.Runs, Events: c.Events + o.Events, WorkflowTasks: c.WorkflowTasks + o.WorkflowTasks,
		Activities: c.Activities + o.Activities, ActivityAttempts: c.ActivityAttempts + o.ActivityAttempts,
		LocalActivities: c.LocalActivities + o.LocalActivities, LocalActivityRetries: c.LocalActivityRetries + o.LocalActivityRetries,
		MarkerTasks: c.MarkerTasks + o.MarkerTasks, Timers: c.Timers + o.Timers,
		Signals: c.Signals + o.Signals, SignalsSent: c.SignalsSent + o.SignalsSent, Updates: c.Updates + o.Updates,
		Upserts: c.Upserts + o.Upserts, VersionUpserts: c.VersionUpserts + o.VersionUpserts, Versions: c.Versions + o.Versions,
		ChildWorkflows: c.ChildWorkflows + o.ChildWorkflows, ContinueAsNew: c.ContinueAsNew + o.ContinueAsNew,
		Billable: c.Billable + o.Billable,
	}
}
