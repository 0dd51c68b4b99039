package workflows

import (
	"fmt"
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

	done := func() bool { return o.approvalReject != nil || o.approvalsComplete() || o.cancel != nil }
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: ApprovalReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "approval reminder"}}, done)
	if err == nil && !ok {
		o.requestApprovals(ctx, "approval-reminder", mail.KindApprovalReminder)
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: ApprovalEscalateAfter - ApprovalReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "approval escalation"}}, done)
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
