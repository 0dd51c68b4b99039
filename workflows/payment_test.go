package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// financeAlerts are the finance mails the order sent.
func (w *world) financeAlerts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.mails {
		if m.Kind == mail.KindFinanceAlert {
			out = append(out, m.Data.Reason)
		}
	}
	return out
}

// Issue 7, defect 4: a second payment arriving after the invoice was paid,
// while the survey is open, used to be acknowledged and never applied. It
// is a credit balance, recorded, and finance is told.
func TestPaymentAfterSettlementIsACreditBalance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var applied []activities.ApplyPaymentInput
	w.applyPayment = func(in activities.ApplyPaymentInput) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		applied = append(applied, in)
		return nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status)
		w.pay("BTX-2", eur(10_000)) // paid twice by mistake, in part
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Equal(t, eur(493_060), *d.Paid, "both payments are counted")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Len(t, applied, 2, "each payment ends in one place")
	require.Equal(t, order.MatchExact, applied[0].Kind)
	require.Equal(t, order.MatchOver, applied[1].Kind)
	require.Contains(t, w.actions(), "payment.overpayment")
	alerts := w.financeAlerts()
	require.Len(t, alerts, 1)
	require.Contains(t, alerts[0], "credit balance of 100.00 EUR")
}

// A payment the store does not accept (matched elsewhere meanwhile) is not
// counted: the order goes on waiting for the money, and finance is told.
func TestPaymentTheStoreRefusesIsNotCounted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.applyPayment = func(in activities.ApplyPaymentInput) error {
		if in.BankTransactionID == "BTX-ELSEWHERE" {
			return temporal.NewNonRetryableApplicationError("payment already matched to another invoice", activities.ErrTypeConflict, nil)
		}
		return nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() { w.pay("BTX-ELSEWHERE", mainTotal) })
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status, "nothing was paid")
		require.True(t, d.Paid == nil || d.Paid.Minor == 0)
		require.Contains(t, w.actions(), "payment.not-applied")
		require.Len(t, w.financeAlerts(), 1)
		w.pay("BTX-1", mainTotal)
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
}

// After a prepayment cleared, a further payment is applied (a credit
// balance), not left in the queue.
func TestPaymentAfterPrepaymentIsApplied(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.prepaidAndPaid()
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		w.pay("BTX-2", eur(500))
	})
	w.at(5*time.Hour, func() {
		require.Equal(t, eur(483_560), *w.details().Paid)
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, w.actions(), "payment.overpayment")
}
