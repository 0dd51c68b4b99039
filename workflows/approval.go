package workflows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// approve collects the approvals the terms demand; it returns the rejecting
// approval if one said no.
func (o *orderState) approve(ctx workflow.Context) (*Approval, error) {
	o.d.ApprovalsNeeded = order.RequiredApprovals(*o.d.Quote, o.terms)
	if len(o.d.ApprovalsNeeded) == 0 {
		return nil, nil
	}
	reasons := make([]string, len(o.d.ApprovalsNeeded))
	for i, n := range o.d.ApprovalsNeeded {
		reasons[i] = fmt.Sprintf("%d %s approver(s): %s", n.Count, n.Side, n.Reason)
	}
	o.d.Waiting = o.approvalWaiting()
	o.transition(ctx, order.StatusAwaitingApproval, order.System, "approval.requested", strings.Join(reasons, "; "))
	o.requestApprovals(ctx, "approval-request", mail.KindApprovalRequest)
	if o.gate(ctx, changeRepKnows) {
		o.notify(ctx, "rep-approval", mail.KindRepApproval, activities.AudienceRep, mail.Data{Quote: o.d.Quote, Needs: o.d.ApprovalsNeeded})
	}

	done := func() bool { return o.approvalReject != nil || o.approvalsComplete() || o.cancel != nil }
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.business(ApprovalReminderAfter), TimerOptions: workflow.TimerOptions{Summary: "approval reminder"}}, done)
	if err == nil && !ok {
		o.requestApprovals(ctx, "approval-reminder", mail.KindApprovalReminder)
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.business(ApprovalEscalateAfter - ApprovalReminderAfter), TimerOptions: workflow.TimerOptions{Summary: "approval escalation"}}, done)
		if err == nil && !ok {
			o.notify(ctx, "approval-escalation", mail.KindCSAlert, activities.AudienceCS, mail.Data{Quote: o.d.Quote, Needs: o.d.ApprovalsNeeded,
				Step: "approval", Error: fmt.Sprintf("no approval decision after %s", inWords(ApprovalEscalateAfter))})
			o.record(ctx, order.System, "approval.escalated", "approvers silent")
			err = workflow.Await(ctx, done)
		}
	}
	if err != nil {
		return nil, err
	}
	if o.cancel != nil {
		return nil, errCancelled
	}
	return o.approvalReject, nil
}

// approvalWaiting says which approvals are still missing.
func (o *orderState) approvalWaiting() string {
	var missing []string
	for _, n := range o.d.ApprovalsNeeded {
		if left := n.Count - o.approvalsOf(n.Side); left > 0 {
			more := ""
			if left < n.Count {
				more = " more"
			}
			missing = append(missing, fmt.Sprintf("%d%s %s-side approval(s) (%s)", left, more, n.Side, n.Reason))
		}
	}
	if len(missing) == 0 {
		return "Every approval is in; moving on to the credit check."
	}
	return "Waiting for " + strings.Join(missing, " and ") + "."
}

func (o *orderState) requestApprovals(ctx workflow.Context, key string, kind mail.Kind) {
	for _, n := range o.d.ApprovalsNeeded {
		aud := activities.AudienceSalesManagers
		if n.Side == order.SideBuyer {
			aud = activities.AudienceBuyer
		}
		o.notify(ctx, key+"-"+string(n.Side), kind, aud, mail.Data{Quote: o.d.Quote, Needs: []order.ApprovalNeed{n}})
	}
}

// approvalsComplete reports whether every need has its count of distinct approvers.
func (o *orderState) approvalsComplete() bool {
	for _, n := range o.d.ApprovalsNeeded {
		if o.approvalsOf(n.Side) < n.Count {
			return false
		}
	}
	return true
}

func (o *orderState) approvalsOf(side order.Side) int {
	c := 0
	for _, ap := range o.d.Approvals {
		if ap.Side == side && ap.Approve {
			c++
		}
	}
	return c
}

// canApprove: an approver of the side the order needs decides once; a
// colleague decides for an approver out of office under their
// delegation. Four eyes: whoever accepted the quote does not approve it,
// and nobody decides twice, for themselves or for someone else.
func (o *orderState) canApprove(in ApproveInput) error {
	decider := in.Actor
	people := []string{in.Actor.Subject}
	if d := in.OnBehalfOf; d != nil {
		if d.From.Subject == in.Actor.Subject {
			return invalidArgument("on_behalf_of: %s cannot stand in for themselves", in.Actor.Subject)
		}
		if d.From.Role.CustomerScoped() && in.Actor.CustomerID != d.From.CustomerID {
			return forbidden("%s acts for customer %q, not for %s's", in.Actor.Subject, in.Actor.CustomerID, d.From.Subject)
		}
		decider = d.From
		people = append(people, d.From.Subject)
	}
	if err := o.may(decider, order.RoleBuyerApprover, order.RoleSalesManager); err != nil {
		return err
	}
	if err := o.inStatus(order.StatusAwaitingApproval); err != nil {
		return err
	}
	side := sideOf(decider.Role)
	need := 0
	for _, n := range o.d.ApprovalsNeeded {
		if n.Side == side {
			need = n.Count
		}
	}
	if need == 0 {
		return invalidState("this order needs no %s-side approval", side)
	}
	if in.Approve {
		if acc := o.acceptedBy(); acc != nil && slices.Contains(people, acc.Subject) {
			return forbidden("%s accepted the quote, so another person approves it, in their own right (four eyes)", acc.Subject)
		}
	}
	for _, ap := range o.d.Approvals {
		for _, p := range ap.people() {
			if slices.Contains(people, p) {
				return invalidState("%s has already decided on this order; a second approver must be a different person", p)
			}
		}
	}
	if in.Approve && o.approvalsOf(side) >= need {
		return invalidState("the %s side has all the approvals it needs", side)
	}
	return nil
}

// acceptedBy is who accepted the quote (runs from before Details kept it
// know it from the accept they replayed).
func (o *orderState) acceptedBy() *order.Actor {
	if o.d.AcceptedBy != nil {
		return o.d.AcceptedBy
	}
	if o.quoteDecision == answerAccept {
		return &o.decidedBy
	}
	return nil
}
