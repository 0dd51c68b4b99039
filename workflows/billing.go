package workflows

import (
	"fmt"
	"slices"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// invoice raises the order's one invoice and mails it, after a three-way
// match: what was delivered is what was ordered (unless the order is
// prepaid and bills first), and the ERP's invoice is for what the order
// expects. A mismatch stops the order for CS instead of billing the
// customer wrongly.
func (o *orderState) invoice(ctx workflow.Context) error {
	if !o.d.Prepayment && o.deliveredMismatch() != "" {
		if err := o.matchDelivered(ctx); err != nil {
			return err
		}
	}
	inv, err := o.raiseInvoice(ctx, invoiceRequest{Key: activities.InvoiceKey(o.in.OrderID), Part: *o.d.Quote})
	if err != nil {
		return err
	}
	o.d.Invoice = &inv
	o.d.Invoices = []order.Invoice{inv}
	o.paid = money.Zero(inv.Amount.Currency)
	o.d.Waiting = fmt.Sprintf("Invoice %s issued for %s, due %s.", inv.Number, inv.Amount, inv.DueDate.Format("2006-01-02"))
	o.transition(ctx, order.StatusInvoiced, order.System, "invoice.issued", inv.Number)
	o.notify(ctx, "invoice", mail.KindInvoice, activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice, Quote: o.d.Quote})
	return nil
}

// matchDelivered stops the order for CS while what was delivered is not
// what was ordered. CS may skip it: the order is then invoiced as quoted,
// and the difference settled by credit note or reship.
func (o *orderState) matchDelivered(ctx workflow.Context) error {
	_, err := o.attemptStep(ctx, "three-way match", true, nil, func(workflow.Context) error {
		if m := o.deliveredMismatch(); m != "" {
			return temporal.NewNonRetryableApplicationError(m, ErrTypeInvalidState, nil)
		}
		return nil
	})
	return err
}

// invoiceRequest is one invoice to raise: under Key, for Part (the quote,
// or one shipment's part of it); Shipment names the shipment it bills,
// nil for the whole order.
type invoiceRequest struct {
	Key      string
	Part     order.Quote
	Shipment *order.Shipment
}

// raiseInvoice has the ERP raise an invoice (its void registered as an
// undo) and checks the ERP's amounts against the order's: a mismatch
// holds the invoice back until the ERP's is corrected (CS retries, which
// reads it again under the same key) or the order is cancelled (which
// voids it).
func (o *orderState) raiseInvoice(ctx workflow.Context, r invoiceRequest) (order.Invoice, error) {
	step, match := "invoice", "three-way match"
	label, summary := "void the ERP invoice (if the ERP raised one)", "Create ERP invoice"
	req := activities.InvoiceInput{
		OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, SalesOrderID: o.d.SalesOrderID,
		Amount: r.Part.Total, PaymentTermsDays: o.d.Quote.PaymentTermsDays,
		// The quote's VAT split (none for a quote priced before it was kept).
		Net: r.Part.Net, Tax: r.Part.Tax,
		// A scaled order's invoice is recorded with the due date on its
		// clock, as the order keeps it (businessDate, below).
		TimeScale: o.in.TimeScale,
	}
	if s := r.Shipment; s != nil {
		step, match = "invoice shipment "+s.ShipmentID, "three-way match of shipment "+s.ShipmentID
		label = "void the ERP invoice of shipment " + s.ShipmentID + " (if the ERP raised one)"
		summary = "Create ERP invoice for shipment " + s.ShipmentID
		req.Key, req.Shipment, req.Lines = r.Key, s.ShipmentID, r.Part.PlainLines()
	}
	var res activities.InvoiceResult
	err := o.attemptUndoable(ctx, step, undo{Kind: undoVoidInvoice, Key: r.Key, Label: label}, func(ctx workflow.Context) error {
		actx := o.outsideCtx(ctx)
		req.IssuedAt = workflow.Now(ctx)
		return workflow.ExecuteActivity(o.outside(actx, summary), a.Invoice, req).Get(actx, &res)
	})
	if err != nil {
		return order.Invoice{}, err
	}
	o.madeUndo(undo{Kind: undoVoidInvoice, Key: r.Key, Ref: res.Invoice.InvoiceID, Label: "void invoice " + res.Invoice.Number})
	if o.amountMismatch(res.Invoice, r.Part) != "" {
		first := true
		err := o.attempt(ctx, match, func(ctx workflow.Context) error {
			if !first { // read the ERP's invoice again: the same request under the same key
				actx := o.outsideCtx(ctx)
				req.IssuedAt = workflow.Now(ctx)
				if err := workflow.ExecuteActivity(o.outside(actx, "Read ERP invoice again"), a.Invoice, req).Get(actx, &res); err != nil {
					return err
				}
			}
			first = false
			if m := o.amountMismatch(res.Invoice, r.Part); m != "" {
				return temporal.NewNonRetryableApplicationError(m, ErrTypeInvalidState, nil)
			}
			return nil
		})
		if err != nil {
			return order.Invoice{}, err
		}
	}
	// The ERP's due date counts from the invoice's issue; a scaled order
	// keeps it on its own clock (businessDate), so the invoice mail, the
	// worklists and the dunning schedule agree. The ERP keeps its own.
	inv := res.Invoice
	inv.DueDate = o.businessDate(inv.IssuedAt, inv.DueDate)
	return inv, nil
}

