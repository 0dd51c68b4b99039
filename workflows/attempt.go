package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// attempt runs one outside step. When the step fails for good (budget spent or
// permanent error) the order needs attention: CS is mailed and the order waits
// for a CS action — retry runs the step again, cancel unwinds the order.
func (o *orderState) attempt(ctx workflow.Context, step string, run func(workflow.Context) error) error {
	_, err := o.attemptStep(ctx, step, false, nil, run)
	return err
}

// attemptUndoable is attempt for a forward call that changes something
// outside: its undo u, named by the call's idempotency key, is registered
// right before each try (changeUndoBeforeCall), and dropped again when the
// outside system refused for good (a refusal changed nothing).
func (o *orderState) attemptUndoable(ctx workflow.Context, step string, u undo, run func(workflow.Context) error) error {
	_, err := o.attemptStep(ctx, step, false, &u, run)
	return err
}

// attemptStep is attempt for a step CS may also skip (skippable): one whose
// outcome nothing later depends on, such as an undo that was done by hand or
// cannot be done (a delivered shipment cannot be cancelled). skipped reports
// that CS skipped it.
func (o *orderState) attemptStep(ctx workflow.Context, step string, skippable bool, u *undo, run func(workflow.Context) error) (skipped bool, _ error) {
	// What the order said before the step; a failure says which step
	// failed instead, until the step is retried or skipped.
	waitingBefore := o.d.Waiting
	for {
		if o.cancel != nil && !o.compensating {
			return false, errCancelled
		}
		if !o.compensating && ctx.Err() != nil && o.finishOutsideCalls(ctx) {
			// Cancelled from the Temporal UI while the last step finished:
			// start nothing new; the caller unwinds what is registered.
			return false, ctx.Err()
		}
		if u != nil {
			o.registerUndo(*u)
		}
		var err error
		if o.retryThroughOutages {
			err = o.runWatched(ctx, step, run)
		} else {
			err = run(ctx)
		}
		o.attemptsDone++
		if err == nil {
			if o.d.Failure != nil || o.d.NeedsAttention {
				o.d.Failure, o.d.NeedsAttention = nil, false
				o.d.Waiting = waitingBefore
				o.transition(ctx, o.d.Status, order.System, "step.recovered", step)
			}
			return false, nil
		}
		if temporal.IsCanceledError(err) || errors.Is(err, errCancelled) {
			return false, err
		}
		if u != nil && !temporal.IsCanceledError(err) && !isRetryable(err) {
			// Refused for good: the outside system changed nothing.
			o.dropUndo(u.Key)
		}
		if _, ok := refusedLines(err); ok {
			// The ERP will not price what was asked: the caller answers the
			// buyer, no CS retry can change it.
			return false, err
		}
		o.failures++
		line := describeFailure(err, o.stepBudget())
		o.d.Failure = &StepFailure{Step: step, Error: line, Since: workflow.Now(ctx), Skippable: skippable}
		o.d.NeedsAttention = true
		what := "retry the step or cancel the order"
		if skippable {
			what = "retry the step, or skip it if it was done by hand or cannot be done,"
		}
		o.d.Waiting = fmt.Sprintf("Step %q failed: %s Waiting for CS to %s.", step, line, strings.TrimSuffix(what, ","))
		o.logger.Error("step failed; waiting for CS", "Step", step, "Error", err)
		o.transition(ctx, o.d.Status, order.System, "step.failed", step+": "+line)
		o.notify(ctx, fmt.Sprintf("cs-alert-%d", o.failures), mail.KindCSAlert, activities.AudienceCS,
			mail.Data{Step: step, Error: line, WaitsForCS: true, CanSkip: skippable,
				Reason: strings.TrimSuffix(what, ",")})

		// A CS action given while the alert mail was being sent is kept (the
		// order already showed NeedsAttention); runs from before the fix
		// dropped it, and replay must too.
		if !o.gate(ctx, changeKeepEarlyCSActions) {
			o.csAction = nil
		}
		if err := workflow.Await(ctx, func() bool { return o.csAction != nil || (o.cancel != nil && !o.compensating) }); err != nil {
			o.abandonFailure()
			return false, err
		}
		if o.cancel != nil && !o.compensating {
			o.abandonFailure()
			return false, errCancelled
		}
		act := o.csAction
		o.csAction = nil
		o.d.Failure, o.d.NeedsAttention = nil, false
		o.d.Waiting = waitingBefore
		if act.Action == ActionSkip {
			o.transition(ctx, o.d.Status, act.Actor, "action.skip", step+": "+act.Reason)
			return true, nil
		}
		o.d.Waiting = fmt.Sprintf("Retrying %q, as %s asked.", step, act.Actor.Subject)
		o.transition(ctx, o.d.Status, act.Actor, "action.retry", step+": "+act.Reason)
	}
}

