package downstream_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/sony/gobreaker/v2"
)

func TestPermanentStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want bool
	}{
		{200, false}, {400, true}, {401, true}, {404, true}, {409, true}, {422, true},
		{408, false}, {425, false}, {429, false}, {500, false}, {502, false}, {503, false},
	}
	for _, tt := range tests {
		if got := downstream.PermanentStatus(tt.code); got != tt.want {
			t.Errorf("PermanentStatus(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestCallClassifiesAnswersAndSendsIdempotencyKey(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	var gotKey atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey.Store(r.Header.Get(downstream.IdempotencyHeader))
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"id":"so-1"}`))
	}))
	defer srv.Close()
	c := downstream.NewClient("erp", srv.URL, downstream.NewBreaker("erp", downstream.BreakerSettings{ConsecutiveFailures: 100}, nil))

	status.Store(201)
	var out struct{ ID string }
	if err := c.Call(context.Background(), "create", "POST", "/x", "ord-1:reserve", map[string]int{"a": 1}, &out); err != nil {
		t.Fatalf("2xx: %v", err)
	}
	if out.ID != "so-1" || gotKey.Load() != "ord-1:reserve" {
		t.Fatalf("decoded %q, key %q", out.ID, gotKey.Load())
	}

	status.Store(422)
	err := c.Call(context.Background(), "create", "POST", "/x", "", nil, nil)
	if e, ok := downstream.AsError(err); !ok || !e.Permanent || e.Status != 422 {
		t.Fatalf("422 gave %#v, want permanent", err)
	}
	status.Store(503)
	err = c.Call(context.Background(), "create", "POST", "/x", "", nil, nil)
	if e, ok := downstream.AsError(err); !ok || e.Permanent || e.Status != 503 {
		t.Fatalf("503 gave %#v, want transient", err)
	}
}

func TestBreakerOpensOnTransientFailuresOnly(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	var opened atomic.Bool
	b := downstream.NewBreaker("carrier", downstream.BreakerSettings{ConsecutiveFailures: 3, OpenFor: time.Hour},
		func(_ string, _, to gobreaker.State) { opened.Store(to == gobreaker.StateOpen) })
	c := downstream.NewClient("carrier", srv.URL, b)
	ctx := context.Background()

	// Rejections are answers: the system is up, the breaker stays closed.
	status.Store(400)
	for range 5 {
		_ = c.Call(ctx, "book", "POST", "/", "", nil, nil)
	}
	if b.State() != gobreaker.StateClosed {
		t.Fatalf("breaker %v after 4xx answers, want closed", b.State())
	}
	status.Store(503)
	for range 3 {
		_ = c.Call(ctx, "book", "POST", "/", "", nil, nil)
	}
	if b.State() != gobreaker.StateOpen || !opened.Load() {
		t.Fatalf("breaker %v after 3 x 503, want open", b.State())
	}
	before := hits.Load()
	err := c.Call(ctx, "book", "POST", "/", "", nil, nil)
	e, ok := downstream.AsError(err)
	if !ok || !e.BreakerOpen || e.RetryAfter != time.Hour {
		t.Fatalf("call through open breaker gave %#v", err)
	}
	if hits.Load() != before {
		t.Fatal("open breaker let the call through")
	}
}

// While one call probes a half-open breaker, the others are refused, but
// told to come back soon rather than after a whole OpenFor.
func TestHalfOpenRefusalRetriesSoon(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // trips the breaker
			return
		}
		<-release // the probe hangs until the test lets it answer
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	defer close(release)
	const openFor, probeWait = 200 * time.Millisecond, 20 * time.Millisecond
	b := downstream.NewBreaker("erp", downstream.BreakerSettings{ConsecutiveFailures: 1, OpenFor: openFor, ProbeWait: probeWait}, nil)
	c := downstream.NewClient("erp", srv.URL, b)
	ctx := context.Background()

	_ = c.Call(ctx, "prices", "POST", "/", "", nil, nil)
	if b.State() != gobreaker.StateOpen {
		t.Fatalf("breaker %v after a 503, want open", b.State())
	}
	e, ok := downstream.AsError(c.Call(ctx, "prices", "POST", "/", "", nil, nil))
	if !ok || !e.BreakerOpen || e.RetryAfter != openFor {
		t.Fatalf("open breaker: %#v, want BreakerOpen retrying after %s", e, openFor)
	}

	deadline := time.Now().Add(5 * time.Second)
	for b.State() != gobreaker.StateHalfOpen && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling interval: the breaker half-opens after openFor
	}
	go func() { _ = c.Call(ctx, "prices", "POST", "/", "", nil, nil) }() // the probe
	for calls.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling interval: wait until the probe is at the server
	}
	e, ok = downstream.AsError(c.Call(ctx, "prices", "POST", "/", "", nil, nil))
	if !ok || !e.BreakerOpen || e.RetryAfter != probeWait {
		t.Fatalf("half-open breaker: %#v, want BreakerOpen retrying after %s", e, probeWait)
	}
}

// Calls the caller cancelled do not count as failures: cancelling orders or
// stopping a worker must not open the breaker for everyone.
func TestCallerCancellationDoesNotOpenTheBreaker(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers before the caller gives up
	}))
	defer srv.Close()
	b := downstream.NewBreaker("erp", downstream.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Hour}, nil)
	c := downstream.NewClient("erp", srv.URL, b)
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		if err := c.Call(ctx, "prices", "POST", "/", "", nil, nil); err == nil {
			t.Fatal("a cancelled call succeeded")
		}
	}
	if b.State() != gobreaker.StateClosed {
		t.Fatalf("breaker %v after three cancelled calls, want closed", b.State())
	}
}
