package store_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
)

var fiona = order.Actor{Subject: "fiona@seller.example", Role: order.RoleFinance}

// chainLink is what the trigger stored for one entry.
type chainLink struct {
	id, index      int64
	prevHash, hash []byte
}

func chainOf(t *testing.T, pool *pgxpool.Pool, orderID string) []chainLink {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT id, chain_index, prev_hash, hash FROM audit_log WHERE order_id = $1 ORDER BY chain_index`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	var out []chainLink
	for rows.Next() {
		var l chainLink
		require.NoError(t, rows.Scan(&l.id, &l.index, &l.prevHash, &l.hash))
		out = append(out, l)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireChained checks that the order's entries are numbered 1..n and each
// links to the one before.
func requireChained(t *testing.T, pool *pgxpool.Pool, orderID string, n int) []chainLink {
	t.Helper()
	links := chainOf(t, pool, orderID)
	require.Len(t, links, n)
	prev := make([]byte, 32)
	for i, l := range links {
		require.Equal(t, int64(i+1), l.index, "entry %d", i+1)
		require.Equal(t, prev, l.prevHash, "entry %d links to entry %d", i+1, i)
		require.Len(t, l.hash, 32)
		prev = l.hash
	}
	return links
}

// requireVerified runs VerifyAudit and fails on any problem.
func requireVerified(t *testing.T, s *store.Store, opts store.AuditVerifyOptions) store.AuditReport {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background(), opts)
	require.NoError(t, err)
	require.True(t, rep.OK, "problem: %+v", rep.Problem)
	require.Zero(t, rep.Problems)
	return rep
}

// requireProblem runs VerifyAudit and returns its first problem.
func requireProblem(t *testing.T, s *store.Store, opts store.AuditVerifyOptions) store.AuditProblem {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background(), opts)
	require.NoError(t, err)
	require.False(t, rep.OK)
	require.NotNil(t, rep.Problem)
	return *rep.Problem
}

// sealAll seals until no entry is left unsealed. A seal covers the entries
// of transactions older than the oldest one running on the server, and the
// server is shared with other tests: their transactions may hold it back
// for a moment.
func sealAll(t *testing.T, s *store.Store) store.AuditHead {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, err := s.Seal(ctx)
		require.NoError(t, err)
		head, err := s.AuditHead(ctx)
		require.NoError(t, err)
		if head.Unsealed == 0 {
			return head
		}
		require.True(t, time.Now().Before(deadline), "entries still unsealed after 30s: %+v", head)
		time.Sleep(20 * time.Millisecond) // poll: another test's transaction holds the horizon
	}
}

// tamper runs SQL (statements separated by ';') with the append-only
// triggers off, as the tables' owner could.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `BEGIN;
		ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
		ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_no_update_delete;
		`+sql+`;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;
		ALTER TABLE audit_seals ENABLE TRIGGER audit_seals_no_update_delete;
		COMMIT`)
	require.NoError(t, err, sql)
}

// rehashSQL recomputes, with the migration's own function, the hashes of
// an order's entries from chain index from on, as someone covering an edit
// would.
func rehashSQL(orderID string, from int64) string {
	return fmt.Sprintf(`DO $$
		DECLARE r audit_log; prev bytea;
		BEGIN
			SELECT hash INTO prev FROM audit_log WHERE order_id = '%[1]s' AND chain_index = %[2]d - 1;
			prev := COALESCE(prev, decode(repeat('00', 32), 'hex'));
			FOR r IN SELECT * FROM audit_log WHERE order_id = '%[1]s' AND chain_index >= %[2]d ORDER BY chain_index LOOP
				UPDATE audit_log SET prev_hash = prev, hash = sha256(prev || audit_log_content(r, r.chain_index)) WHERE id = r.id
					RETURNING hash INTO prev;
			END LOOP;
		END $$`, orderID, from)
}

// fillOrders gives orders orders (ord-000, ord-001, …) entries entries
// each, in one statement (rows of one statement chain too), seqs from 1.
func fillOrders(t *testing.T, pool *pgxpool.Pool, orders, entries int) {
	t.Helper()
	fillOrdersFrom(t, pool, "ord-", orders, 1, entries)
}

// fillOrdersFrom is fillOrders with a prefix and the seqs from first on.
func fillOrdersFrom(t *testing.T, pool *pgxpool.Pool, prefix string, orders, first, entries int) {
	t.Helper()
	require.NoError(t, insertOrders(pool, prefix, orders, first, entries))
}

func insertOrders(pool *pgxpool.Pool, prefix string, orders, first, entries int) error {
	_, err := pool.Exec(context.Background(), `
		INSERT INTO audit_log (order_id, seq, at, actor_subject, actor_role, action, reason, data)
		SELECT $1 || lpad(o::text, 3, '0'), e, $2::timestamptz + e * interval '1 minute', 'system', 'system',
			'status.changed', 'step ' || e, jsonb_build_object('o', o, 'e', e)
		FROM generate_series($3::int, $3::int + $4::int - 1) e, generate_series(0, $5::int - 1) o
		ORDER BY e, o`, prefix, t0, first, entries, orders)
	return err
}

func TestAuditChainCoversEveryInsertPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{}) // 1: order.created

	priced := transition("ord-1", 1, order.StatusAwaitingAcceptance)
	priced.Data = json.RawMessage(`{"revision": 1, "lines": ["a", "ü"]}`)
	require.NoError(t, s.RecordTransition(ctx, priced))                                               // 2
	require.NoError(t, s.RecordTransition(ctx, priced), "a replayed seq stays a no-op")               // -
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 3, order.StatusCreditCheck)))      // 3
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 2, order.StatusAwaitingApproval))) // 4: late
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 3, order.StatusCreditCheck)), "a late replay too")
	require.NoError(t, s.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Actor: fiona, Action: "payment.allocated", Reason: "typo"})) // 5
	require.NoError(t, s.RecordTransition(ctx, transition("ord-1", 4, order.StatusConfirmed)))                                            // 6

	requireChained(t, pool, "ord-1", 6)
	entries, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, entries, 6, "replays wrote nothing and burnt no chain index")

	// Another order's chain starts again at 1.
	createOrder(t, s, "ord-2", "ACME-001", order.StatusQuoting, money.Money{})
	requireChained(t, pool, "ord-2", 1)

	rep := requireVerified(t, s, store.AuditVerifyOptions{})
	require.Equal(t, int64(7), rep.Entries)
	require.Equal(t, int64(2), rep.Orders)
	require.Equal(t, int64(7), rep.Unsealed)
	require.Nil(t, rep.Head, "nothing sealed yet")

	one := requireVerified(t, s, store.AuditVerifyOptions{OrderID: "ord-2"})
	require.Equal(t, int64(1), one.Entries)
	require.Equal(t, "ord-2", one.OrderID)
}

func TestAuditChainIgnoresWhatTheInsertSays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})
	_, err := pool.Exec(ctx, `
		INSERT INTO audit_log (order_id, at, actor_subject, actor_role, action, chain_index, prev_hash, hash, xid)
		VALUES ('ord-1', now(), 'mallory', 'cs', 'forged', 1, '\x00', '\x00', '1')`)
	require.NoError(t, err)
	requireChained(t, pool, "ord-1", 2)
	var xidIsOwn bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT xid > '1'::xid8 FROM audit_log WHERE action = 'forged'`).Scan(&xidIsOwn))
	require.True(t, xidIsOwn, "the trigger sets xid to the inserting transaction")
	requireVerified(t, s, store.AuditVerifyOptions{})
}

