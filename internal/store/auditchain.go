package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The audit chain (migration 019, docs/design.md "The audit chain").
//
// Every audit entry carries chain_index (1, 2, 3, … per order), prev_hash
// (the previous entry's hash, zeroHash for the first) and hash =
// sha256(prev_hash || entryContent), computed by a trigger on insert. The
// encoding below is the one the migration's audit_log_content uses; verify
// recomputes every hash here, in Go, and never asks the database to.
//
// Seals chain the entries of all orders together: seal n covers the entries
// whose inserting transaction lies in [from_xid, to_xid) and its hash is
// sealHash. The latest seal's number and hash are the head that is published
// (log line and metric), so that a rewrite of the whole store shows against
// a head kept outside it.

// zeroHash is the prev_hash of an order's first entry and of the first seal.
var zeroHash = make([]byte, sha256.Size)

// sealLockID serialises Seal across processes (pg_advisory_xact_lock).
const sealLockID = 7_212_450_018

// DefaultVerifyBatch is how many rows VerifyAudit reads per query when
// AuditVerifyOptions.BatchSize is zero.
const DefaultVerifyBatch = 5000

// appendField appends one field of the canonical encoding: its length in
// bytes in decimal, ':', and its bytes.
func appendField(b []byte, v string) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}

// appendNullable appends a field that may be NULL: NULL is the single byte
// '-', which no length starts with, so NULL and "" differ.
func appendNullable(b []byte, v *string) []byte {
	if v == nil {
		return append(b, '-')
	}
	return appendField(b, *v)
}

// chainRow is one audit_log row as the chain sees it.
type chainRow struct {
	id         int64
	orderID    string
	chainIndex int64
	seq        *int64
	at         time.Time
	subject    string
	role       string
	customerID string
	action     string
	fromStatus *string
	toStatus   *string
	reason     string
	data       *string // jsonb's text form (data::text)
	fence      int64
	prevHash   []byte
	hash       []byte
}

// content is the canonical encoding of the row (see migration 019):
// order_id, chain_index, seq, at in microseconds since the epoch,
// actor_subject, actor_role, actor_customer_id, action, from_status,
// to_status, reason, data, and the fence when it is not 0 (migration
// 022; entries before it have 0 and hash as they did).
func (r chainRow) content() []byte {
	var seq *string
	if r.seq != nil {
		s := strconv.FormatInt(*r.seq, 10)
		seq = &s
	}
	b := make([]byte, 0, 256)
	b = appendField(b, r.orderID)
	b = appendField(b, strconv.FormatInt(r.chainIndex, 10))
	b = appendNullable(b, seq)
	b = appendField(b, strconv.FormatInt(r.at.UnixMicro(), 10))
	b = appendField(b, r.subject)
	b = appendField(b, r.role)
	b = appendField(b, r.customerID)
	b = appendField(b, r.action)
	b = appendNullable(b, r.fromStatus)
	b = appendNullable(b, r.toStatus)
	b = appendField(b, r.reason)
	b = appendNullable(b, r.data)
	if r.fence != 0 {
		b = appendField(b, strconv.FormatInt(r.fence, 10))
	}
	return b
}

// entryHash is sha256(prevHash || content).
func entryHash(prevHash, content []byte) []byte {
	h := sha256.New()
	h.Write(prevHash)
	h.Write(content)
	return h.Sum(nil)
}

// AuditSeal is one link of the chain over all orders' entries.
type AuditSeal struct {
	SealNo   int64
	SealedAt time.Time
	// FromXID and ToXID bound the inserting transactions of the entries the
	// seal covers: [FromXID, ToXID).
	FromXID, ToXID uint64
	Entries        int64
	PrevHash, Hash []byte
}

// sealHasher computes a seal's hash: sha256(prev_hash || seal_no ||
// sealed_at in microseconds || from_xid || to_xid || the covered entries'
// hashes in (xid, id) order || their number), numbers as fields of the
// canonical encoding. The count comes last so that entries can be hashed
// as they stream by.
type sealHasher struct {
	h hash.Hash
	n int64
}

