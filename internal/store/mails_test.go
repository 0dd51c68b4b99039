package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/store"
)

// A mail kept before it is sent is marked sent once, at the first time the
// mail system took it: a later mark (a retried send) keeps that time.
func TestMarkMailSent(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	m := store.Mail{Key: "ord_1/mail/quote", OrderID: "ord_1", CustomerID: "ACME-001", Kind: "quote", Audience: "buyer", Data: json.RawMessage(`{}`)}
	require.NoError(t, s.SaveMail(ctx, m))

	kept, err := s.Mail(ctx, m.Key)
	require.NoError(t, err)
	require.Nil(t, kept.SentAt, "not sent yet")

	first := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	require.NoError(t, s.MarkMailSent(ctx, m.Key, first))
	require.NoError(t, s.MarkMailSent(ctx, m.Key, first.Add(time.Hour)))
	kept, err = s.Mail(ctx, m.Key)
	require.NoError(t, err)
	require.NotNil(t, kept.SentAt)
	require.True(t, kept.SentAt.Equal(first), "sent at %s, want the first mark %s", kept.SentAt, first)

	require.ErrorIs(t, s.MarkMailSent(ctx, "ord_1/mail/none", first), store.ErrNotFound)
}
