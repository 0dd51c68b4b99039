package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/order"
)

func TestInvoiceCreditorReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ number, body string }{
		{"INV-000001", "INV000001"},
		{"INV-2026-00042", "INV202600042"},
		{"inv 7", "INV7"},
	} {
		inv := order.Invoice{Number: tc.number}
		ref := inv.CreditorReference()
		require.True(t, creditref.Valid(ref), "%s: %s", tc.number, ref)
		body, err := creditref.Parse(ref)
		require.NoError(t, err)
		require.Equal(t, tc.body, body)
		require.Equal(t, tc.body, order.ReferenceBody(tc.number))
		require.Equal(t, creditref.Format(ref), inv.PaymentReference(), "printed in groups of four")
	}
	long := order.Invoice{Number: "INV-2026-0000000000000000042"}
	require.Empty(t, long.CreditorReference(), "more than 21 characters: no creditor reference")
	require.Equal(t, long.Number, long.PaymentReference(), "the number is quoted instead")
	require.Empty(t, order.Invoice{Number: "--"}.CreditorReference())
}
