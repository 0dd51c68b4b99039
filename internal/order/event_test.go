package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

func TestEventKey(t *testing.T) {
	t.Parallel()
	q1 := order.Event{OrderID: "ord-1", Kind: order.EventQuoted, QuoteRevision: 1}
	q2 := order.Event{OrderID: "ord-1", Kind: order.EventQuoted, QuoteRevision: 2}
	acc := order.Event{OrderID: "ord-1", Kind: order.EventAccepted, QuoteRevision: 2}
	require.Equal(t, "ord-1/quoted/1", q1.Key())
	require.NotEqual(t, q1.Key(), q2.Key(), "each revision is quoted once")
	require.Equal(t, "ord-1/accepted", acc.Key(), "an order is accepted once, whatever the revision")
}
