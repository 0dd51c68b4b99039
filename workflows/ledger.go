package workflows

import (
	"fmt"
	"strings"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// The order's ledger: its invoices, and per invoice what was paid,
// credited, written off and settled from the customer's credit balance,
// as the ERP keeps them. An order invoiced per order has one invoice; one
// invoiced per shipment has one per delivered shipment, each with its own
// balance, due date and reminders.

// perShipment reports whether the order is invoiced per shipment: the
// customer's terms say so, and the order is not prepaid (a prepaid order
// is invoiced whole before it ships).
func (o *orderState) perShipment() bool {
	return o.terms.InvoicePerShipment && !o.d.Prepayment
}

// invoices are the order's invoices, oldest first (a run from before
// Details.Invoices kept only Details.Invoice).
func (o *orderState) invoices() []order.Invoice {
	if len(o.d.Invoices) == 0 && o.d.Invoice != nil {
		return []order.Invoice{*o.d.Invoice}
	}
	return o.d.Invoices
}

// invoiceNumbers lists the invoices' numbers, for messages.
func (o *orderState) invoiceNumbers() string {
	var nums []string
	for _, inv := range o.invoices() {
		nums = append(nums, inv.Number)
	}
	return strings.Join(nums, ", ")
}

// invoiceByNumber finds one of the order's invoices.
func (o *orderState) invoiceByNumber(number string) (order.Invoice, bool) {
	for _, inv := range o.invoices() {
		if inv.Number == number {
			return inv, true
		}
	}
	return order.Invoice{}, false
}

// on reports whether an entry tagged with invoice number tag belongs to
// inv; an untagged entry (from runs before tags) is the first invoice's.
func (o *orderState) on(tag string, inv order.Invoice) bool {
	if tag == "" {
		all := o.invoices()
		return len(all) > 0 && all[0].Number == inv.Number
	}
	return tag == inv.Number
}

// paidTo is what payments applied to inv. An order with one invoice
// counts o.paid, as it always did; per shipment, each payment counts for
// the invoice it was applied to.
func (o *orderState) paidTo(inv order.Invoice) money.Money {
	if !o.perShipment() {
		return o.paid
	}
	sum := money.Zero(inv.Amount.Currency)
	for _, p := range o.d.Payments {
		if p.AppliedTo == inv.Number && p.Amount.Currency == sum.Currency {
			sum.Minor += p.Amount.Minor
		}
	}
	return sum
}

// balanceOf is what the customer still owes on inv: its amount less what
// was paid, what credit notes took off it, what was written off and what
// credit balance was applied to it. Negative when it was overpaid.
func (o *orderState) balanceOf(inv order.Invoice) money.Money {
	b, _ := inv.Amount.Sub(o.paidTo(inv))
	for _, cn := range o.d.CreditNotes {
		if o.on(cn.Invoice, inv) {
			if c, err := b.Sub(cn.AppliedToInvoice); err == nil {
				b = c
			}
		}
	}
	for _, w := range o.d.WriteOffs {
		if o.on(w.Invoice, inv) {
			if c, err := b.Sub(w.Amount); err == nil {
				b = c
			}
		}
	}
	for _, c := range o.d.CreditApplied {
		if o.on(c.Invoice, inv) {
			if r, err := b.Sub(c.Amount); err == nil {
				b = r
			}
		}
	}
	return b
}

// balance is what the customer still owes on the order: the one
// invoice's balance, or per shipment what is open on each invoice (an
// overpaid invoice does not pay another: the ERP keeps the excess as
// credit balance, for finance to apply).
func (o *orderState) balance() money.Money {
	all := o.invoices()
	if len(all) == 0 {
		return money.Money{}
	}
	if !o.perShipment() {
		return o.balanceOf(all[0])
	}
	sum := money.Zero(all[0].Amount.Currency)
	for _, inv := range all {
		if b := o.balanceOf(inv); b.Minor > 0 {
			sum.Minor += b.Minor
		}
	}
	return sum
}

// credited is the gross of every credit note on inv.
func (o *orderState) credited(inv order.Invoice) money.Money {
	sum := money.Zero(inv.Amount.Currency)
	for _, cn := range o.d.CreditNotes {
		if o.on(cn.Invoice, inv) {
			if s, err := sum.Add(cn.Amount); err == nil {
				sum = s
			}
		}
	}
	return sum
}

// creditedOnOrder is the gross of every credit note of the order (CS's
// limit is per order).
func (o *orderState) creditedOnOrder() money.Money {
	all := o.invoices()
	if len(all) == 0 {
		return money.Money{}
	}
	sum := money.Zero(all[0].Amount.Currency)
	for _, cn := range o.d.CreditNotes {
		sum.Minor += cn.Amount.Minor
	}
	return sum
}

// target is the invoice an action names (number), or the order's only
// one; an order with several invoices must be told which. what says what
// the action does to it, for the error.
func (o *orderState) target(number, what string) (order.Invoice, error) {
	all := o.invoices()
	switch {
	case len(all) == 0:
		return order.Invoice{}, invalidState("the order has no invoice to %s", what)
	case number != "":
		if inv, ok := o.invoiceByNumber(number); ok {
			return inv, nil
		}
		return order.Invoice{}, invalidArgument("invoice_number: %s is not an invoice of this order (its invoices: %s)", number, o.invoiceNumbers())
	case len(all) > 1:
		return order.Invoice{}, invalidArgument("invoice_number: the order has %d invoices (%s); name the one to %s", len(all), o.invoiceNumbers(), what)
	}
	return all[0], nil
}

// paymentTarget is the invoice a payment goes to: the one its reference
// names, else the oldest with something open, else the newest.
func (o *orderState) paymentTarget(p PaymentSignal) order.Invoice {
	if inv, ok := o.invoiceByNumber(p.Reference); ok {
		return inv
	}
	all := o.invoices()
	for _, inv := range all {
		if o.balanceOf(inv).Minor > 0 {
			return inv
		}
	}
	return all[len(all)-1]
}

// invoiceQuote is what inv bills, priced: the quote, or for an invoice of
// one shipment the part of it that shipment's lines make up.
func (o *orderState) invoiceQuote(inv order.Invoice) order.Quote {
	if len(inv.Lines) == 0 {
		return *o.d.Quote
	}
	if p, fe := o.d.Quote.Part(inv.Lines); fe == nil {
		return p
	}
	return *o.d.Quote
}

// describeInvoices says what is open on each invoice, for the waiting
// text of an order invoiced per shipment.
func (o *orderState) describeInvoices() string {
	var parts []string
	for _, inv := range o.invoices() {
		b := o.balanceOf(inv)
		if b.Minor <= 0 {
			parts = append(parts, fmt.Sprintf("%s paid", inv.Number))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s open of %s, due %s", inv.Number, b, inv.Amount, inv.DueDate.Format("2006-01-02")))
	}
	return strings.Join(parts, "; ")
}

// creditGroup is what one credit note credits: lines of one invoice.
type creditGroup struct {
	invoice string
	lines   []order.Line
}

// creditGroups splits returned lines among the invoices that billed
// them: the one invoice of an order, or per shipment each invoice in
// turn for what it billed of a SKU and was not credited by lines before.
func (o *orderState) creditGroups(lines []order.Line) []creditGroup {
	all := o.invoices()
	if len(all) == 0 {
		return nil
	}
	if !o.perShipment() {
		return []creditGroup{{invoice: all[0].Number, lines: lines}}
	}
	var out []creditGroup
	left := append([]order.Line(nil), lines...)
	for _, inv := range all {
		var g []order.Line
		for i := range left {
			if left[i].Quantity <= 0 {
				continue
			}
			room := int64(0)
			for _, pl := range o.invoiceQuote(inv).Lines {
				if pl.SKU == left[i].SKU {
					room += pl.Quantity
				}
			}
			for _, cn := range o.d.CreditNotes {
				if o.on(cn.Invoice, inv) {
					for _, l := range cn.Lines {
						if l.SKU == left[i].SKU {
							room -= l.Quantity
						}
					}
				}
			}
			if n := min(room, left[i].Quantity); n > 0 {
				g = append(g, order.Line{SKU: left[i].SKU, Quantity: n})
				left[i].Quantity -= n
			}
		}
		if len(g) > 0 {
			out = append(out, creditGroup{invoice: inv.Number, lines: g})
		}
	}
	return out
}

// balances is what is open on each invoice, for the details query.
func (o *orderState) balances() []InvoiceBalance {
	var out []InvoiceBalance
	for _, inv := range o.invoices() {
		out = append(out, InvoiceBalance{Number: inv.Number, Open: o.balanceOf(inv)})
	}
	return out
}
