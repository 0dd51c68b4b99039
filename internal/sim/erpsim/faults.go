package erpsim

import "github.com/orderflow/orderflow/internal/sim/faults"

// FaultRule makes an ERP route misbehave; see package faults, which every
// simulator shares.
type FaultRule = faults.Rule

// SetFaults replaces every fault rule.
func (s *Sim) SetFaults(rules []FaultRule) { s.faults.Replace(rules) }

// ClearFaults removes every fault rule: the ERP behaves again.
func (s *Sim) ClearFaults() { s.faults.Clear() }

// Faults returns the rules in force, with FailNext as far as it has counted down.
func (s *Sim) Faults() []FaultRule { return s.faults.Rules() }
