package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// Business time in simulations (OrderInput.TimeScale, docs/design.md): an
// order at scale 5760 lives a business day in 15 seconds. Each test here
// would see the real-time schedule (days, weeks) if the scaling were gone.

const simScale = 5760

// simStart lies before the carrier's promised date of the test world
// (2030-01-01), so no shipment is overdue by accident.
var simStart = time.Date(2029, 12, 1, 9, 0, 0, 0, time.UTC)

// at scale is a business duration on the clock of an order at simScale.
func atScale(d time.Duration) time.Duration { return d / simScale }

func (w *world) countActions(action string) int {
	n := 0
	for _, a := range w.actions() {
		if a == action {
			n++
		}
	}
	return n
}

// An unanswered survey closes after SurveyWindow/scale, with its reminder
// at SurveyReminderAfter/scale, and the paid order completes then: the
// month-long lifecycle of an order fits in minutes.
func TestScaledOrderSurveyClosesAtScaleAndCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.timeScale = simScale
	w.env.SetStartTime(simStart)
	delivered := 20 * time.Second
	w.at(10*time.Second, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(delivered, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		for _, s := range d.Shipments {
			// The carrier promised 2030-01-01 (31 days); on the order's
			// clock that is 7m45s after the booking.
			require.WithinDuration(t, simStart.Add(10*time.Second+atScale(31*24*time.Hour-9*time.Hour)), s.PromisedDate, 2*time.Second,
				"the promised date is on the order's clock")
		}
		w.deliverAll()
	})
	w.at(time.Minute, func() { w.pay("BTX-1", mainTotal) })
	// 20 s + 105 s: the reminder is out; the window (210 s) still open.
	w.at(delivered+atScale(workflows.SurveyReminderAfter)+10*time.Second, func() {
		d := w.details()
		require.Equal(t, order.StatusPaid, d.Status, "paid, the surveys still open")
		require.Len(t, d.Surveys, 2)
		for _, s := range d.Surveys {
			require.Equal(t, "reminded", s.State)
		}
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	took := w.env.Now().Sub(simStart)
	require.GreaterOrEqual(t, took, delivered+atScale(workflows.SurveyWindow), "the surveys stay open for their window")
	require.Less(t, took, delivered+atScale(workflows.SurveyWindow)+10*time.Second, "the order completes when the survey window closes: %s", took)
	reminders := slices.DeleteFunc(w.mailKinds(), func(k mail.Kind) bool { return k != mail.KindSurveyReminder })
	require.Len(t, reminders, 2, "a reminder per survey")
	// Each survey link expires with its window.
	for _, s := range w.surveysOpened {
		require.WithinDuration(t, simStart.Add(delivered+atScale(workflows.SurveyWindow)), s.ExpiresAt, time.Second)
	}
}

// A silent quote at scale: valid for its validity/scale (and shown so), the
// reminder QuoteReminderBefore/scale before that, then QUOTE_EXPIRED.
func TestScaledQuoteExpiresAtScaleAfterItsReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.timeScale = simScale
	w.env.SetStartTime(simStart)
	validity := atScale(14 * 24 * time.Hour)       // 210 s (acmeTerms: 14 days)
	remindAt := validity - atScale(2*24*time.Hour) // 180 s
	w.at(10*time.Second, func() {
		d := w.details()
		require.WithinDuration(t, simStart.Add(validity), d.Quote.ValidUntil, time.Second, "the quote is valid for its validity at scale")
	})
	w.at(remindAt-10*time.Second, func() {
		require.Equal(t, []mail.Kind{mail.KindQuote}, w.mailKinds(), "no reminder yet")
	})
	w.at(remindAt+10*time.Second, func() {
		require.Equal(t, []mail.Kind{mail.KindQuote, mail.KindQuoteReminder}, w.mailKinds())
		require.Equal(t, order.StatusAwaitingAcceptance, w.details().Status)
	})
	res := w.run()
	require.Equal(t, order.StatusQuoteExpired, res.Status)
	require.WithinDuration(t, simStart.Add(validity), w.env.Now(), 2*time.Second, "the quote expires at its validity at scale")
	require.Equal(t, []mail.Kind{mail.KindQuote, mail.KindQuoteReminder, mail.KindQuoteExpired}, w.mailKinds())
}

