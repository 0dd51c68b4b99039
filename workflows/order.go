package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// a is the nil receiver that names activities for ExecuteActivity; the worker
// registers a real *activities.Activities under the same method names.
var a *activities.Activities

// errCancelled unwinds the main path when a cancel was asked for; the undos
// run after it.
var errCancelled = errors.New("order cancelled")

// undo is one registered compensation: what to call and on what.
type undo struct {
	Kind string `json:"kind"` // "cancel-sales-order", "cancel-shipment", "void-invoice"
	// Ref is the id of what was made outside; empty while the forward call
	// has not answered (changeUndoBeforeCall): the undo then names it by
	// Key, the forward call's idempotency key.
	Ref   string `json:"ref"`
	Key   string `json:"key,omitempty"`
	Label string `json:"label"`
}

// orderState is the workflow's memory. Handlers and the main path share it;
// Temporal runs them one at a time, so no locks.
// sentMail is what a mail said and to whom, kept for a CS resend.
type sentMail struct {
	Audience activities.Audience
	Data     mail.Data
}

type orderState struct {
	in     OrderInput
	d      Details
	terms  order.Terms
	lines  []order.Line
	disc   int64
	seq    int64
	undos  []undo
	logger log.Logger

	// Decisions handed from update handlers and signals to the main path.
	quoteDecision  string // "accept", "revise", "reject"
	revision       *ReviseInput
	decidedBy      order.Actor
	decisionReason string
	approvalReject *Approval
	credit         *CreditDecisionInput
	cancel         *CancelInput
	compensating   bool
	csAction       *ActionInput
	failures       int
	attemptsDone   int
	earlyDelivered []DeliveredSignal
	payments       []PaymentSignal
	seenPayments   map[string]bool
	seenExceptions map[string]bool // carrier exception event ids already applied
	// retryThroughOutages: outside calls retry until they succeed and an
	// order past the step budget is flagged while it keeps retrying; mails
	// go out beside the main path (changeRetryThroughOutages).
	retryThroughOutages bool
	// undoFirst: a forward call that changes something outside registers
	// its undo, by idempotency key, before it is made; a call in flight is
	// abandoned when the order is cancelled (changeUndoBeforeCall).
	undoFirst bool
	// cancelLikeCS: a cancellation from the Temporal UI follows the rules
	// of a CS cancel (changeTemporalCancelLikeCS).
	cancelLikeCS bool
	// applyEvery: every payment is applied whenever it arrives, by a
	// coroutine of its own, and counts only once the store accepted it
	// (changeApplyEveryPayment).
	applyEvery bool
	// mailsInFlight counts mails sent beside the main path; the order ends
	// only once they are out.
	mailsInFlight int
	// lastEventAt is when the newest carrier exception applied to each
	// shipment happened (changeOrderedShipmentEvents).
	lastEventAt   map[string]time.Time
	lastMail      map[mail.Kind]sentMail
	resends       int
	paid          money.Money
	surveyAnswer  *SurveyAnsweredSignal
	surveyClosed  bool
	surveyStarted bool

	// recorded is the highest seq whose Record has returned: the
	// projection shows at least that much.
	recorded int64
	// refused names the lines of the first revision the ERP would not
	// price; the order ends QUOTE_REFUSED.
	refused []order.FieldError
	// A revision the ERP would not price leaves the standing quote in
	// force: its lines and discount are kept here while a revision is
	// priced, and revisionRefusals counts the refusals (the revise update
	// answers with the latest, lastRefusal).
	prevLines        []order.Line
	prevDisc         int64
	revisionRefusals int
	lastRefusal      []order.FieldError
}

