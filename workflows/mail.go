package workflows

import (
	"fmt"
	"strings"

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
	if o.lean {
		o.mailQueue = append(o.mailQueue, queuedMail{key: key, kind: kind, aud: aud, data: d})
		return
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { o.mailsInFlight-- }()
		_ = o.send(ctx, key, kind, aud, d)
	})
}

// queuedMail is a mail a lean run notified and has not handed to the
// mail activity yet.
type queuedMail struct {
	key  string
	kind mail.Kind
	aud  activities.Audience
	data mail.Data
}

// mailer sends a lean run's mails (changeLeanHistory). The mails notified
// while the workflow task runs go out together once it settles (no local
// activity running): the mails of one transition (the order confirmation
// and the rep's note, say) in one SendMails activity, a single mail in
// SendMail. Each batch goes beside the rest, so a mail retrying through a
// mail outage holds up no later one. It runs for the life of the run on a
// disconnected context; mailsInFlight counts a mail from its notify until
// its batch is done.
func (o *orderState) mailer(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(o.mailQueue) > 0 && o.localActive == 0 }); err != nil {
			return
		}
		batch := o.mailQueue
		o.mailQueue = nil
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { o.mailsInFlight -= len(batch) }()
			if len(batch) == 1 {
				m := batch[0]
				_ = o.send(ctx, m.key, m.kind, m.aud, m.data)
				return
			}
			o.sendTogether(ctx, batch)
		})
	}
}

// sendTogether sends several mails in one SendMails activity, which retries
// until the mail system took every one it can send; a mail that cannot be
// sent is logged and audited like send's.
func (o *orderState) sendTogether(ctx workflow.Context, batch []queuedMail) {
	in := activities.SendMailsInput{Mails: make([]activities.SendMailInput, len(batch))}
	names := make([]string, len(batch))
	for i, m := range batch {
		in.Mails[i] = activities.SendMailInput{
			Key: activities.Key(o.in.OrderID, "mail", m.key), Kind: m.kind, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
			Audience: m.aud, Data: m.data, RequestedBy: o.in.RequestedBy.Subject,
		}
		names[i] = fmt.Sprintf("%s to %s", m.kind, m.aud)
	}
	var res activities.SendMailsResult
	err := workflow.ExecuteActivity(o.mailing(ctx, "Mail "+strings.Join(names, ", ")), a.SendMails, in).Get(ctx, &res)
	for i, m := range batch {
		failed := ""
		switch {
		case err != nil:
			failed = err.Error()
		case i < len(res.Mails):
			failed = res.Mails[i].Failed
		}
		if failed != "" {
			o.logger.Error("mail not sent", "Kind", m.kind, "Error", failed)
			o.record(ctx, order.System, "mail.failed", fmt.Sprintf("%s to %s: %s", m.kind, m.aud, failed))
		}
	}
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
