package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// notify sends a mail beside the main path: it retries until the mail system
// takes it, and the order ends only once it is out. (Runs from before
// changeRetryThroughOutages sent it in line and dropped it, logged and
// audited, after the step budget; CS could resend it.)
func (o *orderState) notify(ctx workflow.Context, key string, kind mail.Kind, aud activities.Audience, d mail.Data) {
	if !o.retryThroughOutages {
		_ = o.send(ctx, key, kind, aud, d)
		return
	}
	// The mail retries until the mail system takes it, beside the main
	// path: a mail outage delays mails, not the order.
	d.OrderID, d.PONumber = o.in.OrderID, o.in.PONumber
	o.remember(key, kind, aud, d)
	o.mailsInFlight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { o.mailsInFlight-- }()
		_ = o.send(ctx, key, kind, aud, d)
	})
}

// send mails one message and remembers it as the last of its kind, for a
// CS resend; a mail that cannot be sent is logged and audited, never fatal.
func (o *orderState) send(ctx workflow.Context, key string, kind mail.Kind, aud activities.Audience, d mail.Data) error {
	d.OrderID, d.PONumber = o.in.OrderID, o.in.PONumber
	o.remember(key, kind, aud, d)
	err := workflow.ExecuteActivity(o.mailing(ctx, fmt.Sprintf("Mail %s to %s", kind, aud)), a.SendMail, activities.SendMailInput{
		Key: activities.Key(o.in.OrderID, "mail", key), Kind: kind, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		Audience: aud, Data: d, RequestedBy: o.in.RequestedBy.Subject,
	}).Get(ctx, nil)
	if err != nil {
		o.logger.Error("mail not sent", "Kind", kind, "Error", err)
		o.record(ctx, order.System, "mail.failed", fmt.Sprintf("%s to %s: %v", kind, aud, err))
	}
	return err
}

// remember keeps the last mail of a kind for a CS resend: its key, by which
// the mail activity kept what it said (changeResendByKey), or, in runs
// from before, the mail's data itself.
func (o *orderState) remember(key string, kind mail.Kind, aud activities.Audience, d mail.Data) {
	if o.resendByKey {
		o.lastMail[kind] = SentMail{Audience: aud, Key: activities.Key(o.in.OrderID, "mail", key)}
		return
	}
	o.lastMail[kind] = SentMail{Audience: aud, Data: d}
}

// resend sends the last mail of a kind again, under a key of its own (a new
// Message-ID: the recipient's mail system must not drop it as a duplicate).
// The answer waits for the mail at most UpdateWait; a mail system that is
// down makes the send retry longer than a caller should wait.
// ctx is the update handler's, already detached.
func (o *orderState) resend(ctx workflow.Context, act ActionInput) (DecisionResult, error) {
	m := o.lastMail[act.Mail]
	o.resends++
	key := fmt.Sprintf("resend-%d-%s", o.resends, act.Mail)
	o.record(ctx, act.Actor, "action.resend", fmt.Sprintf("%s mail to %s: %s", act.Mail, m.Audience, act.Reason))
	done := false
	var failed error
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { done = true }()
		if !o.resendByKey {
			failed = o.send(ctx, key, act.Mail, m.Audience, m.Data)
			return
		}
		// The mail activity kept what the mail said; it sends that again.
		failed = workflow.ExecuteActivity(o.mailing(ctx, fmt.Sprintf("Resend mail %s to %s", act.Mail, m.Audience)), a.ResendMail,
			activities.ResendMailInput{Key: m.Key, NewKey: activities.Key(o.in.OrderID, "mail", key)}).Get(ctx, nil)
		if failed != nil {
			o.logger.Error("mail not resent", "Kind", act.Mail, "Error", failed)
			o.record(ctx, order.System, "mail.failed", fmt.Sprintf("resend of %s to %s: %v", act.Mail, m.Audience, failed))
		}
	})
	if _, err := workflow.AwaitWithTimeout(ctx, UpdateWait, func() bool { return done }); err != nil {
		return DecisionResult{}, err
	}
	switch {
	case !done:
		return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf("Resending the %s mail to %s; the mail system is slow (a failure shows as mail.failed in the audit log).", act.Mail, m.Audience)}, nil
	case failed != nil:
		return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf("Resending the %s mail to %s failed: %v", act.Mail, m.Audience, failed)}, nil
	}
	return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf("Resent the %s mail to %s. %s", act.Mail, m.Audience, o.d.Waiting)}, nil
}