// runWatched runs one attempt of a step, which retries by itself until it
// succeeds or fails for good. Past StepBudget without an answer the order
// needs attention: CS is told once, the details say what the order waits
// for, and the call goes on retrying; the caller clears the flag when it
// succeeds. A worker fleet that is down or backlogged counts too: queue time
// is time without success.
func (o *orderState) runWatched(ctx workflow.Context, step string, run func(workflow.Context) error) error {
	if o.lean {
		return o.runBudgeted(ctx, step, run)
	}
	var (
		err  error
		done bool
	)
	callCtx, abandon := workflow.WithCancel(ctx)
	workflow.Go(callCtx, func(ctx workflow.Context) {
		err = run(ctx)
		done = true
	})
	// A cancel asked for through the API abandons a call that is still
	// retrying (an outage must not hold the cancel up); its undo is
	// registered by key (changeUndoBeforeCall). Older runs wait for it.
	cancelled := func() bool { return o.undoFirst && o.cancel != nil && !o.compensating }
	finished := func() bool { return done || cancelled() }
	defer func() {
		if !done {
			abandon()
		}
	}()
	budget := o.stepBudget()
	ok, werr := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: budget,
		TimerOptions: workflow.TimerOptions{Summary: "step budget: " + step}}, finished)
	if ok && !done {
		return errCancelled
	}
	if werr != nil || ok {
		if werr != nil && !done {
			// Cancelled from the Temporal UI: the call's own context
			// decides whether it finishes (outsideCtx); wait for it.
			_ = workflow.Await(o.detached(ctx), func() bool { return done })
		}
		return err
	}
	before := o.overBudget(ctx, step, workflow.Now(ctx).Add(-budget))
	if werr := workflow.Await(o.detached(ctx), finished); werr != nil {
		return werr
	}
	o.d.Waiting = before
	if !done {
		return errCancelled
	}
	return err
}

// overBudget flags a step that has had no success since: NeedsAttention,
// the details say what the order waits for, CS is told once. It returns
// what the order said it waited for before, to put back on success.
func (o *orderState) overBudget(ctx workflow.Context, step string, since time.Time) (waitingBefore string) {
	budget := o.stepBudget()
	o.failures++
	line := fmt.Sprintf("no success for %s; orderflow keeps retrying (an outside system is down or slow, or the workers are backlogged).", inWords(budget))
	o.d.Failure = &StepFailure{Step: step, Error: line, Since: since, Retrying: true}
	o.d.NeedsAttention = true
	before := o.d.Waiting
	o.d.Waiting = fmt.Sprintf("Step %q has not succeeded for %s and keeps retrying; the order moves on by itself when it does. %s", step, inWords(budget), before)
	o.logger.Warn("step over its budget; still retrying", "Step", step)
	o.transition(ctx, o.d.Status, order.System, "step.delayed", step+": "+line)
	o.notify(ctx, fmt.Sprintf("cs-delayed-%d", o.failures), mail.KindCSAlert, activities.AudienceCS,
		mail.Data{Step: step, Error: line, Reason: "nothing to do unless you want to cancel the order: it moves on by itself once the call succeeds"})
	return before
}

// stepDeadlineKey carries a step's budget deadline (a time.Time) in the
// context its calls are scheduled on; outside turns it into their
// ScheduleToCloseTimeout.
type stepDeadlineKey struct{}

