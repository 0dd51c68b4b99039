package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func TestCloseFollowUpReopened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	rep := order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep}
	createOrder(t, s, "ord-lost", "ACME-001", order.StatusQuoteExpired, money.New(100, "EUR"))
	fu, _, err := s.OpenQuoteLostFollowUp(ctx, store.QuoteLost{OrderID: "ord-lost", CustomerID: "ACME-001", Reason: "expired", At: t0})
	require.NoError(t, err)

	_, err = s.FollowUpReopenedAs(ctx, fu)
	require.ErrorIs(t, err, store.ErrNotFound, "not re-opened yet")

	r := store.ReopenedFollowUp{FollowUpID: fu.ID, NewOrderID: "ord-new", Reason: "buyer called", By: rep, At: t0}
	closed, err := s.CloseFollowUpReopened(ctx, r)
	require.NoError(t, err)
	require.Equal(t, "re-opened as order ord-new: buyer called", closed.Note)
	require.Equal(t, rep.Subject, closed.ClosedBy)
	id, err := s.FollowUpReopenedAs(ctx, fu)
	require.NoError(t, err)
	require.Equal(t, "ord-new", id)

	// A repeat changes nothing; another new order is refused.
	_, err = s.CloseFollowUpReopened(ctx, r)
	require.NoError(t, err)
	r.NewOrderID = "ord-other"
	_, err = s.CloseFollowUpReopened(ctx, r)
	require.ErrorIs(t, err, store.ErrFollowUpClosed)
	log, err := s.AuditLog(ctx, "ord-lost")
	require.NoError(t, err)
	n := 0
	for _, e := range log {
		if e.Action == "followup.reopened" {
			n++
		}
	}
	require.Equal(t, 1, n, "audited once, on the lost order")

	// A detractor follow-up does not re-open.
	var detractor int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO followups (kind, order_id, customer_id, survey_token, score, owner, opened_at)
		VALUES ('detractor', 'ord-lost', 'ACME-001', 'tok-d', 2, 'anna.rep@seller.example', $1) RETURNING id`, t0).Scan(&detractor))
	_, err = s.CloseFollowUpReopened(ctx, store.ReopenedFollowUp{FollowUpID: detractor, NewOrderID: "ord-new", Reason: "x", By: rep})
	require.ErrorIs(t, err, store.ErrNotQuoteLost)
	_, err = s.CloseFollowUpReopened(ctx, store.ReopenedFollowUp{FollowUpID: 999999, NewOrderID: "ord-new", Reason: "x", By: rep})
	require.ErrorIs(t, err, store.ErrNotFound)
}
