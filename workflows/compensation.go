package workflows

import (
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// undoKind says what an undo calls.
type undoKind string

// The undos of the outside changes an order makes.
const (
	undoCancelSalesOrder undoKind = "cancel-sales-order"
	undoCancelShipment   undoKind = "cancel-shipment"
	undoVoidInvoice      undoKind = "void-invoice"
	// undoRefund pays a payment back to its payer once the invoice it
	// paid is voided (changeRefundOnCancel).
	undoRefund undoKind = "refund"
	// undoVoidCreditNote voids a credit note (before the invoice it credits
	// can be voided).
	undoVoidCreditNote undoKind = "void-credit-note"
	// undoCancelReplacement cancels a reship's replacement order.
	undoCancelReplacement undoKind = "cancel-replacement-order"
)

// undo is one registered compensation: what to call and on what.
type undo struct {
	Kind undoKind `json:"kind"`
	// Ref is the id of what was made outside; empty while the forward call
	// has not answered (changeUndoBeforeCall): the undo then names it by
	// Key, the forward call's idempotency key.
	Ref   string `json:"ref"`
	Key   string `json:"key,omitempty"`
	Label string `json:"label"`
	// Amount is what a refund pays back.
	Amount *money.Money `json:"amount,omitempty"`
}

// refundOnCancel registers the refund of a payment applied to the order's
// invoice, to run right after the invoice is voided (so below the void in
// the stack: the ERP frees the payment into the customer's credit balance
// when the invoice is voided, and refunds it from there).
func (o *orderState) refundOnCancel(p PaymentSignal) {
	if !o.refundsOnCancel {
		return
	}
	o.refunds++
	u := undo{Kind: undoRefund, Ref: p.BankTransactionID, Key: activities.RefundKey(o.in.OrderID, o.refunds),
		Label: fmt.Sprintf("refund payment %s of %s to the payer", p.BankTransactionID, p.Amount), Amount: &p.Amount}
	for i := len(o.undos) - 1; i >= 0; i-- {
		if o.undos[i].Kind == undoVoidInvoice {
			o.undos = append(o.undos[:i], append([]undo{u}, o.undos[i:]...)...)
			o.syncCompensations()
			return
		}
	}
	o.pushUndo(u)
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
	case undoCancelSalesOrder:
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.CancelSalesOrder,
			activities.CancelSalesOrderInput{OrderID: o.in.OrderID, SalesOrderID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case undoCancelShipment:
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.CancelShipment,
			activities.CancelShipmentInput{OrderID: o.in.OrderID, ShipmentID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case undoVoidInvoice:
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.VoidInvoice,
			activities.VoidInvoiceInput{OrderID: o.in.OrderID, InvoiceID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case undoVoidCreditNote:
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.VoidCreditNote,
			activities.VoidCreditNoteInput{OrderID: o.in.OrderID, CreditNoteID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case undoCancelReplacement:
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.CancelReplacementOrder,
			activities.CancelReplacementOrderInput{OrderID: o.in.OrderID, SalesOrderID: u.Ref, ForwardKey: u.Key}).Get(ctx, nil)
	case undoRefund:
		amount := *u.Amount
		// Finance may have paid part of the payment back already: the
		// cancel refunds what is left of it (changeRefundWhatIsLeft).
		if left := o.refundable(u.Ref); left.Currency == amount.Currency && left.Minor < amount.Minor &&
			o.gate(ctx, changeRefundWhatIsLeft) {
			if left.Minor <= 0 {
				return nil
			}
			amount = left
		}
		return workflow.ExecuteActivity(o.outside(ctx, "Undo: "+u.Label), a.Refund, activities.RefundInput{
			Key: u.Key, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Amount: amount, BankTransactionID: u.Ref,
			Reason: "order cancelled: " + o.cancel.Reason}).Get(ctx, nil)
	}
	return temporal.NewNonRetryableApplicationError("unknown undo "+string(u.Kind), ErrTypeInvalidArgument, nil)
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