// runBudgeted is runWatched for a lean run (changeLeanHistory): the
// budget is the ScheduleToCloseTimeout of the step's outside calls rather
// than a timer beside them, as a timeout costs nothing in Temporal and a
// timer is a billed Action and two history events on every step. Temporal
// ends the call with a schedule-to-close timeout at the budget, or at the
// last retry that fits in it (the retry delays are capped at RetryCap);
// the order is then flagged as in runWatched and the call runs again with
// no deadline, by its idempotency key, until it succeeds.
func (o *orderState) runBudgeted(ctx workflow.Context, step string, run func(workflow.Context) error) error {
	since := workflow.Now(ctx)
	err, stop := o.runBeside(ctx, workflow.WithValue(ctx, stepDeadlineKey{}, since.Add(o.stepBudget())), run)
	if stop != nil || !isBudgetTimeout(err) {
		if stop != nil {
			return stop
		}
		return err
	}
	before := o.overBudget(ctx, step, since)
	err, stop = o.runBeside(ctx, ctx, run)
	o.d.Waiting = before
	if stop != nil {
		return stop
	}
	return err
}

// runBeside runs run on callCtx in a coroutine of its own and waits for it.
// A cancel asked through the API abandons a call that is still retrying
// (stop is errCancelled; its undo was registered by key). Cancelled from the
// Temporal UI, it waits for the call all the same: the call's own context
// decides whether it finishes (outsideCtx).
func (o *orderState) runBeside(ctx, callCtx workflow.Context, run func(workflow.Context) error) (err, stop error) {
	done := false
	callCtx, abandon := workflow.WithCancel(callCtx)
	workflow.Go(callCtx, func(ctx workflow.Context) {
		err = run(ctx)
		done = true
	})
	defer func() {
		if !done {
			abandon()
		}
	}()
	cancelled := func() bool { return o.undoFirst && o.cancel != nil && !o.compensating }
	if werr := workflow.Await(ctx, func() bool { return done || cancelled() }); werr != nil {
		_ = workflow.Await(o.detached(ctx), func() bool { return done })
		return err, nil
	}
	if !done {
		return nil, errCancelled
	}
	return err, nil
}

// isBudgetTimeout reports whether err is a call that ran out of its step's
// budget (the ScheduleToCloseTimeout runBudgeted gave it). The calls retry
// until they succeed or fail for good (untilSuccess), so one that returns a
// retryable error has run out of time: Temporal ends it with a
// schedule-to-close timeout, or with its last attempt's failure (retry
// state TIMEOUT) when the next retry would not fit in the budget.
func isBudgetTimeout(err error) bool {
	return err != nil && isRetryable(err) && !temporal.IsCanceledError(err) && !errors.Is(err, errCancelled)
}

// stepBudget is the order's step budget: from its input, or the default.
func (o *orderState) stepBudget() time.Duration {
	if o.in.StepBudget > 0 {
		return o.in.StepBudget
	}
	return StepBudget
}

// isRetryable reports whether a failed call may still succeed: anything but
// a non-retryable ApplicationError (timeouts included).
func isRetryable(err error) bool {
	var appErr *temporal.ApplicationError
	return !errors.As(err, &appErr) || !appErr.NonRetryable()
}

// abandonFailure forgets a failed step the order will not go back to (it is
// being cancelled), so CS is not offered a retry of it while the undos run.
func (o *orderState) abandonFailure() {
	o.d.Failure, o.d.NeedsAttention, o.csAction = nil, false, nil
}

// finishOutsideCalls reports whether this run lets an outside call in flight
// finish when the workflow is cancelled (changeFinishOutsideCalls).
func (o *orderState) finishOutsideCalls(ctx workflow.Context) bool {
	return o.gate(ctx, changeFinishOutsideCalls)
}

// outsideCtx is the context for a forward call that changes something
// outside (reserve, book, invoice): a cancellation from the Temporal UI lets
// it finish, so that its undo is registered and run, instead of cancelling
// it half-way with the change made and unknown.
func (o *orderState) outsideCtx(ctx workflow.Context) workflow.Context {
	if o.undoFirst {
		// The undo is registered by key before the call: a cancel may
		// abandon the call, and the undo finds whatever it made.
		return ctx
	}
	if !o.finishOutsideCalls(ctx) {
		return ctx
	}
	d, _ := workflow.NewDisconnectedContext(ctx)
	return d
}

// detached returns a context that a cancellation of the workflow (from the
// Temporal UI) does not cancel, for what must happen anyway: the audit
// entry of a transition, an update's answer. Runs from before
// changeDetached keep ctx.
func (o *orderState) detached(ctx workflow.Context) workflow.Context {
	if !o.gate(ctx, changeDetached) {
		return ctx
	}
	d, _ := workflow.NewDisconnectedContext(ctx)
	return d
}
