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
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Typed keys of the search attributes, for the workflow and the API alike.
var (
	KeyCustomerID     = temporal.NewSearchAttributeKeyKeyword(SACustomerID)
	KeyOrderStatus    = temporal.NewSearchAttributeKeyKeyword(SAOrderStatus)
	KeyOrderTotal     = temporal.NewSearchAttributeKeyFloat64(SAOrderTotal)
	KeyNeedsAttention = temporal.NewSearchAttributeKeyBool(SANeedsAttention)
	KeyPONumber       = temporal.NewSearchAttributeKeyKeyword(SAPONumber)
)

// StartSearchAttributes are the search attributes an order starts with, so
// it is found by customer and PO from its first moment.
func StartSearchAttributes(customerID, poNumber string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		KeyCustomerID.ValueSet(customerID),
		KeyOrderStatus.ValueSet(string(order.StatusQuoting)),
		KeyPONumber.ValueSet(poNumber),
		KeyNeedsAttention.ValueSet(false),
		KeyOrderTotal.ValueSet(0),
	)
}

// SearchAttributes are the custom search attributes every order carries; the
// dev server and deployments register them.
func SearchAttributes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		SACustomerID:     enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAOrderStatus:    enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAOrderTotal:     enums.INDEXED_VALUE_TYPE_DOUBLE,
		SANeedsAttention: enums.INDEXED_VALUE_TYPE_BOOL,
		SAPONumber:       enums.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// noCurrency is ISO 4217's code for "no currency": the total before pricing.
const noCurrency = "XXX"

// attempt runs one outside step. When the step fails for good (budget spent or
// permanent error) the order needs attention: CS is mailed and the order waits
// for a CS action — retry runs the step again, cancel unwinds the order.
func (o *orderState) attempt(ctx workflow.Context, step string, run func(workflow.Context) error) error {
	_, err := o.attemptStep(ctx, step, false, nil, run)
	return err
}

// attemptUndoable is attempt for a forward call that changes something
// outside: its undo u, named by the call's idempotency key, is registered
// right before each try (changeUndoBeforeCall), and dropped again when the
// outside system refused for good (a refusal changed nothing).
func (o *orderState) attemptUndoable(ctx workflow.Context, step string, u undo, run func(workflow.Context) error) error {
	_, err := o.attemptStep(ctx, step, false, &u, run)
	return err
}

