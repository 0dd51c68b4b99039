package carriersim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
)

// answer is what a write decided: the status and the JSON body to send.
type answer struct {
	status int
	body   any
}

// maxKeyLen bounds an Idempotency-Key; orderflow's keys are order id plus step.
const maxKeyLen = 255

// requestHash identifies a request for idempotency: the method, the path
// (which names the shipment for cancel) and the decoded request re-encoded,
// so field order and spacing do not matter.
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

// requireKey answers 400 unless the request carries a usable Idempotency-Key.
// Writes check it before reading the body, so a keyless call is refused
// whatever it carries.
func requireKey(w http.ResponseWriter, r *http.Request) bool {
	switch key := r.Header.Get(idempotencyHeader); {
	case key == "":
		writeError(w, http.StatusBadRequest, "idempotency_key_required", "the "+idempotencyHeader+" header is required")
		return false
	case len(key) > maxKeyLen:
		writeError(w, http.StatusBadRequest, "idempotency_key_too_long", fmt.Sprintf("at most %d characters", maxKeyLen))
		return false
	}
	return true
}

// idempotent runs a write under the request's Idempotency-Key.
//
// The key is claimed by inserting its row first, in the same transaction as
// the effect: a second request with the same key blocks on that insert until
// the first commits (and then replays its answer) or rolls back (and then
// runs itself). So two concurrent retries never book twice.
//
// Only 2xx answers are stored with the effect. A refusal (404, 409, 422)
// changed nothing, so its transaction is rolled back with the claim and the
// same key retried later is evaluated afresh.
func (s *Sim) idempotent(w http.ResponseWriter, r *http.Request, request any,
	effect func(ctx context.Context, tx pgx.Tx) (answer, error)) {
	key := r.Header.Get(idempotencyHeader)
	hash, err := requestHash(r.Method, r.URL.Path, request)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	ctx := r.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		s.internalError(w, r, fmt.Errorf("begin: %w", err))
		return
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	tag, err := tx.Exec(ctx, `
		INSERT INTO carriersim_idempotency_keys (key, request_hash, created_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, hash, s.now())
	if err != nil {
		s.internalError(w, r, fmt.Errorf("claim idempotency key: %w", err))
		return
	}
	if tag.RowsAffected() == 0 {
		s.replay(w, r, tx, key, hash)
		return
	}

	ans, err := effect(ctx, tx)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data, err := json.Marshal(ans.body)
	if err != nil {
		s.internalError(w, r, fmt.Errorf("encode answer: %w", err))
		return
	}
	if ans.status < 200 || ans.status > 299 {
		// The deferred rollback drops the claim and anything the effect began.
		writeRaw(w, ans.status, data)
		return
	}
	if _, err := tx.Exec(ctx, `
		UPDATE carriersim_idempotency_keys SET status = $2, answer = $3 WHERE key = $1`,
		key, ans.status, data); err != nil {
		s.internalError(w, r, fmt.Errorf("store answer for idempotency key: %w", err))
		return
	}
	if err := tx.Commit(ctx); err != nil {
		s.internalError(w, r, fmt.Errorf("commit: %w", err))
		return
	}
	writeRaw(w, ans.status, data)
}

// replay answers a request whose key was used before: with the stored answer
// if the request is the same, with 422 if the key now carries another request.
func (s *Sim) replay(w http.ResponseWriter, r *http.Request, tx pgx.Tx, key string, hash []byte) {
	var stored []byte
	var status *int
	var data []byte
	err := tx.QueryRow(r.Context(), `
		SELECT request_hash, status, answer FROM carriersim_idempotency_keys WHERE key = $1`,
		key).Scan(&stored, &status, &data)
	if err != nil {
		s.internalError(w, r, fmt.Errorf("read idempotency key: %w", err))
		return
	}
	if !bytes.Equal(stored, hash) {
		writeError(w, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"the key was first used with another request")
		return
	}
	if status == nil {
		// Cannot happen: a claim is only ever committed with its answer.
		s.internalError(w, r, fmt.Errorf("idempotency key %q has no stored answer", key))
		return
	}
	w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(w, *status, data)
}
