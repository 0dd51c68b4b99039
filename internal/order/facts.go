package order

import (
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// Facts are what the dashboard and the worklists read of an order, carried
// by each transition the workflow records. A transition without facts (nil:
// written by a worker from before they existed) leaves them as they are.
type Facts struct {
	// AttentionStep is the step that failed while the order needs attention.
	AttentionStep string `json:"attention_step,omitempty"`
	// LeadTimeDays is the lead time the customer's terms promised when
	// the quote was priced; nil before pricing.
	LeadTimeDays *int           `json:"lead_time_days,omitempty"`
	Shipments    []ShipmentFact `json:"shipments,omitempty"`
	Invoices     []InvoiceFact  `json:"invoices,omitempty"`
}

// ShipmentFact is one booked shipment as the order sees it.
type ShipmentFact struct {
	ShipmentID   string    `json:"shipment_id"`
	Warehouse    string    `json:"warehouse"`
	Carrier      string    `json:"carrier,omitempty"`
	SKUs         []string  `json:"skus,omitempty"`
	PromisedDate time.Time `json:"promised_date,omitzero"`
	DeliveredAt  time.Time `json:"delivered_at,omitzero"` // zero until delivered
	Overdue      bool      `json:"overdue,omitempty"`
	Exception    string    `json:"exception,omitempty"`
	Replaced     bool      `json:"replaced,omitempty"`
}

// InvoiceFact is one invoice in the order's ledger.
type InvoiceFact struct {
	Number       string      `json:"number"`
	Open         money.Money `json:"open"`
	DunningLevel int         `json:"dunning_level,omitempty"`
	Escalated    bool        `json:"escalated,omitempty"`
	Disputed     bool        `json:"disputed,omitempty"`
	// SettledAt is when nothing was left open on it; zero while open.
	SettledAt time.Time `json:"settled_at,omitzero"`
}

// NPS bands: a score of 0 to DetractorScore is a detractor's, of
// PromoterScore to 10 a promoter's; Net Promoter Score is the share of
// promoters less the share of detractors, in percent.
const (
	DetractorScore = 6
	PromoterScore  = 9
)
