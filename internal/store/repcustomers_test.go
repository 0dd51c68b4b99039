package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func TestRepCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	day := 24 * time.Hour
	at := t0.Add(400 * day)

	// Anna's ACME is active, her INITECH dormant, Ben's GLOBEX dormant
	// longer; Anna's ZETA (named by her e-mail in another case) has no
	// insight yet.
	last, next, since := at.Add(-20*day), at.Add(10*day), at.Add(-30*day)
	require.NoError(t, s.UpsertCustomerInsight(ctx, store.CustomerInsight{CustomerID: "ACME-001", Orders: 4,
		LastOrderAt: &last, UsualInterval: 30 * day, NextExpectedAt: &next, NextExpectedSKU: "GLOVES-L", OpenQuotes: 1,
		Version: 3, UpdatedAt: at}))
	require.NoError(t, s.UpsertCustomerInsight(ctx, store.CustomerInsight{CustomerID: "INITECH-003", Orders: 3,
		LastOrderAt: &last, UsualInterval: 5 * day, DormantSince: &since, Version: 1, UpdatedAt: at}))
	earlier := since.Add(-day)
	require.NoError(t, s.UpsertCustomerInsight(ctx, store.CustomerInsight{CustomerID: "GLOBEX-002", Orders: 3,
		DormantSince: &earlier, Version: 1, UpdatedAt: at}))
	terms, err := s.Terms(ctx, "ACME-001")
	require.NoError(t, err)
	terms.CustomerID, terms.CustomerName, terms.RepEmail = "ZETA-004", "Zeta", "Anna.Rep@seller.example"
	require.NoError(t, s.UpsertCustomer(ctx, terms))

	// ACME: an open quote first priced 3 days ago, and NPS answers: a
	// promoter and a detractor this year, a promoter 13 months ago.
	createOrder(t, s, "ord-q", "ACME-001", order.StatusAwaitingAcceptance, money.New(100, "EUR"))
	for rev, age := range []time.Duration{3 * day, day} {
		_, err := pool.Exec(ctx, `INSERT INTO quotes (order_id, revision, body, total_minor, currency, valid_until, created_at)
			VALUES ('ord-q', $1, '{}', 100, 'EUR', $2, $3)`, rev+1, at.Add(30*day), at.Add(-age))
		require.NoError(t, err)
	}
	for i, a := range []struct {
		score int
		ago   time.Duration
	}{{10, 10 * day}, {3, 100 * day}, {9, 395 * day}} {
		id := "ord-s" + string(rune('a'+i))
		createOrder(t, s, id, "ACME-001", order.StatusCompleted, money.New(100, "EUR"))
		_, err := pool.Exec(ctx, `INSERT INTO surveys (token, order_id, expires_at, score, answered_at)
			VALUES ($1, $2, $3, $4, $3)`, "tok-"+id, id, at.Add(-a.ago), a.score)
		require.NoError(t, err)
	}

	anna := []string{"anna.rep@seller.example"}
	got, err := s.RepCustomers(ctx, store.RepCustomerFilter{Reps: anna, At: at})
	require.NoError(t, err)
	ids := func(p store.Page[store.RepCustomer]) []string {
		var out []string
		for _, c := range p.Items {
			out = append(out, c.CustomerID)
		}
		return out
	}
	// Anna's customers, the dormant one first; Ben's GLOBEX is not hers.
	require.Equal(t, []string{"INITECH-003", "ACME-001", "ZETA-004"}, ids(got))
	require.Empty(t, got.Next)

	acme := got.Items[1]
	require.True(t, acme.Insight)
	require.Equal(t, "Anna Rep", acme.RepName)
	require.Equal(t, 4, acme.Orders)
	require.Equal(t, last, acme.LastOrderAt.UTC())
	require.Equal(t, 30*day, acme.UsualInterval)
	require.Equal(t, next, acme.NextExpectedAt.UTC())
	require.Equal(t, "GLOVES-L", acme.NextExpectedSKU)
	require.Equal(t, 1, acme.OpenQuotes)
	require.Equal(t, at.Add(-3*day), acme.OldestOpenQuoteAt.UTC(), "the open quote's first revision")
	require.False(t, acme.Dormant())
	require.Equal(t, 2, acme.NPSAnswers, "the answer of 13 months ago does not count")
	require.InDelta(t, 0.0, *acme.NPS(), 0.001)

	initech := got.Items[0]
	require.True(t, initech.Dormant())
	require.Equal(t, since, initech.DormantSince.UTC())
	require.Nil(t, initech.NPS())

	zeta := got.Items[2]
	require.False(t, zeta.Insight, "no insight yet: listed with empty fields")
	require.Zero(t, zeta.Orders)
	require.Nil(t, zeta.LastOrderAt)
	require.Nil(t, zeta.NextExpectedAt)

	// dormant=true keeps the dormant ones.
	got, err = s.RepCustomers(ctx, store.RepCustomerFilter{Reps: anna, DormantOnly: true, At: at})
	require.NoError(t, err)
	require.Equal(t, []string{"INITECH-003"}, ids(got))

	// Every rep's, page by page: the dormant ones first (by since, then id).
	var all []string
	f := store.RepCustomerFilter{At: at, Limit: 1}
	for {
		p, err := s.RepCustomers(ctx, f)
		require.NoError(t, err)
		all = append(all, ids(p)...)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	require.Equal(t, []string{"GLOBEX-002", "INITECH-003", "ACME-001", "ZETA-004"}, all)

	_, err = s.RepCustomers(ctx, store.RepCustomerFilter{After: "nonsense"})
	require.ErrorIs(t, err, store.ErrBadCursor)
}
