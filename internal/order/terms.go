package order

import (
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// Terms are a customer's commercial terms, kept in orderflow's database.
type Terms struct {
	CustomerID   string `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	// BuyerEmail receives quotes, invoices and surveys; RepEmail is the
	// seller's sales rep, told of rejected and expired quotes.
	BuyerEmail string `json:"buyer_email"`
	RepEmail   string `json:"rep_email"`
	Currency   string `json:"currency"`
	// CreditLimit caps the customer's exposure (open receivables plus open orders).
	CreditLimit      money.Money `json:"credit_limit"`
	PaymentTermsDays int         `json:"payment_terms_days"`
	// DiscountBP is the customer's standing discount in basis points.
	DiscountBP int64 `json:"discount_bp"`
	// RepDiscountAuthorityBP is the largest discount the rep may grant alone.
	RepDiscountAuthorityBP int64 `json:"rep_discount_authority_bp"`
	// PurchasingLimit: totals above it need an approver at the customer.
	PurchasingLimit money.Money `json:"purchasing_limit"`
	// DualApprovalThreshold: totals above it need two distinct seller approvers.
	DualApprovalThreshold money.Money `json:"dual_approval_threshold"`
	QuoteValidityDays     int         `json:"quote_validity_days"`
	LeadTimeDays          int         `json:"lead_time_days"`
	// ContractPrices are unit prices agreed per SKU, in the terms' currency.
	ContractPrices map[string]money.Money `json:"contract_prices,omitempty"`
	// VATRateBP is the VAT charged on the customer's net amounts, in basis
	// points (1900 = 19 %). ReverseCharge: an intra-EU B2B customer
	// accounts for the VAT itself, so none is charged and the documents
	// say so.
	VATRateBP     int64 `json:"vat_rate_bp"`
	ReverseCharge bool  `json:"reverse_charge,omitempty"`
	// CreditNoteLimitCS is the credit (gross, all credit notes of one
	// order together) CS may grant alone; above it, finance.
	CreditNoteLimitCS money.Money `json:"credit_note_limit_cs"`
	// ShortPayTolerance and ShortPayToleranceBP bound what a customer may
	// leave unpaid on an invoice (a bank fee, rounding) and have it
	// written off: the smaller of the amount and the basis points of the
	// invoice's gross. Zero in either: no tolerance.
	ShortPayTolerance   money.Money `json:"short_pay_tolerance"`
	ShortPayToleranceBP int64       `json:"short_pay_tolerance_bp"`
	// VATID and Address identify the customer as the buyer on invoices
	// and credit notes (the documents' buyer party); empty when unknown.
	VATID   string  `json:"vat_id,omitempty"`
	Address Address `json:"address,omitzero"`
	// InvoicePerShipment: each shipment is invoiced when it is delivered,
	// for its lines, instead of one invoice once everything is delivered.
	InvoicePerShipment bool `json:"invoice_per_shipment,omitempty"`
	// Contacts are the people at the customer and what each takes care
	// of; a mail no contact's role concerns goes to BuyerEmail.
	Contacts []Contact `json:"contacts,omitempty"`
	// Version is the terms version (0 for terms never changed through the
	// catalog), EffectiveFrom when it came into force, Hash the SHA-256 of
	// its content: what an order priced under it pins.
	Version       int       `json:"version,omitempty"`
	EffectiveFrom time.Time `json:"effective_from,omitzero"`
	Hash          string    `json:"hash,omitempty"`
}

// Address is a postal address as invoices print it. Country is the ISO
// 3166-1 alpha-2 code (DE, FR, US).
type Address struct {
	Street   string `json:"street,omitempty"`
	City     string `json:"city,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	Country  string `json:"country,omitempty"`
}

// Tolerated reports whether short, left unpaid on an invoice of gross,
// is within the customer's short-payment tolerance.
func (t Terms) Tolerated(gross, short money.Money) bool {
	if short.Minor <= 0 || short.Currency != gross.Currency || t.ShortPayTolerance.Currency != gross.Currency {
		return false
	}
	return short.Minor <= t.ShortPayTolerance.Minor && short.Minor <= gross.BasisPoints(t.ShortPayToleranceBP).Minor
}

// ListPrice is the ERP's price for one SKU.
type ListPrice struct {
	SKU       string      `json:"sku"`
	UnitPrice money.Money `json:"unit_price"`
}

// Price builds a quote revision from requested lines, the ERP's list prices and
// the customer's terms. requestedDiscountBP is an extra discount a rep asked for
// (0 for none); the larger of it and the standing discount applies.
func Price(revision int, lines []Line, list []ListPrice, t Terms, requestedDiscountBP int64, now time.Time) (Quote, error) {
	prices := make(map[string]money.Money, len(list))
	for _, p := range list {
		prices[p.SKU] = p.UnitPrice
	}
	q := Quote{
		Revision:         revision,
		Subtotal:         money.Zero(t.Currency),
		DiscountBP:       max(t.DiscountBP, requestedDiscountBP),
		LeadTimeDays:     t.LeadTimeDays,
		PaymentTermsDays: t.PaymentTermsDays,
		ValidUntil:       now.AddDate(0, 0, t.QuoteValidityDays),
	}
	for _, l := range lines {
		lp, ok := prices[l.SKU]
		if !ok {
			return Quote{}, &FieldError{Field: "lines", Reason: fmt.Sprintf("unknown SKU %q", l.SKU)}
		}
		if lp.Currency != t.Currency {
			return Quote{}, fmt.Errorf("list price of %s is in %s, terms are in %s: %w", l.SKU, lp.Currency, t.Currency, money.ErrCurrencyMismatch)
		}
		pl := PricedLine{SKU: l.SKU, Quantity: l.Quantity, ListPrice: lp, UnitPrice: lp}
		if cp, ok := t.ContractPrices[l.SKU]; ok {
			pl.UnitPrice, pl.Contract = cp, true
		}
		pl.Total = pl.UnitPrice.Times(l.Quantity)
		var err error
		if q.Subtotal, err = q.Subtotal.Add(pl.Total); err != nil {
			return Quote{}, err
		}
		q.Lines = append(q.Lines, pl)
	}
	q.Discount = q.Subtotal.BasisPoints(q.DiscountBP)
	q.Net, _ = q.Subtotal.Sub(q.Discount)
	q.TaxRateBP, q.ReverseCharge = t.VATRateBP, t.ReverseCharge
	if t.ReverseCharge {
		q.TaxRateBP = 0
	}
	q.Tax = q.Net.BasisPoints(q.TaxRateBP)
	q.Total, _ = q.Net.Add(q.Tax)
	return q, nil
}

// NetTotal is the quote's total before VAT. Quotes priced before VAT was
// kept have no Net: their Total was net.
func (q Quote) NetTotal() money.Money {
	if q.Net.Currency == "" {
		return q.Total
	}
	return q.Net
}

// Side says whose approver acts: the buyer's organisation or the seller's.
type Side string

// Approval sides.
const (
	SideBuyer  Side = "buyer"
	SideSeller Side = "seller"
)

// ApprovalNeed is one approval the rules demand: Count distinct approvers of Side.
type ApprovalNeed struct {
	Side   Side   `json:"side"`
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}

// RequiredApprovals applies the approval rules of the terms to a quote:
//   - the buyer's approver when the total exceeds the customer's purchasing limit;
//   - a seller approver when the discount exceeds the rep's authority;
//   - two distinct seller approvers when the total exceeds the dual-approval threshold.
//
// The result is ordered buyer first, then seller.
func RequiredApprovals(q Quote, t Terms) []ApprovalNeed {
	var needs []ApprovalNeed
	// Limits and thresholds are net amounts: VAT is not what the buyer's
	// purchasing limit or the seller's approval rules are about.
	net := q.NetTotal()
	if t.PurchasingLimit.Minor > 0 && net.Minor > t.PurchasingLimit.Minor {
		needs = append(needs, ApprovalNeed{Side: SideBuyer, Count: 1,
			Reason: fmt.Sprintf("net total %s exceeds the purchasing limit %s", net, t.PurchasingLimit)})
	}
	seller := ApprovalNeed{Side: SideSeller}
	authority, whose := t.RepDiscountAuthorityBP, "the rep's"
	if q.DiscountBy != "" {
		authority, whose = q.DiscountAuthorityBP, q.DiscountBy+"'s"
	}
	if q.DiscountBP > authority {
		seller.Count = 1
		seller.Reason = fmt.Sprintf("discount %d.%02d%% exceeds %s authority %d.%02d%%",
			q.DiscountBP/100, q.DiscountBP%100, whose, authority/100, authority%100)
	}
	if t.DualApprovalThreshold.Minor > 0 && net.Minor > t.DualApprovalThreshold.Minor {
		seller.Count = 2
		seller.Reason = fmt.Sprintf("net total %s exceeds the dual-approval threshold %s", net, t.DualApprovalThreshold)
	}
	if seller.Count > 0 {
		needs = append(needs, seller)
	}
	return needs
}

// Exposure is the credit picture of one order's customer.
type Exposure struct {
	// OpenReceivables are the customer's invoiced, unpaid amounts in the ERP.
	OpenReceivables money.Money `json:"open_receivables"`
	// OpenOrders are the customer's other orders in this system that are
	// accepted and not yet invoiced (docs/design.md, "credit exposure").
	OpenOrders  money.Money `json:"open_orders"`
	ThisOrder   money.Money `json:"this_order"`
	Total       money.Money `json:"total"`
	Limit       money.Money `json:"limit"`
	WithinLimit bool        `json:"within_limit"`
}

// CheckCredit adds the ERP's open receivables, this system's open orders
// (accepted and not yet invoiced) and this order, and compares the sum with
// the credit limit.
func CheckCredit(limit, receivables, openOrders, thisOrder money.Money) (Exposure, error) {
	e := Exposure{OpenReceivables: receivables, OpenOrders: openOrders, ThisOrder: thisOrder, Limit: limit}
	sum, err := receivables.Add(openOrders)
	if err == nil {
		sum, err = sum.Add(thisOrder)
	}
	if err == nil && sum.Currency != limit.Currency {
		err = fmt.Errorf("exposure in %s, limit in %s: %w", sum.Currency, limit.Currency, money.ErrCurrencyMismatch)
	}
	if err != nil {
		return Exposure{}, err
	}
	e.Total = sum
	e.WithinLimit = sum.Minor <= limit.Minor
	return e, nil
}

// DueDate is the invoice due date: the issue date plus the payment terms, at
// the end of that day in UTC.
func DueDate(issued time.Time, paymentTermsDays int) time.Time {
	d := issued.UTC().AddDate(0, 0, paymentTermsDays)
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, time.UTC)
}