// attemptStep is attempt for a step CS may also skip (skippable): one whose
// outcome nothing later depends on, such as an undo that was done by hand or
// cannot be done (a delivered shipment cannot be cancelled). skipped reports
// that CS skipped it.
func (o *orderState) attemptStep(ctx workflow.Context, step string, skippable bool, u *undo, run func(workflow.Context) error) (skipped bool, _ error) {
	// What the order said before the step; a failure says which step
	// failed instead, until the step is retried or skipped.
	waitingBefore := o.d.Waiting
	for {
		if o.cancel != nil && !o.compensating {
			return false, errCancelled
		}
		if !o.compensating && ctx.Err() != nil && o.finishOutsideCalls(ctx) {
			// Cancelled from the Temporal UI while the last step finished:
			// start nothing new; the caller unwinds what is registered.
			return false, ctx.Err()
		}
		if u != nil {
			o.registerUndo(*u)
		}
		var err error
		if o.retryThroughOutages {
			err = o.runWatched(ctx, step, run)
		} else {
			err = run(ctx)
		}
		o.attemptsDone++
		if err == nil {
			if o.d.Failure != nil || o.d.NeedsAttention {
				o.d.Failure, o.d.NeedsAttention = nil, false
				o.d.Waiting = waitingBefore
				o.transition(ctx, o.d.Status, order.System, "step.recovered", step)
			}
			return false, nil
		}
		if temporal.IsCanceledError(err) || errors.Is(err, errCancelled) {
			return false, err
		}
		if u != nil && !temporal.IsCanceledError(err) && !isRetryable(err) {
			// Refused for good: the outside system changed nothing.
			o.dropUndo(u.Key)
		}
		if _, ok := refusedLines(err); ok {
			// The ERP will not price what was asked: the caller answers the
			// buyer, no CS retry can change it.
			return false, err
		}
		o.failures++
		line := describeFailure(err, o.stepBudget())
		o.d.Failure = &StepFailure{Step: step, Error: line, Since: workflow.Now(ctx), Skippable: skippable}
		o.d.NeedsAttention = true
		what := "retry the step or cancel the order"
		if skippable {
			what = "retry the step, or skip it if it was done by hand or cannot be done,"
		}
		o.d.Waiting = fmt.Sprintf("Step %q failed: %s Waiting for CS to %s.", step, line, strings.TrimSuffix(what, ","))
		o.logger.Error("step failed; waiting for CS", "Step", step, "Error", err)
		o.transition(ctx, o.d.Status, order.System, "step.failed", step+": "+line)
		o.notify(ctx, fmt.Sprintf("cs-alert-%d", o.failures), mail.KindCSAlert, activities.AudienceCS,
			mail.Data{Step: step, Error: line, WaitsForCS: true, CanSkip: skippable,
				Reason: what + " through POST /v1/orders/" + o.in.OrderID + "/actions"})

		// A CS action given while the alert mail was being sent is kept (the
		// order already showed NeedsAttention); runs from before the fix
		// dropped it, and replay must too.
		if workflow.GetVersion(ctx, changeKeepEarlyCSActions, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			o.csAction = nil
		}
		if err := workflow.Await(ctx, func() bool { return o.csAction != nil || (o.cancel != nil && !o.compensating) }); err != nil {
			o.abandonFailure()
			return false, err
		}
		if o.cancel != nil && !o.compensating {
			o.abandonFailure()
			return false, errCancelled
		}
		act := o.csAction
		o.csAction = nil
		o.d.Failure, o.d.NeedsAttention = nil, false
		o.d.Waiting = waitingBefore
		if act.Action == ActionSkip {
			o.transition(ctx, o.d.Status, act.Actor, "action.skip", step+": "+act.Reason)
			return true, nil
		}
		o.d.Waiting = fmt.Sprintf("Retrying %q, as %s asked.", step, act.Actor.Subject)
		o.transition(ctx, o.d.Status, act.Actor, "action.retry", step+": "+act.Reason)
	}
}

// runWatched runs one attempt of a step, which retries by itself until it
// succeeds or fails for good. Past StepBudget without an answer the order
// needs attention: CS is told once, the details say what the order waits
// for, and the call goes on retrying; the caller clears the flag when it
// succeeds. A worker fleet that is down or backlogged counts too: queue time
// is time without success.
func (o *orderState) runWatched(ctx workflow.Context, step string, run func(workflow.Context) error) error {
	var (
		err  error
		done bool
	)
	callCtx, abandon := workflow.WithCancel(ctx)
	workflow.Go(callCtx, func(ctx workflow.Context) {
		err = run(ctx)
		done = true
	})
	// A cancel asked for through the API abandons a call that is still
	// retrying (an outage must not hold the cancel up); its undo is
	// registered by key (changeUndoBeforeCall). Older runs wait for it.
	cancelled := func() bool { return o.undoFirst && o.cancel != nil && !o.compensating }
	finished := func() bool { return done || cancelled() }
	defer func() {
		if !done {
			abandon()
		}
	}()
	budget := o.stepBudget()
	ok, werr := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: budget,
		TimerOptions: workflow.TimerOptions{Summary: "step budget: " + step}}, finished)
	if ok && !done {
		return errCancelled
	}
	if werr != nil || ok {
		if werr != nil && !done {
			// Cancelled from the Temporal UI: the call's own context
			// decides whether it finishes (outsideCtx); wait for it.
			_ = workflow.Await(o.detached(ctx), func() bool { return done })
		}
		return err
	}
	since := workflow.Now(ctx).Add(-budget)
	o.failures++
	line := fmt.Sprintf("no success for %s; orderflow keeps retrying (an outside system is down or slow, or the workers are backlogged).", inWords(budget))
	o.d.Failure = &StepFailure{Step: step, Error: line, Since: since, Retrying: true}
	o.d.NeedsAttention = true
	before := o.d.Waiting
	o.d.Waiting = fmt.Sprintf("Step %q has not succeeded for %s and keeps retrying; the order moves on by itself when it does. %s", step, inWords(budget), before)
	o.logger.Warn("step over its budget; still retrying", "Step", step)
	o.transition(ctx, o.d.Status, order.System, "step.delayed", step+": "+line)
	o.notify(ctx, fmt.Sprintf("cs-delayed-%d", o.failures), mail.KindCSAlert, activities.AudienceCS,
		mail.Data{Step: step, Error: line, Reason: "nothing to do unless you want to cancel the order: it moves on by itself once the call succeeds"})
	if werr := workflow.Await(o.detached(ctx), finished); werr != nil {
		return werr
	}
	o.d.Waiting = before
	if !done {
		return errCancelled
	}
	return err
}

