package order

import (
	"strconv"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// EventKind is a milestone of an order that the customer's workflow
// follows the customer by.
type EventKind string

// The milestones an order reports to its customer's workflow.
const (
	// EventQuoted: a quote revision went to the buyer (Lines,
	// QuoteRevision, Total, ValidUntil).
	EventQuoted EventKind = "quoted"
	// EventAccepted: the buyer accepted; the order is open for its Lines
	// until it completes or ends. Its At is the order's date for the
	// customer's rhythm.
	EventAccepted EventKind = "accepted"
	// EventCompleted: the order is paid and closed.
	EventCompleted EventKind = "completed"
	// EventEnded: the order ended after it was accepted without
	// completing (Status: CANCELLED, REJECTED, CREDIT_DECLINED).
	EventEnded EventKind = "ended"
	// EventQuoteExpired: the quote expired unanswered.
	EventQuoteExpired EventKind = "quote-expired"
	// EventQuoteRejected: the buyer rejected the quote, or it was
	// cancelled before it was accepted (Reason, Actor).
	EventQuoteRejected EventKind = "quote-rejected"
)

// Event is one milestone of an order, as its customer's workflow hears it.
type Event struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Kind       EventKind `json:"kind"`
	// At is the order workflow's time of the milestone.
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	// Lines are the order's lines (the quoted revision's for EventQuoted).
	Lines         []Line      `json:"lines,omitempty"`
	QuoteRevision int         `json:"quote_revision,omitempty"`
	Total         money.Money `json:"total"`
	ValidUntil    time.Time   `json:"valid_until,omitzero"`
	// PONumber, Actor (who accepted or rejected) and Reason (a
	// rejection's) are for the rep's follow-up.
	PONumber string `json:"po_number,omitempty"`
	Actor    Actor  `json:"actor"`
	Reason   string `json:"reason,omitempty"`
}

// Key names the milestone among an order's: the same milestone told twice
// (a retried signal) has the same key.
func (e Event) Key() string {
	if e.Kind == EventQuoted {
		return e.OrderID + "/" + string(e.Kind) + "/" + strconv.Itoa(e.QuoteRevision)
	}
	return e.OrderID + "/" + string(e.Kind)
}
