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

// invoice raises the ERP invoice and mails it, after a three-way match:
// what was delivered is what was ordered (unless the order is prepaid and
// bills first), and the ERP's invoice is for what the order expects. A
// mismatch stops the order for CS instead of billing the customer wrongly.
func (o *orderState) invoice(ctx workflow.Context) error {
	if !o.d.Prepayment && o.deliveredMismatch() != "" {
		// CS may skip it: the order is then invoiced as quoted, and the
		// difference settled by credit note or reship.
		_, err := o.attemptStep(ctx, "three-way match", true, nil, func(workflow.Context) error {
			if m := o.deliveredMismatch(); m != "" {
				return temporal.NewNonRetryableApplicationError(m, ErrTypeInvalidState, nil)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	key := activities.InvoiceKey(o.in.OrderID)
	var res activities.InvoiceResult
	err := o.attemptUndoable(ctx, "invoice", undo{Kind: undoVoidInvoice, Key: key,
		Label: "void the ERP invoice (if the ERP raised one)"}, func(ctx workflow.Context) error {
		actx := o.outsideCtx(ctx)
		return workflow.ExecuteActivity(o.outside(actx, "Create ERP invoice"), a.Invoice, activities.InvoiceInput{
			OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, SalesOrderID: o.d.SalesOrderID,
			Amount: o.d.Quote.Total, PaymentTermsDays: o.d.Quote.PaymentTermsDays, IssuedAt: workflow.Now(ctx),
			// The quote's VAT split (none for a quote priced before it was kept).
			Net: o.d.Quote.Net, Tax: o.d.Quote.Tax,
		}).Get(actx, &res)
	})
	if err != nil {
		return err
	}
	o.madeUndo(undo{Kind: undoVoidInvoice, Key: key, Ref: res.Invoice.InvoiceID, Label: "void invoice " + res.Invoice.Number})
	if o.amountMismatch(res.Invoice) != "" {
		// The ERP billed another amount than the order expects: the buyer
		// gets no invoice until the ERP's is corrected (CS retries) or the
		// order is cancelled (its undo voids the invoice).
		first := true
		err := o.attempt(ctx, "three-way match", func(ctx workflow.Context) error {
			if !first { // read the ERP's invoice again: the same request under the same key
				actx := o.outsideCtx(ctx)
				if err := workflow.ExecuteActivity(o.outside(actx, "Read ERP invoice again"), a.Invoice, activities.InvoiceInput{
					OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, SalesOrderID: o.d.SalesOrderID,
					Amount: o.d.Quote.Total, PaymentTermsDays: o.d.Quote.PaymentTermsDays, IssuedAt: workflow.Now(ctx),
					Net: o.d.Quote.Net, Tax: o.d.Quote.Tax,
				}).Get(actx, &res); err != nil {
					return err
				}
			}
			first = false
			if m := o.amountMismatch(res.Invoice); m != "" {
				return temporal.NewNonRetryableApplicationError(m, ErrTypeInvalidState, nil)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	inv := res.Invoice
	o.d.Invoice = &inv
	o.paid = money.Zero(inv.Amount.Currency)
	o.d.Waiting = fmt.Sprintf("Invoice %s issued for %s, due %s.", inv.Number, inv.Amount, inv.DueDate.Format("2006-01-02"))
	o.transition(ctx, order.StatusInvoiced, order.System, "invoice.issued", inv.Number)
	o.notify(ctx, "invoice", mail.KindInvoice, activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice, Quote: o.d.Quote})
	return nil
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
// expects (its gross, and its net and VAT when the quote has them), "" when
// it does not.
func (o *orderState) amountMismatch(inv order.Invoice) string {
	q := o.d.Quote
	bad := inv.Amount != q.Total
	if q.Net.Currency != "" && inv.Net.Currency != "" {
		bad = bad || inv.Net != q.Net || inv.Tax != q.Tax
	}
	if !bad {
		return ""
	}
	return fmt.Sprintf("three-way match: the ERP's invoice %s is for %s (net %s, VAT %s), the order expects %s (net %s, VAT %s); correct it in the ERP, then retry, or cancel the order (which voids it)",
		inv.Number, inv.Amount, inv.Net, inv.Tax, q.Total, q.Net, q.Tax)
}

// balance is what the customer still owes on the invoice: its amount less
// what was paid and what credit notes took off it.
func (o *orderState) balance() money.Money {
	b, _ := o.d.Invoice.Amount.Sub(o.paid)
	for _, cn := range o.d.CreditNotes {
		if c, err := b.Sub(cn.AppliedToInvoice); err == nil {
			b = c
		}
	}
	for _, w := range o.d.WriteOffs {
		if c, err := b.Sub(w.Amount); err == nil {
			b = c
		}
	}
	for _, c := range o.d.CreditApplied {
		if r, err := b.Sub(c.Amount); err == nil {
			b = r
		}
	}
	return b
}

// writeOff has the ERP write off part of what is open on the invoice (the
// write-off update's handler, and the payments coroutine for a short
// payment within tolerance).
func (o *orderState) writeOff(ctx workflow.Context, in WriteOffInput) (WriteOff, error) {
	amount := in.Amount
	if amount.Minor == 0 {
		amount = o.balance()
	}
	o.writeOffs++
	var res activities.WriteOffResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Write off "+amount.String()), a.WriteOff, activities.WriteOffInput{
		Key: activities.WriteOffKey(o.in.OrderID, o.writeOffs), OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		InvoiceID: o.d.Invoice.InvoiceID, Amount: amount, Reason: in.Reason}).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "write-off.failed", fmt.Sprintf("%s: %s", amount, line))
		return WriteOff{}, invalidState("the ERP did not write off %s: %s", amount, line)
	}
	wo := WriteOff{WriteOffID: res.WriteOffID, Amount: res.Amount, Tolerated: o.terms.Tolerated(o.d.Invoice.Amount, res.Amount),
		By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)}
	o.d.WriteOffs = append(o.d.WriteOffs, wo)
	tol := "above the customer's short-payment tolerance"
	if wo.Tolerated {
		tol = "within the customer's short-payment tolerance"
	}
	o.refreshPaymentWaiting()
	o.record(ctx, in.Actor, "invoice.written-off", fmt.Sprintf("%s of invoice %s (%s, %s), %s left open: %s",
		res.Amount, o.d.Invoice.Number, res.WriteOffID, tol, o.balance(), in.Reason))
	return wo, nil
}

// applyCredit has the ERP apply part of the customer's credit balance to
// the invoice (the apply-credit update's handler).
func (o *orderState) applyCredit(ctx workflow.Context, in ApplyCreditInput) (DecisionResult, error) {
	o.allocations++
	var res activities.AllocateCreditResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Apply credit balance "+in.Amount.String()), a.AllocateCredit, activities.AllocateCreditInput{
		Key: activities.CreditAllocationKey(o.in.OrderID, o.allocations), OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		InvoiceID: o.d.Invoice.InvoiceID, Amount: in.Amount, Reason: in.Reason}).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "credit.apply-failed", fmt.Sprintf("%s: %s", in.Amount, line))
		return DecisionResult{}, invalidState("the ERP did not apply the credit balance: %s", line)
	}
	o.d.CreditApplied = append(o.d.CreditApplied, CreditApplied{AllocationID: res.AllocationID, Amount: res.Applied,
		By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)})
	o.refreshPaymentWaiting()
	o.record(ctx, in.Actor, "credit.applied", fmt.Sprintf("%s of the customer's credit balance to invoice %s (%s; %s balance left): %s",
		res.Applied, o.d.Invoice.Number, res.AllocationID, res.CreditBalanceAfter, in.Reason))
	msg := fmt.Sprintf("Applied %s of the customer's credit balance to invoice %s; %s of credit balance left", res.Applied, o.d.Invoice.Number, res.CreditBalanceAfter)
	return o.result(ctx, msg, func() bool { return o.balance().Minor > 0 || o.d.Status != order.StatusAwaitingPayment })
}

