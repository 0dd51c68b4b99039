package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
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

// errQuoteRefused ends an order whose first revision the ERP would not price.
var errQuoteRefused = errors.New("quote refused by the ERP")

// SentMail is what a mail said and to whom, kept for a CS resend (and
// carried into the next run when the order continues as new).
type SentMail struct {
	Audience activities.Audience `json:"audience"`
	// Key is the mail's idempotency key: the mail activity keeps what the
	// mail said under it (changeResendByKey).
	Key string `json:"key,omitempty"`
	// Data is what the mail said, in runs from before changeResendByKey.
	Data mail.Data `json:"data,omitzero"`
}

// orderState is the workflow's memory. Handlers and the main path share it;
// Temporal runs them one at a time, so no locks.
type orderState struct {
	in    OrderInput
	d     Details
	terms order.Terms
	lines []order.Line
	disc  int64
	// discBy asked for the discount disc (its rule is their authority).
	discBy order.Actor
	seq    int64
	undos  []undo
	logger log.Logger

	// Decisions handed from update handlers and signals to the main path.
	quoteDecision  quoteAnswer
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
	// boundedCadence: carrier polling slows down past the promised date and
	// dunning goes monthly after the escalation (changeBoundedCadence).
	boundedCadence bool
	// localRecords: Record runs as a local activity (changeLocalRecords);
	// the order ends once none of localRecordsInFlight is left.
	localRecords         bool
	localRecordsInFlight int
	// overdueSince is when the order flagged its delivery overdue.
	overdueSince time.Time
	// mailsInFlight counts mails sent beside the main path; the order ends
	// only once they are out. recordsInFlight counts projection writes
	// under way, applying a payment being applied: an order continues as
	// new only when all three are idle.
	mailsInFlight   int
	recordsInFlight int
	applying        bool
	// A lean run (changeLeanHistory) sends mails and upserts its state's
	// search attributes once the workflow task settles (no local activity
	// running): mailQueue holds the mails notified since, stateDirty says
	// the state changed since the last upsert, localActive counts local
	// activities running. See mailer and stateUpserter.
	mailQueue   []queuedMail
	stateDirty  bool
	localActive int
	// refundsOnCancel: a payment applied to the invoice registers its
	// refund as an undo (changeRefundOnCancel); refunds counts them.
	refundsOnCancel bool
	refunds         int
	// reships and returns number the order's reships and returns (their
	// keys); goodsBack holds the carrier's "returned" events by pickup.
	reships int
	returns int
	// writeOffs and allocations number the order's write-offs and credit
	// allocations (their keys).
	writeOffs   int
	allocations int
	// creditPending is the gross of credit notes being issued now (minor
	// units of the invoice's currency).
	creditPending int64
	// reshipping names the shipments a reship handler is replacing now;
	// returnsStarting the lines of returns whose handler is making them.
	// Handlers finish before the order continues as new: not carried.
	reshipping      map[string]bool
	returnsStarting []startingReturn
	// afterSalesInFlight counts reship and return handlers under way: the
	// order does not complete under them.
	afterSalesInFlight int
	goodsBack          map[string]GoodsReturnedSignal
	// creditNotes counts the credit notes asked for (their keys).
	creditNotes int
	// resendByKey: the order keeps the key of each kind's last mail, not
	// its data; a CS resend has the mail activity send the kept mail
	// again (changeResendByKey).
	resendByKey bool
	// mayContinue: the order continues as new in its long waits when its
	// history grows long (changeContinueAsNew).
	mayContinue bool
	// dun is the dunning of the order's one invoice; dunning that of each
	// invoice of an order invoiced per shipment, in the order they were
	// issued.
	dun     DunState
	dunning []DunState
	// disputes counts the invoice's disputes; dunningResumeAt is when
	// reminders may go out again after the last one was resolved.
	disputes        int
	dunningResumeAt time.Time
	// lastEventAt is when the newest carrier exception applied to each
	// shipment happened (changeOrderedShipmentEvents).
	lastEventAt   map[string]time.Time
	lastMail      map[mail.Kind]SentMail
	resends       int
	paid          money.Money
	surveyAnswer  *SurveyAnsweredSignal
	surveyClosed  bool
	surveyStarted bool
	// surveyMode: one survey per order or one per delivered shipment
	// (changeSurveyPerShipment), decided when first needed.
	surveyMode int

	// lean: the run takes changeLeanHistory (asked first, in setup).
	lean bool

	// recorded is the highest seq whose Record has returned: the
	// projection shows at least that much.
	recorded int64
	// pricingRevision is the quote revision being priced, 0 when none
	// (see pricingAccept).
	pricingRevision int
	// customerEvents: the run tells its customer's workflow its
	// milestones (changeCustomerEvents), asked at the first one;
	// tellsInFlight counts those not yet handed over.
	customerEvents, customerEventsAsked bool
	tellsInFlight                       int
	// fenceBase is what the runs before this one add to its history
	// length to make a record's fence (see fence).
	fenceBase int64
	// refused names the lines of the first revision the ERP would not
	// price; the order ends QUOTE_REFUSED.
	refused []order.FieldError
	// A revision the ERP would not price leaves the standing quote in
	// force: its lines and discount are kept here while a revision is
	// priced, and revisionRefusals counts the refusals (the revise update
	// answers with the latest, lastRefusal).
	prevLines        []order.Line
	prevDisc         int64
	prevDiscBy       order.Actor
	revisionRefusals int
	lastRefusal      []order.FieldError
}

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
	if in.RequestedDiscountBP > 0 {
		o.discBy = in.RequestedBy
	}
	o.seenPayments = map[string]bool{}
	o.seenExceptions = map[string]bool{}
	o.lastEventAt = map[string]time.Time{}
	o.lastMail = map[mail.Kind]SentMail{}
	o.goodsBack = map[string]GoodsReturnedSignal{}
	o.reshipping = map[string]bool{}
	o.d = Details{OrderID: in.OrderID, CustomerID: in.CustomerID, PONumber: in.PONumber}
	o.logger = log.With(workflow.GetLogger(ctx), "OrderID", in.OrderID, "CustomerID", in.CustomerID)
	o.lean = workflow.GetVersion(ctx, changeLeanHistory, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	o.retryThroughOutages = o.gate(ctx, changeRetryThroughOutages)
	o.undoFirst = o.gate(ctx, changeUndoBeforeCall)
	o.cancelLikeCS = o.gate(ctx, changeTemporalCancelLikeCS)
	o.applyEvery = o.gate(ctx, changeApplyEveryPayment)
	o.boundedCadence = o.gate(ctx, changeBoundedCadence)
	o.mayContinue = o.gate(ctx, changeContinueAsNew)
	o.localRecords = o.gate(ctx, changeLocalRecords)
	o.resendByKey = o.gate(ctx, changeResendByKey)
	o.refundsOnCancel = o.gate(ctx, changeRefundOnCancel)
	if in.Resume != nil {
		// A run that an earlier run of the order continued: it takes that
		// run's state and picks up the lifecycle where it stopped.
		o.restore(in.Resume)
		if err := o.upsertState(ctx); err != nil {
			return err
		}
		o.showDetails(ctx)
	}
	if o.applyEvery {
		pctx, _ := workflow.NewDisconnectedContext(ctx)
		workflow.Go(pctx, o.applyPaymentsForever)
	}
	if o.lean {
		// Mails and search attributes go out however the workflow ends.
		lctx, _ := workflow.NewDisconnectedContext(ctx)
		workflow.Go(lctx, o.mailer)
		workflow.Go(lctx, o.stateUpserter)
	}
	if err := o.upsertIdentity(ctx); err != nil {
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
	from := stageQuote
	if o.in.Resume != nil {
		from = o.in.Resume.Stage
	}
	// A run continued as new picks up the stage where the run before it
	// stopped; the cases fall through to the rest of the lifecycle.
	switch from {
	case stageQuote:
		if res, ended, err := o.quoteToReservation(ctx); ended || err != nil {
			return res, err
		}
		if o.d.Prepayment {
			// Prepayment: invoice now and ship only once the money is in.
			if err := o.invoice(ctx); err != nil {
				return OrderResult{}, err
			}
			o.d.Waiting = o.paymentWaiting()
			o.transition(ctx, order.StatusAwaitingPayment, order.System, "payment.awaiting", o.d.Invoice.Number)
		}
		fallthrough
	case stagePrepayment:
		if o.d.Prepayment {
			if err := o.awaitPayment(ctx, stagePrepayment); err != nil {
				return OrderResult{}, err
			}
		}
		// 6. Ship and wait for proof of delivery.
		if err := o.ship(ctx); err != nil {
			return OrderResult{}, err
		}
		fallthrough
	case stageDelivery:
		if err := o.awaitDelivery(ctx); err != nil {
			return OrderResult{}, err
		}
		// 8. The survey runs beside invoicing and payment: one per
		// shipment, started as each was delivered, or one for the order.
		if !o.surveysPerShipment(ctx) {
			o.surveyStarted = true
			workflow.Go(ctx, func(ctx workflow.Context) { o.runSurvey(ctx, nil) })
		}
		// 7. Invoice: the order, or what is left of it per shipment.
		if !o.d.Prepayment {
			invoice := o.invoice
			if o.perShipment() {
				invoice = o.invoicedPerShipment
			}
			if err := invoice(ctx); err != nil {
				return OrderResult{}, err
			}
			o.d.Waiting = o.paymentWaiting()
			o.transition(ctx, order.StatusAwaitingPayment, order.System, "payment.awaiting", o.invoiceNumbers())
		}
		fallthrough
	case stagePaymentDue:
		// 9. Wait for the money.
		if !o.d.Prepayment {
			if err := o.awaitPayment(ctx, stagePaymentDue); err != nil {
				return OrderResult{}, err
			}
		}
	}

	// 10. Done when reconciled and the surveys are closed; PAID meanwhile.
	if !o.surveysOver() {
		o.d.Waiting = o.paidWaiting()
		if !o.gate(ctx, changePaidStatus) {
			o.showDetails(ctx)
		} else {
			o.transition(ctx, order.StatusPaid, order.System, "order.paid", "paid in full; the NPS survey is still open")
		}
		if err := workflow.Await(ctx, o.surveysOver); err != nil {
			return OrderResult{}, err
		}
	}
	// A reship delivered meanwhile has a survey of its own to wait for.
	for {
		if err := o.awaitAfterSales(ctx); err != nil {
			return OrderResult{}, err
		}
		if o.surveysOver() {
			break
		}
		if err := workflow.Await(ctx, o.surveysOver); err != nil {
			return OrderResult{}, err
		}
	}
	why := "invoice reconciled and survey closed"
	if o.surveyMode == surveyEach {
		why = "invoice reconciled and every delivery's survey closed"
	}
	return o.finish(ctx, order.StatusCompleted, order.System, "order.completed", why)
}

// quoteToReservation runs the order from its quote to the ERP's
// reservation. ended reports an order that ended on the way (quote
// refused, rejected or expired, approval rejected, credit declined), res
// says how.
func (o *orderState) quoteToReservation(ctx workflow.Context) (res OrderResult, ended bool, _ error) {
	// 1-2. Quote, and wait for the buyer; revisions loop back to pricing.
	for {
		if err := o.priceQuote(ctx); errors.Is(err, errQuoteRefused) {
			reason := "the ERP refused to price the requested lines: " + describeFields(o.refused)
			res, err := o.finishFields(ctx, order.StatusQuoteRefused, order.System, order.ActionQuoteRefused, reason, o.refused)
			return res, true, err
		} else if err != nil {
			return OrderResult{}, false, err
		}
		outcome, err := o.awaitAcceptance(ctx)
		if err != nil {
			return OrderResult{}, false, err
		}
		switch outcome {
		case answerRevise:
			continue
		case answerReject:
			o.notify(ctx, "quote-rejected", mail.KindQuoteRejected, activities.AudienceRep, mail.Data{Quote: o.d.Quote, Reason: o.decisionReason, FollowUp: o.customerEvents})
			res, err := o.finish(ctx, order.StatusQuoteRejected, o.decidedBy, "quote.rejected", "quote rejected by the buyer: "+o.decisionReason)
			return res, true, err
		case answerExpired:
			o.notify(ctx, "quote-expired", mail.KindQuoteExpired, activities.AudienceRep, mail.Data{Quote: o.d.Quote, FollowUp: o.customerEvents})
			res, err := o.finish(ctx, order.StatusQuoteExpired, order.System, "quote.expired", "quote validity ended without an answer")
			return res, true, err
		}
		break
	}

	// 3. Approvals the terms demand.
	if rejected, err := o.approve(ctx); err != nil {
		return OrderResult{}, false, err
	} else if rejected != nil {
		res, err := o.finish(ctx, order.StatusRejected, rejected.Actor, "approval.rejected", rejected.Comment)
		return res, true, err
	}

	// 4. Credit.
	if declined, err := o.checkCredit(ctx); err != nil {
		return OrderResult{}, false, err
	} else if declined != nil {
		res, err := o.finish(ctx, order.StatusCreditDeclined, declined.Actor, "credit.declined", declined.Reason)
		return res, true, err
	}

	// 5. ERP sales order and reservation.
	return OrderResult{}, false, o.reserve(ctx)
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
	if kind, ok := o.customerEventOf(s); ok {
		why := reason
		if s == order.StatusQuoteRejected {
			why = o.decisionReason // the buyer's own words, for the rep's follow-up
		}
		o.tellCustomer(ctx, kind, actor, why)
	}
	// The status is final: a cancel from the Temporal UI now must not undo
	// the order, only wait with it for the handlers' answers.
	wctx := ctx
	if o.finishOutsideCalls(ctx) {
		wctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	if err := workflow.Await(wctx, func() bool {
		return workflow.AllHandlersFinished(wctx) && o.mailsInFlight+o.localRecordsInFlight+o.tellsInFlight == 0
	}); err != nil {
		return OrderResult{}, err
	}
	o.flushState(ctx)
	return OrderResult{OrderID: o.in.OrderID, Status: s, Reason: reason}, nil
}