func TestAuditVerifyNamesTheEditedRow(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 3, 5)
	requireVerified(t, s, store.AuditVerifyOptions{})
	links := chainOf(t, pool, "ord-001")

	tamper(t, pool, fmt.Sprintf(`UPDATE audit_log SET reason = 'nothing happened' WHERE id = %d`, links[2].id))

	p := requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditChanged, p.Kind)
	require.Equal(t, links[2].id, p.EntryID)
	require.Equal(t, "ord-001", p.OrderID)
	require.Equal(t, int64(3), p.ChainIndex)
	require.Contains(t, p.Message, fmt.Sprintf("entry 3 of order ord-001 (id %d)", links[2].id))
	rep, err := s.VerifyAudit(context.Background(), store.AuditVerifyOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(1), rep.Problems, "only that row: the next one still links to its stored hash")

	// The same for that order alone; another order verifies.
	require.Equal(t, p, requireProblem(t, s, store.AuditVerifyOptions{OrderID: "ord-001"}))
	requireVerified(t, s, store.AuditVerifyOptions{OrderID: "ord-002"})
}

func TestAuditVerifyNamesARowRewrittenWithItsHash(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 2, 5)
	links := chainOf(t, pool, "ord-000")

	// The row's own hash recomputed: the row verifies alone, and the next
	// one's link names it.
	tamper(t, pool, fmt.Sprintf(`UPDATE audit_log SET reason = 'nothing happened' WHERE id = %d;
		UPDATE audit_log a SET hash = sha256(a.prev_hash || audit_log_content(a, a.chain_index)) WHERE id = %[1]d`, links[1].id))
	p := requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditRewritten, p.Kind)
	require.Equal(t, links[1].id, p.EntryID)
	require.Equal(t, int64(2), p.ChainIndex)
	require.Equal(t, "ord-000", p.OrderID)
}