// refreshPaymentWaiting says again what the payment wait waits for.
func (o *orderState) refreshPaymentWaiting() {
	if o.d.Status == order.StatusAwaitingPayment || o.d.Status == order.StatusInvoiced {
		o.d.Waiting = o.paymentWaiting()
	}
}

// writeOffTolerated writes off what a payment left open when it is within
// the customer's short-payment tolerance (changeAutoWriteOff).
func (o *orderState) writeOffTolerated(ctx workflow.Context, p PaymentSignal) {
	left := o.balance()
	if left.Minor <= 0 || !o.terms.Tolerated(o.d.Invoice.Amount, left) {
		return
	}
	if workflow.GetVersion(ctx, changeAutoWriteOff, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	if _, err := o.writeOff(ctx, WriteOffInput{Actor: order.System,
		Reason: fmt.Sprintf("payment %s of %s left %s open, within the customer's tolerance", p.BankTransactionID, p.Amount, left)}); err != nil {
		o.notify(ctx, "write-off-failed-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
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

// credited is the gross of every credit note on the invoice.
func (o *orderState) credited() money.Money {
	sum := money.Zero(o.d.Invoice.Amount.Currency)
	for _, cn := range o.d.CreditNotes {
		if s, err := sum.Add(cn.Amount); err == nil {
			sum = s
		}
	}
	return sum
}

// creditNote issues a credit note on the invoice (the update's handler;
// ctx is detached) and answers with it.
func (o *orderState) creditNote(ctx workflow.Context, in CreditNoteInput) (DecisionResult, error) {
	cn, err := o.issueCreditNote(ctx, in, false)
	if err != nil {
		return DecisionResult{}, err
	}
	msg := fmt.Sprintf("Credit note %s of %s issued on invoice %s", cn.Number, cn.Amount, o.d.Invoice.Number)
	if cn.ToCreditBalance.Minor > 0 {
		msg += fmt.Sprintf("; %s went to the customer's credit balance, finance has been told", cn.ToCreditBalance)
	}
	return o.result(ctx, msg, func() bool { return o.d.Status != order.StatusAwaitingPayment || o.balance().Minor > 0 })
}

// creditLines prices a credit by lines: each line's share of the
// invoice's gross, the last one trimmed so the whole never passes what is
// left to credit on the invoice.
func (o *orderState) creditLines(lines []order.Line) ([]activities.CreditLine, money.Money) {
	left, _ := o.d.Invoice.Amount.Sub(o.credited())
	total := money.Zero(o.d.Invoice.Amount.Currency)
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

// issueCreditNote has the ERP issue a credit note on the invoice, by
// amount or by lines. The ERP takes it off what is open and puts the rest,
// if the invoice was paid, on the customer's credit balance; finance is
// told of that unless a refund follows at once (refundFollows: a return's).
func (o *orderState) issueCreditNote(ctx workflow.Context, in CreditNoteInput, refundFollows bool) (CreditNote, error) {
	o.creditNotes++
	key := activities.CreditNoteKey(o.in.OrderID, o.creditNotes)
	req := activities.IssueCreditNoteInput{Key: key, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, InvoiceID: o.d.Invoice.InvoiceID,
		Kind: activities.CreditAmount, Amount: in.Amount, Reason: in.Reason}
	what, pending := in.Amount.String(), in.Amount.Minor
	if len(in.Lines) > 0 {
		req.Kind, req.Amount = activities.CreditLines, money.Money{}
		var total money.Money
		req.Lines, total = o.creditLines(in.Lines)
		what, pending = fmt.Sprintf("%s (%s)", total, describeLines(in.Lines)), total.Minor
	}
	o.creditPending += pending
	defer func() { o.creditPending -= pending }()
	var res activities.IssueCreditNoteResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Issue ERP credit note"), a.IssueCreditNote, req).Get(ctx, &res)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "credit-note.failed", fmt.Sprintf("%s: %s", what, line))
		return CreditNote{}, temporal.NewApplicationError("the ERP did not issue the credit note: "+line, ErrTypeInvalidState)
	}
	cn := CreditNote{Number: res.Number, Amount: res.Amount, AppliedToInvoice: res.AppliedToInvoice,
		ToCreditBalance: res.ToCreditBalance, Lines: in.Lines, By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)}
	o.d.CreditNotes = append(o.d.CreditNotes, cn)
	o.pushUndo(undo{Kind: undoVoidCreditNote, Ref: res.CreditNoteID, Key: key, Label: "void credit note " + res.Number})
	if o.d.Status == order.StatusAwaitingPayment || o.d.Status == order.StatusInvoiced {
		o.d.Waiting = o.paymentWaiting()
	}
	o.record(ctx, in.Actor, "credit-note.issued", fmt.Sprintf("%s of %s on invoice %s: %s", res.Number, res.Amount, o.d.Invoice.Number, in.Reason))
	if workflow.GetVersion(ctx, changeCreditNoteMail, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		o.notify(ctx, "credit-note-"+res.Number, mail.KindCreditNote, activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice, Quote: o.d.Quote,
			CreditNote: &order.CreditNote{CreditNoteID: res.CreditNoteID, Number: res.Number, InvoiceNumber: res.InvoiceNumber,
				IssuedAt: res.IssuedAt, Amount: res.Amount, Net: res.Net, Tax: res.Tax, Lines: in.Lines, Reason: in.Reason}})
	}
	if res.ToCreditBalance.Minor > 0 && !refundFollows {
		o.notify(ctx, "credit-balance-"+res.Number, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
			Balance: ptr(res.ToCreditBalance),
			Reason:  fmt.Sprintf("credit note %s (%s) went beyond what was open on the paid invoice: %s credit balance to refund or apply", res.Number, in.Reason, res.ToCreditBalance)})
	}
	return cn, nil
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
	if d := o.d.Dispute; d != nil {
		w += fmt.Sprintf(" Disputed by %s since %s: %s. No reminders until the dispute is resolved.", d.By.Subject, d.Since.Format("2006-01-02"), d.Reason)
	}
	return w
}

// awaitPayment applies incoming payments to the invoice until it is settled,
// dunning after the due date and escalating to finance when long overdue.
// When the history grows long it continues the order as new at s
// (changeContinueAsNew).
func (o *orderState) awaitPayment(ctx workflow.Context, s stage) error {
	for {
		if !o.applyEvery {
			o.applyPayments(ctx)
		}
		if o.balance().Minor <= 0 {
			o.record(ctx, order.System, "payment.reconciled", fmt.Sprintf("invoice %s paid: %s", o.d.Invoice.Number, o.paid))
			return nil
		}
		now := workflow.Now(ctx)
		if o.d.Dispute != nil {
			if err := o.awaitDisputeResolved(ctx, s); err != nil {
				return err
			}
			continue
		}
		// After a dispute, reminders wait DunningEvery from its resolution.
		nextDun := maxTime(o.dunningAt(o.dunned), o.dunningResumeAt)
		escalateAt := maxTime(o.d.Invoice.DueDate.Add(DunningEscalateAfter), o.dunningResumeAt)
		next := nextDun
		if !o.escalated && escalateAt.Before(next) {
			next = escalateAt
		}
		wake := func() bool {
			if o.applyEvery {
				// The payments coroutine applies them; wake when settled.
				return o.balance().Minor <= 0 || (o.cancel != nil && !o.compensating)
			}
			return len(o.payments) > 0 || (o.cancel != nil && !o.compensating)
		}
		// The survey runs beside the payment wait for its two weeks; the
		// order continues as new only once it is over.
		full := func() bool { return o.historyFull(ctx) && (!o.surveyStarted || o.surveyClosed) }
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
		now = workflow.Now(ctx)
		days := int(now.Sub(o.d.Invoice.DueDate).Hours() / 24)
		if !o.escalated && !now.Before(escalateAt) {
			o.escalated = true
			o.notify(ctx, "dunning-escalation", mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(o.balance()), DaysOverdue: days, Reason: "invoice long overdue"})
			o.record(ctx, order.System, "payment.escalated", fmt.Sprintf("%d days overdue", days))
		}
		if !now.Before(nextDun) {
			o.dunned++
			o.reminded++
			o.notify(ctx, fmt.Sprintf("dunning-%d", o.reminded), mail.DunningKind(o.reminded, o.escalated), activities.AudienceBuyer, mail.Data{Invoice: o.d.Invoice,
				Balance: ptr(o.balance()), DaysOverdue: days})
			o.record(ctx, order.System, "payment.dunning", fmt.Sprintf("reminder %d, %d days overdue", o.reminded, days))
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
	full := func() bool { return o.historyFull(ctx) && (!o.surveyStarted || o.surveyClosed) }
	if err := workflow.Await(ctx, func() bool { return wake() || full() }); err != nil {
		return err
	}
	if o.cancel != nil {
		return errCancelled
	}
	if !wake() {
		return o.continueAsNew(ctx, s, wake, workflow.Now(ctx).Add(DunningEvery))
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
		err := workflow.ExecuteActivity(ownDatabase(ctx, "Record payment "+p.BankTransactionID), a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: o.d.Invoice.Number, Kind: m.Kind,
		}).Get(ctx, nil)
		if err != nil {
			o.logger.Error("record payment match", "BankTransactionID", p.BankTransactionID, "Error", err)
		}
		o.d.Waiting = o.paymentWaiting()
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		o.tellFinance(ctx, p, m)
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
		o.applying = true
		err := workflow.ExecuteActivity(ownDatabase(ctx, "Record payment "+p.BankTransactionID), a.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: o.in.OrderID, BankTransactionID: p.BankTransactionID, InvoiceNumber: o.d.Invoice.Number, Kind: m.Kind,
		}).Get(ctx, nil)
		o.applying = false
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
			o.refundOnCancel(p)
			o.d.Payments = append(o.d.Payments, p)
		}
		o.d.Paid = ptr(o.paid)
		if o.d.Status == order.StatusAwaitingPayment || o.d.Status == order.StatusInvoiced {
			o.d.Waiting = o.paymentWaiting()
		}
		o.record(ctx, order.System, "payment."+string(m.Kind), fmt.Sprintf("%s: %s, balance %s", p.BankTransactionID, p.Amount, m.Balance))
		o.tellFinance(ctx, p, m)
		if m.Kind == order.MatchPartial {
			o.applying = true // a quiet moment comes after the write-off
			o.writeOffTolerated(ctx, p)
			o.applying = false
		}
	}
}

