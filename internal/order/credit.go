package order

import (
	"fmt"
	"math/big"

	"github.com/orderflow/orderflow/internal/money"
)

// CreditFor is the gross amount a credit note gives back for lines of a
// quote (a return, or a credit by lines): each line's share of the
// quote's gross, in proportion to the line total it credits, so the
// discount and the VAT are credited as they were charged. Crediting every
// line in full gives back the quote's gross to within a minor unit per
// line; callers cap the result at what is left to credit.
//
// A SKU the quote does not hold, or more of it than it holds, is a
// FieldError on lines[i].
func (q Quote) CreditFor(lines []Line) (money.Money, *FieldError) {
	if _, fe := q.priced(lines); fe != nil {
		return money.Money{}, fe
	}
	return q.shareOf(q.Total, lines), nil
}

// priced finds each line's priced line in the quote; a SKU the quote does
// not hold, or more of it than it holds, is a FieldError on lines[i].
func (q Quote) priced(lines []Line) ([]PricedLine, *FieldError) {
	out := make([]PricedLine, len(lines))
	for i, l := range lines {
		field := fmt.Sprintf("lines[%d]", i)
		j := -1
		for k, pl := range q.Lines {
			if pl.SKU == l.SKU {
				j = k
			}
		}
		switch {
		case j < 0:
			return nil, &FieldError{Field: field + ".sku", Reason: fmt.Sprintf("the order holds no %s", l.SKU)}
		case l.Quantity <= 0 || l.Quantity > q.Lines[j].Quantity:
			return nil, &FieldError{Field: field + ".quantity", Reason: fmt.Sprintf("between 1 and %d, the quantity ordered", q.Lines[j].Quantity)}
		}
		out[i] = q.Lines[j]
	}
	return out, nil
}

// shareOf is lines' share of amount (the quote's gross or net): per line,
// amount × line total × quantity / (subtotal × quantity ordered), rounded
// half up. The caller has checked the lines (priced).
func (q Quote) shareOf(amount money.Money, lines []Line) money.Money {
	sum := money.Zero(amount.Currency)
	for _, l := range lines {
		var pl PricedLine
		for _, p := range q.Lines {
			if p.SKU == l.SKU {
				pl = p
			}
		}
		num := new(big.Int).Mul(big.NewInt(amount.Minor), big.NewInt(pl.Total.Minor))
		num.Mul(num, big.NewInt(l.Quantity))
		den := new(big.Int).Mul(big.NewInt(q.Subtotal.Minor), big.NewInt(pl.Quantity))
		if den.Sign() == 0 {
			continue
		}
		num.Mul(num, big.NewInt(2)).Add(num, den)
		num.Quo(num, den.Mul(den, big.NewInt(2)))
		sum.Minor += num.Int64()
	}
	return sum
}

// Returnable is how many of each SKU the customer holds: what delivered
// shipments brought (a shipment reshipped counts through its reship, not
// itself) less what returns took back already, in the order the SKUs
// first appear.
func Returnable(shipments []Shipment, returned []Line) []Line {
	var out []Line
	add := func(sku string, n int64) {
		for i := range out {
			if out[i].SKU == sku {
				out[i].Quantity += n
				return
			}
		}
		out = append(out, Line{SKU: sku, Quantity: n})
	}
	for _, s := range shipments {
		if !s.Delivered || s.Replaced {
			continue
		}
		for _, l := range s.Lines {
			add(l.SKU, l.Quantity)
		}
	}
	for _, l := range returned {
		add(l.SKU, -l.Quantity)
	}
	return out
}