// deliveredMismatch names the first SKU whose delivered quantity is not
// the quantity quoted (and so invoiced), "" when they all agree. A
// reship's goods count instead of the shipment it replaced.
func (o *orderState) deliveredMismatch() string {
	got := order.Returnable(o.d.Shipments, nil)
	for _, l := range o.d.Quote.Lines {
		var n int64
		for _, g := range got {
			if g.SKU == l.SKU {
				n = g.Quantity
			}
		}
		if n != l.Quantity {
			return fmt.Sprintf("three-way match: %d × %s delivered, %d ordered and to be invoiced; reship what is missing and retry, or skip to invoice as quoted and credit the difference", n, l.SKU, l.Quantity)
		}
	}
	for _, g := range got {
		if !slices.ContainsFunc(o.d.Quote.Lines, func(l order.PricedLine) bool { return l.SKU == g.SKU }) {
			return fmt.Sprintf("three-way match: %d × %s delivered, none ordered", g.Quantity, g.SKU)
		}
	}
	return ""
}

// amountMismatch says how the ERP's invoice differs from what the order
// expects (part's gross, and its net and VAT when it has them), "" when
// it does not.
func (o *orderState) amountMismatch(inv order.Invoice, part order.Quote) string {
	bad := inv.Amount != part.Total
	if part.Net.Currency != "" && inv.Net.Currency != "" {
		bad = bad || inv.Net != part.Net || inv.Tax != part.Tax
	}
	if !bad {
		return ""
	}
	expects := "the order expects"
	if inv.Shipment != "" {
		expects = "shipment " + inv.Shipment + "'s part of the order is"
	}
	way := "correct it in the ERP, then retry"
	if !o.anyDelivered() {
		way += ", or cancel the order (which voids it)"
	}
	return fmt.Sprintf("three-way match: the ERP's invoice %s is for %s (net %s, VAT %s), %s %s (net %s, VAT %s); %s",
		inv.Number, inv.Amount, inv.Net, inv.Tax, expects, part.Total, part.Net, part.Tax, way)
}

