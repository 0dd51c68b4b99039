package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

func (o *orderState) priceQuote(ctx workflow.Context) error {
	rev := 1
	if o.d.Quote != nil {
		rev = o.d.Quote.Revision + 1
	}
	o.pricingRevision = rev
	defer func() { o.pricingRevision = 0 }()
	o.d.Waiting = fmt.Sprintf("Pricing quote revision %d through the ERP.", rev)
	o.transition(ctx, order.StatusQuoting, o.in.RequestedBy, "quote.pricing", "")
	var res activities.PriceQuoteResult
	err := o.attempt(ctx, "price quote", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(o.outside(ctx, fmt.Sprintf("Price quote revision %d", rev)), a.PriceQuote,
			activities.PriceQuoteInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Revision: rev,
				Lines: o.lines, RequestedDiscountBP: o.disc, DiscountBy: o.discBy, At: workflow.Now(ctx), TimeScale: o.in.TimeScale}).Get(ctx, &res)
	})
	if fields, ok := refusedLines(err); ok {
		return o.refuseRevision(ctx, rev, fields)
	}
	if err != nil {
		return err
	}
	o.terms = res.Terms
	// The order pins the terms it was priced under: a revision re-prices
	// under the terms then in force; a change of terms alters no quote.
	pinned := res.Terms
	o.d.Terms = &pinned
	q := res.Quote
	o.d.Quote = &q
	// A new revision takes a new answer. Cleared here, before the order shows
	// AWAITING_ACCEPTANCE, because from then on the buyer may answer, even
	// while the quote mail below is still being sent.
	o.quoteDecision = ""
	o.d.Waiting = fmt.Sprintf("Waiting for the buyer to accept, revise or reject quote revision %d (%s, valid until %s).",
		q.Revision, q.Total, q.ValidUntil.Format("2006-01-02"))
	o.transition(ctx, order.StatusAwaitingAcceptance, order.System, "quote.sent", fmt.Sprintf("revision %d, total %s", q.Revision, q.Total))
	o.notify(ctx, fmt.Sprintf("quote-%d", q.Revision), mail.KindQuote, activities.AudienceBuyer, mail.Data{Quote: o.d.Quote})
	o.tellCustomer(ctx, OrderQuoted, o.in.RequestedBy, "")
	return nil
}

// quoteAnswer is the buyer's answer to a quote revision, or its expiry.
type quoteAnswer string

// The answers to a quote; "" is none yet.
const (
	answerAccept  quoteAnswer = "accept"
	answerRevise  quoteAnswer = "revise"
	answerReject  quoteAnswer = "reject"
	answerExpired quoteAnswer = "expired"
)

// refuseRevision handles the ERP's refusal to price a revision's lines. The
// first revision ends the order (errQuoteRefused): there is no quote to
// stand. A later revision leaves the standing quote in force and the buyer
// may answer it again; the revise update reports the refused lines.
func (o *orderState) refuseRevision(ctx workflow.Context, rev int, fields []order.FieldError) error {
	o.logger.Info("the ERP refused to price quote lines", "Revision", rev, "Lines", describeFields(fields))
	if o.d.Quote == nil {
		o.refused = fields
		return errQuoteRefused
	}
	o.lines, o.disc, o.discBy = o.prevLines, o.prevDisc, o.prevDiscBy
	o.lastRefusal = fields
	o.revisionRefusals++
	o.quoteDecision = ""
	q := o.d.Quote
	o.d.Waiting = fmt.Sprintf("The ERP refused revision %d (%s); quote revision %d stands. Waiting for the buyer to accept, revise or reject it (%s, valid until %s).",
		rev, describeFields(fields), q.Revision, q.Total, q.ValidUntil.Format("2006-01-02"))
	o.transitionFields(ctx, order.StatusAwaitingAcceptance, order.System, "quote.revision-refused",
		fmt.Sprintf("revision %d: %s", rev, describeFields(fields)), fields)
	return nil
}

// awaitAcceptance waits for the buyer's answer, reminds before expiry, and
// reports how the buyer answered, or that the quote expired.
func (o *orderState) awaitAcceptance(ctx workflow.Context) (quoteAnswer, error) {
	if !o.gate(ctx, changeKeepEarlyAnswers) {
		// Orders started before the fix cleared the answer here and lost one
		// given while the quote mail was being sent; replay keeps that.
		o.quoteDecision = ""
	}
	decided := func() bool { return o.quoteDecision != "" || o.cancel != nil }
	left := o.d.Quote.ValidUntil.Sub(workflow.Now(ctx))
	// ValidUntil is on the order's clock already (PriceQuote compresses
	// the validity of a scaled order); the reminder's lead is compressed
	// here.
	remindIn := left - o.business(QuoteReminderBefore)
	if remindIn <= 0 {
		remindIn = left / 2
	}
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: remindIn, TimerOptions: workflow.TimerOptions{Summary: "quote reminder"}}, decided)
	if err != nil {
		return "", err
	}
	if !ok {
		o.notify(ctx, fmt.Sprintf("quote-%d-reminder", o.d.Quote.Revision), mail.KindQuoteReminder, activities.AudienceBuyer, mail.Data{Quote: o.d.Quote})
		left = o.d.Quote.ValidUntil.Sub(workflow.Now(ctx))
		if ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(left, 0), TimerOptions: workflow.TimerOptions{Summary: "quote expiry"}}, decided); err != nil {
			return "", err
		}
		if !ok {
			return answerExpired, nil
		}
	}
	if o.cancel != nil {
		return "", errCancelled
	}
	if o.quoteDecision == answerAccept {
		o.record(ctx, o.decidedBy, "quote.accepted", fmt.Sprintf("revision %d", o.d.Quote.Revision))
		o.tellCustomer(ctx, OrderAccepted, o.decidedBy, "")
	}
	if o.quoteDecision == answerRevise {
		o.prevLines, o.prevDisc, o.prevDiscBy = o.lines, o.disc, o.discBy
		o.lines = o.revision.Lines
		o.disc = o.revision.DiscountBP
		if o.disc > 0 {
			o.discBy = o.revision.Actor
		}
		o.record(ctx, o.revision.Actor, "quote.revision-requested", o.revision.Reason)
	}
	return o.quoteDecision, nil
}