func newSealHasher(s AuditSeal) *sealHasher {
	h := sha256.New()
	h.Write(s.PrevHash)
	var b []byte
	b = appendField(b, strconv.FormatInt(s.SealNo, 10))
	b = appendField(b, strconv.FormatInt(s.SealedAt.UnixMicro(), 10))
	b = appendField(b, strconv.FormatUint(s.FromXID, 10))
	b = appendField(b, strconv.FormatUint(s.ToXID, 10))
	h.Write(b)
	return &sealHasher{h: h}
}

func (s *sealHasher) add(entryHash []byte) {
	s.h.Write(entryHash)
	s.n++
}

func (s *sealHasher) sum() []byte {
	s.h.Write(appendField(nil, strconv.FormatInt(s.n, 10)))
	return s.h.Sum(nil)
}

// Seal adds a seal over the audit entries written since the last one and
// returns the latest seal (sealed=false when there was nothing new to seal:
// the head stays). Several processes may seal at once: an advisory lock
// makes them take turns, and each reads the latest seal under it.
//
// A seal covers the entries of every transaction older than the oldest
// transaction still running on the server (any database: transaction ids
// are the server's), so a long transaction delays sealing, never breaks it.
func (s *Store) Seal(ctx context.Context) (seal AuditSeal, sealed bool, err error) {
	err = s.inTx(ctx, "seal audit log", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(sealLockID)); err != nil {
			return fmt.Errorf("seal audit log: lock: %w", err)
		}
		last, err := latestSeal(ctx, tx)
		if err != nil {
			return err
		}
		seal = last
		// First, before this transaction has an id of its own.
		var xmin string
		if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xmin); err != nil {
			return fmt.Errorf("seal audit log: snapshot: %w", err)
		}
		to, err := strconv.ParseUint(xmin, 10, 64)
		if err != nil {
			return fmt.Errorf("seal audit log: snapshot xmin %q: %w", xmin, err)
		}
		if to <= last.ToXID {
			return nil
		}
		next := AuditSeal{
			SealNo: last.SealNo + 1, SealedAt: s.Now().UTC().Truncate(time.Microsecond),
			FromXID: last.ToXID, ToXID: to, PrevHash: last.Hash,
		}
		sh := newSealHasher(next)
		rows, err := tx.Query(ctx, `
			SELECT hash FROM audit_log
			WHERE xid >= $1::text::xid8 AND xid < $2::text::xid8
			ORDER BY xid, id`, strconv.FormatUint(next.FromXID, 10), strconv.FormatUint(next.ToXID, 10))
		if err != nil {
			return fmt.Errorf("seal audit log: read entries: %w", err)
		}
		var h []byte
		_, err = pgx.ForEachRow(rows, []any{&h}, func() error {
			sh.add(h)
			return nil
		})
		if err != nil {
			return fmt.Errorf("seal audit log: read entries: %w", err)
		}
		if sh.n == 0 {
			return nil // nothing new: no seal, the head stays
		}
		next.Entries = sh.n
		next.Hash = sh.sum()
		_, err = tx.Exec(ctx, `
			INSERT INTO audit_seals (seal_no, sealed_at, from_xid, to_xid, entries, prev_hash, hash)
			VALUES ($1, $2, $3::text::xid8, $4::text::xid8, $5, $6, $7)`,
			next.SealNo, next.SealedAt, strconv.FormatUint(next.FromXID, 10), strconv.FormatUint(next.ToXID, 10),
			next.Entries, next.PrevHash, next.Hash)
		if err != nil {
			return dbError("seal audit log: insert seal", err)
		}
		seal, sealed = next, true
		return nil
	})
	return seal, sealed, err
}

// latestSeal is the seal with the highest number, or seal 0 (ToXID 0,
// zeroHash) when there is none.
func latestSeal(ctx context.Context, q pgx.Tx) (AuditSeal, error) {
	seals, err := readSeals(ctx, q, `ORDER BY seal_no DESC LIMIT 1`)
	if err != nil {
		return AuditSeal{}, err
	}
	if len(seals) == 0 {
		return AuditSeal{Hash: zeroHash}, nil
	}
	return seals[0], nil
}

