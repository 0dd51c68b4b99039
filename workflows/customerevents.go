package workflows

import (
	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// tellCustomer hands the order's milestone to its customer's workflow
// (changeCustomerEvents) through the TellCustomer local activity, which
// signals it with start: one marker in the task that reached the
// milestone, no command or event of its own in the order's history. It
// runs beside the order's path (a slow Temporal frontend holds nothing
// up) and, like a Record, falls back to an ordinary activity after a
// minute; the order ends only once it is done (finishFields waits for
// tellsInFlight). A failure for good is logged: the customer's
// reminders miss one order, the order itself goes on.
func (o *orderState) tellCustomer(ctx workflow.Context, kind OrderEventKind, actor order.Actor, reason string) {
	if !o.customerEventsAsked {
		o.customerEventsAsked = true
		o.customerEvents = workflow.GetVersion(ctx, changeCustomerEvents, workflow.DefaultVersion, 1) == 1
	}
	if !o.customerEvents {
		return
	}
	ev := OrderEvent{
		OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Kind: kind, At: workflow.Now(ctx), Status: o.d.Status,
		Lines: o.lines, PONumber: o.in.PONumber, Actor: actor, Reason: reason,
	}
	if q := o.d.Quote; q != nil {
		ev.QuoteRevision, ev.Total, ev.ValidUntil = q.Revision, q.Total, q.ValidUntil
	}
	ctx = o.detached(ctx)
	// Counted before the coroutine runs, so the order cannot end in
	// between.
	o.tellsInFlight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { o.tellsInFlight-- }()
		err := o.ownWrite(ctx, true, "Tell customer "+string(kind), a.TellCustomer, activities.TellCustomerInput{Event: ev}, nil)
		if err != nil {
			o.logger.Warn("the customer's workflow missed an order milestone", "Customer", o.in.CustomerID,
				"Milestone", string(kind), "Error", err)
		}
	})
}

// customerEventOf is the milestone a final status tells the customer's
// workflow; ok is false for a status it does not care about (a quote the
// ERP refused was never sent).
func (o *orderState) customerEventOf(s order.Status) (kind OrderEventKind, ok bool) {
	switch s {
	case order.StatusCompleted:
		return OrderCompleted, true
	case order.StatusQuoteExpired:
		return OrderQuoteExpired, true
	case order.StatusQuoteRejected:
		return OrderQuoteRejected, true
	case order.StatusCancelled, order.StatusRejected, order.StatusCreditDeclined:
		if o.d.AcceptedBy != nil {
			return OrderEnded, true
		}
		// Cancelled before it was accepted: its quote stands no more.
		return OrderQuoteRejected, s == order.StatusCancelled
	}
	return "", false
}