// Approvers' silence at scale: the reminder after ApprovalReminderAfter/scale
// (15 s), the escalation after ApprovalEscalateAfter/scale (45 s).
func TestScaledApprovalRemindsAndEscalatesAtScale(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.timeScale = simScale
	w.env.SetStartTime(simStart)
	accepted := time.Second
	w.at(accepted, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(accepted+atScale(workflows.ApprovalReminderAfter)-5*time.Second, func() {
		require.Equal(t, order.StatusAwaitingApproval, w.details().Status)
		require.NotContains(t, w.mailKinds(), mail.KindApprovalReminder)
	})
	w.at(accepted+atScale(workflows.ApprovalReminderAfter)+5*time.Second, func() {
		require.Contains(t, w.mailKinds(), mail.KindApprovalReminder)
		require.NotContains(t, w.actions(), "approval.escalated")
	})
	w.at(accepted+atScale(workflows.ApprovalEscalateAfter)+5*time.Second, func() {
		require.Contains(t, w.actions(), "approval.escalated")
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: approver, Approve: false, Comment: "no"}, "")
	})
	res := w.run(order.Line{SKU: "PUMP-200", Quantity: 9})
	require.Equal(t, order.StatusRejected, res.Status)
	require.Less(t, w.env.Now().Sub(simStart), time.Minute+10*time.Second)
}

// Dunning at scale: the due date (payment terms from the invoice's issue)
// and the weekly reminders are on the order's clock.
func TestScaledDunningRemindsAtScaledCadence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.timeScale = simScale
	w.env.SetStartTime(simStart)
	every := atScale(workflows.DunningEvery) // 105 s
	w.at(time.Second, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(5*time.Second, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(2*time.Minute, func() {
		d := w.details()
		require.NotNil(t, d.Invoice)
		// 30 days' terms to the end of the day: 7.5 to 7.75 minutes at scale.
		term := d.Invoice.DueDate.Sub(d.Invoice.IssuedAt)
		require.GreaterOrEqual(t, term, atScale(30*24*time.Hour))
		require.Less(t, term, atScale(31*24*time.Hour), "the due date is on the order's clock: %s after the issue", term)
		due := d.Invoice.DueDate.Sub(w.env.Now())
		w.at(due-10*time.Second, func() { require.Zero(t, w.countActions("payment.dunning"), "not before the due date") })
		w.at(due+10*time.Second, func() { require.Equal(t, 1, w.countActions("payment.dunning"), "the first reminder at the due date") })
		w.at(due+3*every+10*time.Second, func() {
			require.Equal(t, 4, w.countActions("payment.dunning"), "weekly (at scale) after it")
			require.NotContains(t, w.actions(), "payment.escalated", "finance hears after 30 days (at scale), not yet")
			w.pay("BTX-1", mainTotal)
		})
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Less(t, w.env.Now().Sub(simStart), 20*time.Minute)
}

// The scale rides in the input: a continued run keeps dunning at it, and
// continues as new with it.
func TestTimeScaleSurvivesContinueAsNew(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := paymentState(t) // three reminders sent, finance told
	issued := simStart
	c.Details.Invoice.IssuedAt = issued
	c.Details.Invoice.DueDate = issued.Add(atScale(30 * 24 * time.Hour)) // as a scaled order keeps it
	every := atScale(workflows.DunningEvery)
	// The continued run starts 10 minutes after the issue: reminder 3 is
	// due 7.5 min + 3 × 105 s after it, 165 s into the run.
	w.env.SetStartTime(issued.Add(10 * time.Minute))
	first := atScale(30*24*time.Hour) + 3*every - 10*time.Minute
	w.env.SetCurrentHistoryLength(9)
	w.at(first-10*time.Second, func() { require.Zero(t, w.countActions("payment.dunning")) })
	w.at(first+10*time.Second, func() { require.Equal(t, 1, w.countActions("payment.dunning"), "reminder 4 at the scaled cadence") })
	w.at(first+every+10*time.Second, func() {
		require.Equal(t, 2, w.countActions("payment.dunning"), "reminder 5 a week (at scale) later")
		w.env.SetCurrentHistoryLength(11)
	})
	w.at(first+every+20*time.Second, func() { w.pay("BTX-2", eur(100_000)) })
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{
		OrderID: "ord-1", CustomerID: "ACME-001", PONumber: "PO-77", Lines: c.Lines, RequestedBy: buyer, Resume: c,
		HistoryLimit: 10, TimeScale: simScale})
	require.True(t, w.env.IsWorkflowCompleted())
	var cont *workflow.ContinueAsNewError
	require.ErrorAs(t, w.env.GetWorkflowError(), &cont, "a history at its limit continues as new")
	var next workflows.OrderInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(cont.Input, &next))
	require.Equal(t, float64(simScale), next.TimeScale, "the next run keeps the scale")
	require.NotNil(t, next.Resume)
	require.Equal(t, 5, next.Resume.Reminded)
}