func readSeals(ctx context.Context, q querier, tail string, args ...any) ([]AuditSeal, error) {
	rows, err := q.Query(ctx, `
		SELECT seal_no, sealed_at, from_xid::text, to_xid::text, entries, prev_hash, hash
		FROM audit_seals `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit seals: %w", err)
	}
	seals, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditSeal, error) {
		var s AuditSeal
		var from, to string
		if err := row.Scan(&s.SealNo, &s.SealedAt, &from, &to, &s.Entries, &s.PrevHash, &s.Hash); err != nil {
			return s, err
		}
		s.SealedAt = s.SealedAt.UTC()
		var err1, err2 error
		s.FromXID, err1 = strconv.ParseUint(from, 10, 64)
		s.ToXID, err2 = strconv.ParseUint(to, 10, 64)
		return s, errors.Join(err1, err2)
	})
	if err != nil {
		return nil, fmt.Errorf("read audit seals: %w", err)
	}
	return seals, nil
}

// AuditHead is the latest seal as published: the value to keep outside the
// database and compare later (orderflow audit verify --head N:HEX).
type AuditHead struct {
	SealNo   int64     `json:"seal_no"`
	Hash     string    `json:"hash"` // hex; empty before the first seal
	SealedAt time.Time `json:"sealed_at"`
	// Sealed is the number of entries all seals cover; Unsealed those
	// written since (they are covered by the next seal).
	Sealed   int64 `json:"sealed_entries"`
	Unsealed int64 `json:"unsealed_entries"`
}

// Ref is the head as `orderflow audit verify --head` takes it: N:HEX.
func (h AuditHead) Ref() string { return fmt.Sprintf("%d:%s", h.SealNo, h.Hash) }

