package workflows

import "github.com/orderflow/orderflow/internal/order"

// CustomerWorkflowName is the registered name of the customer workflow:
// one per customer, living for years (it continues as new), that follows
// the customer between orders: reorder reminders, dormant-customer alerts,
// nudges for unanswered quotes (docs/design.md, "The customer between
// orders").
const CustomerWorkflowName = "Customer"

// CustomerWorkflowID is the workflow id of a customer's workflow.
func CustomerWorkflowID(customerID string) string { return "customer-" + customerID }

// SignalOrderEvent carries an order's milestone (OrderEvent) to its
// customer's workflow. Orders send it with signal-with-start, through the
// TellCustomer local activity, so the customer's workflow starts with the
// customer's first order if nothing started it before. The same milestone
// may arrive twice (a retried activity); OrderEvent.Key tells them apart.
const SignalOrderEvent = "order-event"

// OrderEvent is one order milestone, the SignalOrderEvent payload.
type OrderEvent = order.Event

// OrderEventKind is what happened to an order, as far as the customer
// workflow cares.
type OrderEventKind = order.EventKind

// The milestones an order reports to its customer's workflow.
const (
	OrderQuoted        = order.EventQuoted
	OrderAccepted      = order.EventAccepted
	OrderCompleted     = order.EventCompleted
	OrderEnded         = order.EventEnded
	OrderQuoteExpired  = order.EventQuoteExpired
	OrderQuoteRejected = order.EventQuoteRejected
)
