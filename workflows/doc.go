// Package workflows holds the order workflow: one durable execution per B2B
// order, from quote to cash.
//
// The workflow id is the order id. The workflow moves the OrderStatus search
// attribute through the lifecycle of PRODUCT.md, writes every transition to the
// projection and audit log through the Record activity, and answers updates
// (buyer, approver, finance and CS decisions, each with a validator that checks
// role and state) and signals (delivery, carrier exception, payment, survey
// answer).
//
// # Determinism
//
// Everything here runs inside Temporal's replay: no time.Now (workflow.Now), no
// randomness, no goroutines (workflow.Go), no map iteration that decides what
// happens, no I/O (activities do it). A change to the order of commands of a
// workflow that may have runs in flight goes behind workflow.GetVersion and is
// covered by a replay test against a history in testdata/.
//
// # Failure
//
// Outside calls retry with backoff inside a per-step budget. When a step
// exhausts it (or meets a permanent error), the order sets NeedsAttention,
// mails CS and waits for a CS action: retry the step, skip it (undos only),
// or cancel with compensation; CS may also resend a mail. Every step that
// changed something outside registers its undo; cancelling runs the undos in
// reverse order.
package workflows
