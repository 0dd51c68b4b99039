package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

const day = 24 * time.Hour

// dunningMails counts the reminders the buyer got.
func (w *world) dunningMails() int {
	n := 0
	for _, k := range w.mailKinds() {
		if k.Dunning() {
			n++
		}
	}
	return n
}

// A disputed invoice is not dunned: the buyer disputes it before it is
// due, CS is alerted, no reminder and no escalation go out for two months;
// once CS resolves the dispute, reminders resume a week later, and the
// money completes the order.
func TestDisputedInvoiceIsNotDunnedUntilResolved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 3})
	})
	var dispute *pending
	w.at(3*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		// Another customer may not dispute it; nobody may without a reason.
		w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: stranger, Reason: "x"}, workflows.ErrTypeForbidden)
		w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: buyer}, workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateResolve, workflows.ResolveInput{Actor: cs, Reason: "nothing to resolve"}, workflows.ErrTypeInvalidState)
		dispute = w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: buyer, Reason: "one pump arrived dented"}, "")
	})
	w.at(4*time.Hour, func() {
		w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: cs, Reason: "again"}, workflows.ErrTypeInvalidState)
	})
	var resolve *pending
	w.at(90*day, func() { // two months past the due date
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.NotNil(t, d.Dispute)
		require.Equal(t, buyer.Subject, d.Dispute.By.Subject)
		require.Contains(t, d.Waiting, "No reminders until the dispute is resolved")
		require.Zero(t, w.dunningMails(), "no reminder while disputed")
		require.NotContains(t, w.mailKinds(), mail.KindFinanceAlert, "no escalation while disputed")
		resolve = w.update(workflows.UpdateResolve, workflows.ResolveInput{Actor: cs, Reason: "replacement pump sent; invoice stands"}, "")
	})
	w.at(90*day+6*day, func() {
		require.Nil(t, w.details().Dispute)
		require.Zero(t, w.dunningMails(), "reminders wait a week after the resolution")
	})
	w.at(90*day+8*day, func() {
		require.Equal(t, 1, w.dunningMails(), "reminders resume")
		w.pay("BTX-1", mainTotal)
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, dispute.res.Message, "CS has been told")
	require.Contains(t, dispute.res.Message, "No reminders until the dispute is resolved")
	require.Contains(t, resolve.res.Message, "resume")
	require.Subset(t, w.actions(), []string{"invoice.disputed", "invoice.dispute-resolved"})
	var alert string
	for _, m := range w.csAlerts() {
		if m.Data.Step == "invoice dispute" {
			alert = m.Data.Error
		}
	}
	require.True(t, strings.Contains(alert, "one pump arrived dented"), "CS is told what the buyer disputes: %q", alert)
}

// An invoice cannot be disputed before there is one.
func TestNoDisputeBeforeTheInvoice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() {
		w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: buyer, Reason: "too early"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "changed our minds"}, "")
	})
	require.Equal(t, order.StatusQuoteRejected, w.run().Status)
}
