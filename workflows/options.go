package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Timings of the order lifecycle. They are business rules, written down in
// docs/design.md; changing one changes timers of new commands only.
const (
	// StepBudget is how long one outside step keeps retrying before the order
	// asks CS for help. Breaker-open backoffs count against it.
	StepBudget = 30 * time.Minute
	// QuoteReminderBefore: the buyer is reminded this long before the quote expires.
	QuoteReminderBefore = 2 * 24 * time.Hour
	// ApprovalReminderAfter and ApprovalEscalateAfter: silence of approvers.
	ApprovalReminderAfter = 24 * time.Hour
	ApprovalEscalateAfter = 72 * time.Hour
	// CarrierPollEvery: the fallback look at the carrier when webhooks go missing.
	CarrierPollEvery = 6 * time.Hour
	// DeliveryGrace: past the promised date plus this, CS is alerted.
	DeliveryGrace = 2 * 24 * time.Hour
	// SurveyReminderAfter and SurveyWindow: one reminder, then it closes unanswered.
	SurveyReminderAfter = 7 * 24 * time.Hour
	SurveyWindow        = 14 * 24 * time.Hour
	// DunningEvery after the due date, DunningEscalateAfter to finance.
	DunningEvery         = 7 * 24 * time.Hour
	DunningEscalateAfter = 30 * 24 * time.Hour
	// UpdateWait bounds how long an update waits to report the order's new state.
	UpdateWait = 20 * time.Second
)

// outside is for calls to the ERP and the carrier: each attempt is short, the
// step retries with capped backoff within StepBudget.
func outside(ctx workflow.Context, summary string) workflow.Context {
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

// mailing is for mail: the same shape as outside, with a longer attempt for
// slow SMTP servers.
func mailing(ctx workflow.Context, summary string) workflow.Context {
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

// local is for orderflow's own database: it retries until the database is
// back, because without it nothing can be recorded, not even a failure.
func local(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summary,
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
}
