// Package downstream calls the outside systems orderflow depends on (ERP,
// carrier) over HTTP/JSON, each behind its own circuit breaker, and classifies
// every failure as permanent, transient or breaker-open so the caller can
// decide whether retrying can help.
//
// It knows nothing of Temporal: activities turn an *Error into the right
// ApplicationError.
package downstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// IdempotencyHeader carries the key that makes a write safe to retry.
const IdempotencyHeader = "Idempotency-Key"

// Error is a failed call to an outside system.
type Error struct {
	System string // "erp", "carrier", "mail"
	Op     string // what we tried, e.g. "create sales order"
	Status int    // HTTP status; 0 when no answer came
	// Permanent is true when retrying the same call cannot succeed (most 4xx).
	Permanent bool
	// BreakerOpen is true when the call was not made because the system's
	// breaker is open; RetryAfter says when it will let a probe through.
	BreakerOpen bool
	RetryAfter  time.Duration
	Detail      string // the answer's body or the transport error, shortened
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.System, e.Op)
	switch {
	case e.BreakerOpen:
		fmt.Fprintf(&b, ": circuit breaker open, retry in %s", e.RetryAfter)
	case e.Status != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Permanent {
		b.WriteString(" (permanent: retrying cannot help)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// PermanentStatus reports whether an HTTP status means the same request will
// never succeed. 408 (timeout), 425 (too early), 429 (throttled) and every 5xx
// are worth retrying; the other 4xx are not.
func PermanentStatus(code int) bool {
	if code < 400 || code >= 500 {
		return false
	}
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return true
}

// BreakerSettings tune one system's breaker.
type BreakerSettings struct {
	// ConsecutiveFailures that open the breaker.
	ConsecutiveFailures uint32
	// OpenFor is how long an open breaker refuses calls before letting one probe through.
	OpenFor time.Duration
	// ProbeWait is how long a call refused by a half-open breaker (while
	// another call probes the system) waits before it tries again; the
	// probe's answer closes or reopens the breaker within a request's time,
	// so waiting a whole OpenFor would hold the call back long after the
	// system is up. At most OpenFor.
	ProbeWait time.Duration
}

// DefaultBreaker opens after 5 consecutive failures, probes after 30
// seconds, and sends the calls refused during a probe back after 2 seconds.
var DefaultBreaker = BreakerSettings{ConsecutiveFailures: 5, OpenFor: 30 * time.Second, ProbeWait: 2 * time.Second}

// Breaker wraps gobreaker with the rule that only transient failures count:
// a 4xx means the system is up and answered.
type Breaker struct {
	cb        *gobreaker.CircuitBreaker[struct{}]
	openFor   time.Duration
	probeWait time.Duration
}

// NewBreaker builds the breaker for one system. onChange, if set, hears every
// state change (for logs and the breaker-state metric).
func NewBreaker(system string, s BreakerSettings, onChange func(system string, from, to gobreaker.State)) *Breaker {
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = DefaultBreaker.ConsecutiveFailures
	}
	if s.OpenFor == 0 {
		s.OpenFor = DefaultBreaker.OpenFor
	}
	if s.ProbeWait == 0 {
		s.ProbeWait = DefaultBreaker.ProbeWait
	}
	return &Breaker{
		openFor:   s.OpenFor,
		probeWait: min(s.ProbeWait, s.OpenFor),
		cb: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        system,
			MaxRequests: 1,
			Timeout:     s.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.ConsecutiveFailures },
			// A call the caller gave up on (activity cancelled or timed out,
			// worker stopping) says nothing about the system: it counts neither way.
			IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
			IsSuccessful: func(err error) bool {
				if err == nil {
					return true
				}
				e, ok := AsError(err)
				return ok && e.Permanent
			},
			OnStateChange: func(name string, from, to gobreaker.State) {
				if onChange != nil {
					onChange(name, from, to)
				}
			},
		}),
	}
}

// State is the breaker's current state.
func (b *Breaker) State() gobreaker.State { return b.cb.State() }

// Do runs call through the breaker. When the breaker refuses, it returns an
// *Error with BreakerOpen set.
func (b *Breaker) Do(system, op string, call func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, call() })
	switch {
	case errors.Is(err, gobreaker.ErrOpenState):
		return &Error{System: system, Op: op, BreakerOpen: true, RetryAfter: b.openFor, Err: err}
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		// Half open: another call is the probe (BreakerSettings.ProbeWait).
		return &Error{System: system, Op: op, BreakerOpen: true, RetryAfter: b.probeWait, Err: err}
	}
	return err
}

// Client is a JSON-over-HTTP client of one outside system.
type Client struct {
	System  string
	BaseURL string
	HTTP    *http.Client
	Breaker *Breaker
	// Header adds fixed headers to every request (e.g. an API key).
	Header http.Header
}

// NewClient builds a client with a 15-second per-request timeout.
func NewClient(system, baseURL string, b *Breaker) *Client {
	return &Client{
		System:  system,
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP:    &http.Client{Timeout: 15 * time.Second},
		Breaker: b,
	}
}

// maxAnswer bounds how much of an answer we read.
const maxAnswer = 4 << 20

// Call sends in (if not nil) as JSON to method path and decodes a 2xx answer
// into out (if not nil). idemKey, when set, goes in the Idempotency-Key header.
func (c *Client) Call(ctx context.Context, op, method, path, idemKey string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &Error{System: c.System, Op: op, Permanent: true, Detail: "encode request", Err: err}
		}
	}
	return c.Breaker.Do(c.System, op, func() error {
		req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
		if err != nil {
			return &Error{System: c.System, Op: op, Permanent: true, Detail: "build request", Err: err}
		}
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if idemKey != "" {
			req.Header.Set(IdempotencyHeader, idemKey)
		}
		for k, vs := range c.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return &Error{System: c.System, Op: op, Detail: err.Error(), Err: err}
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return &Error{System: c.System, Op: op, Status: resp.StatusCode, Detail: "read answer: " + err.Error(), Err: err}
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return &Error{System: c.System, Op: op, Status: resp.StatusCode,
				Permanent: PermanentStatus(resp.StatusCode), Detail: shorten(data)}
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				// A 2xx we cannot read is a contract break, not a blip.
				return &Error{System: c.System, Op: op, Status: resp.StatusCode, Permanent: true,
					Detail: "decode answer: " + err.Error(), Err: err}
			}
		}
		return nil
	})
}

func shorten(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
