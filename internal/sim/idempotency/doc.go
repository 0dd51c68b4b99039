// Package idempotency runs a simulator's writes under the request's
// Idempotency-Key, the way the systems orderflow talks to do.
//
// A [Store] claims the key by inserting its row in the same transaction as
// the write's effect, so a concurrent retry with the same key blocks on that
// insert until the first request commits (and then replays its answer) or
// rolls back (and then runs itself): two retries never both take effect. The
// request is identified by a hash of its method, path and decoded body; the
// same key with another request is 422 idempotency_key_reused. A replayed
// answer is the stored bytes, with the header Idempotent-Replayed: true.
//
// Only 2xx answers are stored. A refusal (404, 409, 422) changed nothing, so
// its transaction is rolled back with the claim, and the same key retried
// after the cause is fixed is evaluated afresh instead of repeating a stale
// refusal forever.
//
// Each simulator keeps its keys in a table of its own, created by its own
// migrations and named to the Store, with these columns:
//
//	key          text        PRIMARY KEY,
//	request_hash bytea       NOT NULL,
//	status       integer,     -- NULL while claimed
//	answer       bytea,       -- bytes, not jsonb: a replay is byte for byte
//	created_at   timestamptz NOT NULL
package idempotency
