package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// told is what the order signalled its customer's workflow, as kinds.
func (w *world) toldKinds() []workflows.OrderEventKind {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []workflows.OrderEventKind
	for _, ev := range w.told {
		out = append(out, ev.Kind)
	}
	return out
}

// An order tells its customer's workflow when its quote is sent and
// accepted and when it completes: what the reorder reminders and the
// dormant check are computed from.
func TestOrderTellsItsCustomerItsMilestones(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "") })
	w.at(2*24*time.Hour, w.deliverAll)
	w.at(3*24*time.Hour, func() { w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9}) })
	w.at(3*24*time.Hour+time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Equal(t, []workflows.OrderEventKind{workflows.OrderQuoted, workflows.OrderAccepted, workflows.OrderCompleted}, w.toldKinds())

	quoted, accepted, completed := w.told[0], w.told[1], w.told[2]
	require.Equal(t, "ord-1", quoted.OrderID)
	require.Equal(t, 1, quoted.QuoteRevision)
	require.Equal(t, mainTotal, quoted.Total)
	require.False(t, quoted.ValidUntil.IsZero(), "the customer's workflow nudges before the quote expires")
	require.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}, accepted.Lines)
	require.Equal(t, buyer, accepted.Actor)
	require.Equal(t, order.StatusCompleted, completed.Status)
	require.True(t, accepted.At.After(quoted.At) && completed.At.After(accepted.At), "milestones carry the order's time")
}

// A rejected or expired quote is told with its reason; an accepted order
// that ends without completing is told it ended; a quote cancelled before
// it was accepted is as good as rejected.
func TestOrderTellsItsCustomerHowItEnded(t *testing.T) {
	t.Parallel()
	t.Run("rejected", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.at(time.Hour, func() {
			w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
		})
		require.Equal(t, order.StatusQuoteRejected, w.run().Status)
		require.Equal(t, []workflows.OrderEventKind{workflows.OrderQuoted, workflows.OrderQuoteRejected}, w.toldKinds())
		require.Equal(t, "too expensive", w.told[1].Reason, "the buyer's own words, for the rep's follow-up")
		require.Equal(t, buyer, w.told[1].Actor)
		var repMail *activities.SendMailInput
		for i := range w.mails {
			if w.mails[i].Kind == mail.KindQuoteRejected {
				repMail = &w.mails[i]
			}
		}
		require.NotNil(t, repMail)
		require.True(t, repMail.Data.FollowUp, "the rep's mail names the follow-up the customer workflow opens")
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		require.Equal(t, order.StatusQuoteExpired, w.run().Status)
		require.Equal(t, []workflows.OrderEventKind{workflows.OrderQuoted, workflows.OrderQuoteExpired}, w.toldKinds())
	})
	t.Run("cancelled while shipping", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
		w.at(2*time.Hour, func() {
			w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer called"}, "")
		})
		require.Equal(t, order.StatusCancelled, w.run().Status)
		require.Equal(t, []workflows.OrderEventKind{workflows.OrderQuoted, workflows.OrderAccepted, workflows.OrderEnded}, w.toldKinds())
		require.Equal(t, order.StatusCancelled, w.told[2].Status)
	})
}

// A customer workflow that is not running misses the milestones; the
// order goes on and completes as before.
func TestOrderWithoutACustomerWorkflowCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.customerGone = true
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "") })
	w.at(2*24*time.Hour, w.deliverAll)
	w.at(3*24*time.Hour, func() { w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9}) })
	w.at(3*24*time.Hour+time.Hour, func() { w.pay("BTX-1", mainTotal) })
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Empty(t, w.toldKinds())
}
