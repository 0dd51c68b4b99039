// Package faults makes a simulator's routes misbehave on demand: added
// latency, the next N calls failing, a random error rate, an outage until a
// given instant. Tests set rules in Go; dev mode and benchmarks set them over
// HTTP (PUT /sim/faults).
//
// The semantics are those of the ERP simulator's fault rules, written once
// here so that every simulator behaves alike; a rule for route "*" applies to
// every route. A fault is injected before the handler runs, so an injected
// failure never has an effect: it is a request that never reached the
// system, which is exactly what a caller must be ready to retry.
package faults
