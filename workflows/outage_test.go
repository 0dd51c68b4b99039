package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// Issue 7, defect 1: an ERP outage longer than the step budget used to end
// the step and leave the order waiting for CS. Now the ERP is down for 7
// days: the order is flagged once after the budget, keeps retrying, clears
// the flag itself when the ERP answers, and completes with no CS action.
func TestERPDownForAWeekCompletesWithoutCS(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var up time.Time
	calls := 0
	w.reserve = func() (activities.ReserveResult, error) {
		calls++
		if up.IsZero() || w.env.Now().Before(up) {
			return activities.ReserveResult{}, temporal.NewApplicationError("erp: create sales order: HTTP 503", activities.ErrTypeUnavailable)
		}
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{
			{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}},
			{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}},
		}}, nil
	}
	w.at(time.Hour, func() {
		up = w.env.Now().Add(7 * 24 * time.Hour)
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention, "past the 30-minute budget the order needs attention")
		require.NotNil(t, d.Failure)
		require.True(t, d.Failure.Retrying)
		require.Equal(t, "reserve stock", d.Failure.Step)
		require.Contains(t, d.Waiting, "keeps retrying")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "x"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "x"}, workflows.ErrTypeInvalidState)
	})
	w.at(6*24*time.Hour, func() {
		require.True(t, w.details().NeedsAttention, "still down on day 6")
		require.Len(t, w.csAlerts(), 1, "CS is alerted once, not per attempt")
	})
	w.at(9*24*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "the ERP came back and the order moved on")
		require.False(t, d.NeedsAttention, "the flag cleared itself")
		require.Nil(t, d.Failure)
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(9*24*time.Hour+time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Greater(t, calls, 100, "the reservation was retried through the week")
	for _, a := range w.actions() {
		require.False(t, strings.HasPrefix(a, "action."), "no CS action was needed: %s", a)
	}
	require.Subset(t, w.actions(), []string{"step.delayed", "step.recovered"})
}

// Mails are never dropped: a mail system down for three days delays the
// mails, not the order, and every mail goes out once it is back.
func TestMailOutageDelaysMailsNotTheOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, k := range []mail.Kind{mail.KindQuote, mail.KindOrderConfirmed, mail.KindShipmentBooked} {
		w.mailFails[k] = 3000 // a few days of retries at the 5-minute cap
	}
	w.at(time.Hour, func() {
		require.Equal(t, order.StatusAwaitingAcceptance, w.details().Status, "the order did not wait for the quote mail")
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "")
	})
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		require.NotContains(t, w.mailKinds(), mail.KindQuote, "the mail system is still down")
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Subset(t, w.mailKinds(), []mail.Kind{mail.KindQuote, mail.KindOrderConfirmed, mail.KindShipmentBooked,
		mail.KindShipmentBooked}, "every mail went out in the end")
	require.NotContains(t, w.actions(), "mail.failed")
}

// Issue 7, defect 2: the ERP reserved the stock but the answer was lost,
// and the call goes on failing while CS cancels the order. The undo was
// registered by the call's idempotency key before the call, so the cancel
// does not wait for the ERP's answer and still releases the reservation.
func TestLostReservationAnswerIsUndoneByKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	committed := false
	w.reserve = func() (activities.ReserveResult, error) {
		committed = true // the ERP made the sales order; the answer never arrives
		return activities.ReserveResult{}, temporal.NewApplicationError("erp: create sales order: no answer: connection reset", activities.ErrTypeUnavailable)
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, []string{"cancel the ERP sales order (if the ERP made one) and release its reservation"}, d.Compensations,
			"the undo is registered before the call")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer called"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.True(t, committed)
	require.Equal(t, []string{"cancel-sales-order by key ord-1/sales-order"}, w.undos)
}

// A call the ERP refuses for good made nothing: its undo is dropped, and a
// cancel afterwards undoes nothing.
func TestRefusedReservationLeavesNothingToUndo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.reserve = func() (activities.ReserveResult, error) {
		return activities.ReserveResult{}, temporal.NewNonRetryableApplicationError("insufficient stock", activities.ErrTypeRejected, nil)
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		require.Empty(t, w.details().Compensations)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "no stock"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	require.Empty(t, w.undos)
}

// Issue 7, defect 3: a cancellation from the Temporal UI after delivery
// used to void even a paid invoice and cancel the sales order. It is
// refused like an API cancel: audited, flagged for CS, and the order keeps
// its invoice and goes on to be paid.
func TestTemporalCancelAfterDeliveryIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, w.env.CancelWorkflow)
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status, "the order goes on")
		require.True(t, d.NeedsAttention)
		require.Contains(t, d.Waiting, "refused")
		alerts := w.csAlerts()
		require.Len(t, alerts, 1)
		require.Contains(t, alerts[0].Data.Reason, "credit note")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
		w.pay("BTX-1", mainTotal)
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Empty(t, w.undos, "nothing was voided or cancelled")
	require.Contains(t, w.actions(), "cancel.refused")
	require.NotContains(t, w.actions(), "order.cancelling")
}
