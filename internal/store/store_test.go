package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
)

// t0 has no sub-microsecond part, so it survives timestamptz unchanged.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

var buyer = order.Actor{Subject: "alice@acme.example", Role: order.RoleBuyer, CustomerID: "ACME-001"}

func newStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t, store.Migrate)
	return store.New(pool), pool
}

// createOrder creates an order with its own idempotency key and fails the test on error.
func createOrder(t *testing.T, s *store.Store, id, customerID string, status order.Status, total money.Money) store.OrderRecord {
	t.Helper()
	rec, created, err := s.CreateOrder(context.Background(), store.NewOrder{
		IdempotencyScope: "storefront",
		IdempotencyKey:   "key-" + id,
		RequestHash:      "hash-" + id,
		Order:            store.OrderRecord{ID: id, CustomerID: customerID, Status: status, Total: total, CreatedAt: t0},
		Actor:            buyer,
	})
	require.NoError(t, err)
	require.True(t, created)
	return rec
}

func TestMigrateRunsTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	require.NoError(t, store.Migrate(ctx, pool), "second Migrate on a migrated database")
	var version int
	require.NoError(t, pool.QueryRow(ctx, `SELECT version FROM `+store.VersionTable).Scan(&version))
	require.Equal(t, 24, version, "the number of migrations in internal/store/migrations")
	require.NoError(t, s.Ping(ctx))
}

func TestCustomerTerms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	require.NoError(t, s.SeedDemo(ctx))
	require.NoError(t, s.SeedDemo(ctx), "seeding twice")
	for _, want := range store.DemoCustomers() {
		got, err := s.Terms(ctx, want.CustomerID)
		require.NoError(t, err)
		want.Hash = store.TermsHash(want) // what an order priced under them pins
		require.Equal(t, want, got)
	}

	// An upsert replaces the contract prices, it does not merge them.
	acme := store.DemoCustomers()[0]
	acme.CreditLimit = money.New(6_000_000, "EUR")
	acme.ContractPrices = map[string]money.Money{"NUT-M8": money.New(7, "EUR"), "VALVE-50": money.New(8500, "EUR")}
	require.NoError(t, s.UpsertCustomer(ctx, acme))
	got, err := s.Terms(ctx, "ACME-001")
	require.NoError(t, err)
	acme.Hash = store.TermsHash(acme)
	require.Equal(t, acme, got)

	acme.ContractPrices = nil
	require.NoError(t, s.UpsertCustomer(ctx, acme))
	got, err = s.Terms(ctx, "ACME-001")
	require.NoError(t, err)
	require.Empty(t, got.ContractPrices)

	_, err = s.Terms(ctx, "NOBODY-999")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestUpsertCustomerRefusesBadTerms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	tests := []struct {
		name   string
		change func(*order.Terms)
		field  string
	}{
		{"no id", func(t *order.Terms) { t.CustomerID = "" }, "customer_id"},
		{"bad currency", func(t *order.Terms) { t.Currency = "euro" }, "currency"},
		{"tolerance in another currency", func(t *order.Terms) { t.ShortPayTolerance = money.New(500, "USD") }, "short_pay_tolerance"},
		{"tolerance above 100 %", func(t *order.Terms) { t.ShortPayToleranceBP = 10_001 }, "short_pay_tolerance_bp"},
		{"limit in another currency", func(t *order.Terms) { t.CreditLimit = money.New(1, "USD") }, "credit_limit"},
		{"contract price in another currency", func(t *order.Terms) {
			t.ContractPrices = map[string]money.Money{"BOLT-M8": money.New(20, "USD")}
		}, "contract_prices.BOLT-M8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			terms := store.DemoCustomers()[0]
			tc.change(&terms)
			err := s.UpsertCustomer(ctx, terms)
			var fe *order.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
	// Nothing of the refused terms was written.
	_, err := s.Terms(ctx, "ACME-001")
	require.ErrorIs(t, err, store.ErrNotFound)

	// A zero amount without a currency means "none" and is accepted.
	terms := store.DemoCustomers()[1]
	terms.PurchasingLimit = money.Money{}
	require.NoError(t, s.UpsertCustomer(ctx, terms))
	got, err := s.Terms(ctx, terms.CustomerID)
	require.NoError(t, err)
	require.Equal(t, money.New(0, "EUR"), got.PurchasingLimit)
}

func TestCreateOrderIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	n := store.NewOrder{
		IdempotencyScope: "storefront-1",
		IdempotencyKey:   "k1",
		RequestHash:      "h1",
		Order: store.OrderRecord{
			ID: "ord-001", CustomerID: "ACME-001", PONumber: "PO-77", Details: "pricing the quote", CreatedAt: t0,
		},
		Actor: buyer,
	}
	rec, created, err := s.CreateOrder(ctx, n)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "ord-001", rec.ID)
	require.Equal(t, order.StatusQuoting, rec.Status, "a new order starts in QUOTING")
	require.Equal(t, "PO-77", rec.PONumber)
	require.True(t, t0.Equal(rec.CreatedAt))

	got, err := s.Order(ctx, "ord-001")
	require.NoError(t, err)
	require.Equal(t, rec, got)

	// The retried request generated a new id; it gets the first order back.
	again := n
	again.Order.ID = "ord-002"
	rec2, created, err := s.CreateOrder(ctx, again)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, rec, rec2)
	_, err = s.Order(ctx, "ord-002")
	require.ErrorIs(t, err, store.ErrNotFound, "a replay must not create a second order")

	other := n
	other.RequestHash = "h2"
	other.Order.ID = "ord-003"
	_, _, err = s.CreateOrder(ctx, other)
	require.ErrorIs(t, err, store.ErrIdempotencyConflict)

	// Keys are scoped per caller.
	otherCaller := n
	otherCaller.IdempotencyScope = "storefront-2"
	otherCaller.Order.ID = "ord-004"
	rec4, created, err := s.CreateOrder(ctx, otherCaller)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "ord-004", rec4.ID)

	// An order id taken by another key is a duplicate, not a silent merge.
	clash := n
	clash.IdempotencyKey = "k9"
	_, _, err = s.CreateOrder(ctx, clash)
	require.ErrorIs(t, err, store.ErrDuplicate)

	entries, err := s.AuditLog(ctx, "ord-001")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	e := entries[0]
	require.Equal(t, order.ActionOrderCreated, e.Action)
	require.Equal(t, int64(0), e.Seq)
	require.Equal(t, buyer, e.Actor)
	require.Equal(t, order.StatusQuoting, e.ToStatus)
	require.Empty(t, e.FromStatus)
	require.True(t, t0.Equal(e.At))
}

func TestCreateOrderConcurrentSameKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	for round := range 5 {
		const callers = 4
		key := fmt.Sprintf("race-%d", round)
		type result struct {
			id      string
			created bool
			err     error
		}
		results := make([]result, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				rec, created, err := s.CreateOrder(ctx, store.NewOrder{
					IdempotencyScope: "storefront",
					IdempotencyKey:   key,
					RequestHash:      "same-body",
					Order:            store.OrderRecord{ID: fmt.Sprintf("ord-%d-%d", round, i), CustomerID: "ACME-001"},
					Actor:            buyer,
				})
				results[i] = result{rec.ID, created, err}
			})
		}
		close(start)
		wg.Wait()
		createdCount := 0
		for i, r := range results {
			require.NoError(t, r.err, "caller %d", i)
			require.Equal(t, results[0].id, r.id, "caller %d got another order", i)
			if r.created {
				createdCount++
			}
		}
		require.Equal(t, 1, createdCount, "round %d: exactly one caller creates", round)
	}
	orders, err := s.ListOrders(ctx, store.OrderFilter{})
	require.NoError(t, err)
	require.Len(t, orders, 5, "one order per key")
}

func transition(id string, seq int64, status order.Status) store.Transition {
	return store.Transition{
		OrderID: id, Seq: seq, Status: status, Action: "status.changed",
		Details: "now " + string(status), At: t0.Add(time.Duration(seq) * time.Minute),
	}
}

func TestRecordTransitionReplayAndOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})

	priced := transition("ord-1", 1, order.StatusAwaitingAcceptance)
	priced.Action = "quote.priced"
	priced.Total = money.New(95_000, "EUR")
	priced.QuoteRevision = 1
	priced.Data = json.RawMessage(`{"revision": 1}`)
	require.NoError(t, s.RecordTransition(ctx, priced))
	require.NoError(t, s.RecordTransition(ctx, priced), "a replayed seq is harmless")

	rec, err := s.Order(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, order.StatusAwaitingAcceptance, rec.Status)
	require.Equal(t, money.New(95_000, "EUR"), rec.Total)
	require.Equal(t, 1, rec.QuoteRevision)
	require.Equal(t, int64(1), rec.LastSeq)
	require.True(t, priced.At.Equal(rec.UpdatedAt))

	// seq 3 overtakes seq 2: the projection shows 3 and stays there.
	three := transition("ord-1", 3, order.StatusCreditCheck)
	three.NeedsAttention = true
	require.NoError(t, s.RecordTransition(ctx, three))
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 2, order.StatusAwaitingApproval)))

	rec, err = s.Order(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, order.StatusCreditCheck, rec.Status, "a late seq must not roll the projection back")
	require.True(t, rec.NeedsAttention)
	require.Equal(t, "now CREDIT_CHECK", rec.Details)
	require.Equal(t, int64(3), rec.LastSeq)
	require.Equal(t, money.New(95_000, "EUR"), rec.Total, "a transition without a total keeps the stored one")
	require.Equal(t, 1, rec.QuoteRevision, "a transition without a revision keeps the stored one")

	entries, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	type step struct {
		seq      int64
		action   string
		from, to order.Status
	}
	var got []step
	for _, e := range entries {
		got = append(got, step{e.Seq, e.Action, e.FromStatus, e.ToStatus})
		require.Equal(t, "ord-1", e.OrderID)
	}
	require.Equal(t, []step{
		{0, "order.created", "", order.StatusQuoting},
		{1, "quote.priced", order.StatusQuoting, order.StatusAwaitingAcceptance},
		{2, "status.changed", order.StatusAwaitingAcceptance, order.StatusAwaitingApproval},
		{3, "status.changed", order.StatusAwaitingAcceptance, order.StatusCreditCheck},
	}, got, "one entry per seq, in the order they happened whatever the write order, each from the previous seq's status")
	require.JSONEq(t, `{"revision": 1}`, string(entries[1].Data))
	require.Equal(t, order.System, entries[1].Actor, "a transition without an actor is the system's")
	require.Nil(t, entries[3].Data)
}

func TestRecordTransitionCreatesMissingProjection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	orphan := transition("ord-x", 1, order.StatusAwaitingAcceptance)
	err := s.RecordTransition(ctx, orphan)
	require.ErrorIs(t, err, store.ErrNotFound, "without a customer the row cannot be created")

	tr := transition("ord-x", 1, order.StatusAwaitingAcceptance)
	tr.CustomerID, tr.PONumber = "GLOBEX-002", "PO-9"
	tr.Total = money.New(12_345, "EUR")
	tr.Actor = order.Actor{Subject: "cs-bob", Role: order.RoleCS}
	require.NoError(t, s.RecordTransition(ctx, tr))
	rec, err := s.Order(ctx, "ord-x")
	require.NoError(t, err)
	require.Equal(t, "GLOBEX-002", rec.CustomerID)
	require.Equal(t, "PO-9", rec.PONumber)
	require.Equal(t, order.StatusAwaitingAcceptance, rec.Status)
	require.Equal(t, money.New(12_345, "EUR"), rec.Total)
	require.Equal(t, int64(1), rec.LastSeq)
	require.True(t, tr.At.Equal(rec.CreatedAt))

	entries, err := s.AuditLog(ctx, "ord-x")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Empty(t, entries[0].FromStatus)
	require.Equal(t, tr.Actor, entries[0].Actor)
}

func TestRecordTransitionRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})
	tests := []struct {
		name   string
		change func(*store.Transition)
	}{
		{"seq 0 belongs to creation", func(tr *store.Transition) { tr.Seq = 0 }},
		{"negative seq", func(tr *store.Transition) { tr.Seq = -1 }},
		{"unknown status", func(tr *store.Transition) { tr.Status = "LOST" }},
		{"no action", func(tr *store.Transition) { tr.Action = "" }},
		{"no order", func(tr *store.Transition) { tr.OrderID = "" }},
		{"data not JSON", func(tr *store.Transition) { tr.Data = json.RawMessage(`{nope`) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := transition("ord-1", 1, order.StatusAwaitingAcceptance)
			tc.change(&tr)
			require.Error(t, s.RecordTransition(ctx, tr))
		})
	}
	rec, err := s.Order(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, order.StatusQuoting, rec.Status, "refused transitions change nothing")
	entries, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})
	finance := order.Actor{Subject: "fiona", Role: order.RoleFinance}
	require.NoError(t, s.AppendAudit(ctx, store.AuditEntry{
		OrderID: "ord-1", At: t0.Add(time.Hour), Actor: finance, Action: "payment.allocated",
		Reason: "reference typo", Data: json.RawMessage(`{"bank_transaction_id":"bt-1"}`),
	}))
	require.NoError(t, s.AppendAudit(ctx, store.AuditEntry{
		OrderID: "ord-1", Actor: finance, Action: "payment.allocated", Reason: "second one",
	}), "entries outside the workflow have no seq, so several may exist")

	err := s.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Seq: 4, Actor: finance, Action: "x"})
	require.Error(t, err, "a seq belongs to RecordTransition")
	err = s.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Action: "x"})
	require.Error(t, err, "every entry names its actor")

	entries, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, entries, 3)
	require.Equal(t, order.ActionOrderCreated, entries[0].Action)
	require.Equal(t, "reference typo", entries[1].Reason)
	require.Equal(t, finance, entries[1].Actor)
	require.JSONEq(t, `{"bank_transaction_id":"bt-1"}`, string(entries[1].Data))
	require.Equal(t, "second one", entries[2].Reason)
	require.Less(t, entries[1].ID, entries[2].ID)

	for _, sql := range []string{
		`UPDATE audit_log SET reason = 'rewritten' WHERE order_id = 'ord-1'`,
		`DELETE FROM audit_log WHERE order_id = 'ord-1'`,
		`TRUNCATE audit_log`,
	} {
		_, err := pool.Exec(ctx, sql)
		require.ErrorContains(t, err, "append-only", sql)
	}
	after, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, entries, after)

	none, err := s.AuditLog(ctx, "ord-unknown")
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestListOrdersFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	eur := money.New(100, "EUR")
	createOrder(t, s, "ord-01", "ACME-001", order.StatusQuoting, eur)
	createOrder(t, s, "ord-02", "ACME-001", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-03", "GLOBEX-002", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-04", "ACME-001", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-05", "GLOBEX-002", order.StatusShipping, eur)
	stuck := transition("ord-04", 1, order.StatusConfirmed)
	stuck.NeedsAttention = true
	require.NoError(t, s.RecordTransition(ctx, stuck))

	yes, no := true, false
	tests := []struct {
		name string
		f    store.OrderFilter
		want []string
	}{
		{"all", store.OrderFilter{}, []string{"ord-01", "ord-02", "ord-03", "ord-04", "ord-05"}},
		{"customer", store.OrderFilter{CustomerID: "ACME-001"}, []string{"ord-01", "ord-02", "ord-04"}},
		{"status", store.OrderFilter{Status: order.StatusConfirmed}, []string{"ord-02", "ord-03", "ord-04"}},
		{"customer and status", store.OrderFilter{CustomerID: "GLOBEX-002", Status: order.StatusConfirmed}, []string{"ord-03"}},
		{"needs attention", store.OrderFilter{NeedsAttention: &yes}, []string{"ord-04"}},
		{"does not need attention", store.OrderFilter{NeedsAttention: &no, Status: order.StatusConfirmed}, []string{"ord-02", "ord-03"}},
		{"after", store.OrderFilter{After: "ord-03"}, []string{"ord-04", "ord-05"}},
		{"after with filter", store.OrderFilter{After: "ord-01", CustomerID: "ACME-001", Limit: 1}, []string{"ord-02"}},
		{"limit", store.OrderFilter{Limit: 2}, []string{"ord-01", "ord-02"}},
		{"nothing matches", store.OrderFilter{CustomerID: "INITECH-003"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := s.ListOrders(ctx, tc.f)
			require.NoError(t, err)
			ids := []string{}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

func TestOpenOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	eur := money.New(100, "EUR")
	createOrder(t, s, "ord-01", "ACME-001", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-02", "ACME-001", order.StatusCancelled, eur)
	createOrder(t, s, "ord-03", "GLOBEX-002", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-04", "ACME-001", order.StatusCompleted, eur)
	createOrder(t, s, "ord-05", "ACME-001", order.StatusShipping, eur)
	createOrder(t, s, "ord-06", "ACME-001", order.StatusQuoteRefused, eur)
	stuck := transition("ord-03", 1, order.StatusConfirmed)
	stuck.NeedsAttention = true
	require.NoError(t, s.RecordTransition(ctx, stuck))

	yes := true
	tests := []struct {
		name string
		f    store.OrderFilter
		want []string
	}{
		{"finished orders are left out", store.OrderFilter{}, []string{"ord-01", "ord-03", "ord-05"}},
		{"customer", store.OrderFilter{CustomerID: "ACME-001"}, []string{"ord-01", "ord-05"}},
		{"a finished status selects nothing", store.OrderFilter{Status: order.StatusCancelled}, []string{}},
		{"needs attention", store.OrderFilter{NeedsAttention: &yes}, []string{"ord-03"}},
		{"after and limit", store.OrderFilter{After: "ord-01", Limit: 1}, []string{"ord-03"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := s.OpenOrders(ctx, tc.f)
			require.NoError(t, err)
			ids := []string{}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

func TestCountByStatus(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	eur := money.New(100, "EUR")
	createOrder(t, s, "ord-01", "ACME-001", order.StatusQuoting, eur)
	createOrder(t, s, "ord-02", "ACME-001", order.StatusConfirmed, eur)
	createOrder(t, s, "ord-03", "GLOBEX-002", order.StatusConfirmed, eur)
	counts, err := s.CountByStatus(context.Background())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"QUOTING": 1, "CONFIRMED": 2}, counts)
}

func TestListOrdersPaginates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	// 230 orders straight into the projection: more than the largest page.
	_, err := pool.Exec(ctx, `
		INSERT INTO orders (id, customer_id, status)
		SELECT 'ord-' || lpad(i::text, 4, '0'), 'ACME-001', 'QUOTING'
		FROM generate_series(1, 230) AS i`)
	require.NoError(t, err)

	page, err := s.ListOrders(ctx, store.OrderFilter{})
	require.NoError(t, err)
	require.Len(t, page, store.DefaultListLimit)

	page, err = s.ListOrders(ctx, store.OrderFilter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, page, store.MaxListLimit, "the limit is capped")

	// Walking the pages visits every order once, in id order.
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10, "pagination does not end")
		page, err := s.ListOrders(ctx, store.OrderFilter{After: after, Limit: 70})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			seen = append(seen, r.ID)
		}
		after = page[len(page)-1].ID
	}
	require.Len(t, seen, 230)
	require.IsIncreasing(t, seen)
}

func TestQuotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	terms := store.DemoCustomers()[0]
	list := []order.ListPrice{{SKU: "BOLT-M8", UnitPrice: money.New(25, "EUR")}, {SKU: "PUMP-200", UnitPrice: money.New(125_000, "EUR")}}
	q1, err := order.Price(1, []order.Line{{SKU: "BOLT-M8", Quantity: 1000}}, list, terms, 0, t0)
	require.NoError(t, err)
	q2, err := order.Price(2, []order.Line{{SKU: "PUMP-200", Quantity: 2}}, list, terms, 0, t0.Add(time.Hour))
	require.NoError(t, err)

	for _, q := range []order.Quote{q2, q1, q1} { // the second q1: a retried save is harmless
		stored, err := s.SaveQuote(ctx, "ord-1", q)
		require.NoError(t, err)
		require.Equal(t, q, stored)
	}

	got, err := s.Quotes(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, []order.Quote{q1, q2}, got, "by revision, as saved")

	// Issue 7, defect 5: a retried pricing that came out otherwise used to
	// be a non-retryable duplicate that stopped the order. The first saved
	// revision wins: the buyer may have been sent it.
	changed := q1
	changed.DiscountBP = 900
	stored, err := s.SaveQuote(ctx, "ord-1", changed)
	require.NoError(t, err)
	require.Equal(t, q1, stored, "a revision the buyer was sent is not overwritten")

	none, err := s.Quotes(ctx, "ord-2")
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestInvoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusShipping, money.New(95_000, "EUR"))
	inv := order.Invoice{
		InvoiceID: "erp-inv-1", Number: "INV-2026-0001", Amount: money.New(95_000, "EUR"),
		IssuedAt: t0, DueDate: order.DueDate(t0, 30),
	}
	require.NoError(t, s.SaveInvoice(ctx, "ord-1", inv))
	require.NoError(t, s.SaveInvoice(ctx, "ord-1", inv), "a retried save is harmless")

	orderID, got, err := s.InvoiceByNumber(ctx, "INV-2026-0001")
	require.NoError(t, err)
	require.Equal(t, "ord-1", orderID)
	require.Equal(t, inv, got)

	rec, err := s.Order(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, "INV-2026-0001", rec.InvoiceNumber)

	// A later transition without an invoice number keeps it.
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 1, order.StatusAwaitingPayment)))
	rec, err = s.Order(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, "INV-2026-0001", rec.InvoiceNumber)
	require.Equal(t, order.StatusAwaitingPayment, rec.Status)

	renumbered := inv
	renumbered.Number = "INV-2026-0002"
	require.ErrorIs(t, s.SaveInvoice(ctx, "ord-1", renumbered), store.ErrDuplicate)
	numberTaken := inv
	numberTaken.InvoiceID = "erp-inv-2"
	require.ErrorIs(t, s.SaveInvoice(ctx, "ord-2", numberTaken), store.ErrDuplicate)

	// An invoice may arrive before the projection row exists.
	early := order.Invoice{InvoiceID: "erp-inv-3", Number: "INV-2026-0003", Amount: money.New(1, "USD"), IssuedAt: t0, DueDate: t0}
	require.NoError(t, s.SaveInvoice(ctx, "ord-9", early))

	_, _, err = s.InvoiceByNumber(ctx, "INV-0000")
	require.ErrorIs(t, err, store.ErrNotFound)

	// The order's invoices, with what it last recorded as open.
	invs, err := s.OrderInvoices(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, []store.InvoiceState{{Number: inv.Number, Amount: inv.Amount, IssuedAt: inv.IssuedAt, DueDate: inv.DueDate}}, invs,
		"open is unknown until the order records its ledger")
	paid := transition("ord-1", 2, order.StatusAwaitingPayment)
	paid.Facts = &order.Facts{Invoices: []order.InvoiceFact{{Number: inv.Number, Open: money.New(5_000, "EUR"), Disputed: true}}}
	require.NoError(t, s.RecordTransition(ctx, paid))
	invs, err = s.OrderInvoices(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, invs, 1)
	require.Equal(t, money.New(5_000, "EUR"), *invs[0].Open)
	require.True(t, invs[0].Disputed)
	invs, err = s.OrderInvoices(ctx, "ord-nope")
	require.NoError(t, err)
	require.Empty(t, invs)
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	seen, err := s.WebhookEventSeen(ctx, "logistics", "ev-1")
	require.NoError(t, err)
	require.False(t, seen)

	fresh, err := s.RecordWebhookEvent(ctx, "logistics", "ev-1", []byte(`{"type":"delivered"}`))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.RecordWebhookEvent(ctx, "logistics", "ev-1", []byte(`{"type":"delivered"}`))
	require.NoError(t, err)
	require.False(t, fresh, "a redelivery is not fresh")

	seen, err = s.WebhookEventSeen(ctx, "logistics", "ev-1")
	require.NoError(t, err)
	require.True(t, seen)

	fresh, err = s.RecordWebhookEvent(ctx, "payments", "ev-1", nil)
	require.NoError(t, err)
	require.True(t, fresh, "event ids are per source")

	_, err = s.RecordWebhookEvent(ctx, "payments", "ev-2", []byte(`not json`))
	require.Error(t, err)
	_, err = s.RecordWebhookEvent(ctx, "", "ev-3", nil)
	require.Error(t, err)
}

func TestSurveyFirstAnswerWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	expires := t0.Add(14 * 24 * time.Hour)

	sv, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-1", Token: "tok-first", ExpiresAt: expires})
	require.NoError(t, err)
	require.Equal(t, "tok-first", sv.Token)
	require.True(t, expires.Equal(sv.ExpiresAt))
	require.Nil(t, sv.Score)

	again, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-1", Token: "tok-second", ExpiresAt: expires.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, sv, again, "one survey per order, with its first token")
	_, err = s.SurveyByToken(ctx, "tok-second")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-2", Token: "tok-first", ExpiresAt: expires})
	require.ErrorIs(t, err, store.ErrDuplicate, "a token is never shared by two orders")

	answered, fresh, err := s.AnswerSurvey(ctx, "tok-first", 9, "fast delivery", t0.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, 9, *answered.Score)
	require.Equal(t, "fast delivery", answered.Comment)
	require.True(t, t0.Add(time.Hour).Equal(*answered.AnsweredAt))

	repeat, fresh, err := s.AnswerSurvey(ctx, "tok-first", 2, "changed my mind", t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, answered, repeat, "the first answer stands")

	got, err := s.SurveyByToken(ctx, "tok-first")
	require.NoError(t, err)
	require.Equal(t, answered, got)

	// Closing keeps the answer, and a repeat still shows it.
	require.NoError(t, s.CloseSurvey(ctx, "ord-1", ""))
	require.NoError(t, s.CloseSurvey(ctx, "ord-1", ""), "closing twice is harmless")
	repeat, fresh, err = s.AnswerSurvey(ctx, "tok-first", 5, "", t0.Add(3*time.Hour))
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, 9, *repeat.Score)
	require.True(t, repeat.Closed)

	require.ErrorIs(t, s.CloseSurvey(ctx, "ord-none", ""), store.ErrNotFound)
	_, _, err = s.AnswerSurvey(ctx, "tok-unknown", 5, "", t0)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestSurveyConcurrentAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	_, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-1", Token: "tok", ExpiresAt: t0.Add(time.Hour)})
	require.NoError(t, err)

	const callers = 4
	scores := make([]int, callers)
	freshes := make([]bool, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			sv, fresh, err := s.AnswerSurvey(ctx, "tok", i, "", t0)
			if err == nil {
				scores[i] = *sv.Score
			}
			freshes[i], errs[i] = fresh, err
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, scores[0], scores[i], "every caller sees the one stored answer")
		if freshes[i] {
			winners++
			require.Equal(t, i, scores[i], "the fresh answer is the winner's")
		}
	}
	require.Equal(t, 1, winners)
}

func TestSurveyClosedOrExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	expires := t0.Add(24 * time.Hour)
	_, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-expiring", Token: "tok-expiring", ExpiresAt: expires})
	require.NoError(t, err)
	_, err = s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-closed", Token: "tok-closed", ExpiresAt: expires})
	require.NoError(t, err)
	require.NoError(t, s.CloseSurvey(ctx, "ord-closed", ""))

	tests := []struct {
		name    string
		token   string
		score   int
		at      time.Time
		wantErr error
		field   string
	}{
		{"closed", "tok-closed", 8, t0, store.ErrSurveyClosed, ""},
		{"after expiry", "tok-expiring", 8, expires.Add(time.Microsecond), store.ErrSurveyClosed, ""},
		{"score below 0", "tok-expiring", -1, t0, nil, "score"},
		{"score above 10", "tok-expiring", 11, t0, nil, "score"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, fresh, err := s.AnswerSurvey(ctx, tc.token, tc.score, "", tc.at)
			require.False(t, fresh)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			var fe *order.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
	sv, err := s.SurveyByToken(ctx, "tok-expiring")
	require.NoError(t, err)
	require.Nil(t, sv.Score, "refused answers store nothing")

	// The last moment of the window still counts, and 0 is a valid score.
	sv, fresh, err := s.AnswerSurvey(ctx, "tok-expiring", 0, "late but in time", expires)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, 0, *sv.Score)
}

