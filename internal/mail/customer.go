package mail

import (
	"fmt"
	"time"
)

// The mails of the customer workflow (docs/design.md, "The customer
// between orders"). They are not in Kinds(): an order does not send them
// and CS does not resend them through an order.
const (
	// KindReorderReminder, to a purchaser: products due for reorder, with
	// a one-click reorder link and an unsubscribe link. Marketing.
	KindReorderReminder Kind = "reorder-reminder"
	// KindWeMissYou, to a purchaser of a customer gone quiet, once per
	// dormancy. Marketing.
	KindWeMissYou Kind = "we-miss-you"
	// KindQuoteNudge, to a purchaser: a quote still waits for an answer,
	// with the link that accepts it. Marketing.
	KindQuoteNudge Kind = "quote-nudge"
	// KindRepDormant, to the sales rep: a regular customer stopped
	// ordering, with its recent history.
	KindRepDormant Kind = "rep-dormant-customer"
)

// CustomerKinds lists the customer workflow's mail kinds.
func CustomerKinds() []Kind {
	return []Kind{KindReorderReminder, KindWeMissYou, KindQuoteNudge, KindRepDormant}
}

// Marketing reports whether k is a marketing mail: it honours a contact's
// opt-out and the frequency cap. Transactional mails (quote, invoice, …)
// are not marketing.
func (k Kind) Marketing() bool {
	return k == KindReorderReminder || k == KindWeMissYou || k == KindQuoteNudge
}

// customerLevel kinds are about the customer, not one order: they need no
// OrderID.
func (k Kind) customerLevel() bool {
	return k == KindReorderReminder || k == KindWeMissYou || k == KindRepDormant
}

// CustomerData is what the customer workflow's mails show.
type CustomerData struct {
	CustomerID string `json:"customer_id"`
	// Products are a reorder reminder's products (or the recent products
	// of a dormant customer).
	Products []ReorderProduct `json:"products,omitempty"`
	// ReorderURL opens a quote request pre-filled with Products.
	ReorderURL string `json:"reorder_url,omitempty"`
	// UnsubscribeURL opts the recipient out of marketing mails. A
	// marketing mail carries it; the activity signs it per recipient.
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
	// Orders, LastOrderAt, UsualInterval (the median between orders) and
	// Silence (since the last order) describe a dormant customer's rhythm;
	// RecentOrderDates its last orders.
	Orders           int           `json:"orders,omitempty"`
	LastOrderAt      time.Time     `json:"last_order_at,omitzero"`
	UsualInterval    time.Duration `json:"usual_interval,omitempty"`
	Silence          time.Duration `json:"silence,omitempty"`
	RecentOrderDates []time.Time   `json:"recent_order_dates,omitempty"`
	// Nudge numbers a quote nudge (1, 2, …).
	Nudge int `json:"nudge,omitempty"`
}

// UsualIntervalText is the usual interval in words ("30 days").
func (c CustomerData) UsualIntervalText() string { return span(c.UsualInterval) }

// SilenceText is the silence in words ("61 days").
func (c CustomerData) SilenceText() string { return span(c.Silence) }

// span says a duration in whole days, or in hours, minutes or seconds
// when it is shorter (test and demo settings shorten the rhythm).
func span(d time.Duration) string {
	unit, n := "day", int64(d/(24*time.Hour))
	switch {
	case d >= 2*24*time.Hour:
	case d >= 2*time.Hour:
		unit, n = "hour", int64(d/time.Hour)
	case d >= 2*time.Minute:
		unit, n = "minute", int64(d/time.Minute)
	default:
		unit, n = "second", int64(d/time.Second)
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// ReorderProduct is one product of a reorder reminder.
type ReorderProduct struct {
	SKU string `json:"sku"`
	// Quantity is the typical quantity (median of the last orders).
	Quantity    int64     `json:"quantity"`
	LastOrderAt time.Time `json:"last_order_at"`
	ExpectedAt  time.Time `json:"expected_at,omitzero"`
}

// customerRequirements are the requirements of the customer kinds.
var customerRequirements = map[Kind][]requirement{
	KindReorderReminder: {needCustomer, func(d Data) error {
		return need(len(d.Customer.Products) > 0 && d.Customer.ReorderURL != "", "Customer.Products and Customer.ReorderURL")
	}},
	KindWeMissYou:  {needCustomer},
	KindQuoteNudge: {needQuote, needCustomer},
	KindRepDormant: {needCustomer, func(d Data) error {
		return need(!d.Customer.LastOrderAt.IsZero(), "Customer.LastOrderAt")
	}},
}

var needCustomer requirement = func(d Data) error { return need(d.Customer != nil, "Customer") }

// checkCustomerKind checks a customer kind's data; marketing mails must
// carry their unsubscribe link.
func checkCustomerKind(k Kind, d Data) error {
	if !k.customerLevel() && d.OrderID == "" {
		return fmt.Errorf("render %s mail: Data.OrderID is required", k)
	}
	for _, req := range customerRequirements[k] {
		if err := req(d); err != nil {
			return fmt.Errorf("render %s mail: %w", k, err)
		}
	}
	if k.Marketing() && d.Customer.UnsubscribeURL == "" {
		return fmt.Errorf("render %s mail: Data.Customer.UnsubscribeURL is required in a marketing mail", k)
	}
	return nil
}