// temporalCancel handles a cancellation of the workflow (the Temporal UI's
// "Request cancellation") like a CS cancel: allowed until goods are
// delivered, then the undos run in reverse order. After delivery it is
// refused like an API cancel: the order keeps its invoice and payment, the
// refusal is audited, and CS is told why and what to do instead.
func (o *orderState) temporalCancel(ctx workflow.Context) {
	const reason = "workflow cancelled through Temporal"
	if o.d.Status.Terminal() || o.cancel != nil || o.compensating {
		return
	}
	operator := order.Actor{Subject: "temporal", Role: order.RoleCS}
	if err := o.canCancel(operator, reason); err != nil {
		why := err.Error()
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			why = appErr.Message()
		}
		o.d.NeedsAttention = true
		o.d.Waiting = fmt.Sprintf("A cancellation requested through Temporal was refused (%s); the order goes on. %s", why, o.d.Waiting)
		o.transition(ctx, o.d.Status, order.System, "cancel.refused", reason+": "+why)
		o.notify(ctx, fmt.Sprintf("cancel-refused-%d", o.seq), mail.KindCSAlert, activities.AudienceCS, mail.Data{
			Step:   "cancellation through Temporal",
			Error:  "a cancellation of the workflow was refused: " + why,
			Reason: "the goods are with the customer and the order keeps its invoice and payment; take money back with a credit note or refund, not a cancel"})
		return
	}
	o.cancel = &CancelInput{Actor: order.System, Reason: reason}
}

// errQuoteRefused ends an order whose first revision the ERP would not price.
var errQuoteRefused = errors.New("quote refused by the ERP")

// OrderWorkflow runs one order from quote to cash.
func OrderWorkflow(ctx workflow.Context, in OrderInput) (OrderResult, error) {
	o := &orderState{}
	if err := o.setup(ctx, in); err != nil {
		return OrderResult{}, err
	}
	return o.run(ctx)
}