func TestPayments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	p := store.Payment{BankTransactionID: "bt-1", Amount: money.New(95_000, "EUR"), Reference: "INV-2026-0001", ReceivedAt: t0}

	stored, fresh, err := s.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, p, stored)

	redelivered := p
	redelivered.Amount = money.New(1, "EUR")
	stored, fresh, err = s.RecordPayment(ctx, redelivered)
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, p, stored, "the first delivery stands")

	second := store.Payment{BankTransactionID: "bt-2", Amount: money.New(10, "USD"), Reference: "??", ReceivedAt: t0.Add(time.Minute)}
	_, _, err = s.RecordPayment(ctx, second)
	require.NoError(t, err)

	queue, err := s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.Payment{p, second}, queue, "oldest first")

	require.NoError(t, s.MatchPayment(ctx, "bt-1", "ord-1", "INV-2026-0001", order.MatchExact, "orderflow"))
	require.NoError(t, s.MatchPayment(ctx, "bt-1", "ord-1", "INV-2026-0001", order.MatchExact, "orderflow"), "a replay is harmless")
	err = s.MatchPayment(ctx, "bt-1", "ord-2", "INV-2026-0002", order.MatchExact, "fiona")
	require.ErrorIs(t, err, store.ErrPaymentMatched)

	got, err := s.Payment(ctx, "bt-1")
	require.NoError(t, err)
	want := p
	want.OrderID, want.InvoiceNumber, want.MatchKind, want.AllocatedBy = "ord-1", "INV-2026-0001", order.MatchExact, "orderflow"
	require.Equal(t, want, got)

	// Marked unmatched, it stays in finance's queue until allocated.
	require.NoError(t, s.MatchPayment(ctx, "bt-2", "", "", order.MatchUnmatched, "orderflow"))
	queue, err = s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	require.Len(t, queue, 1)
	require.Equal(t, "bt-2", queue[0].BankTransactionID)
	require.Equal(t, order.MatchUnmatched, queue[0].MatchKind)

	require.NoError(t, s.MatchPayment(ctx, "bt-2", "ord-3", "INV-2026-0003", order.MatchPartial, "fiona"))
	queue, err = s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	require.Empty(t, queue)
	got, err = s.Payment(ctx, "bt-2")
	require.NoError(t, err)
	require.Equal(t, "fiona", got.AllocatedBy)
	require.Equal(t, order.MatchPartial, got.MatchKind)

	require.ErrorIs(t, s.MatchPayment(ctx, "bt-none", "ord-1", "INV-1", order.MatchExact, "fiona"), store.ErrNotFound)
	require.Error(t, s.MatchPayment(ctx, "bt-2", "ord-1", "INV-1", "guess", "fiona"), "unknown kind")
	require.Error(t, s.MatchPayment(ctx, "bt-2", "", "", order.MatchExact, "fiona"), "an exact match names its invoice")
	_, err = s.Payment(ctx, "bt-none")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.RecordPayment(ctx, store.Payment{BankTransactionID: "bt-3", Amount: money.New(1, "")})
	require.Error(t, err, "a payment without a currency")
}

func TestOrderNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	_, err := s.Order(context.Background(), "ord-missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.False(t, errors.Is(err, store.ErrDuplicate))
}

func TestRefusedQuoteIsNotListed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	eur := money.Zero("EUR")
	createOrder(t, s, "ord-01", "ACME-001", order.StatusQuoting, eur)
	createOrder(t, s, "ord-02", "ACME-001", order.StatusQuoting, eur)
	refused := []order.FieldError{{Field: "lines[0].sku", Reason: "the ERP does not know this SKU"}}
	data, err := json.Marshal(refused)
	require.NoError(t, err)
	tr := transition("ord-02", 1, order.StatusQuoteRefused)
	tr.Action, tr.Data = order.ActionQuoteRefused, data
	require.NoError(t, s.RecordTransition(ctx, tr))

	all, err := s.ListOrders(ctx, store.OrderFilter{CustomerID: "ACME-001"})
	require.NoError(t, err)
	require.Len(t, all, 1, "a refused quote request is no order in the lists")
	require.Equal(t, "ord-01", all[0].ID)
	asked, err := s.ListOrders(ctx, store.OrderFilter{Status: order.StatusQuoteRefused})
	require.NoError(t, err)
	require.Len(t, asked, 1, "listed when asked for by status")

	got, err := s.QuoteRefusal(ctx, "ord-02")
	require.NoError(t, err)
	require.Equal(t, refused, got)
	_, err = s.QuoteRefusal(ctx, "ord-01")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// A creditor reference names its invoice by the number's letters and
// digits: InvoiceByReferenceBody finds it whatever the number's dashes.
func TestInvoiceByReferenceBody(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	createOrder(t, s, "ord-rf", "ACME-001", order.StatusAwaitingPayment, money.New(100, "EUR"))
	require.NoError(t, s.SaveInvoice(ctx, "ord-rf", order.Invoice{InvoiceID: "inv-rf", Number: "INV-2026-0042",
		Amount: money.New(100, "EUR"), IssuedAt: t0, DueDate: t0.AddDate(0, 0, 30)}))
	id, inv, err := s.InvoiceByReferenceBody(ctx, order.ReferenceBody("INV-2026-0042"))
	require.NoError(t, err)
	require.Equal(t, "ord-rf", id)
	require.Equal(t, "INV-2026-0042", inv.Number)
	_, _, err = s.InvoiceByReferenceBody(ctx, "INV20260043")
	require.ErrorIs(t, err, store.ErrNotFound)
}
