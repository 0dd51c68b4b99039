// Package bank is orderflow's client of the seller's bank: it instructs
// outgoing transfers, the money side of a refund (Transfer, POST
// /v1/transfers). Incoming payments reach orderflow the other way, as
// signed webhooks (package webhook).
//
// The call goes through internal/downstream, behind the bank's own circuit
// breaker, and a failure is the *downstream.Error that package returns:
// permanent when the bank refused and will refuse again (a refund of more
// than its payment brought in, 422 refund_exceeds_payment; an unknown
// payment; another currency; a reused key with another request), transient
// otherwise. A transfer carries an idempotency key that the caller derives
// from the order and the step, so a retry after a lost answer finds the
// transfer the first attempt made instead of paying twice.
//
// internal/sim/banksim implements the other side for dev mode and tests and
// shares no code with this package.
package bank
