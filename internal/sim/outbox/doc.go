// Package outbox delivers the simulators' webhooks durably.
//
// A simulator writes an event into the outbox (the table sim_outbox) in the
// same transaction as the state change it reports, so an event is queued if
// and only if the change committed. [Outbox.Run] then POSTs each pending event
// to the configured URL, signed with [webhook.Sign], until the receiver
// answers 2xx:
//
//   - transport errors, 5xx, 408, 425 and 429 are retried forever, with an
//     exponential backoff capped at Config.MaxBackoff;
//   - any other 4xx means the receiver refuses the event; after
//     Config.MaxRejections such answers the row is marked failed and logged
//     (Requeue puts it back).
//
// A loop claims one due row at a time with SELECT … FOR UPDATE SKIP LOCKED
// and leases it (moves its next attempt past the POST's timeout) in the same
// statement, then POSTs without holding a connection: the receiver is often
// orderflow's API on the same pool, and must not be starved by loops waiting
// for it. Several workers and several processes can run the loop at once
// without sending an event twice concurrently. A loop stopped by its context
// hands its claim back at once; a process that dies mid-POST leaves the
// lease to run out (Config.Lease), after which the row is picked up again.
//
// Delivery is at least once and not ordered: a crash after the receiver
// answered but before the commit sends the event again, and a retried event
// may overtake a later one. Receivers drop duplicates by event id.
//
// Tests wait with [Outbox.Drain] (deliver until nothing is pending) or poll
// [Outbox.Pending].
package outbox
