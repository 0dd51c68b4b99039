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

// Four eyes: the buyer approver who accepted the quote may not approve it
// too; a colleague approver may. 11 pumps (13337.50 net) pass Acme's
// purchasing limit of 10000.00: one buyer-side approval.
func TestWhoAcceptedDoesNotApprove(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	colleague := order.Actor{Subject: "cfo@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"}
	var own *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: approver}, "") })
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingApproval, w.details().Status)
		require.Equal(t, approver.Subject, w.details().AcceptedBy.Subject)
		own = w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: approver, Approve: true}, workflows.ErrTypeForbidden)
		// Nor through a colleague standing in for them.
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: buyer, Approve: true,
			OnBehalfOf: &workflows.Delegation{ID: "DLG-9", From: approver, Until: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}, workflows.ErrTypeForbidden)
	})
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: colleague, Approve: true, Comment: "ok"}, "")
	})
	w.at(4*time.Hour, func() {
		require.NotEqual(t, order.StatusAwaitingApproval, w.details().Status)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "test over"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run(order.Line{SKU: "PUMP-200", Quantity: 11}).Status)
	require.Contains(t, own.err.Error(), "accepted the quote, so another person approves it")
	var told bool
	for _, m := range w.mails {
		told = told || (m.Kind == mail.KindRepApproval && m.Audience == activities.AudienceRep && len(m.Data.Needs) == 1)
	}
	require.True(t, told, "the rep hears the order waits for approval, and why")
}

// An approver out of office hands their decisions to a colleague for a
// period: the colleague approves for them, recorded as such, and neither
// may then decide a second time on the order.
func TestDelegateApprovesForAnApproverOutOfOffice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.PurchasingLimit = eur(0) // the seller side only: two managers
	deputy := order.Actor{Subject: "dana@seller", Role: order.RoleSalesRep}
	until := time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	forMgr1 := &workflows.Delegation{ID: "DLG-1", From: mgr1, Until: until}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		// A delegation does not make its delegate an approver of another side,
		// nor lets anyone stand in for themselves.
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true, OnBehalfOf: forMgr1}, workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: deputy, Approve: true}, workflows.ErrTypeForbidden)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: deputy, Approve: true, Comment: "checked margin", OnBehalfOf: forMgr1}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingApproval, d.Status, "two distinct seller approvers are needed")
		require.Equal(t, mgr1.Subject, d.Approvals[0].OnBehalfOf.Subject)
		require.Equal(t, "DLG-1", d.Approvals[0].Delegation)
		require.Contains(t, d.Approvals[0].Comment, "for mia@seller, out of office until 2030-01-31")
		// mgr1 was stood in for: back early, they do not decide again.
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr2, Approve: true}, "")
	})
	w.at(4*time.Hour, func() {
		require.NotEqual(t, order.StatusAwaitingApproval, w.details().Status)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "test over"}, "")
	})
	// 21 pumps = 25462.50 net > 25000.00 dual-approval threshold.
	require.Equal(t, order.StatusCancelled, w.run(order.Line{SKU: "PUMP-200", Quantity: 21}).Status)
	var found bool
	for _, r := range w.projection() {
		found = found || (r.Action == "approval.approved" && r.Actor.Subject == deputy.Subject)
	}
	require.True(t, found, "the audit log names the deputy who approved")
}
