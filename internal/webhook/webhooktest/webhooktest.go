// Package webhooktest is a webhook receiver for tests: an httptest.Server
// that checks every request's signature the way orderflow's API does, and
// records what it accepted so a test can wait for it.
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/webhook"
)

// Receiver accepts signed webhooks. A request whose signature does not
// verify fails the test and is answered 401.
type Receiver struct {
	// URL is where to send the webhooks.
	URL string

	t      testing.TB
	secret []byte

	mu       sync.Mutex
	answer   func(n int) int
	requests int
	accepted [][]byte
}

// NewReceiver starts a receiver that verifies with secret; it stops when the
// test ends.
func NewReceiver(t testing.TB, secret []byte) *Receiver {
	rc := &Receiver{t: t, secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

// SetAnswer makes the receiver answer the n-th request (1-based, counting
// every signed request) with answer(n); the default is 204. A 2xx records
// the body as accepted.
func (rc *Receiver) SetAnswer(answer func(n int) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = answer
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	// Webhooks are POSTs. Anything else is a stray client of a port that
	// another test's server had before this one (seen: an HTTP/2 client's
	// "PRI *" preface); it is refused but is no sender's fault.
	if r.Method != http.MethodPost {
		rc.t.Logf("webhooktest: refused a stray %s %s", r.Method, r.URL.Path)
		http.Error(w, "webhooks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(rc.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
		rc.t.Errorf("webhooktest: %s %s: %v", r.Method, r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.requests++
	code := http.StatusNoContent
	if rc.answer != nil {
		code = rc.answer(rc.requests)
	}
	if code >= 200 && code <= 299 {
		rc.accepted = append(rc.accepted, body)
	}
	rc.mu.Unlock()
	w.WriteHeader(code)
}

// Requests is how many signed requests arrived, accepted or not.
func (rc *Receiver) Requests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

// Accepted returns the bodies answered 2xx, in arrival order.
func (rc *Receiver) Accepted() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([][]byte, len(rc.accepted))
	copy(out, rc.accepted)
	return out
}

// Events decodes the accepted bodies as T (webhook.LogisticsEvent or
// webhook.PaymentEvent), failing the test on a body that is not one.
func Events[T any](t testing.TB, rc *Receiver) []T {
	t.Helper()
	var out []T
	for _, b := range rc.Accepted() {
		var e T
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("webhooktest: decode %s: %v", b, err)
		}
		out = append(out, e)
	}
	return out
}

// WaitEvents polls until at least n bodies were accepted and returns them
// decoded; it fails the test after timeout.
func WaitEvents[T any](t testing.TB, rc *Receiver, n int, timeout time.Duration) []T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(rc.Accepted()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("webhooktest: %d of %d webhooks accepted after %s", len(rc.Accepted()), n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return Events[T](t, rc)
}
