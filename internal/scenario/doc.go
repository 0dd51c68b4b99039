// Package scenario reads a scenario file — a month of trading described in
// YAML — validates it, and expands it into a Plan: a deterministic timeline
// in business time of every order the scenario places and how each party
// behaves on it (the buyer's quote answer, the approver, finance on a credit
// hold, the carrier, the payer, the survey answer), plus the outage windows
// of the ERP, the carrier and SMTP.
//
// The package is pure: no HTTP, SQL or Temporal. A player (not built yet)
// walks the Plan against the running system, dividing every business
// duration by the scenario's time scale (Plan.Compress).
//
// Determinism: Plan draws from math/rand/v2 PCG generators seeded from the
// scenario's seed and a name: one per buyer for the arrival times, one per
// order and attribute (lines, quote, approval, credit, carrier, payment,
// survey). The same file gives the same plan; a change to one customer
// leaves every other customer's orders as they were, and a change to one
// behaviour mix leaves every other attribute's draws as they were. Every
// order draws every attribute, even one it never reaches (a rejected
// quote's payment); the Plan blanks what the order never reaches.
//
// The format is documented field by field in docs/scenarios.md.
package scenario