func TestAuditVerifyFindsADeletedRow(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 3, 5)
	links := chainOf(t, pool, "ord-002")
	tamper(t, pool, fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, links[2].id))

	p := requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditGap, p.Kind)
	require.Equal(t, "ord-002", p.OrderID)
	require.Equal(t, int64(3), p.ChainIndex)
	require.Zero(t, p.EntryID, "the entry is gone")
	require.Contains(t, p.Message, fmt.Sprintf("entry 3 of order ord-002 is missing (between ids %d and %d)", links[1].id, links[3].id))

	// Closing the gap by renumbering the rest breaks the next link instead.
	tamper(t, pool, `UPDATE audit_log SET chain_index = chain_index - 1 WHERE order_id = 'ord-002' AND chain_index > 3`)
	p = requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditChanged, p.Kind, "chain_index is part of the hashed content")
	require.Equal(t, links[3].id, p.EntryID)
}

func TestAuditSealsCatchATruncatedTail(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 2, 4)
	sealAll(t, s)
	requireVerified(t, s, store.AuditVerifyOptions{})

	// The last entry of an order leaves no gap in its chain; the seal that
	// covers it counts it.
	links := chainOf(t, pool, "ord-001")
	tamper(t, pool, fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, links[3].id))
	requireVerified(t, s, store.AuditVerifyOptions{OrderID: "ord-001"}) // the chain alone cannot tell
	p := requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditSealMismatch, p.Kind)
	require.Equal(t, int64(1), p.SealNo)
	require.Contains(t, p.Message, "it sealed 8 entries, its range holds 7")
}