// writeOff has the ERP write off part of what is open on an invoice (the
// write-off update's handler, and the payments coroutine for a short
// payment within tolerance).
func (o *orderState) writeOff(ctx workflow.Context, in WriteOffInput) (WriteOff, error) {
	inv, err := o.target(in.InvoiceNumber, "write off")
	if err != nil {
		return WriteOff{}, err
	}
	amount := in.Amount
	if amount.Minor == 0 {
		amount = o.balanceOf(inv)
	}
	o.writeOffs++
	var res activities.WriteOffResult
	err = workflow.ExecuteActivity(o.outside(ctx, "Write off "+amount.String()), a.WriteOff, activities.WriteOffInput{
		Key: activities.WriteOffKey(o.in.OrderID, o.writeOffs), OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		InvoiceID: inv.InvoiceID, Amount: amount, Reason: in.Reason}).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "write-off.failed", fmt.Sprintf("%s: %s", amount, line))
		return WriteOff{}, invalidState("the ERP did not write off %s: %s", amount, line)
	}
	wo := WriteOff{WriteOffID: res.WriteOffID, Amount: res.Amount, Tolerated: o.terms.Tolerated(inv.Amount, res.Amount),
		By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx), Invoice: inv.Number}
	o.d.WriteOffs = append(o.d.WriteOffs, wo)
	tol := "above the customer's short-payment tolerance"
	if wo.Tolerated {
		tol = "within the customer's short-payment tolerance"
	}
	o.refreshPaymentWaiting()
	o.record(ctx, in.Actor, "invoice.written-off", fmt.Sprintf("%s of invoice %s (%s, %s), %s left open: %s",
		res.Amount, inv.Number, res.WriteOffID, tol, o.balanceOf(inv), in.Reason))
	return wo, nil
}

// applyCredit has the ERP apply part of the customer's credit balance to
// an invoice (the apply-credit update's handler).
func (o *orderState) applyCredit(ctx workflow.Context, in ApplyCreditInput) (DecisionResult, error) {
	inv, err := o.target(in.InvoiceNumber, "apply credit to")
	if err != nil {
		return DecisionResult{}, err
	}
	o.allocations++
	var res activities.AllocateCreditResult
	err = workflow.ExecuteActivity(o.outside(ctx, "Apply credit balance "+in.Amount.String()), a.AllocateCredit, activities.AllocateCreditInput{
		Key: activities.CreditAllocationKey(o.in.OrderID, o.allocations), OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		InvoiceID: inv.InvoiceID, Amount: in.Amount, Reason: in.Reason}).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "credit.apply-failed", fmt.Sprintf("%s: %s", in.Amount, line))
		return DecisionResult{}, invalidState("the ERP did not apply the credit balance: %s", line)
	}
	o.d.CreditApplied = append(o.d.CreditApplied, CreditApplied{AllocationID: res.AllocationID, Amount: res.Applied,
		By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx), Invoice: inv.Number})
	o.refreshPaymentWaiting()
	o.record(ctx, in.Actor, "credit.applied", fmt.Sprintf("%s of the customer's credit balance to invoice %s (%s; %s balance left): %s",
		res.Applied, inv.Number, res.AllocationID, res.CreditBalanceAfter, in.Reason))
	msg := fmt.Sprintf("Applied %s of the customer's credit balance to invoice %s; %s of credit balance left", res.Applied, inv.Number, res.CreditBalanceAfter)
	return o.result(ctx, msg, func() bool { return o.balance().Minor > 0 || o.d.Status != order.StatusAwaitingPayment })
}

// refreshPaymentWaiting says again what the order waits for after its
// ledger changed.
func (o *orderState) refreshPaymentWaiting() {
	switch o.d.Status {
	case order.StatusAwaitingPayment, order.StatusInvoiced:
		o.d.Waiting = o.paymentWaiting()
	case order.StatusShipping:
		o.d.Waiting = o.deliveryWaiting()
	}
}

