package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// mainPath runs the main test order from acceptance to COMPLETED.
func (w *world) mainPath() workflows.OrderResult {
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*24*time.Hour, func() { w.deliverAll() })
	w.at(3*24*time.Hour, func() { w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9}) })
	w.at(3*24*time.Hour+time.Hour, func() { w.pay("BTX-1", mainTotal) })
	return w.run()
}

func (w *world) count(k mail.Kind) int {
	n := 0
	for _, m := range w.mails {
		if m.Kind == k {
			n++
		}
	}
	return n
}

// The mails decided in one workflow task go out in one activity
// (lean-history): the order confirmation to the buyer and the rep's note,
// and the surveys of two shipments whose deliveries arrived together; the
// other mails, decided each in a step of their own, go alone.
func TestATransitionsMailsGoTogether(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.mainPath()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Equal(t, [][]mail.Kind{{mail.KindOrderConfirmed, mail.KindRepConfirmed}, {mail.KindSurvey, mail.KindSurvey}}, w.batches)
	require.Equal(t, 1, w.count(mail.KindOrderConfirmed))
	require.Equal(t, 1, w.count(mail.KindRepConfirmed))
}

// A batch whose one mail the mail system refuses for a while is retried
// until it goes, and the mail that went at the first try is not sent again.
func TestABatchRetriedSendsEachMailOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mailFails[mail.KindRepConfirmed] = 5
	res := w.mainPath()
	require.Equal(t, order.StatusCompleted, res.Status)
	tries := 0
	for _, b := range w.batches {
		if slices.Contains(b, mail.KindRepConfirmed) {
			tries++
		}
	}
	require.Equal(t, 6, tries, "the batch was tried six times")
	require.Equal(t, 1, w.count(mail.KindOrderConfirmed), "the confirmation went once, at the first try")
	require.Equal(t, 1, w.count(mail.KindRepConfirmed), "the rep's note went once the mail system took it")
	require.NotContains(t, w.actions(), "mail.failed")
}