// AuditHead returns the latest seal and how many entries are (not yet) sealed.
func (s *Store) AuditHead(ctx context.Context) (AuditHead, error) {
	var head AuditHead
	var hash []byte
	var sealedAt *time.Time
	err := s.pool.QueryRow(ctx, `
		WITH last AS (SELECT seal_no, hash, sealed_at, to_xid FROM audit_seals ORDER BY seal_no DESC LIMIT 1)
		SELECT COALESCE((SELECT seal_no FROM last), 0),
			(SELECT hash FROM last),
			(SELECT sealed_at FROM last),
			(SELECT COALESCE(sum(entries), 0)::bigint FROM audit_seals),
			(SELECT count(*) FROM audit_log
			 WHERE xid >= COALESCE((SELECT to_xid FROM last), '0'::xid8))`).
		Scan(&head.SealNo, &hash, &sealedAt, &head.Sealed, &head.Unsealed)
	if err != nil {
		return AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	head.Hash = hex.EncodeToString(hash)
	if sealedAt != nil {
		head.SealedAt = sealedAt.UTC()
	}
	return head, nil
}

// SealRef names a seal and the hash it had when it was published.
type SealRef struct {
	SealNo int64
	Hash   []byte
}

// ParseSealRef reads a published head, N:HEX (AuditHead.Ref).
func ParseSealRef(s string) (SealRef, error) {
	no, hx, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(no, 10, 64)
	if !ok || err != nil || n < 1 {
		return SealRef{}, fmt.Errorf("a head is <seal number>:<hash in hex>, like 12:9f86…; got %q", s)
	}
	h, err := hex.DecodeString(hx)
	if err != nil || len(h) != sha256.Size {
		return SealRef{}, fmt.Errorf("a head's hash is %d hex digits; got %q", 2*sha256.Size, hx)
	}
	return SealRef{SealNo: n, Hash: h}, nil
}

// AuditVerifyOptions narrow VerifyAudit.
type AuditVerifyOptions struct {
	// OrderID, when set, verifies that order's chain only (no seals).
	OrderID string
	// Head, when set, is a head published earlier: its seal must still
	// have that hash.
	Head *SealRef
	// BatchSize is how many rows each query reads; zero means DefaultVerifyBatch.
	BatchSize int
}

// Kinds of AuditProblem.
const (
	// AuditChanged: the entry's content (or prev_hash) does not hash to its hash.
	AuditChanged = "changed"
	// AuditRewritten: the entry hashes to its hash, but the next entry
	// chained to another hash: it was rewritten, hash and all.
	AuditRewritten = "rewritten"
	// AuditGap: an entry of the order's chain is missing.
	AuditGap = "gap"
	// AuditBrokenLink: the first entry of a chain does not start from zero.
	AuditBrokenLink = "broken-link"
	// AuditSealMissing: a seal is missing, or seals do not follow each other.
	AuditSealMissing = "seal-missing"
	// AuditSealMismatch: the entries in a seal's range are not those it sealed.
	AuditSealMismatch = "seal-mismatch"
	// AuditHeadMismatch: the seal of a head published earlier has another hash now.
	AuditHeadMismatch = "head-mismatch"
)

// AuditProblem is an entry or seal that does not verify.
type AuditProblem struct {
	Kind    string `json:"kind"`
	OrderID string `json:"order_id,omitempty"`
	// ChainIndex and EntryID name the entry (EntryID is 0 when it is missing).
	ChainIndex int64  `json:"chain_index,omitempty"`
	EntryID    int64  `json:"entry_id,omitempty"`
	SealNo     int64  `json:"seal_no,omitempty"`
	Message    string `json:"message"`
}

// AuditReport is what VerifyAudit found.
type AuditReport struct {
	OK bool `json:"ok"`
	// OrderID is set when one order was verified.
	OrderID string `json:"order_id,omitempty"`
	Entries int64  `json:"entries"`
	Orders  int64  `json:"orders"`
	Seals   int64  `json:"seals"`
	// Unsealed counts entries no seal covers yet (whole-log verification).
	Unsealed int64 `json:"unsealed_entries"`
	// Head is the last seal verified (nil before the first seal, and for one order).
	Head *AuditHead `json:"head,omitempty"`
	// Problem is the first entry or seal that does not verify, in chain
	// order, entries before seals; Problems counts all that were found.
	Problem  *AuditProblem `json:"problem,omitempty"`
	Problems int64         `json:"problems"`
}

func (r *AuditReport) fail(p AuditProblem) {
	r.Problems++
	if r.Problem == nil {
		r.Problem = &p
	}
}

// VerifyAudit walks every order's chain in (order_id, chain_index) order,
// recomputing each entry's hash, then recomputes every seal from the
// entries it covers, and reports the first entry or seal that does not
// verify. It reads in batches, so the log's size does not matter to memory.
// An error means verification could not run; a failed verification is a
// report with OK false.
func (s *Store) VerifyAudit(ctx context.Context, opts AuditVerifyOptions) (AuditReport, error) {
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultVerifyBatch
	}
	rep := AuditReport{OrderID: opts.OrderID}
	if err := s.verifyChains(ctx, opts.OrderID, batch, &rep); err != nil {
		return AuditReport{}, err
	}
	if opts.OrderID == "" {
		if err := s.verifySeals(ctx, opts.Head, batch, &rep); err != nil {
			return AuditReport{}, err
		}
	}
	rep.OK = rep.Problems == 0
	return rep, nil
}