// writeOffTolerated writes off what a payment left open on inv when it is
// within the customer's short-payment tolerance (changeAutoWriteOff).
func (o *orderState) writeOffTolerated(ctx workflow.Context, p PaymentSignal, inv order.Invoice) {
	left := o.balanceOf(inv)
	if left.Minor <= 0 || !o.terms.Tolerated(inv.Amount, left) {
		return
	}
	if !o.gate(ctx, changeAutoWriteOff) {
		return
	}
	if _, err := o.writeOff(ctx, WriteOffInput{Actor: order.System, InvoiceNumber: inv.Number,
		Reason: fmt.Sprintf("payment %s of %s left %s open, within the customer's tolerance", p.BankTransactionID, p.Amount, left)}); err != nil {
		o.notify(ctx, "write-off-failed-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
			Balance: ptr(left), Reason: fmt.Sprintf("payment %s left %s open within tolerance, but the ERP did not write it off: %v", p.BankTransactionID, left, err)})
	}
}

// refundable is what can still be paid back of payment txn: its amount
// less what was refunded of it.
func (o *orderState) refundable(txn string) money.Money {
	for _, p := range o.d.Payments {
		if p.BankTransactionID != txn {
			continue
		}
		left := p.Amount
		for _, r := range o.d.Refunds {
			if r.BankTransactionID == txn {
				if l, err := left.Sub(r.Amount); err == nil {
					left = l
				}
			}
		}
		return left
	}
	return money.Money{}
}

// refundFrom is the payment a refund without one named pays back: the
// latest with at least amount left to refund.
func (o *orderState) refundFrom(amount money.Money) string {
	for i := len(o.d.Payments) - 1; i >= 0; i-- {
		txn := o.d.Payments[i].BankTransactionID
		if l := o.refundable(txn); l.Currency == amount.Currency && l.Minor >= amount.Minor {
			return txn
		}
	}
	return ""
}

// refund pays money back to a payer (the update's handler; ctx is
// detached): the ERP's refund and the bank's transfer, by one key.
func (o *orderState) refund(ctx workflow.Context, in RefundInput) (DecisionResult, error) {
	txn := in.BankTransactionID
	if txn == "" {
		txn = o.refundFrom(in.Amount)
	}
	o.refunds++
	key := activities.RefundKey(o.in.OrderID, o.refunds)
	var res activities.RefundResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Refund "+txn), a.Refund, activities.RefundInput{
		Key: key, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Amount: in.Amount, BankTransactionID: txn, Reason: in.Reason,
	}).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "refund.failed", fmt.Sprintf("%s of %s: %s", in.Amount, txn, line))
		return DecisionResult{}, temporal.NewApplicationError("the refund was not paid: "+line, ErrTypeInvalidState)
	}
	o.d.Refunds = append(o.d.Refunds, Refund{RefundID: res.RefundID, TransferID: res.TransferID, BankTransactionID: txn,
		Amount: res.Amount, PaidTo: res.PaidTo, By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)})
	o.record(ctx, in.Actor, "refund.paid", fmt.Sprintf("%s of payment %s to %s (refund %s, transfer %s): %s",
		res.Amount, txn, res.PaidTo, res.RefundID, res.TransferID, in.Reason))
	return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf("Refunded %s of payment %s to %s. %s", res.Amount, txn, res.PaidTo, o.d.Waiting)}, nil
}

// creditNote issues a credit note on an invoice (the update's handler;
// ctx is detached) and answers with it.
func (o *orderState) creditNote(ctx workflow.Context, in CreditNoteInput) (DecisionResult, error) {
	cn, err := o.issueCreditNote(ctx, in, false)
	if err != nil {
		return DecisionResult{}, err
	}
	msg := fmt.Sprintf("Credit note %s of %s issued on invoice %s", cn.Number, cn.Amount, cn.Invoice)
	if cn.ToCreditBalance.Minor > 0 {
		msg += fmt.Sprintf("; %s went to the customer's credit balance, finance has been told", cn.ToCreditBalance)
	}
	return o.result(ctx, msg, func() bool { return o.d.Status != order.StatusAwaitingPayment || o.balance().Minor > 0 })
}

