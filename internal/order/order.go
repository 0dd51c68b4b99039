package order

import (
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// Status is where an order stands in its lifecycle; it is also the
// OrderStatus search attribute.
type Status string

// The lifecycle statuses, in the order an order usually passes them.
const (
	StatusQuoting            Status = "QUOTING"
	StatusAwaitingAcceptance Status = "AWAITING_ACCEPTANCE"
	StatusAwaitingApproval   Status = "AWAITING_APPROVAL"
	StatusCreditCheck        Status = "CREDIT_CHECK"
	StatusCreditHold         Status = "CREDIT_HOLD"
	StatusConfirmed          Status = "CONFIRMED"
	StatusShipping           Status = "SHIPPING"
	StatusInvoiced           Status = "INVOICED"
	StatusAwaitingPayment    Status = "AWAITING_PAYMENT"
	// StatusPaid: the invoice is reconciled (or a prepaid order is
	// delivered) while an NPS survey is still open.
	StatusPaid           Status = "PAID"
	StatusCompleted      Status = "COMPLETED"
	StatusCancelled      Status = "CANCELLED"
	StatusQuoteExpired   Status = "QUOTE_EXPIRED"
	StatusQuoteRejected  Status = "QUOTE_REJECTED"
	StatusRejected       Status = "REJECTED"
	StatusCreditDeclined Status = "CREDIT_DECLINED"
	// StatusQuoteRefused ends a quote request whose first revision the ERP
	// would not price (an unknown SKU, no price in the customer's
	// currency). POST /v1/quotes answers 422 naming the line; the order
	// never existed for the buyer: lists leave it out and GET answers 410.
	StatusQuoteRefused Status = "QUOTE_REFUSED"
)

// Statuses lists every status, for validation of filters.
var Statuses = []Status{
	StatusQuoting, StatusAwaitingAcceptance, StatusAwaitingApproval, StatusCreditCheck,
	StatusCreditHold, StatusConfirmed, StatusShipping, StatusInvoiced, StatusAwaitingPayment,
	StatusPaid, StatusCompleted, StatusCancelled, StatusQuoteExpired, StatusQuoteRejected, StatusRejected,
	StatusCreditDeclined, StatusQuoteRefused,
}

// Valid reports whether s is one of the lifecycle statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether an order in s is finished for good.
func (s Status) Terminal() bool {
	switch s {
	case StatusCompleted, StatusCancelled, StatusQuoteExpired, StatusQuoteRejected,
		StatusRejected, StatusCreditDeclined, StatusQuoteRefused:
		return true
	}
	return false
}

// Shipped reports whether goods may have left a warehouse in s: from then on a
// plain cancel is no longer offered (returns and credit notes are CS work).
func (s Status) Shipped() bool {
	switch s {
	case StatusShipping, StatusInvoiced, StatusAwaitingPayment, StatusPaid, StatusCompleted:
		return true
	}
	return false
}

// Line is one requested line of a quote: a product and a quantity.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// MaxLines bounds a quote; larger orders are split by the storefront.
const MaxLines = 200

// ValidateLines checks requested lines and names the field at fault.
func ValidateLines(lines []Line) *FieldError {
	if len(lines) == 0 {
		return &FieldError{Field: "lines", Reason: "at least one line is required"}
	}
	if len(lines) > MaxLines {
		return &FieldError{Field: "lines", Reason: fmt.Sprintf("at most %d lines", MaxLines)}
	}
	seen := make(map[string]bool, len(lines))
	for i, l := range lines {
		switch {
		case l.SKU == "" || len(l.SKU) > 64:
			return &FieldError{Field: fmt.Sprintf("lines[%d].sku", i), Reason: "1 to 64 characters"}
		case l.Quantity <= 0 || l.Quantity > 1_000_000:
			return &FieldError{Field: fmt.Sprintf("lines[%d].quantity", i), Reason: "between 1 and 1000000"}
		case seen[l.SKU]:
			return &FieldError{Field: fmt.Sprintf("lines[%d].sku", i), Reason: "appears twice; merge the lines"}
		}
		seen[l.SKU] = true
	}
	return nil
}

// FieldError says which input field is wrong and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// PricedLine is a quote line with its unit price after contract prices.
type PricedLine struct {
	SKU       string      `json:"sku"`
	Quantity  int64       `json:"quantity"`
	ListPrice money.Money `json:"list_price"`
	UnitPrice money.Money `json:"unit_price"`
	// Contract is true when the unit price comes from the customer's contract.
	Contract bool        `json:"contract"`
	Total    money.Money `json:"total"`
}

// Quote is one priced revision of an order's lines.
type Quote struct {
	Revision   int          `json:"revision"`
	Lines      []PricedLine `json:"lines"`
	Subtotal   money.Money  `json:"subtotal"`
	DiscountBP int64        `json:"discount_bp"`
	Discount   money.Money  `json:"discount"`
	// DiscountBy is the sales rep who asked for the discount, and
	// DiscountAuthorityBP their authority when it was priced; empty when
	// the discount is the customer's standing one or a manager's.
	DiscountBy          string `json:"discount_by,omitempty"`
	DiscountAuthorityBP int64  `json:"discount_authority_bp,omitempty"`
	// Net is the total before VAT (subtotal less discount); Tax the VAT on
	// it at TaxRateBP (0 under reverse charge); Total the gross amount the
	// customer pays, which invoices and payment matching use.
	Net           money.Money `json:"net"`
	TaxRateBP     int64       `json:"tax_rate_bp"`
	Tax           money.Money `json:"tax"`
	ReverseCharge bool        `json:"reverse_charge,omitempty"`
	Total         money.Money `json:"total"`
	ValidUntil    time.Time   `json:"valid_until"`
	// LeadTimeDays is the promised lead time from confirmation to dispatch.
	LeadTimeDays     int `json:"lead_time_days"`
	PaymentTermsDays int `json:"payment_terms_days"`
}

// Shipment is what one warehouse sends: the ERP reserves stock per warehouse
// and each warehouse's lines travel as one booked shipment.
type Shipment struct {
	Warehouse      string    `json:"warehouse"`
	Lines          []Line    `json:"lines"`
	ShipmentID     string    `json:"shipment_id,omitempty"`
	TrackingNumber string    `json:"tracking_number,omitempty"`
	PromisedDate   time.Time `json:"promised_date,omitzero"`
	// Carrier is the carrier's service (parcel, freight), "" when unknown.
	Carrier     string    `json:"carrier,omitempty"`
	Delivered   bool      `json:"delivered"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	Overdue     bool      `json:"overdue"`
	// Exception is the carrier's last reported problem (failed attempt,
	// damage, held at depot), "" when none was reported.
	Exception string `json:"exception,omitempty"`
	// Replaces names the shipment this one reships (lost or damaged);
	// Replaced says this one was reshipped, and Resolution how its
	// exception was closed.
	Replaces   string `json:"replaces,omitempty"`
	Replaced   bool   `json:"replaced,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	// Invoice is the number of the invoice that billed the shipment, for
	// a customer invoiced per shipment. BilledLater: its own invoice was
	// skipped (its lines did not match the quote) and the order's last
	// invoice bills it with what is left of the quote.
	Invoice     string `json:"invoice,omitempty"`
	BilledLater bool   `json:"billed_later,omitempty"`
}

// Invoice is the ERP invoice raised for an order.
type Invoice struct {
	InvoiceID string `json:"invoice_id"`
	Number    string `json:"number"`
	// Amount is the gross, what the customer owes: Net + Tax.
	Amount   money.Money `json:"amount"`
	IssuedAt time.Time   `json:"issued_at"`
	DueDate  time.Time   `json:"due_date"`
	// Net and Tax split Amount as the ERP booked it. Zero in an invoice
	// recorded before the ERP split them out.
	// Never omitted: Money's IsZero would drop a tax of 0.00 from the JSON
	// and with it the currency.
	Net money.Money `json:"net"`
	Tax money.Money `json:"tax"`
	// Shipment and Lines say what an invoice of an order invoiced per
	// shipment bills: the shipment delivered, and its lines. Both empty:
	// the invoice bills the whole order.
	Shipment string `json:"shipment,omitempty"`
	Lines    []Line `json:"lines,omitempty"`
}

// CreditNote is a credit note the ERP issued on an order's invoice, as the
// buyer's documents and mails show it. Amount is the gross credited; Net
// and Tax split it as the ERP booked it and are zero (no currency) when the
// ERP did not say: the document builder then splits Amount at the
// invoice's tax rate.
type CreditNote struct {
	CreditNoteID  string      `json:"credit_note_id"`
	Number        string      `json:"number"`
	InvoiceNumber string      `json:"invoice_number"`
	IssuedAt      time.Time   `json:"issued_at"`
	Amount        money.Money `json:"amount"`
	Net           money.Money `json:"net,omitzero"`
	Tax           money.Money `json:"tax,omitzero"`
	// Lines are what a credit note by lines credits (SKU and quantity);
	// empty for a credit of an amount or of the whole invoice.
	Lines  []Line `json:"lines,omitempty"`
	Reason string `json:"reason,omitempty"`
}