// stepBudget is the order's step budget: from its input, or the default.
func (o *orderState) stepBudget() time.Duration {
	if o.in.StepBudget > 0 {
		return o.in.StepBudget
	}
	return StepBudget
}

// transition moves the order to s (or re-records it) and keeps the search
// attributes, the UI's current details and the projection in step.
func (o *orderState) transition(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string) {
	o.transitionFields(ctx, s, actor, action, reason, nil)
}

// transitionFields is transition with field errors for the audit entry.
func (o *orderState) transitionFields(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string, fields []order.FieldError) {
	o.d.Status = s
	total := 0.0
	if o.d.Quote != nil {
		total = float64(o.d.Quote.Total.Minor) / 100
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		KeyOrderStatus.ValueSet(string(s)), KeyNeedsAttention.ValueSet(o.d.NeedsAttention), KeyOrderTotal.ValueSet(total)); err != nil {
		o.logger.Error("upsert search attributes", "Error", err)
	}
	o.recordFields(ctx, actor, action, reason, fields)
}

// abandonFailure forgets a failed step the order will not go back to (it is
// being cancelled), so CS is not offered a retry of it while the undos run.
func (o *orderState) abandonFailure() {
	o.d.Failure, o.d.NeedsAttention, o.csAction = nil, false, nil
}

// finishOutsideCalls reports whether this run lets an outside call in flight
// finish when the workflow is cancelled (changeFinishOutsideCalls).
func (o *orderState) finishOutsideCalls(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeFinishOutsideCalls, workflow.DefaultVersion, 1) != workflow.DefaultVersion
}

// outsideCtx is the context for a forward call that changes something
// outside (reserve, book, invoice): a cancellation from the Temporal UI lets
// it finish, so that its undo is registered and run, instead of cancelling
// it half-way with the change made and unknown.
func (o *orderState) outsideCtx(ctx workflow.Context) workflow.Context {
	if o.undoFirst {
		// The undo is registered by key before the call: a cancel may
		// abandon the call, and the undo finds whatever it made.
		return ctx
	}
	if !o.finishOutsideCalls(ctx) {
		return ctx
	}
	d, _ := workflow.NewDisconnectedContext(ctx)
	return d
}

// detached returns a context that a cancellation of the workflow (from the
// Temporal UI) does not cancel, for what must happen anyway: the audit
// entry of a transition, an update's answer. Runs from before
// changeDetached keep ctx.
func (o *orderState) detached(ctx workflow.Context) workflow.Context {
	if workflow.GetVersion(ctx, changeDetached, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ctx
	}
	d, _ := workflow.NewDisconnectedContext(ctx)
	return d
}

// record writes one audit entry and the projection's current state.
func (o *orderState) record(ctx workflow.Context, actor order.Actor, action, reason string) {
	o.recordFields(ctx, actor, action, reason, nil)
}

// recordFields is record with field errors (lines the ERP refused) for the
// audit entry's data.
func (o *orderState) recordFields(ctx workflow.Context, actor order.Actor, action, reason string, fields []order.FieldError) {
	ctx = o.detached(ctx)
	o.seq++
	seq := o.seq
	defer func() { o.recorded = max(o.recorded, seq) }()
	o.showDetails(ctx)
	tr := store.Transition{
		OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, PONumber: o.in.PONumber, Seq: o.seq,
		Status: o.d.Status, NeedsAttention: o.d.NeedsAttention, Total: money.Zero(noCurrency), Details: o.d.Waiting,
		Actor: actor, Action: action, Reason: reason, At: workflow.Now(ctx),
	}
	if o.d.Quote != nil {
		tr.Total, tr.QuoteRevision = o.d.Quote.Total, o.d.Quote.Revision
	}
	if o.d.Invoice != nil {
		tr.InvoiceNumber = o.d.Invoice.Number
	}
	if err := workflow.ExecuteActivity(ownDatabase(ctx, "Record "+action), a.Record, activities.RecordInput{Transition: tr, Fields: fields}).Get(ctx, nil); err != nil {
		o.logger.Error("record transition", "Action", action, "Error", err)
	}
}