// MatchKind classifies an incoming payment against an invoice's open balance.
type MatchKind string

// Payment match kinds.
const (
	MatchExact   MatchKind = "exact"
	MatchPartial MatchKind = "partial"
	MatchOver    MatchKind = "overpayment"
	// MatchUnmatched: the payment cannot be applied (wrong currency or nothing open).
	MatchUnmatched MatchKind = "unmatched"
)

// PaymentMatch is the result of applying one payment to an invoice.
type PaymentMatch struct {
	Kind MatchKind `json:"kind"`
	// Balance is what stays open after the payment; Credit is any overpayment.
	Balance money.Money `json:"balance"`
	Credit  money.Money `json:"credit"`
}

// MatchPayment applies a payment to the open balance of an invoice.
func MatchPayment(open, paid money.Money) PaymentMatch {
	if paid.Currency != open.Currency || open.Minor <= 0 || paid.Minor <= 0 {
		return PaymentMatch{Kind: MatchUnmatched, Balance: open, Credit: money.Zero(open.Currency)}
	}
	switch {
	case paid.Minor == open.Minor:
		return PaymentMatch{Kind: MatchExact, Balance: money.Zero(open.Currency), Credit: money.Zero(open.Currency)}
	case paid.Minor < open.Minor:
		return PaymentMatch{Kind: MatchPartial, Balance: money.New(open.Minor-paid.Minor, open.Currency), Credit: money.Zero(open.Currency)}
	default:
		return PaymentMatch{Kind: MatchOver, Balance: money.Zero(open.Currency), Credit: money.New(paid.Minor-open.Minor, open.Currency)}
	}
}
