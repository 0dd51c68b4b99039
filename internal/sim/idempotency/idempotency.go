package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Header carries the key. The simulators do not import the client side
// (internal/downstream), so that the two are checked against each other, not
// against a shared constant.
const Header = "Idempotency-Key"

// ReplayedHeader is set to "true" on an answer replayed from a stored one.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLen bounds a key; orderflow's keys are an order id plus a step.
const MaxKeyLen = 255

// Effect is a write's work, done in tx: it returns the status and the body
// to answer, which is stored with the key when the status is 2xx. An error
// answers 500 and, like a non-2xx status, rolls back tx with the claim.
type Effect func(ctx context.Context, tx pgx.Tx) (status int, body any, err error)

// Store keeps one simulator's keys in its table.
type Store struct {
	pool *pgxpool.Pool
	// table is the sanitized, quoted table name, ready to stand in SQL.
	table string
	log   zerolog.Logger
	now   func() time.Time
}

// New returns the store of the keys in table (see the package doc for its
// columns). now stamps created_at; nil means time.Now. log records the
// requests that fail with 500.
func New(pool *pgxpool.Pool, table string, log zerolog.Logger, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, table: pgx.Identifier{table}.Sanitize(), log: log, now: now}
}

// RequireKey answers 400 unless r carries a usable key, and reports whether
// it did. Writes call it before reading the body, so a keyless call is
// refused whatever it carries; [Store.Run] calls it too.
func RequireKey(w http.ResponseWriter, r *http.Request) bool {
	switch key := r.Header.Get(Header); {
	case key == "":
		jsonapi.WriteError(w, http.StatusBadRequest, "idempotency_key_required", "the "+Header+" header is required")
		return false
	case len(key) > MaxKeyLen:
		jsonapi.WriteError(w, http.StatusBadRequest, "idempotency_key_too_long", fmt.Sprintf("at most %d characters", MaxKeyLen))
		return false
	}
	return true
}

// requestHash identifies a request: the method, the path (which names the
// resource for cancel and void) and the decoded request re-encoded, so field
// order and spacing do not matter.
func requestHash(method, path string, request any) ([]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	if request != nil {
		data, err := json.Marshal(request)
		if err != nil {
			return nil, fmt.Errorf("encode request for its hash: %w", err)
		}
		h.Write(data)
	}
	return h.Sum(nil), nil
}

// Run answers r by running effect once under r's key: the first time in a
// transaction that claims the key, afterwards by replaying the stored answer.
// request is the decoded body (nil when the path says it all); it is hashed
// to tell a retry from another request under the same key.
func (s *Store) Run(w http.ResponseWriter, r *http.Request, request any, effect Effect) {
	if !RequireKey(w, r) {
		return
	}
	key := r.Header.Get(Header)
	hash, err := requestHash(r.Method, r.URL.Path, request)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	ctx := r.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("begin: %w", err))
		return
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	tag, err := tx.Exec(ctx, `
		INSERT INTO `+s.table+` (key, request_hash, created_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, hash, s.now())
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("claim idempotency key: %w", err))
		return
	}
	if tag.RowsAffected() == 0 {
		s.replay(w, r, tx, key, hash)
		return
	}

	status, body, err := effect(ctx, tx)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	data, err := json.Marshal(body)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("encode answer: %w", err))
		return
	}
	if status < 200 || status > 299 {
		// The deferred rollback drops the claim and anything the effect began.
		jsonapi.WriteRaw(w, status, data)
		return
	}
	if _, err := tx.Exec(ctx, `
		UPDATE `+s.table+` SET status = $2, answer = $3 WHERE key = $1`,
		key, status, data); err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("store answer for idempotency key: %w", err))
		return
	}
	if err := tx.Commit(ctx); err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("commit: %w", err))
		return
	}
	jsonapi.WriteRaw(w, status, data)
}

// replay answers a request whose key was used before: with the stored answer
// if the request is the same, with 422 if the key now carries another request.
func (s *Store) replay(w http.ResponseWriter, r *http.Request, tx pgx.Tx, key string, hash []byte) {
	var stored []byte
	var status *int
	var data []byte
	err := tx.QueryRow(r.Context(), `
		SELECT request_hash, status, answer FROM `+s.table+` WHERE key = $1`,
		key).Scan(&stored, &status, &data)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("read idempotency key: %w", err))
		return
	}
	if bytes.Equal(stored, fenceHash) && status != nil {
		// An undo named this key before any write was made under it.
		jsonapi.WriteRaw(w, *status, data)
		return
	}
	if !bytes.Equal(stored, hash) {
		jsonapi.WriteError(w, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"the key was first used with another request")
		return
	}
	if status == nil {
		// Cannot happen: a claim is only ever committed with its answer.
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("idempotency key %q has no stored answer", key))
		return
	}
	w.Header().Set(ReplayedHeader, "true")
	jsonapi.WriteRaw(w, *status, data)
}

// fenceHash stands in a key's request_hash when an undo claimed the key
// before any write was made under it. No request hashes to it: requestHash
// always writes a method and a path.
var fenceHash = func() []byte { h := sha256.Sum256([]byte("fenced by an undo by key")); return h[:] }()

// fencedAnswer is what a write under a fenced key is answered, every time.
var fencedAnswer = []byte(`{"error":"undone_by_key","detail":"an undo named this key before a write was made under it; a write under it takes no effect"}`)

// Fence looks up, for an undo running in tx, what the write made under key
// answered: the key of the write the undo takes back. found is false when no
// write under key ever took effect: there is nothing to undo. Fence then
// claims key for good (a fence), so a write under it that arrives after the
// undo, say a retry whose first attempt was lost on the way, is refused with
// 409 undone_by_key instead of taking effect behind the undo's back; the
// fence commits or rolls back with tx. A write under key still in flight is
// waited for: its claim holds the key's row until it commits or rolls back.
func (s *Store) Fence(ctx context.Context, tx pgx.Tx, key string) (answer []byte, found bool, err error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO `+s.table+` (key, request_hash, status, answer, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO NOTHING`, key, fenceHash, http.StatusConflict, fencedAnswer, s.now())
	if err != nil {
		return nil, false, fmt.Errorf("fence idempotency key %q: %w", key, err)
	}
	if tag.RowsAffected() == 1 {
		return nil, false, nil
	}
	var hash []byte
	var status *int
	if err := tx.QueryRow(ctx, `
		SELECT request_hash, status, answer FROM `+s.table+` WHERE key = $1`,
		key).Scan(&hash, &status, &answer); err != nil {
		return nil, false, fmt.Errorf("read idempotency key %q: %w", key, err)
	}
	if bytes.Equal(hash, fenceHash) || status == nil || *status < 200 || *status > 299 {
		return nil, false, nil // fenced by an earlier undo: nothing was made under it
	}
	return answer, true, nil
}

