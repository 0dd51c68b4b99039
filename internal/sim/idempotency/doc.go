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
// # Undo by key
//
// A caller whose write's answer was lost knows the key it sent, not the id
// the write created. The simulators' undo-by-key routes (cancel-by-key,
// void-by-key; body [UndoRequest], read by [ReadUndo]) run under their own
// key like any write and call [Store.Fence] in their transaction: it
// returns the answer stored under the write's key, from which the undo takes
// the id, or reports that no write under that key ever took effect. Then
// there is nothing to undo, which is a success (200, [UndoAnswer] with found
// false, status "nothing_to_undo", as a real system's "cancel of an unknown
// reference" is treated), and the key is fenced: a row with a request hash
// no request has and the answer 409 undone_by_key, which every later write
// under the key gets, so a write that arrives after its undo (a resend
// still on its way) never takes effect behind the undo's back. A write in
// flight under the key holds its claim; the fence waits for it to commit
// (and then undoes it) or roll back (and then fences).
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
