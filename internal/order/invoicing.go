package order

import (
	"github.com/orderflow/orderflow/internal/money"
)

// Part is the share of the quote that lines make up: one invoice of an
// order invoiced per shipment. Its lines are priced as the quote priced
// them; its gross and net are the lines' share of the quote's (the
// discount and the VAT fall on each part as on the whole), its tax the
// difference, its discount what its lines' subtotal exceeds its net by.
// A quote priced before the VAT split (no Net) gives parts without one.
//
// A SKU the quote does not hold, or more of it than it holds, is a
// FieldError on lines[i].
func (q Quote) Part(lines []Line) (Quote, *FieldError) {
	priced, fe := q.priced(lines)
	if fe != nil {
		return Quote{}, fe
	}
	p := q
	p.Lines = make([]PricedLine, len(lines))
	p.Subtotal = money.Zero(q.Subtotal.Currency)
	for i, l := range lines {
		pl := priced[i]
		pl.Quantity = l.Quantity
		pl.Total = pl.UnitPrice.Times(l.Quantity)
		p.Lines[i] = pl
		p.Subtotal.Minor += pl.Total.Minor
	}
	p.Total = q.shareOf(q.Total, lines)
	p.Net, p.Tax = money.Money{}, money.Money{}
	if q.Net.Currency != "" {
		p.Net = q.shareOf(q.Net, lines)
		p.Tax = money.New(p.Total.Minor-p.Net.Minor, q.Total.Currency)
	}
	p.settleDiscount()
	return p, nil
}

// Remainder is what is left to invoice of the quote after the invoices
// billed: the quote's lines less theirs, for the quote's gross and net
// less theirs, so that the parts of an order add up to its quote to the
// minor unit however each part was rounded. An invoice without Lines
// billed the whole quote.
func (q Quote) Remainder(billed []Invoice) Quote {
	left := make([]Line, 0, len(q.Lines))
	for _, pl := range q.Lines {
		left = append(left, Line{SKU: pl.SKU, Quantity: pl.Quantity})
	}
	total, net := q.Total, q.Net
	for _, inv := range billed {
		if len(inv.Lines) == 0 {
			left = left[:0]
		}
		for _, l := range inv.Lines {
			for i := range left {
				if left[i].SKU == l.SKU {
					left[i].Quantity = max(0, left[i].Quantity-l.Quantity)
				}
			}
		}
		total.Minor -= inv.Amount.Minor
		if net.Currency != "" {
			net.Minor -= inv.Net.Minor
		}
	}
	p := q
	p.Lines = nil
	p.Subtotal = money.Zero(q.Subtotal.Currency)
	for _, pl := range q.Lines {
		for _, l := range left {
			if l.SKU == pl.SKU && l.Quantity > 0 {
				pl.Quantity, pl.Total = l.Quantity, pl.UnitPrice.Times(l.Quantity)
				p.Lines = append(p.Lines, pl)
				p.Subtotal.Minor += pl.Total.Minor
			}
		}
	}
	p.Total, p.Net = total, net
	if net.Currency != "" {
		p.Tax = money.New(total.Minor-net.Minor, total.Currency)
	}
	p.settleDiscount()
	return p
}

// settleDiscount sets a part's discount: what its lines' subtotal exceeds
// its net (its gross, without a VAT split) by.
func (q *Quote) settleDiscount() {
	beforeTax := q.Total
	if q.Net.Currency != "" {
		beforeTax = q.Net
	}
	q.Discount = money.New(max(0, q.Subtotal.Minor-beforeTax.Minor), q.Subtotal.Currency)
}

// PlainLines are the quote's lines without their prices: what a part bills.
func (q Quote) PlainLines() []Line {
	out := make([]Line, len(q.Lines))
	for i, pl := range q.Lines {
		out[i] = Line{SKU: pl.SKU, Quantity: pl.Quantity}
	}
	return out
}
