package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

const year = 365 * 24 * time.Hour

// Issue 7, defect 8: a lost shipment used to be polled every 6 hours for
// ever, some 1,460 polls (and 2 tracking activities, a timer and workflow
// tasks each: 20,000 history events) a year, past Temporal's limit. Since
// changeBoundedCadence it is polled daily for two weeks once overdue, then
// weekly: about 65 polls a year, each some 14 events with two shipments,
// so the order's whole year stays near 1,000 events. After the year the
// order still answers its query and CS actions.
func TestLostShipmentForAYearStaysSmall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.SetStartTime(time.Date(2030, 1, 10, 0, 0, 0, 0, time.UTC)) // promised 2030-01-01: overdue at once
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	var resend *pending
	w.at(year, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.True(t, d.DeliveryOverdue)
		w.mu.Lock()
		polls := w.tracked / 2 // two open shipments per poll
		w.mu.Unlock()
		require.LessOrEqual(t, polls, 80, "a year of polling a lost shipment (was some 1,460)")
		require.GreaterOrEqual(t, polls, 50, "it is still looked at every week")
		resend = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend,
			Mail: mail.KindShipmentBooked, Reason: "buyer asks for the tracking number"}, "")
	})
	w.at(year+time.Hour, func() {
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "lost; reordered"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	require.Contains(t, resend.res.Message, "Resent")
}

// An invoice left unpaid for a year used to be dunned weekly for ever (52
// reminders a year). Since changeBoundedCadence: weekly until the
// escalation to finance at 30 days, then monthly: 16 a year. The order still
// answers after the year and completes when the money comes.
func TestUnpaidForAYearStaysSmall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 8})
	})
	w.at(30*24*time.Hour+year, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		dunning, escalations := 0, 0
		for _, k := range w.mailKinds() {
			switch {
			case k.Dunning():
				dunning++
			case k == mail.KindFinanceAlert:
				escalations++
			}
		}
		require.LessOrEqual(t, dunning, 18, "a year of dunning (was 52)")
		require.GreaterOrEqual(t, dunning, 14, "the buyer is still reminded every month")
		require.Equal(t, 1, escalations, "finance is told once")
		w.pay("BTX-LATE", mainTotal)
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
}
