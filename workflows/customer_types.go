package workflows

import (
	"time"

	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// CustomerContinueAsNewAfter is the history length (in events) past which
// a customer workflow continues as new, unless its input says otherwise
// or Temporal suggests it sooner. A customer's history grows by a few
// events per order milestone and per mail, so a run lasts months.
const CustomerContinueAsNewAfter = 2000

// CustomerInput starts (or continues) a customer's workflow. The
// customer's first order milestone starts it with CustomerID alone
// (signal-with-start, worker.customerTeller).
type CustomerInput struct {
	CustomerID string `json:"customer_id"`
	// Resume is what the run before carried (nil for a new customer).
	Resume *CustomerCarried `json:"resume,omitempty"`
	// HistoryLimit overrides CustomerContinueAsNewAfter (tests set it low).
	HistoryLimit int `json:"history_limit,omitempty"`
}

// CustomerCarried is what a customer workflow takes into its next run:
// the bounded summary of the customer's ordering and what is open now.
type CustomerCarried struct {
	// Run counts the runs before the next one.
	Run     int              `json:"run"`
	Summary customer.Summary `json:"summary"`
	// Open are the accepted orders not completed or ended yet.
	Open []customer.OpenOrder `json:"open,omitempty"`
	// Quotes are the quotes waiting for the buyer's answer.
	Quotes []OpenQuote `json:"quotes,omitempty"`
	// Lost are the last order ids whose lost quote was followed up.
	Lost []string `json:"lost,omitempty"`
	// Reminders counts the reorder-reminder mails (their keys); Insights
	// the insight records (their version).
	Reminders int   `json:"reminders"`
	Insights  int64 `json:"insights"`
}

// OpenQuote is a quote sent and not answered yet.
type OpenQuote struct {
	OrderID    string       `json:"order_id"`
	Revision   int          `json:"revision"`
	QuotedAt   time.Time    `json:"quoted_at"`
	ValidUntil time.Time    `json:"valid_until,omitzero"`
	Lines      []order.Line `json:"lines,omitempty"`
	Total      money.Money  `json:"total"`
	PONumber   string       `json:"po_number,omitempty"`
	// Nudged counts the nudges of this revision sent (or skipped).
	Nudged int `json:"nudged"`
}

// Bounds of what a customer workflow keeps besides its summary: a
// customer with more open quotes or orders drops the oldest (it loses
// their nudges and their "open" mark, never an order's rhythm).
const (
	maxOpenQuotes = 100
	maxOpenOrders = 500
	maxLost       = 50
)

// SignalWinBack asks a customer's workflow for one more "we miss you"
// mail at once ("unless the rep asks" in docs/design.md): the customer's
// rep or a sales manager sends it through POST /v1/customers/{id}/win-back.
// The mail goes through SendMarketingMail like every marketing mail, so an
// opted-out contact gets none and the frequency cap holds.
const SignalWinBack = "win-back"

// WinBackInput is the SignalWinBack payload.
type WinBackInput struct {
	// RequestID names the request: the mail's idempotency key ends with
	// it, so a repeated request mails no contact twice.
	RequestID   string      `json:"request_id"`
	RequestedBy order.Actor `json:"requested_by"`
	Reason      string      `json:"reason"`
}
