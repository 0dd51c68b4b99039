package erpsim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// FaultRule makes one route (or every route, "*") misbehave. All fields
// combine: the latency is added first, then the call fails if the outage is
// on, else if FailNext is left, else with probability ErrorRate.
type FaultRule struct {
	Route string `json:"route"`
	// FailNext fails the next N calls; each failure uses one up.
	FailNext int `json:"fail_next,omitempty"`
	// Status is the failure's HTTP status; 0 means 503.
	Status int `json:"status,omitempty"`
	// ErrorRate is the probability, 0 to 1, that a call fails.
	ErrorRate float64 `json:"error_rate,omitempty"`
	// LatencyMS is added to every call of the route, failing or not.
	LatencyMS int `json:"latency_ms,omitempty"`
	// OutageUntil fails every call until that instant.
	OutageUntil time.Time `json:"outage_until,omitzero"`
}

// validate names what is wrong with a rule sent over HTTP.
func (f FaultRule) validate() error {
	switch {
	case f.Route != RouteAll && !slices.Contains(Routes, f.Route):
		return fmt.Errorf("route %q: want one of %v or %q", f.Route, Routes, RouteAll)
	case f.FailNext < 0:
		return fmt.Errorf("route %s: fail_next %d is negative", f.Route, f.FailNext)
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("route %s: status %d is not an HTTP error status", f.Route, f.Status)
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("route %s: error_rate %v is not between 0 and 1", f.Route, f.ErrorRate)
	case f.LatencyMS < 0 || f.LatencyMS > 600_000:
		return fmt.Errorf("route %s: latency_ms %d is not between 0 and 600000", f.Route, f.LatencyMS)
	}
	return nil
}

// faultSet holds the rules; FailNext counts down as calls consume it, so the
// rules sit behind a mutex.
type faultSet struct {
	mu    sync.Mutex
	rules []FaultRule
}

// SetFaults replaces every fault rule.
func (s *Sim) SetFaults(rules []FaultRule) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = slices.Clone(rules)
}

// ClearFaults removes every fault rule: the ERP behaves again.
func (s *Sim) ClearFaults() { s.SetFaults(nil) }

// Faults returns the rules in force, with FailNext as far as it has counted down.
func (s *Sim) Faults() []FaultRule {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return slices.Clone(s.faults.rules)
}

// decide applies the rules to one call of route: how long to delay it and,
// when it must fail, with which status and why (status 0: do not fail).
func (fs *faultSet) decide(route string, now time.Time) (delay time.Duration, status int, why string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.rules {
		rule := &fs.rules[i]
		if rule.Route != route && rule.Route != RouteAll {
			continue
		}
		delay += time.Duration(rule.LatencyMS) * time.Millisecond
		if status != 0 {
			// Already failing: later rules add latency but keep their FailNext.
			continue
		}
		switch {
		case now.Before(rule.OutageUntil):
			why = "outage until " + rule.OutageUntil.Format(time.RFC3339)
		case rule.FailNext > 0:
			rule.FailNext--
			why = "fail_next"
		case rule.ErrorRate > 0 && rand.Float64() < rule.ErrorRate:
			why = "error_rate"
		default:
			continue
		}
		status = rule.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
	}
	return delay, status, why
}

// injectFault delays and possibly fails a call; it reports whether it has
// answered (the handler must then not run).
func (s *Sim) injectFault(w http.ResponseWriter, r *http.Request, route string) bool {
	delay, status, why := s.faults.decide(route, s.now())
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The caller gave up while we stalled: like a request that never
			// reached the ERP, it has no effect.
			t.Stop()
			return true
		}
	}
	if status == 0 {
		return false
	}
	s.log.Debug().Str("route", route).Int("status", status).Str("why", why).Msg("injected fault")
	writeError(w, status, "simulated_fault", route+": "+why)
	return true
}

// faultsBody is the JSON shape of /sim/faults.
type faultsBody struct {
	Rules []FaultRule `json:"rules"`
}

func (s *Sim) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	rules := s.Faults()
	if rules == nil {
		rules = []FaultRule{}
	}
	writeJSON(w, http.StatusOK, faultsBody{Rules: rules})
}

func (s *Sim) handlePutFaults(w http.ResponseWriter, r *http.Request) {
	var body faultsBody
	if !decode(w, r, &body) {
		return
	}
	for _, rule := range body.Rules {
		if err := rule.validate(); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_fault_rule", err.Error())
			return
		}
	}
	s.SetFaults(body.Rules)
	s.handleGetFaults(w, r)
}

func (s *Sim) handleDeleteFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	s.handleGetFaults(w, r)
}