func (o *orderState) setup(ctx workflow.Context, in OrderInput) error {
	switch {
	case in.OrderID == "":
		return temporal.NewNonRetryableApplicationError("order id is required", ErrTypeInvalidArgument, nil)
	case in.CustomerID == "":
		return temporal.NewNonRetryableApplicationError("customer id is required", ErrTypeInvalidArgument, nil)
	}
	if fe := order.ValidateLines(in.Lines); fe != nil {
		return temporal.NewNonRetryableApplicationError("invalid lines: "+fe.Error(), ErrTypeInvalidArgument, fe)
	}
	o.in = in
	o.lines = in.Lines
	o.disc = in.RequestedDiscountBP
	o.seenPayments = map[string]bool{}
	o.seenExceptions = map[string]bool{}
	o.lastEventAt = map[string]time.Time{}
	o.lastMail = map[mail.Kind]sentMail{}
	o.d = Details{OrderID: in.OrderID, CustomerID: in.CustomerID, PONumber: in.PONumber}
	o.logger = log.With(workflow.GetLogger(ctx), "OrderID", in.OrderID, "CustomerID", in.CustomerID)
	o.retryThroughOutages = workflow.GetVersion(ctx, changeRetryThroughOutages, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	o.undoFirst = workflow.GetVersion(ctx, changeUndoBeforeCall, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	o.cancelLikeCS = workflow.GetVersion(ctx, changeTemporalCancelLikeCS, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	o.applyEvery = workflow.GetVersion(ctx, changeApplyEveryPayment, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	if o.applyEvery {
		pctx, _ := workflow.NewDisconnectedContext(ctx)
		workflow.Go(pctx, o.applyPaymentsForever)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		KeyCustomerID.ValueSet(in.CustomerID), KeyPONumber.ValueSet(in.PONumber)); err != nil {
		return err
	}
	return o.registerHandlers(ctx)
}

// run is the main path; the alternate endings leave it through finish.
func (o *orderState) run(ctx workflow.Context) (OrderResult, error) {
	if o.cancelLikeCS {
		// The order runs on a context that cancelling the workflow does
		// not stop; a cancellation from the Temporal UI is a cancel
		// request that follows the rules of a CS cancel.
		lctx, _ := workflow.NewDisconnectedContext(ctx)
		workflow.Go(ctx, func(c workflow.Context) {
			_ = workflow.Await(c, func() bool { return false }) // returns when the workflow is cancelled
			dc, _ := workflow.NewDisconnectedContext(c)
			o.temporalCancel(dc)
		})
		ctx = lctx
	}
	res, err := o.lifecycle(ctx)
	if errors.Is(err, errCancelled) || temporal.IsCanceledError(err) {
		// A cancel asked through the API, or the workflow cancelled from the
		// Temporal UI: undo what was done outside, on a context that the
		// cancellation does not stop.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		if o.cancel == nil {
			o.cancel = &CancelInput{Actor: order.System, Reason: "workflow cancelled through Temporal"}
		}
		return o.cancelWithCompensation(dctx)
	}
	return res, err
}

func (o *orderState) lifecycle(ctx workflow.Context) (OrderResult, error) {
	// 1-2. Quote, and wait for the buyer; revisions loop back to pricing.
	for {
		if err := o.priceQuote(ctx); errors.Is(err, errQuoteRefused) {
			reason := "the ERP refused to price the requested lines: " + describeFields(o.refused)
			return o.finishFields(ctx, order.StatusQuoteRefused, order.System, store.ActionQuoteRefused, reason, o.refused)
		} else if err != nil {
			return OrderResult{}, err
		}
		outcome, err := o.awaitAcceptance(ctx)
		if err != nil {
			return OrderResult{}, err
		}
		switch outcome {
		case "revise":
			continue
		case "reject":
			o.notify(ctx, "quote-rejected", mail.KindQuoteRejected, activities.AudienceRep, mail.Data{Quote: o.d.Quote, Reason: o.decisionReason})
			return o.finish(ctx, order.StatusQuoteRejected, o.decidedBy, "quote.rejected", "quote rejected by the buyer: "+o.decisionReason)
		case "expired":
			o.notify(ctx, "quote-expired", mail.KindQuoteExpired, activities.AudienceRep, mail.Data{Quote: o.d.Quote})
			return o.finish(ctx, order.StatusQuoteExpired, order.System, "quote.expired", "quote validity ended without an answer")
		}
		break
	}

	// 3. Approvals the terms demand.
	if rejected, err := o.approve(ctx); err != nil {
		return OrderResult{}, err
	} else if rejected != nil {
		return o.finish(ctx, order.StatusRejected, rejected.Actor, "approval.rejected", rejected.Comment)
	}

	// 4. Credit.
	if declined, err := o.checkCredit(ctx); err != nil {
		return OrderResult{}, err
	} else if declined != nil {
		return o.finish(ctx, order.StatusCreditDeclined, declined.Actor, "credit.declined", declined.Reason)
	}

	// 5. ERP sales order and reservation.
	if err := o.reserve(ctx); err != nil {
		return OrderResult{}, err
	}
	if o.d.Prepayment {
		// Prepayment: invoice now and ship only once the money is in.
		if err := o.invoice(ctx); err != nil {
			return OrderResult{}, err
		}
		if err := o.awaitPayment(ctx); err != nil {
			return OrderResult{}, err
		}
	}

	// 6. Ship and wait for proof of delivery.
	if err := o.ship(ctx); err != nil {
		return OrderResult{}, err
	}
	if err := o.awaitDelivery(ctx); err != nil {
		return OrderResult{}, err
	}

	// 8. The survey runs beside invoicing and payment.
	o.surveyStarted = true
	workflow.Go(ctx, o.runSurvey)

	// 7, 9. Invoice and wait for the money.
	if !o.d.Prepayment {
		if err := o.invoice(ctx); err != nil {
			return OrderResult{}, err
		}
		if err := o.awaitPayment(ctx); err != nil {
			return OrderResult{}, err
		}
	}

	// 10. Done when reconciled and the survey is closed; PAID meanwhile.
	if !o.surveyClosed {
		o.d.Waiting = fmt.Sprintf("Paid in full. Waiting for the NPS survey to be answered or to close (at most %s).", inWords(SurveyWindow))
		if workflow.GetVersion(ctx, changePaidStatus, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			o.showDetails(ctx)
		} else {
			o.transition(ctx, order.StatusPaid, order.System, "order.paid", "paid in full; the NPS survey is still open")
		}
		if err := workflow.Await(ctx, func() bool { return o.surveyClosed }); err != nil {
			return OrderResult{}, err
		}
	}
	return o.finish(ctx, order.StatusCompleted, order.System, "order.completed", "invoice reconciled and survey closed")
}

// finish records a terminal status and returns once every update handler is
// done, so no caller is left without an answer.
func (o *orderState) finish(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string) (OrderResult, error) {
	return o.finishFields(ctx, s, actor, action, reason, nil)
}

// finishFields is finish with field errors for the final audit entry.
func (o *orderState) finishFields(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string, fields []order.FieldError) (OrderResult, error) {
	o.d.NeedsAttention = false
	o.d.Failure = nil
	o.d.Waiting = fmt.Sprintf("Finished: %s — %s.", s, reason)
	o.transitionFields(ctx, s, actor, action, reason, fields)
	// The status is final: a cancel from the Temporal UI now must not undo
	// the order, only wait with it for the handlers' answers.
	wctx := ctx
	if o.finishOutsideCalls(ctx) {
		wctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	if err := workflow.Await(wctx, func() bool { return workflow.AllHandlersFinished(wctx) && o.mailsInFlight == 0 }); err != nil {
		return OrderResult{}, err
	}
	return OrderResult{OrderID: o.in.OrderID, Status: s, Reason: reason}, nil
}

func (o *orderState) priceQuote(ctx workflow.Context) error {
	rev := 1
	if o.d.Quote != nil {
		rev = o.d.Quote.Revision + 1
	}
	o.d.Waiting = fmt.Sprintf("Pricing quote revision %d through the ERP.", rev)
	o.transition(ctx, order.StatusQuoting, o.in.RequestedBy, "quote.pricing", "")
	var res activities.PriceQuoteResult
	err := o.attempt(ctx, "price quote", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(o.outside(ctx, fmt.Sprintf("Price quote revision %d", rev)), a.PriceQuote,
			activities.PriceQuoteInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Revision: rev,
				Lines: o.lines, RequestedDiscountBP: o.disc, At: workflow.Now(ctx)}).Get(ctx, &res)
	})
	if fields, ok := refusedLines(err); ok {
		return o.refuseRevision(ctx, rev, fields)
	}
	if err != nil {
		return err
	}
	o.terms = res.Terms
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
	return nil
}

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
	o.lines, o.disc = o.prevLines, o.prevDisc
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
// reports "accept", "revise", "reject" or "expired".
func (o *orderState) awaitAcceptance(ctx workflow.Context) (string, error) {
	if workflow.GetVersion(ctx, changeKeepEarlyAnswers, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Orders started before the fix cleared the answer here and lost one
		// given while the quote mail was being sent; replay keeps that.
		o.quoteDecision = ""
	}
	decided := func() bool { return o.quoteDecision != "" || o.cancel != nil }
	left := o.d.Quote.ValidUntil.Sub(workflow.Now(ctx))
	remindIn := left - QuoteReminderBefore
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
			return "expired", nil
		}
	}
	if o.cancel != nil {
		return "", errCancelled
	}
	if o.quoteDecision == "accept" {
		o.record(ctx, o.decidedBy, "quote.accepted", fmt.Sprintf("revision %d", o.d.Quote.Revision))
	}
	if o.quoteDecision == "revise" {
		o.prevLines, o.prevDisc = o.lines, o.disc
		o.lines = o.revision.Lines
		o.disc = o.revision.DiscountBP
		o.record(ctx, o.revision.Actor, "quote.revision-requested", o.revision.Reason)
	}
	return o.quoteDecision, nil
}

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