// creditLines prices a credit by lines on inv: each line's share of the
// quote's gross, the last one trimmed so the whole never passes what is
// left to credit on the invoice.
func (o *orderState) creditLines(inv order.Invoice, lines []order.Line) ([]activities.CreditLine, money.Money) {
	left, _ := inv.Amount.Sub(o.credited(inv))
	total := money.Zero(inv.Amount.Currency)
	out := make([]activities.CreditLine, 0, len(lines))
	for _, l := range lines {
		amt, fe := o.d.Quote.CreditFor([]order.Line{l})
		if fe != nil {
			continue // the validator refused such lines
		}
		amt.Minor = min(amt.Minor, left.Minor-total.Minor)
		total.Minor += amt.Minor
		out = append(out, activities.CreditLine{SKU: l.SKU, Quantity: l.Quantity, Amount: amt})
	}
	return out, total
}

// issueCreditNote has the ERP issue a credit note on an invoice, by
// amount or by lines. The ERP takes it off what is open and puts the rest,
// if the invoice was paid, on the customer's credit balance; finance is
// told of that unless a refund follows at once (refundFollows: a return's).
func (o *orderState) issueCreditNote(ctx workflow.Context, in CreditNoteInput, refundFollows bool) (CreditNote, error) {
	inv, err := o.target(in.InvoiceNumber, "credit")
	if err != nil {
		return CreditNote{}, err
	}
	o.creditNotes++
	key := activities.CreditNoteKey(o.in.OrderID, o.creditNotes)
	req := activities.IssueCreditNoteInput{Key: key, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, InvoiceID: inv.InvoiceID,
		Kind: activities.CreditAmount, Amount: in.Amount, Reason: in.Reason}
	what, pending := in.Amount.String(), in.Amount.Minor
	if len(in.Lines) > 0 {
		req.Kind, req.Amount = activities.CreditLines, money.Money{}
		var total money.Money
		req.Lines, total = o.creditLines(inv, in.Lines)
		what, pending = fmt.Sprintf("%s (%s)", total, describeLines(in.Lines)), total.Minor
	}
	o.creditPending += pending
	defer func() { o.creditPending -= pending }()
	var res activities.IssueCreditNoteResult
	err = workflow.ExecuteActivity(o.outside(ctx, "Issue ERP credit note"), a.IssueCreditNote, req).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "credit-note.failed", fmt.Sprintf("%s: %s", what, line))
		return CreditNote{}, temporal.NewApplicationError("the ERP did not issue the credit note: "+line, ErrTypeInvalidState)
	}
	cn := CreditNote{Number: res.Number, Amount: res.Amount, AppliedToInvoice: res.AppliedToInvoice,
		ToCreditBalance: res.ToCreditBalance, Lines: in.Lines, By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx), Invoice: inv.Number}
	o.d.CreditNotes = append(o.d.CreditNotes, cn)
	o.pushUndo(undo{Kind: undoVoidCreditNote, Ref: res.CreditNoteID, Key: key, Label: "void credit note " + res.Number})
	o.refreshPaymentWaiting()
	o.record(ctx, in.Actor, "credit-note.issued", fmt.Sprintf("%s of %s on invoice %s: %s", res.Number, res.Amount, inv.Number, in.Reason))
	if o.gate(ctx, changeCreditNoteMail) {
		q := o.invoiceQuote(inv)
		o.notify(ctx, "credit-note-"+res.Number, mail.KindCreditNote, activities.AudienceBuyer, mail.Data{Invoice: &inv, Quote: &q,
			CreditNote: &order.CreditNote{CreditNoteID: res.CreditNoteID, Number: res.Number, InvoiceNumber: res.InvoiceNumber,
				IssuedAt: res.IssuedAt, Amount: res.Amount, Net: res.Net, Tax: res.Tax, Lines: in.Lines, Reason: in.Reason}})
	}
	if res.ToCreditBalance.Minor > 0 && !refundFollows {
		o.notify(ctx, "credit-balance-"+res.Number, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
			Balance: ptr(res.ToCreditBalance),
			Reason:  fmt.Sprintf("credit note %s (%s) went beyond what was open on the paid invoice: %s credit balance to refund or apply", res.Number, in.Reason, res.ToCreditBalance)})
	}
	return cn, nil
}