// showDetails sets the workflow's current details, which the Temporal UI shows.
func (o *orderState) showDetails(ctx workflow.Context) {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**", o.d.Status))
	if o.d.NeedsAttention {
		b.WriteString(" · **NEEDS ATTENTION**")
	}
	b.WriteString(fmt.Sprintf("\n\n%s", o.d.Waiting))
	if f := o.d.Failure; f != nil {
		b.WriteString(fmt.Sprintf("\n\nFailed step: %s since %s\n\n%s\n\nCS: POST /v1/orders/%s/actions with retry or cancel.",
			f.Step, f.Since.Format(time.RFC3339), f.Error, o.in.OrderID))
	}
	if o.d.Quote != nil {
		b.WriteString(fmt.Sprintf("\n\nQuote revision %d: %s", o.d.Quote.Revision, o.d.Quote.Total))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

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
	o.lastMail[kind] = sentMail{Audience: aud, Data: d}
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
	o.lastMail[kind] = sentMail{Audience: aud, Data: d}
	err := workflow.ExecuteActivity(o.mailing(ctx, fmt.Sprintf("Mail %s to %s", kind, aud)), a.SendMail, activities.SendMailInput{
		Key: activities.Key(o.in.OrderID, "mail", key), Kind: kind, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		Audience: aud, Data: d,
	}).Get(ctx, nil)
	if err != nil {
		o.logger.Error("mail not sent", "Kind", kind, "Error", err)
		o.record(ctx, order.System, "mail.failed", fmt.Sprintf("%s to %s: %v", kind, aud, err))
	}
	return err
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
		failed = o.send(ctx, key, act.Mail, m.Audience, m.Data)
		done = true
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

func (o *orderState) pushUndo(u undo) {
	o.undos = append(o.undos, u)
	o.syncCompensations()
}

// registerUndo registers, before a forward call, the undo of what it may
// make, named by the call's idempotency key: if the call's answer is lost
// (or the call is abandoned by a cancel) the undo still finds the change
// by its key, and undoing what never happened is a success. Runs from
// before changeUndoBeforeCall register after the answer only.
func (o *orderState) registerUndo(u undo) {
	if !o.undoFirst {
		return
	}
	for _, have := range o.undos {
		if have.Key == u.Key {
			return
		}
	}
	o.pushUndo(u)
}

// dropUndo forgets an undo registered before a call that made nothing.
func (o *orderState) dropUndo(key string) {
	for i, u := range o.undos {
		if u.Key == key && u.Ref == "" {
			o.undos = append(o.undos[:i], o.undos[i+1:]...)
			o.syncCompensations()
			return
		}
	}
}

// isRetryable reports whether a failed call may still succeed: anything but
// a non-retryable ApplicationError (timeouts included).
func isRetryable(err error) bool {
	var appErr *temporal.ApplicationError
	return !errors.As(err, &appErr) || !appErr.NonRetryable()
}

// madeUndo records what a forward call made: the undo registered before it
// gets the id, or, in runs from before changeUndoBeforeCall, is
// registered now.
func (o *orderState) madeUndo(u undo) {
	for i := range o.undos {
		if o.undos[i].Kind == u.Kind && o.undos[i].Key != "" && o.undos[i].Key == u.Key {
			o.undos[i] = u
			o.syncCompensations()
			return
		}
	}
	if o.undoFirst {
		u.Key = ""
	}
	o.pushUndo(undo{Kind: u.Kind, Ref: u.Ref, Key: u.Key, Label: u.Label})
}

func (o *orderState) syncCompensations() {
	o.d.Compensations = o.d.Compensations[:0]
	for _, u := range o.undos {
		o.d.Compensations = append(o.d.Compensations, u.Label)
	}
}

// cancelWithCompensation runs the registered undos in reverse order, then
// ends the order CANCELLED. An undo that fails waits for CS like any step.
func (o *orderState) cancelWithCompensation(ctx workflow.Context) (OrderResult, error) {
	o.compensating = true
	o.d.Waiting = fmt.Sprintf("Cancelling: undoing %d outside change(s) in reverse order.", len(o.undos))
	o.record(ctx, o.cancel.Actor, "order.cancelling", o.cancel.Reason)
	for len(o.undos) > 0 {
		u := o.undos[len(o.undos)-1]
		skipped, err := o.attemptStep(ctx, "undo: "+u.Label, true, nil, func(ctx workflow.Context) error { return o.runUndo(ctx, u) })
		if err != nil {
			return OrderResult{}, err
		}
		o.undos = o.undos[:len(o.undos)-1]
		o.syncCompensations()
		if skipped {
			o.record(ctx, order.System, "compensation.skipped", u.Label)
		} else {
			o.record(ctx, order.System, "compensation.done", u.Label)
		}
	}
	o.notify(ctx, "cancelled", mail.KindOrderCancelled, activities.AudienceBuyer, mail.Data{Reason: o.cancel.Reason})
	return o.finish(ctx, order.StatusCancelled, o.cancel.Actor, "order.cancelled", o.cancel.Reason)
}

func (o *orderState) runUndo(ctx workflow.Context, u undo) error {
	switch u.Kind {
	case "cancel-sales-order":
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.CancelSalesOrder,
			activities.CancelSalesOrderInput{OrderID: o.in.OrderID, SalesOrderID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case "cancel-shipment":
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.CancelShipment,
			activities.CancelShipmentInput{OrderID: o.in.OrderID, ShipmentID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case "void-invoice":
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.VoidInvoice,
			activities.VoidInvoiceInput{OrderID: o.in.OrderID, InvoiceID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	}
	return temporal.NewNonRetryableApplicationError("unknown undo "+u.Kind, ErrTypeInvalidArgument, nil)
}

// invoice raises the ERP invoice and mails it.
func (o *orderState) invoice(ctx workflow.Context) error {
	key := activities.InvoiceKey(o.in.OrderID)
	var res activities.InvoiceResult
	err := o.attemptUndoable(ctx, "invoice", undo{Kind: "void-invoice", Key: key,
		Label: "void the ERP invoice (if the ERP raised one)"}, func(ctx workflow.Context) error {
		actx := o.outsideCtx(ctx)
		return workflow.ExecuteActivity(o.outside(actx, "Create ERP invoice"), a.Invoice, activities.InvoiceInput{
			OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, SalesOrderID: o.d.SalesOrderID,
			Amount: o.d.Quote.Total, PaymentTermsDays: o.d.Quote.PaymentTermsDays, IssuedAt: workflow.Now(ctx),
		}).Get(actx, &res)
	})
	if err != nil {
		return err
	}
	inv := res.Invoice
	o.d.Invoice = &inv
	o.paid = money.Zero(inv.Amount.Currency)
	o.madeUndo(undo{Kind: "void-invoice", Key: key, Ref: inv.InvoiceID, Label: "void invoice " + inv.Number})
	o.d.Waiting = fmt.Sprintf("Invoice %s issued for %s, due %s.", inv.Number, inv.Amount, inv.DueDate.Format("2006-01-02"))
	o.transition(ctx, order.StatusInvoiced, order.System, "invoice.issued", inv.Number)
	o.notify(ctx, "invoice", mail.KindInvoice, activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice})
	return nil
}

func (o *orderState) balance() money.Money {
	b, _ := o.d.Invoice.Amount.Sub(o.paid)
	return b
}

func (o *orderState) paymentWaiting() string {
	inv := o.d.Invoice
	w := fmt.Sprintf("Waiting for payment of %s on invoice %s (reference %s), due %s.", o.balance(), inv.Number, inv.Number, inv.DueDate.Format("2006-01-02"))
	if o.paid.Minor > 0 {
		w += fmt.Sprintf(" Paid so far: %s.", o.paid)
	}
	if o.d.Prepayment {
		w += " Prepayment: the goods ship once it is paid."
	}
	return w
}

// awaitPayment applies incoming payments to the invoice until it is settled,
// dunning after the due date and escalating to finance when long overdue.
func (o *orderState) awaitPayment(ctx workflow.Context) error {
	o.d.Waiting = o.paymentWaiting()
	o.transition(ctx, order.StatusAwaitingPayment, order.System, "payment.awaiting", o.d.Invoice.Number)
	dunned, escalated := 0, false
	for {
		if !o.applyEvery {
			o.applyPayments(ctx)
		}
		if o.balance().Minor <= 0 {
			o.record(ctx, order.System, "payment.reconciled", fmt.Sprintf("invoice %s paid: %s", o.d.Invoice.Number, o.paid))
			return nil
		}
		now := workflow.Now(ctx)
		nextDun := o.d.Invoice.DueDate.Add(time.Duration(dunned) * DunningEvery)
		escalateAt := o.d.Invoice.DueDate.Add(DunningEscalateAfter)
		next := nextDun
		if !escalated && escalateAt.Before(next) {
			next = escalateAt
		}
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(next.Sub(now), time.Second),
			TimerOptions: workflow.TimerOptions{Summary: "dunning"}},
			func() bool {
				if o.applyEvery {
					// The payments coroutine applies them; wake when settled.
					return o.balance().Minor <= 0 || (o.cancel != nil && !o.compensating)
				}
				return len(o.payments) > 0 || (o.cancel != nil && !o.compensating)
			})
		if err != nil {
			return err
		}
		if o.cancel != nil {
			return errCancelled
		}
		if ok {
			continue
		}
		now = workflow.Now(ctx)
		days := int(now.Sub(o.d.Invoice.DueDate).Hours() / 24)
		if !escalated && !now.Before(escalateAt) {
			escalated = true
			o.notify(ctx, "dunning-escalation", mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(o.balance()), DaysOverdue: days, Reason: "invoice long overdue"})
			o.record(ctx, order.System, "payment.escalated", fmt.Sprintf("%d days overdue", days))
		}
		if !now.Before(nextDun) {
			dunned++
			o.notify(ctx, fmt.Sprintf("dunning-%d", dunned), mail.KindDunning, activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(o.balance()), DaysOverdue: days})
			o.record(ctx, order.System, "payment.dunning", fmt.Sprintf("reminder %d, %d days overdue", dunned, days))
		}
	}
}

