package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

func TestCurrencyTraded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))

	traded := func(c string) bool {
		ok, err := s.CurrencyTraded(ctx, c)
		require.NoError(t, err)
		return ok
	}
	require.True(t, traded("EUR"), "a customer's terms are in EUR")
	require.True(t, traded("USD"))
	require.False(t, traded("CHF"))
	require.False(t, traded("eur"))
	require.False(t, traded(""))

	// An invoice in a currency no customer's terms name any more still counts.
	require.NoError(t, s.SaveInvoice(ctx, "ord-chf", order.Invoice{InvoiceID: "inv-chf", Number: "INV-CHF-1",
		Amount: money.New(100, "CHF"), IssuedAt: t0, DueDate: t0}))
	require.True(t, traded("CHF"))
}