// checkCredit returns finance's decline, if it came to that.
func (o *orderState) checkCredit(ctx workflow.Context) (*CreditDecisionInput, error) {
	o.d.Waiting = "Checking credit: ERP open receivables + open orders + this order against the credit limit."
	o.transition(ctx, order.StatusCreditCheck, order.System, "credit.checking", "")
	var res activities.CheckCreditResult
	err := o.attempt(ctx, "credit check", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(o.outside(ctx, "Check credit exposure"), a.CheckCredit,
			activities.CheckCreditInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Total: o.d.Quote.Total}).Get(ctx, &res)
	})
	if err != nil {
		return nil, err
	}
	e := res.Exposure
	o.d.Exposure = &e
	if e.WithinLimit {
		o.record(ctx, order.System, "credit.approved", fmt.Sprintf("exposure %s within limit %s", e.Total, e.Limit))
		return nil, nil
	}
	o.d.Waiting = fmt.Sprintf("On credit hold: exposure %s exceeds the limit %s. Waiting for finance to override, decline or switch to prepayment.", e.Total, e.Limit)
	o.transition(ctx, order.StatusCreditHold, order.System, "credit.hold", fmt.Sprintf("exposure %s over limit %s", e.Total, e.Limit))
	o.notify(ctx, "credit-hold", mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Quote: o.d.Quote, Exposure: o.d.Exposure,
		Reason: "credit hold: exposure exceeds the limit"})
	if err := workflow.Await(ctx, func() bool { return o.credit != nil || o.cancel != nil }); err != nil {
		return nil, err
	}
	if o.cancel != nil {
		return nil, errCancelled
	}
	switch o.credit.Decision {
	case CreditDecline:
		return o.credit, nil
	case CreditPrepay:
		o.d.Prepayment = true
		o.record(ctx, o.credit.Actor, "credit.prepayment", o.credit.Reason)
	default:
		o.record(ctx, o.credit.Actor, "credit.override", o.credit.Reason)
	}
	return nil, nil
}

