package workflows

import (
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// CustomerWorkflowName is the registered name of the customer workflow:
// one per customer, living for years (it continues as new), that follows
// the customer between orders: reorder reminders, dormant-customer alerts,
// nudges for unanswered quotes (docs/design.md, "The customer between
// orders").
const CustomerWorkflowName = "Customer"

// CustomerWorkflowID is the workflow id of a customer's workflow.
func CustomerWorkflowID(customerID string) string { return "customer-" + customerID }

// SignalOrderEvent carries an order's milestone to its customer's workflow
// (OrderEvent). Orders send it themselves; a customer workflow that is not
// running misses it, so the API starts it before it starts an order.
const SignalOrderEvent = "order-event"

// OrderEventKind is what happened to an order, as far as the customer
// workflow cares.
type OrderEventKind string

// The milestones an order reports to its customer's workflow.
const (
	// OrderQuoted: a quote revision went to the buyer (Lines,
	// QuoteRevision, Total, ValidUntil).
	OrderQuoted OrderEventKind = "quoted"
	// OrderAccepted: the buyer accepted; the order is open for its Lines
	// until it completes or ends. Its At is the order's date for the
	// customer's rhythm.
	OrderAccepted OrderEventKind = "accepted"
	// OrderCompleted: the order is paid and closed.
	OrderCompleted OrderEventKind = "completed"
	// OrderEnded: the order ended after it was accepted without
	// completing (Status: CANCELLED, REJECTED, CREDIT_DECLINED).
	OrderEnded OrderEventKind = "ended"
	// OrderQuoteExpired: the quote expired unanswered.
	OrderQuoteExpired OrderEventKind = "quote-expired"
	// OrderQuoteRejected: the buyer rejected the quote (Reason, Actor).
	OrderQuoteRejected OrderEventKind = "quote-rejected"
)

// OrderEvent is one order milestone, the SignalOrderEvent payload.
type OrderEvent struct {
	OrderID string         `json:"order_id"`
	Kind    OrderEventKind `json:"kind"`
	// At is the order workflow's time of the milestone.
	At     time.Time    `json:"at"`
	Status order.Status `json:"status"`
	// Lines are the order's lines (the quoted revision's for OrderQuoted).
	Lines         []order.Line `json:"lines,omitempty"`
	QuoteRevision int          `json:"quote_revision,omitempty"`
	Total         money.Money  `json:"total"`
	ValidUntil    time.Time    `json:"valid_until,omitzero"`
	// PONumber and Actor (who accepted or rejected) and Reason (a
	// rejection's) are for the rep's follow-up.
	PONumber string      `json:"po_number,omitempty"`
	Actor    order.Actor `json:"actor"`
	Reason   string      `json:"reason,omitempty"`
}