func (o *orderState) paymentWaiting() string {
	inv := o.d.Invoice
	var w string
	if o.perShipment() {
		w = fmt.Sprintf("Waiting for payment of %s on %d invoice(s), each by its number as reference: %s.", o.balance(), len(o.invoices()), o.describeInvoices())
	} else {
		w = fmt.Sprintf("Waiting for payment of %s on invoice %s (reference %s), due %s.", o.balance(), inv.Number, inv.Number, inv.DueDate.Format("2006-01-02"))
	}
	if o.paid.Minor > 0 {
		w += fmt.Sprintf(" Paid so far: %s.", o.paid)
	}
	if o.d.Prepayment {
		w += " Prepayment: the goods ship once it is paid."
	}
	if d := o.d.Dispute; d != nil {
		w += fmt.Sprintf(" Disputed by %s since %s: %s. No reminders until the dispute is resolved.", d.By.Subject, d.Since.Format("2006-01-02"), d.Reason)
	}
	return w
}

// awaitPayment applies incoming payments to the invoices until they are
// settled, dunning after each due date and escalating to finance when long
// overdue. When the history grows long it continues the order as new at s
// (changeContinueAsNew).
func (o *orderState) awaitPayment(ctx workflow.Context, s stage) error {
	for {
		if !o.applyEvery {
			o.applyPayments(ctx)
		}
		if o.balance().Minor <= 0 {
			what := "invoice " + o.d.Invoice.Number
			if o.perShipment() {
				what = "invoices " + o.invoiceNumbers()
			}
			o.record(ctx, order.System, "payment.reconciled", fmt.Sprintf("%s paid: %s", what, o.paid))
			return nil
		}
		now := workflow.Now(ctx)
		if o.d.Dispute != nil {
			if err := o.awaitDisputeResolved(ctx, s); err != nil {
				return err
			}
			continue
		}
		next, _ := o.nextDunning()
		wake := func() bool {
			if o.applyEvery {
				// The payments coroutine applies them; wake when settled.
				return o.balance().Minor <= 0 || (o.cancel != nil && !o.compensating)
			}
			return len(o.payments) > 0 || (o.cancel != nil && !o.compensating)
		}
		// The survey runs beside the payment wait for its two weeks; the
		// order continues as new only once it is over.
		full := func() bool { return o.historyFull(ctx) && !o.surveyOpen() }
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(next.Sub(now), time.Second),
			TimerOptions: workflow.TimerOptions{Summary: "dunning"}},
			func() bool { return wake() || full() || o.d.Dispute != nil })
		if err != nil {
			return err
		}
		if o.cancel != nil {
			return errCancelled
		}
		if ok && o.d.Dispute != nil && !wake() {
			continue
		}
		if ok && !wake() {
			// Continue as new at a quiet moment before the next reminder
			// is due; if none comes, remind and try again after.
			if err := o.continueAsNew(ctx, s, wake, next); err != nil {
				return err
			}
			if workflow.Now(ctx).Before(next) {
				continue
			}
		} else if ok {
			continue
		}
		o.dunDue(ctx)
	}
}

// DunState is where one invoice is in its dunning: the index of its next
// reminder in the schedule (dunningAt), the reminders sent (they differ
// once a dispute skipped some), and whether finance was told.
type DunState struct {
	// Invoice is the invoice's number ("" for the one invoice of an order
	// invoiced per order).
	Invoice   string `json:"invoice,omitempty"`
	Dunned    int    `json:"dunned"`
	Reminded  int    `json:"reminded"`
	Escalated bool   `json:"escalated,omitempty"`
}

// dunned is one open invoice and its dunning.
type dunned struct {
	inv order.Invoice
	st  *DunState
}