// tellFinance alerts finance to a payment it must act on: a credit balance
// to allocate or refund, or money that could not be applied.
func (o *orderState) tellFinance(ctx workflow.Context, p PaymentSignal, m order.PaymentMatch) {
	switch m.Kind {
	case order.MatchOver:
		o.notify(ctx, "overpayment-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
			Balance: ptr(m.Credit), Reason: fmt.Sprintf("overpayment: credit balance of %s to allocate or refund", m.Credit)})
	case order.MatchUnmatched:
		o.notify(ctx, "unmatched-"+p.BankTransactionID, mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Invoice: o.d.Invoice,
			Reason: fmt.Sprintf("payment %s of %s could not be applied to invoice %s", p.BankTransactionID, p.Amount, o.d.Invoice.Number)})
	}
}

// dunningAt is when the buyer gets reminder k (0 at the due date): weekly
// until the invoice is escalated to finance, then monthly
// (changeBoundedCadence), so a year unpaid is some 16 reminders, not 52,
// and the order's history stays small for years.
func (o *orderState) dunningAt(k int) time.Time {
	due := o.d.Invoice.DueDate
	weekly := int((DunningEscalateAfter + DunningEvery - 1) / DunningEvery) // reminders before the escalation
	if !o.boundedCadence || k < weekly {
		return due.Add(time.Duration(k) * DunningEvery)
	}
	return due.Add(DunningEscalateAfter + time.Duration(k-weekly+1)*DunningLateEvery)
}
