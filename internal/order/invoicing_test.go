package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// An order invoiced per shipment: each part is its lines' share, and the
// parts add up to the quote to the minor unit whatever the split.
func TestPartsOfAQuoteAddUpToIt(t *testing.T) {
	q := returnQuote() // subtotal 1000.00, net 950.00, tax 180.50, gross 1130.50
	for _, tc := range []struct {
		name   string
		splits [][]order.Line // every shipment but the last; the last takes the remainder
		first  order.Quote    // what the first part bills
	}{
		{
			name:   "pumps then seals",
			splits: [][]order.Line{{{SKU: "PUMP", Quantity: 4}}},
			// 800.00 less 5 % = 760.00 net, 144.40 VAT, 904.40 gross.
			first: order.Quote{Subtotal: eur(80_000), Discount: eur(4_000), Net: eur(76_000), Tax: eur(14_440), Total: eur(90_440)},
		},
		{
			name:   "seals split in three, rounding each",
			splits: [][]order.Line{{{SKU: "SEAL", Quantity: 3}}, {{SKU: "SEAL", Quantity: 3}}, {{SKU: "PUMP", Quantity: 1}, {SKU: "SEAL", Quantity: 3}}},
			// 6.00 less 5 % = 5.70 net, 1.083 → 1.08 VAT, 6.783 → 6.78 gross.
			first: order.Quote{Subtotal: eur(600), Discount: eur(30), Net: eur(570), Tax: eur(108), Total: eur(678)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var billed []order.Invoice
			for i, lines := range tc.splits {
				p, fe := q.Part(lines)
				require.Nil(t, fe)
				if i == 0 {
					require.Equal(t, tc.first.Subtotal, p.Subtotal, "subtotal")
					require.Equal(t, tc.first.Discount, p.Discount, "discount")
					require.Equal(t, tc.first.Net, p.Net, "net")
					require.Equal(t, tc.first.Tax, p.Tax, "tax")
					require.Equal(t, tc.first.Total, p.Total, "gross")
				}
				require.Equal(t, p.Total.Minor, p.Net.Minor+p.Tax.Minor)
				require.Equal(t, lines, p.PlainLines())
				billed = append(billed, order.Invoice{Amount: p.Total, Net: p.Net, Tax: p.Tax, Lines: lines})
			}
			last := q.Remainder(billed)
			sum := last.Total
			net := last.Net
			for _, b := range billed {
				sum.Minor += b.Amount.Minor
				net.Minor += b.Net.Minor
			}
			require.Equal(t, q.Total, sum, "the parts' gross is the quote's")
			require.Equal(t, q.Net, net, "the parts' net is the quote's")
			require.Equal(t, last.Total.Minor, last.Net.Minor+last.Tax.Minor)
			require.NotEmpty(t, last.Lines)
			for _, pl := range last.Lines {
				require.Equal(t, pl.UnitPrice.Times(pl.Quantity), pl.Total)
			}
		})
	}
}

func TestRemainderBillsWhatIsLeftOfTheQuote(t *testing.T) {
	q := returnQuote()
	p, fe := q.Part([]order.Line{{SKU: "PUMP", Quantity: 3}})
	require.Nil(t, fe)
	rest := q.Remainder([]order.Invoice{{Amount: p.Total, Net: p.Net, Tax: p.Tax, Lines: p.PlainLines()}})
	require.Equal(t, []order.Line{{SKU: "PUMP", Quantity: 1}, {SKU: "SEAL", Quantity: 100}}, rest.PlainLines())
	// 200.00 + 200.00 = 400.00 subtotal, 380.00 net, 72.20 VAT, 452.20 gross.
	require.Equal(t, eur(40_000), rest.Subtotal)
	require.Equal(t, eur(38_000), rest.Net)
	require.Equal(t, eur(7_220), rest.Tax)
	require.Equal(t, eur(45_220), rest.Total)
	require.Equal(t, eur(2_000), rest.Discount)

	// Nothing billed yet: the remainder is the quote.
	whole := q.Remainder(nil)
	require.Equal(t, q.Total, whole.Total)
	require.Equal(t, q.Lines, whole.Lines)
}

func TestPartRefusesLinesTheQuoteDoesNotHold(t *testing.T) {
	q := returnQuote()
	_, fe := q.Part([]order.Line{{SKU: "VALVE", Quantity: 1}})
	require.NotNil(t, fe)
	require.Equal(t, "lines[0].sku", fe.Field)
	_, fe = q.Part([]order.Line{{SKU: "SEAL", Quantity: 101}})
	require.NotNil(t, fe)
	require.Equal(t, "lines[0].quantity", fe.Field)
}

// A quote priced before the VAT split has parts without one.
func TestPartOfAQuoteWithoutVATSplit(t *testing.T) {
	q := returnQuote()
	q.Net, q.Tax, q.TaxRateBP, q.Total = money.Money{}, money.Money{}, 0, eur(95_000)
	p, fe := q.Part([]order.Line{{SKU: "PUMP", Quantity: 2}})
	require.Nil(t, fe)
	require.Equal(t, eur(38_000), p.Total)
	require.Empty(t, p.Net.Currency)
	require.Equal(t, eur(2_000), p.Discount)
}