func ptr[T any](v T) *T { return &v }

// applyPayments matches queued payments against the open balance.
func (o *orderState) applyPayments(ctx workflow.Context) {
	if o.applyEvery {
		o.applyEachPayment(ctx)
		return
	}
	for len(o.payments) > 0 {
		p := o.payments[0]
		o.payments = o.payments[1:]
		m := order.MatchPayment(o.balance(), p.Amount)
		if m.Kind != order.MatchUnmatched {
			o.paid, _ = o.paid.Add(p.Amount)
		}
		o.d.Paid = ptr(o.paid)
		err := workflow.ExecuteActivity(ownDatabase(ctx, "Record payment "+p.BankTransactionID), a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: o.d.Invoice.Number, Kind: m.Kind,
		}).Get(ctx, nil)
		if err != nil {
			o.logger.Error("record payment match", "BankTransactionID", p.BankTransactionID, "Error", err)
		}
		o.d.Waiting = o.paymentWaiting()
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		switch m.Kind {
		case order.MatchOver:
			o.notify(ctx, "overpayment-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(m.Credit), Reason: fmt.Sprintf("overpayment: credit balance of %s to allocate or refund", m.Credit)})
		case order.MatchUnmatched:
			o.notify(ctx, "unmatched-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s", p.BankTransactionID, p.Amount, o.d.Invoice.Number)})
		}
	}
}