func (o *orderState) reserve(ctx workflow.Context) error {
	key := activities.SalesOrderKey(o.in.OrderID)
	var res activities.ReserveResult
	err := o.attemptUndoable(ctx, "reserve stock", undo{Kind: "cancel-sales-order", Key: key,
		Label: "cancel the ERP sales order (if the ERP made one) and release its reservation"}, func(ctx workflow.Context) error {
		actx := o.outsideCtx(ctx)
		return workflow.ExecuteActivity(o.outside(actx, "Create ERP sales order and reserve stock"), a.Reserve,
			activities.ReserveInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Currency: o.d.Quote.Total.Currency,
				Lines: o.lines}).Get(actx, &res)
	})
	if err != nil {
		return err
	}
	o.d.SalesOrderID = res.SalesOrderID
	o.d.Shipments = res.Shipments
	o.madeUndo(undo{Kind: "cancel-sales-order", Key: key, Ref: res.SalesOrderID, Label: "cancel ERP sales order " + res.SalesOrderID + " and release its reservation"})
	o.d.Waiting = fmt.Sprintf("Sales order %s created; stock reserved in %d warehouse(s).", res.SalesOrderID, len(res.Shipments))
	o.transition(ctx, order.StatusConfirmed, order.System, "order.confirmed", "sales order "+res.SalesOrderID)
	o.notify(ctx, "confirmed", mail.KindOrderConfirmed, activities.AudienceBuyer, mail.Data{Quote: o.d.Quote, Shipments: o.d.Shipments})
	return nil
}

