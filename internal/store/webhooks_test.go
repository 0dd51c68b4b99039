package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
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

func TestWebhookOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	_, err := s.LookupWebhookEvent(ctx, "logistics", "ev-u")
	require.ErrorIs(t, err, store.ErrNotFound)

	// An event for a shipment we do not know is recorded, not handled.
	fresh, err := s.RecordWebhookOutcome(ctx, "logistics", "ev-u", store.WebhookOutcomeUnknownShipment, []byte(`{"shipment_id":"SHP-X"}`))
	require.NoError(t, err)
	require.True(t, fresh)
	ev, err := s.LookupWebhookEvent(ctx, "logistics", "ev-u")
	require.NoError(t, err)
	require.False(t, ev.Handled())
	require.Equal(t, 1, ev.Attempts)
	require.JSONEq(t, `{"shipment_id":"SHP-X"}`, string(ev.Payload))

	// A redelivery still unknown counts; once handled, the outcome sticks.
	fresh, err = s.RecordWebhookOutcome(ctx, "logistics", "ev-u", store.WebhookOutcomeUnknownShipment, []byte(`{"shipment_id":"SHP-X"}`))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.RecordWebhookOutcome(ctx, "logistics", "ev-u", "accepted", []byte(`{"shipment_id":"SHP-X","n":2}`))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.RecordWebhookOutcome(ctx, "logistics", "ev-u", store.WebhookOutcomeUnknownShipment, nil)
	require.NoError(t, err)
	require.False(t, fresh, "a handled event is never downgraded")
	ev, err = s.LookupWebhookEvent(ctx, "logistics", "ev-u")
	require.NoError(t, err)
	require.True(t, ev.Handled())
	require.Equal(t, "accepted", ev.Outcome)
	require.Equal(t, 3, ev.Attempts)

	// Unknown shipments can be listed.
	for _, id := range []string{"ev-a", "ev-b"} {
		_, err := s.RecordWebhookOutcome(ctx, "logistics", id, store.WebhookOutcomeUnknownShipment, nil)
		require.NoError(t, err)
	}
	_, err = s.RecordWebhookOutcome(ctx, "logistics", "ev-c", "accepted", nil)
	require.NoError(t, err)
	list, err := s.WebhookEventsByOutcome(ctx, "logistics", store.WebhookOutcomeUnknownShipment, 0)
	require.NoError(t, err)
	var ids []string
	for _, e := range list {
		ids = append(ids, e.EventID)
	}
	require.ElementsMatch(t, []string{"ev-a", "ev-b"}, ids)
}