// applyPaymentsForever applies every payment signalled to the order once it
// has an invoice, whenever it arrives: while the order waits for the money,
// after a prepayment cleared, while the survey is still open
// (changeApplyEveryPayment). ctx is disconnected: a cancellation of the
// workflow does not stop the money being accounted for.
func (o *orderState) applyPaymentsForever(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(o.payments) > 0 && o.d.Invoice != nil }); err != nil {
			return
		}
		o.applyEachPayment(ctx)
	}
}

// applyEachPayment matches the queued payments against the open balance.
// A payment counts only once the store has accepted its match; one that
// cannot be recorded, or finds the invoice settled, is a credit balance or
// unapplied money that finance is told about.
func (o *orderState) applyEachPayment(ctx workflow.Context) {
	for len(o.payments) > 0 {
		p := o.payments[0]
		o.payments = o.payments[1:]
		m := order.MatchPayment(o.balance(), p.Amount)
		if o.balance().Minor <= 0 && p.Amount.Currency == o.d.Invoice.Amount.Currency && p.Amount.Minor > 0 {
			// The invoice is settled: the money is a credit balance.
			m = order.PaymentMatch{Kind: order.MatchOver, Balance: money.Zero(p.Amount.Currency), Credit: p.Amount}
		}
		err := workflow.ExecuteActivity(ownDatabase(ctx, "Record payment "+p.BankTransactionID), a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: o.d.Invoice.Number, Kind: m.Kind,
		}).Get(ctx, nil)
		if err != nil {
			line := describeFailure(err, 0)
			o.logger.Error("record payment match", "BankTransactionID", p.BankTransactionID, "Error", err)
			o.record(ctx, order.System, "payment.not-applied", fmt.Sprintf("%s: %s: %s", p.BankTransactionID, p.Amount, line))
			o.notify(ctx, "not-applied-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s (%s); it waits in the unmatched payments", p.BankTransactionID, p.Amount, o.d.Invoice.Number, line)})
			continue
		}
		if m.Kind != order.MatchUnmatched {
			if sum, err := o.paid.Add(p.Amount); err == nil {
				o.paid = sum
			}
		}
		o.d.Paid = ptr(o.paid)
		if o.d.Status == order.StatusAwaitingPayment || o.d.Status == order.StatusInvoiced {
			o.d.Waiting = o.paymentWaiting()
		}
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		switch m.Kind {
		case order.MatchOver:
			o.notify(ctx, "overpayment-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(m.Credit), Reason: fmt.Sprintf("overpayment: credit balance of %s to allocate or refund", m.Credit)})
		case order.MatchUnmatched:
			o.notify(ctx, "unmatched-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s", p.BankTransactionID, p.Amount, o.d.Invoice.Number)})
		}
	}
}