// verifyChains checks each entry against itself (its hash), its
// predecessor (prev_hash) and its place (chain_index).
func (s *Store) verifyChains(ctx context.Context, orderID string, batch int, rep *AuditReport) error {
	var (
		prev       chainRow // the previous entry of the current order
		inOrder    bool
		afterOrder string
		afterIndex int64
	)
	for {
		filter := ""
		args := []any{afterOrder, afterIndex, batch}
		if orderID != "" {
			filter = "order_id = $4 AND "
			args = append(args, orderID)
		}
		rows, err := s.pool.Query(ctx, `
			SELECT id, order_id, chain_index, seq, at, actor_subject, actor_role, actor_customer_id,
				action, from_status, to_status, reason, data::text, fence, prev_hash, hash
			FROM audit_log
			WHERE `+filter+`(order_id, chain_index) > ($1, $2)
			ORDER BY order_id, chain_index
			LIMIT $3`, args...)
		if err != nil {
			return fmt.Errorf("verify audit log: %w", err)
		}
		n := 0
		for rows.Next() {
			var r chainRow // fresh: pgx reuses the pointers of a scan target
			if err := rows.Scan(&r.id, &r.orderID, &r.chainIndex, &r.seq, &r.at, &r.subject, &r.role,
				&r.customerID, &r.action, &r.fromStatus, &r.toStatus, &r.reason, &r.data, &r.fence, &r.prevHash, &r.hash); err != nil {
				rows.Close()
				return fmt.Errorf("verify audit log: %w", err)
			}
			n++
			rep.Entries++
			if !inOrder || r.orderID != prev.orderID {
				rep.Orders++
				inOrder, prev = true, chainRow{orderID: r.orderID, hash: zeroHash}
			}
			checkEntry(prev, r, rep)
			prev = r
			afterOrder, afterIndex = r.orderID, r.chainIndex
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify audit log: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// checkEntry checks r, the entry after prev in its order's chain (prev has
// chainIndex 0 and zeroHash when r is the order's first entry).
func checkEntry(prev, r chainRow, rep *AuditReport) {
	name := fmt.Sprintf("entry %d of order %s (id %d)", r.chainIndex, r.orderID, r.id)
	if want := prev.chainIndex + 1; r.chainIndex != want {
		between := fmt.Sprintf("before id %d", r.id)
		if prev.id != 0 {
			between = fmt.Sprintf("between ids %d and %d", prev.id, r.id)
		}
		what := fmt.Sprintf("entry %d of order %s is missing", want, r.orderID)
		if r.chainIndex > want+1 {
			what = fmt.Sprintf("entries %d to %d of order %s are missing", want, r.chainIndex-1, r.orderID)
		}
		if r.chainIndex < want {
			what = fmt.Sprintf("entry %d of order %s appears after entry %d", r.chainIndex, r.orderID, prev.chainIndex)
		}
		rep.fail(AuditProblem{Kind: AuditGap, OrderID: r.orderID, ChainIndex: want,
			Message: fmt.Sprintf("%s (%s): deleted, or its chain_index was changed", what, between)})
		return // its link cannot match; the chain goes on from r
	}
	if !bytes.Equal(entryHash(r.prevHash, r.content()), r.hash) {
		rep.fail(AuditProblem{Kind: AuditChanged, OrderID: r.orderID, ChainIndex: r.chainIndex, EntryID: r.id,
			Message: name + " does not match its hash: it was changed after it was written"})
		return
	}
	if !bytes.Equal(r.prevHash, prev.hash) {
		if prev.id == 0 {
			rep.fail(AuditProblem{Kind: AuditBrokenLink, OrderID: r.orderID, ChainIndex: r.chainIndex, EntryID: r.id,
				Message: name + " is the order's first entry but chains to an earlier one: entries before it were removed and it was renumbered"})
			return
		}
		rep.fail(AuditProblem{Kind: AuditRewritten, OrderID: r.orderID, ChainIndex: prev.chainIndex, EntryID: prev.id,
			Message: fmt.Sprintf("entry %d of order %s (id %d) was rewritten with a new hash: entry %d (id %d) chained to another one",
				prev.chainIndex, r.orderID, prev.id, r.chainIndex, r.id)})
	}
}

// rowHashes streams the entries' hashes in (xid, id) order, in batches.
type rowHashes struct {
	s        *Store
	batch    int
	buf      []xidHash
	afterXID uint64
	afterID  int64
	done     bool
	pos      int
}

type xidHash struct {
	id   int64
	xid  uint64
	hash []byte
}

// peek returns the next entry without consuming it; nil at the end.
func (it *rowHashes) peek(ctx context.Context) (*xidHash, error) {
	if it.pos < len(it.buf) {
		return &it.buf[it.pos], nil
	}
	if it.done {
		return nil, nil
	}
	rows, err := it.s.pool.Query(ctx, `
		SELECT id, xid::text, hash FROM audit_log
		WHERE (xid, id) > ($1::text::xid8, $2)
		ORDER BY xid, id
		LIMIT $3`, strconv.FormatUint(it.afterXID, 10), it.afterID, it.batch)
	if err != nil {
		return nil, fmt.Errorf("verify audit seals: read entries: %w", err)
	}
	it.buf, it.pos = it.buf[:0], 0
	var e xidHash
	var xid string
	_, err = pgx.ForEachRow(rows, []any{&e.id, &xid, &e.hash}, func() error {
		x, err := strconv.ParseUint(xid, 10, 64)
		if err != nil {
			return err
		}
		e.xid = x
		it.buf = append(it.buf, xidHash{id: e.id, xid: e.xid, hash: bytes.Clone(e.hash)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify audit seals: read entries: %w", err)
	}
	if len(it.buf) < it.batch {
		it.done = true
	}
	if len(it.buf) == 0 {
		return nil, nil
	}
	last := it.buf[len(it.buf)-1]
	it.afterXID, it.afterID = last.xid, last.id
	return &it.buf[0], nil
}

func (it *rowHashes) next() { it.pos++ }

// verifySeals recomputes each seal from the entries in its range and
// checks that the seals follow each other, and that head (if any) still
// has its published hash.
func (s *Store) verifySeals(ctx context.Context, head *SealRef, batch int, rep *AuditReport) error {
	entries := &rowHashes{s: s, batch: batch}
	prev := AuditSeal{Hash: zeroHash}
	headSeen := false
	var sealed int64
	for {
		seals, err := readSeals(ctx, s.pool, `WHERE seal_no > $1 ORDER BY seal_no LIMIT $2`, prev.SealNo, batch)
		if err != nil {
			return err
		}
		for _, seal := range seals {
			rep.Seals++
			sealed += seal.Entries
			name := fmt.Sprintf("seal %d", seal.SealNo)
			switch {
			case seal.SealNo != prev.SealNo+1:
				rep.fail(AuditProblem{Kind: AuditSealMissing, SealNo: prev.SealNo + 1,
					Message: fmt.Sprintf("seal %d is missing (seal %d follows seal %d)", prev.SealNo+1, seal.SealNo, prev.SealNo)})
			case seal.FromXID != prev.ToXID:
				rep.fail(AuditProblem{Kind: AuditSealMissing, SealNo: seal.SealNo,
					Message: fmt.Sprintf("%s starts at transaction %d, not where seal %d ended (%d)", name, seal.FromXID, prev.SealNo, prev.ToXID)})
			case !bytes.Equal(seal.PrevHash, prev.Hash):
				rep.fail(AuditProblem{Kind: AuditSealMismatch, SealNo: seal.SealNo,
					Message: fmt.Sprintf("%s does not chain to seal %d's hash: one of them was rewritten", name, prev.SealNo)})
			}
			sh := newSealHasher(seal)
			for {
				e, err := entries.peek(ctx)
				if err != nil {
					return err
				}
				if e == nil || e.xid >= seal.ToXID {
					break
				}
				if e.xid >= seal.FromXID { // entries below it are in no seal's range: reported above
					sh.add(e.hash)
				}
				entries.next()
			}
			n := sh.n
			if got := sh.sum(); !bytes.Equal(got, seal.Hash) {
				msg := fmt.Sprintf("%s does not verify: the entries in its range are not those it sealed (changed, added or removed)", name)
				if n != seal.Entries {
					msg = fmt.Sprintf("%s does not verify: it sealed %d entries, its range holds %d (entries were removed or added)", name, seal.Entries, n)
				}
				rep.fail(AuditProblem{Kind: AuditSealMismatch, SealNo: seal.SealNo, Message: msg})
			}
			if head != nil && seal.SealNo == head.SealNo {
				headSeen = true
				if !bytes.Equal(seal.Hash, head.Hash) {
					rep.fail(AuditProblem{Kind: AuditHeadMismatch, SealNo: seal.SealNo,
						Message: fmt.Sprintf("%s has hash %x, but %x was published for it: the seals were rewritten since", name, seal.Hash, head.Hash)})
				}
			}
			prev = seal
		}
		if len(seals) < batch {
			break
		}
	}
	if head != nil && !headSeen {
		rep.fail(AuditProblem{Kind: AuditHeadMismatch, SealNo: head.SealNo,
			Message: fmt.Sprintf("seal %d, published earlier, is not in the database (the last seal is %d)", head.SealNo, prev.SealNo)})
	}
	if prev.SealNo > 0 {
		rep.Head = &AuditHead{SealNo: prev.SealNo, Hash: hex.EncodeToString(prev.Hash), SealedAt: prev.SealedAt, Sealed: sealed}
	}
	// What is left was written since the last seal.
	for {
		e, err := entries.peek(ctx)
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		rep.Unsealed++
		entries.next()
	}
	if rep.Head != nil {
		rep.Head.Unsealed = rep.Unsealed
	}
	return nil
}
