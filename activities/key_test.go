package activities_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orderflow/orderflow/activities"
)

func TestKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		orderID string
		steps   []string
		want    string
	}{
		{"one step", "ord-1", []string{"sales-order"}, "ord-1/sales-order"},
		{"step with a warehouse", "ord-1", []string{"shipment", "WH-NORTH"}, "ord-1/shipment/WH-NORTH"},
		{"another warehouse is another key", "ord-1", []string{"shipment", "WH-SOUTH"}, "ord-1/shipment/WH-SOUTH"},
		{"another order is another key", "ord-2", []string{"sales-order"}, "ord-2/sales-order"},
		{"three parts", "ord-1", []string{"mail", "quote", "2"}, "ord-1/mail/quote/2"},
		{"no step", "ord-1", nil, "ord-1/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := activities.Key(tc.orderID, tc.steps...)
			assert.Equal(t, tc.want, got)
			// Stable: a retry computes the key again and must get the same one.
			assert.Equal(t, got, activities.Key(tc.orderID, tc.steps...))
		})
	}
}