// dunning lists the invoices with money open and their dunning: the one
// invoice of an order (o.dun), or each invoice of an order invoiced per
// shipment (o.dunning).
func (o *orderState) dunningOpen() []dunned {
	if !o.perShipment() {
		if o.d.Invoice == nil || o.balance().Minor <= 0 {
			return nil
		}
		return []dunned{{inv: *o.d.Invoice, st: &o.dun}}
	}
	var out []dunned
	for i := range o.dunning {
		inv, ok := o.invoiceByNumber(o.dunning[i].Invoice)
		if ok && o.balanceOf(inv).Minor > 0 {
			out = append(out, dunned{inv: inv, st: &o.dunning[i]})
		}
	}
	return out
}

// nextDunning is when the next reminder or escalation falls due; false
// when nothing is open. After a dispute, reminders wait DunningEvery from
// its resolution.
func (o *orderState) nextDunning() (time.Time, bool) {
	var next time.Time
	for _, d := range o.dunningOpen() {
		at := maxTime(o.dunningAt(d.inv, d.st.Dunned), o.dunningResumeAt)
		if esc := o.escalateAt(d.inv); !d.st.Escalated && esc.Before(at) {
			at = esc
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, !next.IsZero()
}

func (o *orderState) escalateAt(inv order.Invoice) time.Time {
	return maxTime(inv.DueDate.Add(o.business(DunningEscalateAfter)), o.dunningResumeAt)
}

// dunDue sends the reminders and escalations due now. The one invoice of
// an order invoiced per order keeps the mail keys it always had.
func (o *orderState) dunDue(ctx workflow.Context) {
	now := workflow.Now(ctx)
	for _, d := range o.dunningOpen() {
		inv, st := d.inv, d.st
		escKey, remKey, what := "dunning-escalation", fmt.Sprintf("dunning-%d", st.Reminded+1), ""
		if o.perShipment() {
			escKey, remKey, what = "dunning-escalation-"+inv.Number, fmt.Sprintf("dunning-%s-%d", inv.Number, st.Reminded+1), "invoice "+inv.Number+": "
		}
		days := o.businessDays(now.Sub(inv.DueDate))
		nextDun := maxTime(o.dunningAt(inv, st.Dunned), o.dunningResumeAt)
		if !st.Escalated && !now.Before(o.escalateAt(inv)) {
			st.Escalated = true
			o.notify(ctx, escKey, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
				Balance: ptr(o.balanceOf(inv)), DaysOverdue: days, Reason: "invoice long overdue"})
			o.record(ctx, order.System, "payment.escalated", fmt.Sprintf("%s%d days overdue", what, days))
		}
		if !now.Before(nextDun) {
			st.Dunned++
			st.Reminded++
			o.notify(ctx, remKey, mail.DunningKind(st.Reminded, st.Escalated), activities.AudienceBuyer, mail.Data{Invoice: &inv,
				Balance: ptr(o.balanceOf(inv)), DaysOverdue: days})
			o.record(ctx, order.System, "payment.dunning", fmt.Sprintf("%sreminder %d, %d days overdue", what, st.Reminded, days))
		}
	}
}

// awaitDisputeResolved waits, without reminders, until the invoice's
// dispute is resolved, a payment settles it or the order is cancelled; a
// long dispute continues the order as new like any long wait.
func (o *orderState) awaitDisputeResolved(ctx workflow.Context, s stage) error {
	wake := func() bool {
		return o.d.Dispute == nil || o.balance().Minor <= 0 || len(o.payments) > 0 || (o.cancel != nil && !o.compensating)
	}
	full := func() bool { return o.historyFull(ctx) && !o.surveyOpen() }
	if err := workflow.Await(ctx, func() bool { return wake() || full() }); err != nil {
		return err
	}
	if o.cancel != nil {
		return errCancelled
	}
	if !wake() {
		return o.continueAsNew(ctx, s, wake, workflow.Now(ctx).Add(o.business(DunningEvery)))
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
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
		err := o.ownWrite(ctx, o.lean, "Record payment "+p.BankTransactionID, a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: o.d.Invoice.Number, Kind: m.Kind,
		}, nil)
		if err != nil {
			o.logger.Error("record payment match", "BankTransactionID", p.BankTransactionID, "Error", err)
		}
		o.d.Waiting = o.paymentWaiting()
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		o.tellFinance(ctx, p, m, *o.d.Invoice)
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

// applyEachPayment matches the queued payments against the open balance
// of the invoice each pays. A payment counts only once the store has
// accepted its match; one that cannot be recorded, or finds its invoice
// settled, is a credit balance or unapplied money that finance is told
// about.
func (o *orderState) applyEachPayment(ctx workflow.Context) {
	for len(o.payments) > 0 {
		p := o.payments[0]
		o.payments = o.payments[1:]
		inv := o.paymentTarget(p)
		open := o.balanceOf(inv)
		m := order.MatchPayment(open, p.Amount)
		if open.Minor <= 0 && p.Amount.Currency == inv.Amount.Currency && p.Amount.Minor > 0 {
			// The invoice is settled: the money is a credit balance.
			m = order.PaymentMatch{Kind: order.MatchOver, Balance: money.Zero(p.Amount.Currency), Credit: p.Amount}
		}
		o.applying = true
		err := o.ownWrite(ctx, o.lean, "Record payment "+p.BankTransactionID, a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: inv.Number, Kind: m.Kind,
		}, nil)
		o.applying = false
		if err != nil {
			line := describeFailure(err, 0)
			o.logger.Error("record payment match", "BankTransactionID", p.BankTransactionID, "Error", err)
			o.record(ctx, order.System, "payment.not-applied", fmt.Sprintf("%s: %s: %s", p.BankTransactionID, p.Amount, line))
			o.notify(ctx, "not-applied-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
				Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s (%s); it waits in the unmatched payments", p.BankTransactionID, p.Amount, inv.Number, line)})
			continue
		}
		if m.Kind != order.MatchUnmatched {
			if sum, err := o.paid.Add(p.Amount); err == nil {
				o.paid = sum
			}
			p.AppliedTo = inv.Number
			o.refundOnCancel(p)
			o.d.Payments = append(o.d.Payments, p)
		}
		o.d.Paid = ptr(o.paid)
		o.refreshPaymentWaiting()
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		o.tellFinance(ctx, p, m, inv)
		if m.Kind == order.MatchPartial {
			o.applying = true // a quiet moment comes after the write-off
			o.writeOffTolerated(ctx, p, inv)
			o.applying = false
		}
	}
}

// tellFinance alerts finance to a payment it must act on: a credit balance
// to allocate or refund, or money that could not be applied to inv.
func (o *orderState) tellFinance(ctx workflow.Context, p PaymentSignal, m order.PaymentMatch, inv order.Invoice) {
	switch m.Kind {
	case order.MatchOver:
		o.notify(ctx, "overpayment-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
			Balance: ptr(m.Credit), Reason: fmt.Sprintf("overpayment: credit balance of %s to allocate or refund", m.Credit)})
	case order.MatchUnmatched:
		o.notify(ctx, "unmatched-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: &inv,
			Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s", p.BankTransactionID, p.Amount, inv.Number)})
	}
}

// dunningAt is when the buyer gets reminder k of inv (0 at the due date):
// weekly until the invoice is escalated to finance, then monthly
// (changeBoundedCadence), so a year unpaid is some 16 reminders, not 52,
// and the order's history stays small for years.
func (o *orderState) dunningAt(inv order.Invoice, k int) time.Time {
	due := inv.DueDate
	weekly := int((DunningEscalateAfter + DunningEvery - 1) / DunningEvery) // reminders before the escalation
	if !o.boundedCadence || k < weekly {
		return due.Add(o.business(time.Duration(k) * DunningEvery))
	}
	return due.Add(o.business(DunningEscalateAfter + time.Duration(k-weekly+1)*DunningLateEvery))
}