func TestAuditSealsCatchARewrittenChainAndHeadsCatchRewrittenSeals(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 3, 4)
	first := sealAll(t, s)
	fillOrdersFrom(t, pool, "ord-", 3, 5, 2) // two more entries each
	head := sealAll(t, s)
	require.Greater(t, head.SealNo, first.SealNo)
	require.Equal(t, int64(18), head.Sealed)
	require.Len(t, head.Hash, 64)
	ref, err := store.ParseSealRef(head.Ref())
	require.NoError(t, err)
	rep := requireVerified(t, s, store.AuditVerifyOptions{Head: &ref})
	require.Equal(t, head.SealNo, rep.Head.SealNo)
	require.Equal(t, head.Hash, rep.Head.Hash)
	require.Equal(t, head.SealNo, rep.Seals)
	require.Zero(t, rep.Unsealed)

	// Rewrite one order's whole chain consistently: every link verifies.
	tamper(t, pool, `UPDATE audit_log SET reason = 'rewritten' WHERE order_id = 'ord-001';`+rehashSQL("ord-001", 1))
	requireVerified(t, s, store.AuditVerifyOptions{OrderID: "ord-001"})
	p := requireProblem(t, s, store.AuditVerifyOptions{})
	require.Equal(t, store.AuditSealMismatch, p.Kind)
	require.Equal(t, first.SealNo, p.SealNo, "the first seal covers ord-001's first entries")

	// Rewrite the seals as well (drop them and seal again): the database
	// agrees with itself; only the head published earlier tells.
	tamper(t, pool, `DELETE FROM audit_seals`)
	sealAll(t, s)
	requireVerified(t, s, store.AuditVerifyOptions{})
	p = requireProblem(t, s, store.AuditVerifyOptions{Head: &ref})
	require.Equal(t, store.AuditHeadMismatch, p.Kind)
	require.Equal(t, head.SealNo, p.SealNo)
}

func TestAuditSealsFollowEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	_, sealed, err := s.Seal(ctx)
	require.NoError(t, err)
	require.False(t, sealed, "nothing to seal")
	head, err := s.AuditHead(ctx)
	require.NoError(t, err)
	require.Equal(t, store.AuditHead{}, head)

	// Several sealers at once, between inserts: each seal is the next one.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 5 {
				assert.NoError(t, insertOrders(pool, fmt.Sprintf("o%d-%d-", i, j), 2, 1, 3))
				_, _, err := s.Seal(ctx)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	head = sealAll(t, s)
	require.Equal(t, int64(4*5*2*3), head.Sealed)
	rep := requireVerified(t, s, store.AuditVerifyOptions{})
	require.Equal(t, head.SealNo, rep.Seals)

	// A missing seal is named.
	if head.SealNo >= 2 {
		tamper(t, pool, `DELETE FROM audit_seals WHERE seal_no = 1`)
		p := requireProblem(t, s, store.AuditVerifyOptions{})
		require.Equal(t, store.AuditSealMissing, p.Kind)
		require.Equal(t, int64(1), p.SealNo)
	}
	_, err = pool.Exec(ctx, `UPDATE audit_seals SET hash = hash`)
	require.ErrorContains(t, err, "append-only")
	_, err = pool.Exec(ctx, `DELETE FROM audit_seals`)
	require.ErrorContains(t, err, "append-only")
}

func TestAuditChainOfConcurrentInsertsHasNoGaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			<-start
			for i := range 20 {
				assert.NoError(t, s.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Actor: fiona,
					Action: "note", Reason: fmt.Sprintf("writer %d, note %d", w, i)}))
			}
		})
		wg.Go(func() { // workflow transitions of the same order, each replayed
			<-start
			for i := range 5 {
				seq := int64(w*5 + i + 1)
				assert.NoError(t, s.RecordTransition(ctx, transition("ord-1", seq, order.StatusAwaitingAcceptance)))
				assert.NoError(t, s.RecordTransition(ctx, transition("ord-1", seq, order.StatusAwaitingAcceptance)))
			}
		})
	}
	close(start)
	wg.Wait()
	requireChained(t, pool, "ord-1", 1+8*20+8*5)
	requireVerified(t, s, store.AuditVerifyOptions{})
}

