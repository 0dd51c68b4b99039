package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func TestDelegationsInForceAndRevoked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	boss := order.Actor{Subject: "boss@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"}
	d := store.Delegation{ID: "DLG-1", From: boss, To: "pat@acme", StartsAt: now, EndsAt: now.Add(14 * 24 * time.Hour),
		Reason: "holiday", CreatedAt: now}
	got, err := s.CreateDelegation(ctx, d)
	require.NoError(t, err)
	require.Equal(t, d, got)

	// A retried request is the same delegation; another with the same id is refused.
	_, err = s.CreateDelegation(ctx, d)
	require.NoError(t, err)
	other := d
	other.To = "eve@acme"
	_, err = s.CreateDelegation(ctx, other)
	require.ErrorIs(t, err, store.ErrDuplicate)

	for _, tc := range []struct {
		at   time.Time
		want int
	}{{now.Add(-time.Minute), 0}, {now, 1}, {now.Add(13 * 24 * time.Hour), 1}, {d.EndsAt, 0}} {
		in, err := s.DelegationsTo(ctx, "pat@acme", tc.at)
		require.NoError(t, err)
		require.Len(t, in, tc.want, "at %s", tc.at)
		require.Equal(t, tc.want == 1, d.InForce(tc.at))
	}
	mine, err := s.Delegations(ctx, "boss@acme")
	require.NoError(t, err)
	require.Len(t, mine, 1)

	// Only the approver who gave it revokes it; it stays on record.
	_, err = s.RevokeDelegation(ctx, "DLG-1", "pat@acme", now)
	require.True(t, errors.Is(err, store.ErrNotFound))
	r, err := s.RevokeDelegation(ctx, "DLG-1", "boss@acme", now.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, r.InForce(now.Add(2*time.Hour)))
	again, err := s.RevokeDelegation(ctx, "DLG-1", "boss@acme", now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, r.RevokedAt, again.RevokedAt, "revoking twice keeps the first time")
	in, err := s.DelegationsTo(ctx, "pat@acme", now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, in)
}

func TestRevokedTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	revoked, err := s.TokenRevoked(ctx, "abc")
	require.NoError(t, err)
	require.False(t, revoked)
	require.NoError(t, s.RevokeToken(ctx, "abc", "ops@seller", "laptop stolen", now, now.Add(time.Hour)))
	require.NoError(t, s.RevokeToken(ctx, "abc", "ops@seller", "again", now, time.Time{}))
	revoked, err = s.TokenRevoked(ctx, "abc")
	require.NoError(t, err)
	require.True(t, revoked)
	require.Error(t, s.RevokeToken(ctx, "def", "", "no one", now, now))
}

// Terms change by versions: each audited with who and why, in force from
// its date; a version for later waits, and comes into force by itself.
func TestTermsVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	acme := store.DemoCustomers()[0]
	acme.CustomerID = "NEW-CUST"

	v1, err := s.ChangeTerms(ctx, acme, now.Add(48*time.Hour), "sam@sales", "new customer", now)
	require.NoError(t, err)
	require.Equal(t, 1, v1.Version)
	require.Equal(t, now, v1.EffectiveFrom, "a new customer's first terms are in force at once")
	got, err := s.Terms(ctx, "NEW-CUST")
	require.NoError(t, err)
	require.Equal(t, 1, got.Version)
	require.Equal(t, v1.Hash, got.Hash)
	require.Empty(t, got.Contacts, "contacts are not terms")
	again, err := s.ChangeTerms(ctx, acme, now, "sam@sales", "new customer", now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, v1, again, "the same terms again (a retry) record no new version")

	later := acme
	later.DiscountBP = 500
	v2, err := s.ChangeTerms(ctx, later, now.Add(24*time.Hour), "sam@sales", "volume agreement from tomorrow", now)
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version)
	require.NotEqual(t, v1.Hash, v2.Hash)
	got, err = s.Terms(ctx, "NEW-CUST")
	require.NoError(t, err)
	require.Equal(t, 1, got.Version, "version 2 waits for its date")
	require.Equal(t, int64(300), got.DiscountBP)

	// A credit check after the date decides on the new version's limit.
	later.CreditLimit = money.New(100, "EUR")
	_, err = s.ChangeTerms(ctx, later, now.Add(24*time.Hour), "sam@sales", "tighter limit too", now)
	require.NoError(t, err)
	now = now.Add(25 * time.Hour)
	createOrder(t, s, "ord-limit", "NEW-CUST", order.StatusCreditCheck, money.New(500, "EUR"))
	e, err := s.DecideCredit(ctx, store.CreditCheck{OrderID: "ord-limit", CustomerID: "NEW-CUST", Amount: money.New(500, "EUR"), Receivables: money.New(0, "EUR")})
	require.NoError(t, err)
	require.Equal(t, money.New(100, "EUR"), e.Limit, "the limit of the version in force now")
	require.False(t, e.WithinLimit)
	got, err = s.Terms(ctx, "NEW-CUST")
	require.NoError(t, err)
	require.Equal(t, 3, got.Version, "in force by itself once its date came")
	require.Equal(t, int64(500), got.DiscountBP)
	require.NotEqual(t, v2.Hash, got.Hash, "version 3 came after it")

	vs, err := s.TermsVersions(ctx, "NEW-CUST")
	require.NoError(t, err)
	require.Len(t, vs, 3)
	require.Equal(t, "volume agreement from tomorrow", vs[1].Reason)
	require.Equal(t, "sam@sales", vs[0].ChangedBy)

	bad := acme
	bad.Currency = "EURO"
	_, err = s.ChangeTerms(ctx, bad, now, "sam@sales", "typo", now)
	require.Error(t, err)
	_, err = s.ChangeTerms(ctx, acme, now, "sam@sales", "", now)
	require.Error(t, err, "a change says why")
}
