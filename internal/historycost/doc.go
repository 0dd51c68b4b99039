// Package historycost counts what a workflow execution cost in Temporal,
// from its event history: events, workflow tasks, activities, local
// activities, timers, signals, updates, search-attribute upserts, version
// markers, and the billable Actions as Temporal Cloud counts them.
//
// Count is pure: it reads a history and nothing else. Fetch reads every run
// of a workflow (following a continue-as-new chain back to its first run)
// through a Temporal client and sums the runs' counts, so an order that
// continued as new costs what all its runs cost. Summarize turns many
// orders' costs into mean, p50, min and max per count for a report.
//
// # The billing rule
//
// Billable Actions follow "Temporal Cloud Actions"
// (https://docs.temporal.io/cloud/actions; source
// github.com/temporalio/documentation docs/evaluate/cloud/actions.mdx at
// 24afc58), cross-checked against the open-source server's own "action"
// metric (go.temporal.io/server v1.32.1, common/rpc/interceptor/telemetry.go).
// From a history, one Action each for:
//
//   - WorkflowExecutionStarted: the workflow start, and each run started by
//     continue-as-new (Cloud bills continue-as-new once, and shows it on the
//     new run's start, not on the ContinuedAsNew event).
//   - ActivityTaskScheduled: the activity's first attempt; plus attempt-1 for
//     each ActivityTaskStarted (its retries: "Activity started or retried").
//   - MarkerRecorded: all markers recorded by one workflow task together are
//     one Action (local activities, side effects and version markers alike:
//     the server meters RecordMarker commands as one batch per task); plus
//     WorkflowTaskCompleted's metering_metadata
//     nonfirst_local_activity_execution_attempts (local-activity retries).
//   - TimerStarted.
//   - WorkflowExecutionSignaled (a signal is billed once, and Cloud shows a
//     workflow-to-workflow signal in the signaled history, so the
//     SignalExternalWorkflowExecutionInitiated of a sender is not counted).
//   - WorkflowExecutionUpdateAccepted.
//   - UpsertWorkflowSearchAttributes, unless it upserts only
//     TemporalChangeVersion, which Cloud exempts (the Go SDK's GetVersion
//     writes one such upsert per new version marker).
//   - WorkflowExecutionOptionsUpdated.
//   - StartChildWorkflowExecutionInitiated: two Actions (the intent and the
//     start attempt).
//   - NexusOperationScheduled and NexusOperationCancelRequested.
//   - WorkflowTaskFailed with cause RESET_WORKFLOW (a reset).
//
// A history cannot show some Actions, so Count leaves them out: queries,
// activity heartbeats, workflow-task heartbeats of long local activities,
// rejected updates (never written to history), de-duplicated starts,
// schedules, history export, and Fairness or capacity surcharges.
package historycost
