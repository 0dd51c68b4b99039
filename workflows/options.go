package workflows

import (
	"math"
	"time"

	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Timings of the order lifecycle. They are business rules, written down in
// docs/design.md; changing one changes timers of new commands only.
const (
	// StepBudget is how long an outside step may go without success before
	// the order sets NeedsAttention and alerts CS; it keeps retrying all the
	// same (changeRetryThroughOutages; before it, the step gave up then).
	StepBudget = 30 * time.Minute
	// RetryCap bounds the wait between two attempts of an outside call.
	RetryCap = 5 * time.Minute
	// PollBudget bounds one look at the carrier: polling is a fallback, the
	// next poll tries again.
	PollBudget = time.Hour
	// QuoteReminderBefore: the buyer is reminded this long before the quote expires.
	QuoteReminderBefore = 2 * 24 * time.Hour
	// ApprovalReminderAfter and ApprovalEscalateAfter: silence of approvers.
	ApprovalReminderAfter = 24 * time.Hour
	ApprovalEscalateAfter = 72 * time.Hour
	// CarrierPollEvery: the fallback look at the carrier when webhooks go missing.
	CarrierPollEvery = 6 * time.Hour
	// ReturnWindow is how long a return waits for the carrier's "returned"
	// event before the RMA and the pickup are cancelled and CS is told.
	ReturnWindow = 30 * 24 * time.Hour
	// DeliveryGrace: past the promised date plus this, CS is alerted.
	DeliveryGrace = 2 * 24 * time.Hour
	// SurveyReminderAfter and SurveyWindow: one reminder, then it closes unanswered.
	SurveyReminderAfter = 7 * 24 * time.Hour
	SurveyWindow        = 14 * 24 * time.Hour
	// DunningEvery after the due date, DunningEscalateAfter to finance;
	// after the escalation the buyer is reminded DunningLateEvery
	// (changeBoundedCadence).
	DunningEvery         = 7 * 24 * time.Hour
	DunningEscalateAfter = 30 * 24 * time.Hour
	DunningLateEvery     = 30 * 24 * time.Hour
	// A shipment past its promised date plus DeliveryGrace is looked at
	// daily for PollDailyFor, then weekly (changeBoundedCadence).
	PollDailyFor = 14 * 24 * time.Hour
	// UpdateWait bounds how long an update waits to report the order's new state.
	UpdateWait = 20 * time.Second
)

// business is a business duration (a reminder, a window, a cadence) on the
// order's clock: d compressed by the order's TimeScale (order.Compress).
// Operational timings (activity timeouts, retry caps, StepBudget,
// UpdateWait, the wait for a quiet moment to continue as new) are not
// business time and never pass through it.
//
// At scale 0 or 1 it returns d itself, so an unscaled order issues exactly
// the commands it issued before TimeScale existed, timer for timer: that is
// why no workflow.GetVersion gate guards the scaling (the recorded
// histories in testdata replay unchanged, TestReplay), and why a scaled
// order needs none either, as its scale is fixed in its input.
func (o *orderState) business(d time.Duration) time.Duration {
	return order.Compress(d, o.in.TimeScale)
}

// businessDate moves a business date t made at from (a quote's validity
// counted from its pricing, an invoice's due date from its issue, a
// carrier's promised date from its booking) onto the order's clock:
// from + (t−from)/scale (order.CompressDate). The order keeps and shows
// the moved date, so its records, mails and timers agree.
func (o *orderState) businessDate(from, t time.Time) time.Time {
	return order.CompressDate(from, t, o.in.TimeScale)
}

// businessDays is a span of the order's clock in whole business days (how
// long an invoice is overdue, for the mails and records).
func (o *orderState) businessDays(d time.Duration) int {
	if s := order.TimeScale(o.in.TimeScale); s != 1 {
		return int(d.Hours() * s / 24)
	}
	return int(d.Hours() / 24)
}

// outside is for calls to the ERP and the carrier: each attempt is short,
// and the call retries with capped backoff (the activities add jitter and
// follow the breaker through NextRetryDelay) until it succeeds or fails
// for good. Runs from before changeRetryThroughOutages keep budgetedOutside.
func (o *orderState) outside(ctx workflow.Context, summary string) workflow.Context {
	if !o.retryThroughOutages {
		return budgetedOutside(ctx, summary)
	}
	opts := workflow.ActivityOptions{
		Summary:             summary,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         untilSuccess,
	}
	if deadline, ok := ctx.Value(stepDeadlineKey{}).(time.Time); ok {
		// Inside a lean run's step (runBudgeted): the budget that is
		// left, at least a second so that a call scheduled at the
		// deadline still gets one try.
		opts.ScheduleToCloseTimeout = max(deadline.Sub(workflow.Now(ctx)), time.Second)
	}
	return workflow.WithActivityOptions(ctx, opts)
}

// untilSuccess retries with capped backoff until the call succeeds or fails
// for good. The outside-call activities set each retry's delay themselves
// (activities.RetryDelay: exponential by attempt, capped at RetryCap,
// jittered, floored by an open breaker); this policy's backoff is the
// fallback for errors without one. MaximumAttempts is explicit, not 0 ("unlimited" to the server):
// the SDK's test suite caps 0 at 10 attempts, and the tests must run the
// policy production runs. At the 5-minute cap it lasts for millennia.
var untilSuccess = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    RetryCap,
	MaximumAttempts:    math.MaxInt32,
}

// mailing is outside for mail, with a longer attempt for slow SMTP servers:
// a mail is never dropped.
func (o *orderState) mailing(ctx workflow.Context, summary string) workflow.Context {
	if !o.retryThroughOutages {
		return budgetedMailing(ctx, summary)
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summary,
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         untilSuccess,
	})
}

// polling is for the fallback look at the carrier: bounded, because the next
// poll tries again and a webhook may answer first.
func polling(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: PollBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    RetryCap,
		},
	})
}

// budgetedOutside is how outside calls ran before changeRetryThroughOutages:
// they gave up after StepBudget and the order waited for CS.
func budgetedOutside(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: StepBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// budgetedMailing is how mails ran before changeRetryThroughOutages: dropped
// (logged and audited) after StepBudget.
func budgetedMailing(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: StepBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
		},
	})
}

// ownDatabase is for orderflow's own database: it retries until the database is
// back, because without it nothing can be recorded, not even a failure.
// MaximumAttempts is explicit for the reason untilSuccess gives (the test
// suite would stop at 10 attempts; the server counts 0 as unlimited).
func ownDatabase(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summary,
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    math.MaxInt32,
		},
	})
}

// localRecordBudget bounds how long a Record runs as a local activity
// before it falls back to an ordinary one (changeLocalRecords).
const localRecordBudget = time.Minute

// localDatabase is ownDatabase for a local activity (Record since
// changeLocalRecords). The SDK retries a local activity inside the worker
// while the next backoff fits in the workflow task timeout (10 s by
// default), heartbeating the workflow task meanwhile; a longer backoff
// would become a marker and a timer per attempt, and a database down for
// days would grow the history by thousands of events. So the backoff stays
// under 10 s and the local attempts end after localRecordBudget; the caller
// then runs an ordinary activity (ownDatabase), whose retries the server
// keeps out of the history.
func localDatabase(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: localRecordBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
		},
	})
}