func (o *orderState) ship(ctx workflow.Context) error {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.ShipmentID != "" {
			continue
		}
		key := activities.ShipmentKey(o.in.OrderID, s.Warehouse)
		var res activities.BookShipmentResult
		err := o.attemptUndoable(ctx, "book shipment from "+s.Warehouse, undo{Kind: "cancel-shipment", Key: key,
			Label: "cancel the shipment from " + s.Warehouse + " (if the carrier booked it)"}, func(ctx workflow.Context) error {
			actx := o.outsideCtx(ctx)
			return workflow.ExecuteActivity(o.outside(actx, "Book carrier from "+s.Warehouse), a.BookShipment,
				activities.BookShipmentInput{OrderID: o.in.OrderID, Warehouse: s.Warehouse, Lines: s.Lines}).Get(actx, &res)
		})
		if err != nil {
			return err
		}
		s.ShipmentID, s.TrackingNumber, s.PromisedDate = res.ShipmentID, res.TrackingNumber, res.PromisedDate
		o.madeUndo(undo{Kind: "cancel-shipment", Key: key, Ref: res.ShipmentID, Label: "cancel shipment " + res.ShipmentID + " from " + s.Warehouse})
		o.record(ctx, order.System, "shipment.booked", fmt.Sprintf("%s from %s, tracking %s, promised %s",
			res.ShipmentID, s.Warehouse, res.TrackingNumber, res.PromisedDate.Format("2006-01-02")))
		o.notify(ctx, "shipment-"+s.Warehouse, mail.KindShipmentBooked, activities.AudienceBuyer, mail.Data{Shipment: s})
	}
	// Webhooks that beat their booking's result apply now.
	for _, ev := range o.earlyDelivered {
		o.markDelivered(ctx, ev.ShipmentID, ev.DeliveredAt, "webhook "+ev.EventID)
	}
	o.earlyDelivered = nil
	o.d.Waiting = o.deliveryWaiting()
	o.transition(ctx, order.StatusShipping, order.System, "order.shipping", fmt.Sprintf("%d shipment(s) booked", len(o.d.Shipments)))
	return nil
}

func (o *orderState) deliveryWaiting() string {
	open, latest := 0, ""
	for _, s := range o.d.Shipments {
		if !s.Delivered {
			open++
			if d := s.PromisedDate.Format("2006-01-02"); d > latest {
				latest = d
			}
		}
	}
	if open == 0 {
		return fmt.Sprintf("All %d shipment(s) delivered.", len(o.d.Shipments))
	}
	w := fmt.Sprintf("Waiting for proof of delivery of %d of %d shipment(s), promised by %s.", open, len(o.d.Shipments), latest)
	for _, s := range o.d.Shipments {
		if !s.Delivered && s.Exception != "" {
			w += fmt.Sprintf(" Carrier reports a problem with %s: %s (CS has been alerted).", s.ShipmentID, s.Exception)
		}
	}
	if o.d.DeliveryOverdue {
		w += " DELIVERY OVERDUE: CS has been alerted."
	}
	return w
}

// shipmentException applies the carrier's report of a problem with a
// shipment: the shipment shows it, the audit log records it, CS is alerted.
// The order keeps waiting for delivery (or polling finds it). Repeats of an
// event change nothing.
func (o *orderState) shipmentException(ctx workflow.Context, e ShipmentExceptionSignal) {
	if o.seenExceptions[e.EventID] {
		return
	}
	o.seenExceptions[e.EventID] = true
	if workflow.GetVersion(ctx, changeOrderedShipmentEvents, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		if newer, ok := o.newerShipmentEvent(e.ShipmentID, e.OccurredAt); ok {
			o.record(ctx, order.System, "shipment.event-outdated", fmt.Sprintf("%s: exception %q of %s (event %s) is older than the shipment's %s; nothing changed",
				e.ShipmentID, e.Detail, e.OccurredAt.Format(time.RFC3339), e.EventID, newer))
			return
		}
		o.lastEventAt[e.ShipmentID] = e.OccurredAt
	}
	sh := order.Shipment{ShipmentID: e.ShipmentID}
	for i := range o.d.Shipments {
		if o.d.Shipments[i].ShipmentID == e.ShipmentID {
			o.d.Shipments[i].Exception = e.Detail
			sh = o.d.Shipments[i]
		}
	}
	if o.d.Status == order.StatusShipping {
		o.d.Waiting = o.deliveryWaiting()
	}
	o.record(ctx, order.System, "shipment.exception", fmt.Sprintf("%s: %s (event %s)", e.ShipmentID, e.Detail, e.EventID))
	o.notify(ctx, "shipment-exception-"+e.EventID, mail.KindCSAlert, activities.AudienceCS, mail.Data{Shipment: &sh,
		Error:  fmt.Sprintf("the carrier reports a problem with shipment %s: %s", e.ShipmentID, e.Detail),
		Reason: "contact the carrier and the customer; the order keeps waiting for proof of delivery"})
}

