package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
)

// tellerFunc is a CustomerTeller from a function.
type tellerFunc func(ctx context.Context, ev order.Event) error

func (f tellerFunc) TellCustomer(ctx context.Context, ev order.Event) error { return f(ctx, ev) }

func TestTellCustomer(t *testing.T) {
	t.Parallel()
	ev := order.Event{OrderID: "ord-1", CustomerID: "ACME-001", Kind: order.EventAccepted,
		At: time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC), Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 100}}}

	var got []order.Event
	acts := &activities.Activities{Customers: tellerFunc(func(_ context.Context, ev order.Event) error {
		got = append(got, ev)
		return nil
	})}
	_, err := newEnv(acts).ExecuteActivity(acts.TellCustomer, activities.TellCustomerInput{Event: ev})
	require.NoError(t, err)
	require.Equal(t, []order.Event{ev}, got, "the milestone reaches the customer's workflow as the order sent it")

	for name, tc := range map[string]struct {
		acts      *activities.Activities
		ev        order.Event
		retryable bool
	}{
		"no customer": {&activities.Activities{Customers: tellerFunc(func(context.Context, order.Event) error { return nil })},
			order.Event{OrderID: "ord-1", Kind: order.EventQuoted}, false},
		"no Temporal client on this worker": {&activities.Activities{}, ev, false},
		"Temporal down": {&activities.Activities{Customers: tellerFunc(func(context.Context, order.Event) error {
			return errors.New("connection refused")
		})}, ev, true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := newEnv(tc.acts).ExecuteActivity(tc.acts.TellCustomer, activities.TellCustomerInput{Event: tc.ev})
			require.Error(t, err)
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, !tc.retryable, appErr.NonRetryable(), "%v", err)
		})
	}
}