// runSurvey is the NPS survey, beside invoicing and payment.
func (o *orderState) runSurvey(ctx workflow.Context) {
	defer func() { o.surveyClosed = true }()
	var res activities.OpenSurveyResult
	if err := workflow.ExecuteActivity(ownDatabase(ctx, "Open NPS survey"), a.OpenSurvey, activities.OpenSurveyInput{
		OrderID: o.in.OrderID, ExpiresAt: workflow.Now(ctx).Add(SurveyWindow)}).Get(ctx, &res); err != nil {
		o.logger.Error("open survey", "Error", err)
		o.d.SurveyState = "not sent: " + err.Error()
		return
	}
	o.d.SurveyState = "sent"
	o.notify(ctx, "survey", mail.KindSurvey, activities.AudienceBuyer, mail.Data{SurveyURL: res.URL})
	answered := func() bool { return o.surveyAnswer != nil }
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: SurveyReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "survey reminder"}}, answered)
	if err == nil && !ok {
		o.d.SurveyState = "reminded"
		o.notify(ctx, "survey-reminder", mail.KindSurveyReminder, activities.AudienceBuyer, mail.Data{SurveyURL: res.URL})
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: SurveyWindow - SurveyReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "survey window"}}, answered)
	}
	if err != nil {
		return
	}
	if ok {
		s := o.surveyAnswer
		o.d.SurveyState = fmt.Sprintf("answered: %d", s.Score)
		o.record(ctx, order.System, "survey.answered", fmt.Sprintf("score %d", s.Score))
		if s.Score <= 6 {
			o.notify(ctx, "detractor", mail.KindCSAlert, activities.AudienceCS, mail.Data{Step: "NPS survey",
				Error: fmt.Sprintf("detractor score %d: %q", s.Score, s.Comment), Reason: "call the customer"})
		}
	} else {
		o.d.SurveyState = "closed unanswered"
		o.record(ctx, order.System, "survey.closed", "no answer within the window")
	}
	if err := workflow.ExecuteActivity(ownDatabase(ctx, "Close NPS survey"), a.CloseSurvey, activities.CloseSurveyInput{OrderID: o.in.OrderID}).Get(ctx, nil); err != nil {
		o.logger.Error("close survey", "Error", err)
	}
}
