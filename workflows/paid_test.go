package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// Issue 7, defect 7: an order paid in full while its survey is open used
// to show AWAITING_PAYMENT for up to 14 days. It shows PAID, then COMPLETED
// when the survey closes.
func TestPaidWhileTheSurveyIsOpenShowsPaid(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusPaid, d.Status)
		require.Contains(t, d.Waiting, "Paid in full. Waiting for the NPS survey of each delivery to be answered or to close (at most 14 days).")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 10})
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusCreditCheck,
		order.StatusConfirmed, order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid,
		order.StatusCompleted}, w.statuses())
	require.Contains(t, w.actions(), "order.paid")
}

// A prepaid order shows its real stage after delivery: PAID while its
// survey is open, not SHIPPING.
func TestPrepaidOrderShowsPaidAfterDelivery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.prepaidAndPaid()
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status, "paid, so it ships")
		w.deliverAll()
	})
	w.at(5*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status, "delivered and paid, survey open")
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status, "the survey closed unanswered after its window")
	st := w.statuses()
	require.Equal(t, []order.Status{order.StatusShipping, order.StatusPaid, order.StatusCompleted}, st[len(st)-3:])
}
