package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// A quote of two lines, 5 % discount, 19 % VAT: subtotal 1000.00, net
// 950.00, tax 180.50, gross 1130.50.
func returnQuote() order.Quote {
	return order.Quote{
		Lines: []order.PricedLine{
			{SKU: "PUMP", Quantity: 4, UnitPrice: eur(20_000), Total: eur(80_000)},
			{SKU: "SEAL", Quantity: 100, UnitPrice: eur(200), Total: eur(20_000)},
		},
		Subtotal: eur(100_000), DiscountBP: 500, Discount: eur(5_000), Net: eur(95_000),
		TaxRateBP: 1900, Tax: eur(18_050), Total: eur(113_050),
	}
}

func TestCreditForReturnedLines(t *testing.T) {
	q := returnQuote()
	for _, tc := range []struct {
		name  string
		lines []order.Line
		want  int64
		field string
	}{
		// 200.00 list, less 5 %, plus 19 %: 226.10.
		{name: "one pump", lines: []order.Line{{SKU: "PUMP", Quantity: 1}}, want: 22_610},
		{name: "every pump", lines: []order.Line{{SKU: "PUMP", Quantity: 4}}, want: 90_440},
		// 2.00 × 0.95 × 1.19 = 2.261 → 2.26 each; 3 → 6.783 → 6.78.
		{name: "three seals round once", lines: []order.Line{{SKU: "SEAL", Quantity: 3}}, want: 678},
		{name: "everything is the gross", lines: []order.Line{{SKU: "PUMP", Quantity: 4}, {SKU: "SEAL", Quantity: 100}}, want: 113_050},
		{name: "unknown sku", lines: []order.Line{{SKU: "PUMP", Quantity: 1}, {SKU: "VALVE", Quantity: 1}}, field: "lines[1].sku"},
		{name: "more than ordered", lines: []order.Line{{SKU: "PUMP", Quantity: 5}}, field: "lines[0].quantity"},
		{name: "nothing", lines: []order.Line{{SKU: "PUMP", Quantity: 0}}, field: "lines[0].quantity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fe := q.CreditFor(tc.lines)
			if tc.field != "" {
				require.NotNil(t, fe)
				require.Equal(t, tc.field, fe.Field)
				return
			}
			require.Nil(t, fe)
			require.Equal(t, eur(tc.want), got)
		})
	}
}

func TestReturnableCountsWhatTheCustomerHolds(t *testing.T) {
	ships := []order.Shipment{
		{ShipmentID: "S1", Delivered: true, Lines: []order.Line{{SKU: "PUMP", Quantity: 4}}},
		// Lost, reshipped as S3: its goods never arrived.
		{ShipmentID: "S2", Replaced: true, Lines: []order.Line{{SKU: "SEAL", Quantity: 100}}},
		{ShipmentID: "S3", Replaces: "S2", Delivered: true, Lines: []order.Line{{SKU: "SEAL", Quantity: 100}}},
		// Damaged on arrival and reshipped as S5, still on its way.
		{ShipmentID: "S4", Delivered: true, Replaced: true, Lines: []order.Line{{SKU: "VALVE", Quantity: 2}}},
		{ShipmentID: "S5", Replaces: "S4", Lines: []order.Line{{SKU: "VALVE", Quantity: 2}}},
	}
	got := order.Returnable(ships, []order.Line{{SKU: "PUMP", Quantity: 1}, {SKU: "PUMP", Quantity: 2}})
	require.Equal(t, []order.Line{{SKU: "PUMP", Quantity: 1}, {SKU: "SEAL", Quantity: 100}}, got)
}

func TestShortPaymentTolerance(t *testing.T) {
	terms := order.Terms{ShortPayTolerance: eur(500), ShortPayToleranceBP: 50} // 5.00 EUR or 0.5 %, the smaller
	for _, tc := range []struct {
		name         string
		gross, short int64
		want         bool
	}{
		{"a bank fee on a large invoice", 574_841, 250, true},
		{"the absolute cap", 574_841, 500, true},
		{"past the absolute cap", 574_841, 501, false},
		// 0.5 % of 200.00 is 1.00: a 2.00 shortfall is too much on a small invoice.
		{"past the percentage on a small invoice", 20_000, 200, false},
		{"within the percentage on a small invoice", 20_000, 100, true},
		{"nothing short", 574_841, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, terms.Tolerated(eur(tc.gross), eur(tc.short)))
		})
	}
	require.False(t, order.Terms{}.Tolerated(eur(10_000), eur(1)), "no tolerance set")
	require.False(t, terms.Tolerated(eur(10_000), money.New(1, "USD")))
}
