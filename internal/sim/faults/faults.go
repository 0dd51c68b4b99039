package faults

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// All in a rule's Route matches every route.
const All = "*"

// maxBody bounds a PUT /sim/faults body.
const maxBody = 1 << 20

// Rule makes one route (or every route, All) misbehave. All fields combine:
// the latency is added first, then the call fails if the outage is on, else
// if FailNext is left, else with probability ErrorRate.
type Rule struct {
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

// Set holds a simulator's rules. FailNext counts down as calls consume it, so
// the rules sit behind a mutex.
type Set struct {
	routes []string
	log    zerolog.Logger
	now    func() time.Time

	mu    sync.Mutex
	rules []Rule
}

// New returns an empty set for a simulator whose routes are routes.
func New(routes []string, log zerolog.Logger) *Set {
	return &Set{routes: slices.Clone(routes), log: log, now: time.Now}
}

// Validate names what is wrong with a rule.
func (s *Set) Validate(f Rule) error {
	switch {
	case f.Route != All && !slices.Contains(s.routes, f.Route):
		return fmt.Errorf("route %q: want one of %v or %q", f.Route, s.routes, All)
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

// Replace replaces every rule. Rules set from Go are trusted; HTTP input goes
// through Validate first.
func (s *Set) Replace(rules []Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = slices.Clone(rules)
}

// Clear removes every rule: the simulator behaves again.
func (s *Set) Clear() { s.Replace(nil) }

// Rules returns the rules in force, with FailNext as far as it has counted down.
func (s *Set) Rules() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rules)
}

// Decide applies the rules to one call of route: how long to delay it and,
// when it must fail, with which status and why (status 0: do not fail).
func (s *Set) Decide(route string, now time.Time) (delay time.Duration, status int, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.rules {
		rule := &s.rules[i]
		if rule.Route != route && rule.Route != All {
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

// Inject delays and possibly fails a call of route; it reports whether it
// has answered, in which case the handler must not run.
func (s *Set) Inject(w http.ResponseWriter, r *http.Request, route string) bool {
	delay, status, why := s.Decide(route, s.now())
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The caller gave up while we stalled: like a request that never
			// arrived, it has no effect.
			t.Stop()
			return true
		}
	}
	if status == 0 {
		return false
	}
	s.log.Debug().Str("route", route).Int("status", status).Str("why", why).Msg("injected fault")
	jsonapi.WriteError(w, status, "simulated_fault", route+": "+why)
	return true
}

// Wrap returns h behind the rules of route.
func (s *Set) Wrap(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Inject(w, r, route) {
			return
		}
		h(w, r)
	}
}

// Body is the JSON shape of GET, PUT and DELETE /sim/faults.
type Body struct {
	Rules []Rule `json:"rules"`
}

// HandleGet answers GET /sim/faults with the rules in force.
func (s *Set) HandleGet(w http.ResponseWriter, _ *http.Request) {
	jsonapi.WriteJSON(w, http.StatusOK, Body{Rules: jsonapi.NonNil(s.Rules())})
}

// HandlePut answers PUT /sim/faults {rules: [...]}: it replaces every rule,
// or changes nothing and answers 400 naming the bad rule.
func (s *Set) HandlePut(w http.ResponseWriter, r *http.Request) {
	var body Body
	if !jsonapi.Decode(w, r, maxBody, &body) {
		return
	}
	for _, rule := range body.Rules {
		if err := s.Validate(rule); err != nil {
			jsonapi.WriteError(w, http.StatusBadRequest, "invalid_fault_rule", err.Error())
			return
		}
	}
	s.Replace(body.Rules)
	s.HandleGet(w, r)
}

// HandleDelete answers DELETE /sim/faults: every rule goes.
func (s *Set) HandleDelete(w http.ResponseWriter, r *http.Request) {
	s.Clear()
	s.HandleGet(w, r)
}
