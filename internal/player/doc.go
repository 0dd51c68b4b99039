// Package player plays a scenario plan (internal/scenario) against a
// running orderflow: the API, the ERP, carrier and bank simulators and the
// mail sink, all over HTTP, as the storefront, the buyers, the approvers,
// finance, CS, the carrier and the bank would.
//
// Business time runs at the plan's time scale: a delay of the plan is
// waited for as its wall-clock share (scenario.Compress), and orderflow
// must run at the same scale (ORDERFLOW_TIME_SCALE reaches each order's
// workflow through its input), so that the quote validity, the survey
// window and the dunning schedule pass at the scale too.
//
// Each planned order is walked by one goroutine from its request time:
// it requests the quote (Prefer: respond-async, the PO number and
// Idempotency-Key are the order's Ref), answers it as planned (accept,
// revision then accept, reject, silence), answers approvals the system
// asks for, decides a credit hold as finance, delivers or fails the
// shipments as the carrier, reships a damaged or lost one as CS, answers
// the survey from the link in its mail, and pays the invoices as the
// payer would (exact, short by a bank fee, split, grouped with the
// customer's other invoices, without a reference, with a mistyped one,
// with the payer's own, late, or never). Outage windows switch the
// simulators' fault knobs on and off.
//
// What the player did is the Result: per order what the plan said, what
// the system did (the order id, the final status, whether it asked for an
// approval, held credit) and every step the player took as staff. The
// invariants (Check) and the automation report are computed from it and
// from orderflow's own records.
package player