// UndoRequest is the body of an undo named by the key of the write it takes
// back (POST /v1/sales-orders/cancel-by-key and the like): the caller lost
// the write's answer, so it knows the key it sent but not the id the write
// created.
type UndoRequest struct {
	// ForwardKey is the Idempotency-Key the write was sent with.
	ForwardKey string `json:"forward_key"`
}

// ReadUndo decodes an [UndoRequest] from r, at most maxBytes of it, and
// checks it: a forward_key of 1 to MaxKeyLen characters that is not the
// undo's own Idempotency-Key. Otherwise it answers 400 and returns false.
func ReadUndo(w http.ResponseWriter, r *http.Request, maxBytes int64) (UndoRequest, bool) {
	var req UndoRequest
	if !jsonapi.Decode(w, r, maxBytes, &req) {
		return req, false
	}
	switch {
	case req.ForwardKey == "":
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: "forward_key",
			Detail: "the Idempotency-Key of the write to undo is required"})
		return req, false
	case len(req.ForwardKey) > MaxKeyLen:
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: "forward_key",
			Detail: fmt.Sprintf("at most %d characters", MaxKeyLen)})
		return req, false
	case req.ForwardKey == r.Header.Get(Header):
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: "forward_key",
			Detail: "the undo needs an Idempotency-Key of its own, not the write's"})
		return req, false
	}
	return req, true
}

// UndoAnswer is the 200 of an undo named by key. Found is false when no
// write under the key ever took effect: nothing to undo, which is a success
// (Status "nothing_to_undo"); otherwise the simulator fills in what it undid.
type UndoAnswer struct {
	ForwardKey string `json:"forward_key"`
	Found      bool   `json:"found"`
	// Status is the undone resource's status ("cancelled", "void"), or
	// NothingToUndo.
	Status string `json:"status"`
}

// NothingToUndo is the status of an undo that found no write under its key.
const NothingToUndo = "nothing_to_undo"

// Undoing is an undo named by the idempotency key of the write it undoes:
// what that write made and how to undo it.
type Undoing struct {
	// IDField is the field of the write's stored answer that names what it
	// made ("sales_order_id"); the undo's answer names it the same way.
	IDField string
	// MadeNone says in words that the write under the key made something
	// else ("created no sales order"), for the 422 of that case.
	MadeNone string
	// WrongKey is the error code of that 422 ("not_a_sales_order_key").
	WrongKey string
	// Undone is the status of what was undone ("cancelled", "void").
	Undone string
	// Undo undoes what the write made, in the undo's transaction; an answer
	// other than 200 is passed on as it is.
	Undo func(ctx context.Context, tx pgx.Tx, id string) (int, any, error)
}

// ServeUndo serves POST …/…-by-key for u: the undo carries its own
// Idempotency-Key and names the write by forward_key. When nothing was ever
// written under that key there is nothing to undo: 200 with found false,
// and the key is fenced so a write under it that comes later is refused
// (see Fence). Otherwise what the write made is undone and named.
func (s *Store) ServeUndo(w http.ResponseWriter, r *http.Request, maxBody int64, u Undoing) {
	if !RequireKey(w, r) {
		return
	}
	req, ok := ReadUndo(w, r, maxBody)
	if !ok {
		return
	}
	s.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		answer, found, err := s.Fence(ctx, tx, req.ForwardKey)
		if err != nil {
			return 0, nil, err
		}
		if !found {
			return http.StatusOK, UndoAnswer{ForwardKey: req.ForwardKey, Status: NothingToUndo}, nil
		}
		var made map[string]any
		id := ""
		if json.Unmarshal(answer, &made) == nil {
			id, _ = made[u.IDField].(string)
		}
		if id == "" {
			return http.StatusUnprocessableEntity, jsonapi.Error{Error: u.WrongKey,
				Detail: "the write under " + req.ForwardKey + " " + u.MadeNone}, nil
		}
		status, body, err := u.Undo(ctx, tx, id)
		if err != nil || status != http.StatusOK {
			return status, body, err
		}
		return http.StatusOK, map[string]any{"forward_key": req.ForwardKey, "found": true, "status": u.Undone, u.IDField: id}, nil
	})
}