func TestAuditVerifyStreamsALargeLog(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	fillOrders(t, pool, 200, 50)
	sealAll(t, s)
	fillOrdersFrom(t, pool, "ord-", 200, 51, 50)
	sealAll(t, s)
	fillOrdersFrom(t, pool, "new-", 10, 1, 7) // unsealed
	// Batches much smaller than the log, crossing orders and seals.
	rep := requireVerified(t, s, store.AuditVerifyOptions{BatchSize: 997})
	require.Equal(t, int64(20_070), rep.Entries)
	require.Equal(t, int64(210), rep.Orders)
	require.Equal(t, int64(70), rep.Unsealed)
	require.Equal(t, int64(20_000), rep.Head.Sealed)

	links := chainOf(t, pool, "ord-123")
	tamper(t, pool, fmt.Sprintf(`UPDATE audit_log SET data = '{"o": 123, "e": 77, "x": 1}' WHERE id = %d`, links[76].id))
	p := requireProblem(t, s, store.AuditVerifyOptions{BatchSize: 997})
	require.Equal(t, store.AuditChanged, p.Kind)
	require.Equal(t, links[76].id, p.EntryID)
}

func TestParseSealRef(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	ref, err := store.ParseSealRef("12:" + h)
	require.NoError(t, err)
	require.Equal(t, int64(12), ref.SealNo)
	require.Equal(t, h, hex.EncodeToString(ref.Hash))
	for _, bad := range []string{"", "12", "0:" + h, "x:" + h, "12:" + h[:10], "12:zz" + h[2:]} {
		_, err := store.ParseSealRef(bad)
		require.Error(t, err, bad)
	}
}

// TestMigrationChainsExistingEntries applies the migrations before 019,
// writes entries as the old schema had them, then migrates: the entries are
// chained per order in insertion order, and verify agrees.
func TestMigrationChainsExistingEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := fstest.MapFS{}
	all, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	require.NoError(t, err)
	for _, name := range all {
		if name < "019" {
			b, err := os.ReadFile("migrations/" + name)
			require.NoError(t, err)
			before[name] = &fstest.MapFile{Data: b}
		}
	}
	require.Len(t, before, 18)
	pool := pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, before, store.VersionTable)
	})
	s := store.New(pool)
	// Interleaved orders, NULLs, JSON, a creation entry through the store.
	createOrder(t, s, "ord-b", "ACME-001", order.StatusQuoting, money.Money{})
	_, err = pool.Exec(ctx, `
		INSERT INTO audit_log (order_id, seq, at, actor_subject, actor_role, actor_customer_id, action, from_status, to_status, reason, data)
		VALUES ('ord-a', 0, $1, 'alice', 'buyer', 'ACME-001', 'order.created', NULL, 'QUOTING', '', NULL),
			('ord-b', 1, $1, 'system', 'system', '', 'quote.priced', 'QUOTING', 'AWAITING_ACCEPTANCE', '', '{"revision": 1}'),
			('ord-a', NULL, $1, 'fiona', 'finance', '', 'payment.allocated', NULL, NULL, 'Grüße', '{"b": [1, 2], "a": "x"}'),
			('ord-b', 2, $1, 'system', 'system', '', 'status.changed', 'AWAITING_ACCEPTANCE', 'CREDIT_CHECK', '', NULL)`, t0)
	require.NoError(t, err)
	var ids []int64
	rows, err := pool.Query(ctx, `SELECT id FROM audit_log WHERE order_id = 'ord-b' ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())

	require.NoError(t, store.Migrate(ctx, pool))
	requireChained(t, pool, "ord-a", 2)
	links := requireChained(t, pool, "ord-b", 3)
	for i, l := range links {
		require.Equal(t, ids[i], l.id, "chained in insertion order")
	}
	rep := requireVerified(t, s, store.AuditVerifyOptions{})
	require.Equal(t, int64(5), rep.Entries)

	// New entries continue the chains, and the append-only trigger is back.
	require.NoError(t, s.RecordTransition(ctx, transition("ord-b", 3, order.StatusConfirmed)))
	requireChained(t, pool, "ord-b", 4)
	_, err = pool.Exec(ctx, `UPDATE audit_log SET reason = 'x'`)
	require.ErrorContains(t, err, "append-only")
	head := sealAll(t, s)
	require.Equal(t, int64(6), head.Sealed)
	requireVerified(t, s, store.AuditVerifyOptions{})
}
