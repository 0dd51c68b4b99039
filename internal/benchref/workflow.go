package benchref

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the bare workflow's own task queue, so its tasks never mix
// with the orders'.
const TaskQueue = "bench-reference"

// Names the bare workflow and its activity are registered under.
const (
	WorkflowName = "BenchReferenceWorkflow"
	ActivityName = "BenchReferenceNoop"
)

// timerWait is the timer a step waits on when it has no activity: the
// shortest that still makes a timer (a zero one completes in the workflow
// without reaching the server).
const timerWait = time.Millisecond

// Workflow does what shape.Plan says, one step per workflow task.
func Workflow(ctx workflow.Context, shape Shape) error {
	if err := shape.Validate(); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for _, st := range shape.Plan() {
		for range st.LocalActivities {
			if err := workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil); err != nil {
				return err
			}
		}
		futures := make([]workflow.Future, st.Activities)
		for i := range futures {
			futures[i] = workflow.ExecuteActivity(actx, ActivityName)
		}
		for _, f := range futures {
			if err := f.Get(ctx, nil); err != nil {
				return err
			}
		}
		if st.Timer {
			if err := workflow.Sleep(ctx, timerWait); err != nil {
				return err
			}
		}
	}
	return nil
}

// Noop is the bare workflow's activity, and its local activity: it does
// nothing.
func Noop(context.Context) error { return nil }

// NewWorker returns a worker on TaskQueue with the bare workflow and its
// activity registered, built with opts (pass the order worker's options,
// so both arms run in the same worker set-up).
func NewWorker(c client.Client, opts sdkworker.Options) sdkworker.Worker {
	w := sdkworker.New(c, TaskQueue, opts)
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivityWithOptions(Noop, activity.RegisterOptions{Name: ActivityName})
	return w
}