// newerShipmentEvent reports whether the shipment has news newer than at
// (its proof of delivery, or a later carrier event), and names it. Carrier
// events are ordered per shipment by when they happened, not by when they
// arrived: an older one changes nothing.
func (o *orderState) newerShipmentEvent(shipmentID string, at time.Time) (string, bool) {
	if at.IsZero() {
		return "", false
	}
	for _, s := range o.d.Shipments {
		if s.ShipmentID == shipmentID && s.Delivered && at.Before(s.DeliveredAt) {
			return "delivery at " + s.DeliveredAt.Format(time.RFC3339), true
		}
	}
	if last, ok := o.lastEventAt[shipmentID]; ok && at.Before(last) {
		return "event of " + last.Format(time.RFC3339), true
	}
	return "", false
}

func (o *orderState) allDelivered() bool {
	for _, s := range o.d.Shipments {
		if !s.Delivered {
			return false
		}
	}
	return true
}

// awaitDelivery waits for the carrier's webhooks, looks at the carrier itself
// every CarrierPollEvery in case they went missing, and flags the order when a
// shipment is late.
func (o *orderState) awaitDelivery(ctx workflow.Context) error {
	for !o.allDelivered() {
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: CarrierPollEvery, TimerOptions: workflow.TimerOptions{Summary: "poll carrier"}},
			func() bool { return o.allDelivered() || o.cancel != nil })
		if err != nil {
			return err
		}
		if o.cancel != nil {
			return errCancelled
		}
		if ok {
			break
		}
		o.pollCarrier(ctx)
		o.checkOverdue(ctx)
	}
	o.record(ctx, order.System, "order.delivered", "every shipment delivered")
	return nil
}

func (o *orderState) pollCarrier(ctx workflow.Context) {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.Delivered {
			continue
		}
		var res activities.TrackShipmentResult
		// Best effort: the next poll tries again, so no CS alert for this one.
		err := workflow.ExecuteActivity(polling(ctx, "Track shipment "+s.ShipmentID), a.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: s.ShipmentID}).Get(ctx, &res)
		if err != nil {
			o.logger.Warn("carrier poll failed", "ShipmentID", s.ShipmentID, "Error", err)
			continue
		}
		if res.Status == "delivered" {
			o.markDelivered(ctx, s.ShipmentID, res.DeliveredAt, "carrier poll")
		}
	}
}

func (o *orderState) checkOverdue(ctx workflow.Context) {
	if o.d.DeliveryOverdue {
		return
	}
	now := workflow.Now(ctx)
	for _, s := range o.d.Shipments {
		if !s.Delivered && now.After(s.PromisedDate.Add(DeliveryGrace)) {
			o.d.DeliveryOverdue = true
			for i := range o.d.Shipments {
				if !o.d.Shipments[i].Delivered {
					o.d.Shipments[i].Overdue = true
				}
			}
			o.d.Waiting = o.deliveryWaiting()
			o.record(ctx, order.System, "delivery.overdue", fmt.Sprintf("shipment %s promised %s", s.ShipmentID, s.PromisedDate.Format("2006-01-02")))
			o.notify(ctx, "delivery-overdue", mail.KindCSAlert, activities.AudienceCS, mail.Data{Shipment: &s, Step: "delivery",
				Error: fmt.Sprintf("DELIVERY_OVERDUE: shipment %s was promised for %s", s.ShipmentID, s.PromisedDate.Format("2006-01-02"))})
			return
		}
	}
}

// markDelivered applies one proof of delivery; repeats change nothing.
func (o *orderState) markDelivered(ctx workflow.Context, shipmentID string, at time.Time, via string) {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.ShipmentID != shipmentID || s.Delivered {
			continue
		}
		s.Delivered, s.DeliveredAt = true, at
		if at.IsZero() {
			s.DeliveredAt = workflow.Now(ctx)
		}
		o.d.Waiting = o.deliveryWaiting()
		o.record(ctx, order.System, "shipment.delivered", fmt.Sprintf("%s delivered %s (via %s)", shipmentID, s.DeliveredAt.Format(time.RFC3339), via))
	}
}
