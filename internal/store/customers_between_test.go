package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/store"
)

func claim(key, email string, at time.Time) store.MarketingClaim {
	return store.MarketingClaim{Key: key, CustomerID: "ACME-001", Email: email, Kind: "reorder-reminder", At: at,
		Cap: 1, Window: 7 * 24 * time.Hour}
}

func TestMarketingFrequencyCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	out, err := s.ClaimMarketingMail(ctx, claim("k1", "Pat@Acme.example", t0))
	require.NoError(t, err)
	require.Equal(t, store.MarketingSent, out.Decision)
	require.True(t, out.First)

	// A second marketing mail to the same contact within the week is capped;
	// another contact is not.
	out, err = s.ClaimMarketingMail(ctx, claim("k2", "pat@acme.example", t0.Add(6*24*time.Hour)))
	require.NoError(t, err)
	require.Equal(t, store.MarketingCapped, out.Decision)
	out, err = s.ClaimMarketingMail(ctx, claim("k2", "lee@acme.example", t0.Add(6*24*time.Hour)))
	require.NoError(t, err)
	require.Equal(t, store.MarketingSent, out.Decision)

	// A replay answers the first decision, even once the window has passed.
	out, err = s.ClaimMarketingMail(ctx, claim("k2", "pat@acme.example", t0.Add(30*24*time.Hour)))
	require.NoError(t, err)
	require.Equal(t, store.MarketingCapped, out.Decision)
	require.False(t, out.First)

	// After the window, the contact may be mailed again.
	out, err = s.ClaimMarketingMail(ctx, claim("k3", "pat@acme.example", t0.Add(7*24*time.Hour+time.Second)))
	require.NoError(t, err)
	require.Equal(t, store.MarketingSent, out.Decision)

	require.NoError(t, s.MarkMarketingSent(ctx, "k1", "PAT@acme.example", t0.Add(time.Minute)))
	out, err = s.ClaimMarketingMail(ctx, claim("k1", "pat@acme.example", t0))
	require.NoError(t, err)
	require.NotNil(t, out.SentAt, "a retried send learns the mail is out")

	mails, err := s.MarketingMails(ctx, "ACME-001")
	require.NoError(t, err)
	require.Len(t, mails, 4)

	// Every decision is on the customer's audit chain.
	log, err := s.AuditLog(ctx, store.CustomerAuditID("ACME-001"))
	require.NoError(t, err)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		require.Equal(t, "system", string(e.Actor.Role))
	}
	require.Equal(t, []string{"marketing.sent", "marketing.suppressed", "marketing.sent", "marketing.sent"}, actions)
	require.Contains(t, log[1].Reason, "cap 1")
	rep, err := s.VerifyAudit(ctx, store.AuditVerifyOptions{})
	require.NoError(t, err)
	require.True(t, rep.OK, "the customer's entries chain: %+v", rep)
}

func TestMarketingCapHoldsUnderConcurrentClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	var wg sync.WaitGroup
	decisions := make([]store.MarketingDecision, 8)
	for i := range decisions {
		wg.Go(func() {
			out, err := s.ClaimMarketingMail(ctx, claim("race-"+string(rune('a'+i)), "pat@acme.example", t0))
			require.NoError(t, err)
			decisions[i] = out.Decision
		})
	}
	wg.Wait()
	sent := 0
	for _, d := range decisions {
		if d == store.MarketingSent {
			sent++
		}
	}
	require.Equal(t, 1, sent, "one mail passes a cap of one: %v", decisions)
}

func TestOptOutIsHonouredAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	first, err := s.OptOut(ctx, store.MarketingOptOut{CustomerID: "ACME-001", Email: "Pat@Acme.example", How: "link", At: t0})
	require.NoError(t, err)
	require.True(t, first)
	first, err = s.OptOut(ctx, store.MarketingOptOut{CustomerID: "ACME-001", Email: "pat@acme.example", How: "link", At: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.False(t, first, "a repeat keeps the first")
	out, err := s.OptedOut(ctx, "ACME-001", "PAT@acme.example")
	require.NoError(t, err)
	require.True(t, out)
	other, err := s.OptedOut(ctx, "GLOBEX-002", "pat@acme.example")
	require.NoError(t, err)
	require.False(t, other, "an opt-out is per customer and contact")

	c, err := s.ClaimMarketingMail(ctx, claim("k1", "pat@acme.example", t0.Add(time.Minute)))
	require.NoError(t, err)
	require.Equal(t, store.MarketingOptedOut, c.Decision)

	log, err := s.AuditLog(ctx, store.CustomerAuditID("ACME-001"))
	require.NoError(t, err)
	require.Len(t, log, 2)
	require.Equal(t, "marketing.opted-out", log[0].Action)
	require.Equal(t, "pat@acme.example", log[0].Actor.Subject)
	require.Equal(t, "marketing.suppressed", log[1].Action)
	require.Contains(t, log[1].Reason, "opted out")
}

func TestQuoteLostFollowUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	fu, created, err := s.OpenQuoteLostFollowUp(ctx, store.QuoteLost{OrderID: "ord-1", CustomerID: "ACME-001", Reason: "too expensive", At: t0})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, store.FollowUpKindQuoteLost, fu.Kind)
	require.Equal(t, "anna.rep@seller.example", fu.Owner)
	require.Equal(t, "too expensive", fu.Comment)
	require.Nil(t, fu.Score)

	again, created, err := s.OpenQuoteLostFollowUp(ctx, store.QuoteLost{OrderID: "ord-1", CustomerID: "ACME-001", Reason: "other", At: t0})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, fu.ID, again.ID)

	open, err := s.FollowUps(ctx, store.FollowUpFilter{Open: true, Owner: "anna.rep@seller.example"})
	require.NoError(t, err)
	require.Len(t, open, 1, "the rep's worklist shows it")
	log, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, log, 1)
	require.Equal(t, "followup.opened", log[0].Action)
}

func TestCustomerInsightNewerVersionWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	_, err := s.CustomerInsight(ctx, "ACME-001")
	require.ErrorIs(t, err, store.ErrNotFound)
	last, next, dormant := t0, t0.Add(30*24*time.Hour), t0.Add(60*24*time.Hour)
	ci := store.CustomerInsight{CustomerID: "ACME-001", Orders: 3, LastOrderAt: &last, UsualInterval: 30 * 24 * time.Hour,
		NextExpectedAt: &next, NextExpectedSKU: "GLOVES", OpenQuotes: 1, DormantSince: &dormant, Version: 5, UpdatedAt: t0}
	require.NoError(t, s.UpsertCustomerInsight(ctx, ci))
	older := ci
	older.Version, older.Orders = 4, 2
	require.NoError(t, s.UpsertCustomerInsight(ctx, older))
	got, err := s.CustomerInsight(ctx, "ACME-001")
	require.NoError(t, err)
	require.Equal(t, ci, got)
	newer := store.CustomerInsight{CustomerID: "ACME-001", Orders: 4, Version: 6, UpdatedAt: t0}
	require.NoError(t, s.UpsertCustomerInsight(ctx, newer))
	got, err = s.CustomerInsight(ctx, "ACME-001")
	require.NoError(t, err)
	require.Equal(t, newer, got)
}
