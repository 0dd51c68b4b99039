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

// How a call chosen to fail fails (Rule.Mode).
const (
	// ModeRefuse answers the rule's Status before the handler runs: the
	// call never reached the system and changed nothing. The default ("").
	ModeRefuse = "refuse"
	// ModeDropAnswer lets the call through (its effect commits and its
	// idempotent answer is stored) and then closes the connection without
	// a byte of answer: "commit, then drop the answer". The caller sees a
	// transport error (EOF) and cannot tell whether anything happened.
	ModeDropAnswer = "drop_answer"
)

// Rule makes one route (or every route, All) misbehave. All fields combine:
// the latency is added first, then the call fails if the outage is on, else
// if FailNext is left, else with probability ErrorRate; Mode says how it
// fails.
type Rule struct {
	Route string `json:"route"`
	// Mode is ModeRefuse ("" too) or ModeDropAnswer.
	Mode string `json:"mode,omitempty"`
	// FailNext fails the next N calls; each failure uses one up.
	FailNext int `json:"fail_next,omitempty"`
	// Status is the failure's HTTP status; 0 means 503. A dropped answer
	// has no status, so ModeDropAnswer takes none.
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
	case f.Mode != "" && f.Mode != ModeRefuse && f.Mode != ModeDropAnswer:
		return fmt.Errorf("route %s: mode %q: want %q or %q", f.Route, f.Mode, ModeRefuse, ModeDropAnswer)
	case f.Mode == ModeDropAnswer && f.Status != 0:
		return fmt.Errorf("route %s: status %d: a dropped answer has no status", f.Route, f.Status)
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

// Decision is what the rules make of one call.
type Decision struct {
	// Delay is added before anything else happens.
	Delay time.Duration
	// Status, when not 0, is the refusal to answer instead of the handler.
	Status int
	// Drop runs the handler and then drops its answer.
	Drop bool
	// Why names the rule's reason, for logs and refusal bodies.
	Why string
}

// Fails reports whether the call fails one way or the other.
func (d Decision) Fails() bool { return d.Status != 0 || d.Drop }

// Decide applies the rules to one call of route: how long to delay it and
// whether, and how, it fails.
func (s *Set) Decide(route string, now time.Time) Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d Decision
	for i := range s.rules {
		rule := &s.rules[i]
		if rule.Route != route && rule.Route != All {
			continue
		}
		d.Delay += time.Duration(rule.LatencyMS) * time.Millisecond
		if d.Fails() {
			// Already failing: later rules add latency but keep their FailNext.
			continue
		}
		switch {
		case now.Before(rule.OutageUntil):
			d.Why = "outage until " + rule.OutageUntil.Format(time.RFC3339)
		case rule.FailNext > 0:
			rule.FailNext--
			d.Why = "fail_next"
		case rule.ErrorRate > 0 && rand.Float64() < rule.ErrorRate:
			d.Why = "error_rate"
		default:
			continue
		}
		if rule.Mode == ModeDropAnswer {
			d.Drop = true
			continue
		}
		d.Status = rule.Status
		if d.Status == 0 {
			d.Status = http.StatusServiceUnavailable
		}
	}
	return d
}

// Serve answers one call of route: it delays it, refuses it, or runs h, and
// then, under a ModeDropAnswer rule, drops h's answer.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request, route string, h http.HandlerFunc) {
	d := s.Decide(route, s.now())
	if d.Delay > 0 {
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The caller gave up while we stalled: like a request that never
			// arrived, it has no effect.
			t.Stop()
			return
		}
	}
	switch {
	case d.Status != 0:
		s.log.Debug().Str("route", route).Int("status", d.Status).Str("why", d.Why).Msg("injected fault")
		jsonapi.WriteError(w, d.Status, "simulated_fault", route+": "+d.Why)
	case d.Drop:
		// The handler answers into nothing; what it did stays done.
		h(&discard{header: http.Header{}}, r)
		s.log.Debug().Str("route", route).Str("why", d.Why).Msg("injected fault: answer dropped")
		dropConnection(w)
	default:
		h(w, r)
	}
}

// Wrap returns h behind the rules of route.
func (s *Set) Wrap(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.Serve(w, r, route, h) }
}

// discard is a ResponseWriter that forgets the answer it is given.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// dropConnection closes the caller's connection without an answer, as a
// network that lost the answer on its way back would leave it. Nothing has
// been written to w. Where the connection cannot be taken over (HTTP/2),
// net/http's abort does the same: it resets the stream.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
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
