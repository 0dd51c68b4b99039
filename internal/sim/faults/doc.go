// Package faults makes a simulator's routes misbehave on demand: added
// latency, the next N calls failing, a random error rate, an outage until a
// given instant. Tests set rules in Go; dev mode and benchmarks set them over
// HTTP (PUT /sim/faults).
//
// The semantics are those of the ERP simulator's fault rules, written once
// here so that every simulator behaves alike; a rule for route "*" applies to
// every route.
//
// A call chosen to fail fails in one of two ways, the rule's mode:
//
//   - "refuse" (the default): the fault answers its status before the
//     handler runs, so it never has an effect: a request that never reached
//     the system, which is exactly what a caller must be ready to retry.
//   - "drop_answer": commit, then drop the answer. The handler runs, its
//     effect commits and its idempotent answer is stored, and then the
//     connection is closed without a byte of answer (hijacked and closed;
//     an aborted stream where it cannot be hijacked). The caller sees a
//     transport error and cannot tell whether anything happened: only a
//     retry under the same Idempotency-Key, or an undo named by that key,
//     finds out. Go's http.Transport itself resends a request carrying an
//     Idempotency-Key once when a reused keep-alive connection dies this
//     way, so a single dropped answer may be recovered below the client; a
//     rule that drops every answer (error_rate 1) leaves the caller none.
package faults
