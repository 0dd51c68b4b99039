package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/webhook"
)

var secret = []byte("outbox-test-secret")

type event struct {
	ID   string `json:"id"`
	Note string `json:"note"`
}

// receiver is a webhook endpoint that checks every signature and answers
// with whatever answer returns for the n-th request (1-based).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int, r *http.Request) int

	mu       sync.Mutex
	requests int
	got      []event // accepted (2xx) deliveries, in order
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{t: t, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			t.Errorf("receiver: %v", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var e event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("receiver: decode %q: %v", body, err)
		}
		if h := r.Header.Get(outbox.EventIDHeader); h != e.ID {
			t.Errorf("receiver: %s header %q, body id %q", outbox.EventIDHeader, h, e.ID)
		}
		rc.mu.Lock()
		rc.requests++
		n := rc.requests
		rc.mu.Unlock()
		code := http.StatusNoContent
		if answer != nil {
			code = answer(n, r)
		}
		if code >= 200 && code <= 299 {
			rc.mu.Lock()
			rc.got = append(rc.got, e)
			rc.mu.Unlock()
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) snapshot() (requests int, got []event) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, append([]event(nil), rc.got...)
}

func newPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, p *pgxpool.Pool) error {
		if err := outbox.Migrate(ctx, p); err != nil {
			return err
		}
		return outbox.Migrate(ctx, p) // twice: every sim calls it
	})
}

func newOutbox(t *testing.T, pool *pgxpool.Pool, sender, url string) *outbox.Outbox {
	return outbox.New(pool, outbox.Config{
		Sender: sender, URL: url, Secret: secret,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		PollInterval: 20 * time.Millisecond,
	}, zerolog.New(zerolog.NewTestWriter(t)))
}

// enqueue queues events in one committed transaction, as a sim does.
func enqueue(t *testing.T, pool *pgxpool.Pool, o *outbox.Outbox, events ...event) {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	for _, e := range events {
		require.NoError(t, o.Enqueue(ctx, tx, e.ID, e))
	}
	require.NoError(t, tx.Commit(ctx))
	o.Wake()
}

func drain(t *testing.T, o *outbox.Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, o.Drain(ctx))
}

func TestDeliversSignedEvent(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	rc := newReceiver(t, nil)
	o := newOutbox(t, pool, "testsim", rc.srv.URL)

	enqueue(t, pool, o, event{ID: "EVT-1", Note: "first"}, event{ID: "EVT-2", Note: "second"})
	n, err := o.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)

	drain(t, o)
	requests, got := rc.snapshot()
	require.Equal(t, 2, requests)
	require.ElementsMatch(t, []event{{ID: "EVT-1", Note: "first"}, {ID: "EVT-2", Note: "second"}}, got)
	c, err := o.Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{Delivered: 2}, c)

	// Queuing an id again keeps the first and sends nothing new.
	enqueue(t, pool, o, event{ID: "EVT-1", Note: "again"})
	drain(t, o)
	requests, _ = rc.snapshot()
	require.Equal(t, 2, requests)
}

func TestRolledBackEventIsNotSent(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	rc := newReceiver(t, nil)
	o := newOutbox(t, pool, "testsim", rc.srv.URL)
	ctx := t.Context()

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, o.Enqueue(ctx, tx, "EVT-ROLLED-BACK", event{ID: "EVT-ROLLED-BACK"}))
	require.NoError(t, tx.Rollback(ctx))

	n, err := o.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	drain(t, o)
	requests, _ := rc.snapshot()
	require.Zero(t, requests)
}

func TestRetriesUntilReceiverRecovers(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			// Three refusals, more than MaxRejections: these codes are transient.
			rc := newReceiver(t, func(n int, _ *http.Request) int {
				if n <= 3 {
					return code
				}
				return http.StatusOK
			})
			o := outbox.New(pool, outbox.Config{
				Sender: "testsim", URL: rc.srv.URL, Secret: secret, MaxRejections: 1,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 10 * time.Millisecond,
			}, zerolog.New(zerolog.NewTestWriter(t)))

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- o.Run(ctx) }()
			enqueue(t, pool, o, event{ID: "EVT-RETRY"})

			require.Eventually(t, func() bool {
				n, err := o.Pending(t.Context())
				return err == nil && n == 0
			}, 20*time.Second, 10*time.Millisecond)
			cancel()
			require.NoError(t, <-done)

			requests, got := rc.snapshot()
			require.Equal(t, 4, requests)
			require.Equal(t, []event{{ID: "EVT-RETRY"}}, got)
			var attempts int
			var status string
			require.NoError(t, pool.QueryRow(t.Context(),
				`SELECT attempts, status FROM sim_outbox WHERE event_id = 'EVT-RETRY'`).Scan(&attempts, &status))
			require.Equal(t, 4, attempts)
			require.Equal(t, "delivered", status)
		})
	}
}

func TestPermanentRefusalMarksFailedAndRequeueRetries(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	var mu sync.Mutex
	refuse := true
	rc := newReceiver(t, func(int, *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return http.StatusUnprocessableEntity
		}
		return http.StatusOK
	})
	o := newOutbox(t, pool, "testsim", rc.srv.URL) // MaxRejections defaults to 3
	enqueue(t, pool, o, event{ID: "EVT-BAD"})

	drain(t, o) // returns once nothing is pending: the event failed
	requests, got := rc.snapshot()
	require.Equal(t, 3, requests)
	require.Empty(t, got)
	c, err := o.Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{Failed: 1}, c)
	var lastStatus int
	var lastError string
	require.NoError(t, pool.QueryRow(t.Context(),
		`SELECT last_status, last_error FROM sim_outbox WHERE event_id = 'EVT-BAD'`).Scan(&lastStatus, &lastError))
	require.Equal(t, http.StatusUnprocessableEntity, lastStatus)
	require.Equal(t, "answer 422", lastError)

	mu.Lock()
	refuse = false
	mu.Unlock()
	require.NoError(t, o.Requeue(t.Context(), "EVT-BAD"))
	drain(t, o)
	_, got = rc.snapshot()
	require.Equal(t, []event{{ID: "EVT-BAD"}}, got)

	require.ErrorIs(t, o.Requeue(t.Context(), "EVT-NEVER"), outbox.ErrNotFound)
}

// A requeue while the event's POST is in flight (the receiver has it but
// the outbox has not recorded the answer yet) is not undone by that answer:
// the event is sent again.
func TestRequeueDuringDeliveryIsKept(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	var o *outbox.Outbox
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			if err := o.Requeue(r.Context(), "EVT-AGAIN"); err != nil {
				t.Errorf("requeue during delivery: %v", err)
			}
		}
		return http.StatusNoContent
	})
	o = newOutbox(t, pool, "testsim", rc.srv.URL)
	enqueue(t, pool, o, event{ID: "EVT-AGAIN"})

	drain(t, o)
	_, got := rc.snapshot()
	require.Equal(t, []event{{ID: "EVT-AGAIN"}, {ID: "EVT-AGAIN"}}, got)
	c, err := o.Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{Delivered: 1}, c)
}

func TestRestartPicksUpPending(t *testing.T) {
	t.Parallel()
	pool := newPool(t)

	// The first process dies while its POST hangs: the claim rolls back.
	hanging := make(chan struct{})
	var once sync.Once
	first := newReceiver(t, func(_ int, r *http.Request) int {
		once.Do(func() { close(hanging) })
		<-r.Context().Done()
		return http.StatusServiceUnavailable
	})
	o1 := newOutbox(t, pool, "testsim", first.srv.URL)
	enqueue(t, pool, o1, event{ID: "EVT-SURVIVOR"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- o1.Run(ctx) }()
	select {
	case <-hanging:
	case <-time.After(20 * time.Second):
		t.Fatal("first process never sent the event")
	}
	cancel()
	require.NoError(t, <-done)
	n, err := o1.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// A second process refused by a receiver still down leaves it pending too.
	down := newReceiver(t, func(int, *http.Request) int { return http.StatusBadGateway })
	o2 := newOutbox(t, pool, "testsim", down.srv.URL)
	short, cancelShort := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancelShort()
	require.ErrorIs(t, o2.Drain(short), context.DeadlineExceeded)
	requests, _ := down.snapshot()
	require.Positive(t, requests)

	// The third start, with a working receiver, delivers it.
	up := newReceiver(t, nil)
	o3 := newOutbox(t, pool, "testsim", up.srv.URL)
	drain(t, o3)
	_, got := up.snapshot()
	require.Equal(t, []event{{ID: "EVT-SURVIVOR"}}, got)
}

func TestConcurrentLoopsSendEachEventOnce(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	rc := newReceiver(t, nil)
	const n = 40
	events := make([]event, n)
	for i := range events {
		events[i] = event{ID: fmt.Sprintf("EVT-%02d", i)}
	}
	a := outbox.New(pool, outbox.Config{Sender: "testsim", URL: rc.srv.URL, Secret: secret, Workers: 3}, zerolog.Nop())
	b := outbox.New(pool, outbox.Config{Sender: "testsim", URL: rc.srv.URL, Secret: secret, Workers: 3}, zerolog.Nop())
	enqueue(t, pool, a, events...)

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(ctx) })
	wg.Go(func() { _ = b.Run(ctx) })
	drain(t, b)
	cancel()
	wg.Wait()

	requests, got := rc.snapshot()
	require.Equal(t, n, requests)
	require.ElementsMatch(t, events, got)
}

func TestSendersAreSeparate(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	carrierRC, bankRC := newReceiver(t, nil), newReceiver(t, nil)
	carrier := newOutbox(t, pool, "carriersim", carrierRC.srv.URL)
	bank := newOutbox(t, pool, "banksim", bankRC.srv.URL)
	enqueue(t, pool, carrier, event{ID: "EVT-1", Note: "carrier"})
	enqueue(t, pool, bank, event{ID: "EVT-1", Note: "bank"}) // same id, other sender

	drain(t, bank)
	_, got := bankRC.snapshot()
	require.Equal(t, []event{{ID: "EVT-1", Note: "bank"}}, got)
	n, err := carrier.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the bank's loop must not send the carrier's event")

	drain(t, carrier)
	_, got = carrierRC.snapshot()
	require.Equal(t, []event{{ID: "EVT-1", Note: "carrier"}}, got)
}

func TestNoURLQueuesWithoutSending(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	o := newOutbox(t, pool, "testsim", "")
	enqueue(t, pool, o, event{ID: "EVT-LATER"})
	require.ErrorContains(t, o.Drain(t.Context()), "no webhook URL")

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	require.NoError(t, o.Run(ctx))
	n, err := o.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Configured later, the same queue is delivered.
	rc := newReceiver(t, nil)
	drain(t, newOutbox(t, pool, "testsim", rc.srv.URL))
	_, got := rc.snapshot()
	require.Equal(t, []event{{ID: "EVT-LATER"}}, got)
}

func TestCrashMidDeliveryRetriesAfterLease(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	open := func() *pgxpool.Pool {
		p, err := pgxpool.New(t.Context(), url)
		require.NoError(t, err)
		return p
	}
	crashing := open()
	require.NoError(t, outbox.Migrate(t.Context(), crashing))

	// The first process claims the event, then dies (its pool closes under
	// it) while the POST hangs: it can neither record nor hand back its claim.
	hanging := make(chan struct{})
	var once sync.Once
	first := newReceiver(t, func(_ int, r *http.Request) int {
		once.Do(func() { close(hanging) })
		<-r.Context().Done()
		return http.StatusServiceUnavailable
	})
	const lease = 300 * time.Millisecond
	o1 := outbox.New(crashing, outbox.Config{Sender: "testsim", URL: first.srv.URL, Secret: secret, Lease: lease},
		zerolog.New(zerolog.NewTestWriter(t)))
	enqueue(t, crashing, o1, event{ID: "EVT-ORPHAN"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- o1.Run(ctx) }()
	select {
	case <-hanging:
	case <-time.After(20 * time.Second):
		t.Fatal("first process never sent the event")
	}
	claimedAt := time.Now()
	crashing.Close()
	cancel()
	require.NoError(t, <-done)

	// The survivor sees it pending but leased, and sends it once the lease ends.
	pool := open()
	t.Cleanup(pool.Close)
	rc := newReceiver(t, nil)
	o2 := newOutbox(t, pool, "testsim", rc.srv.URL)
	n, err := o2.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	drain(t, o2)
	_, got := rc.snapshot()
	require.Equal(t, []event{{ID: "EVT-ORPHAN"}}, got)
	require.GreaterOrEqual(t, time.Since(claimedAt), lease-50*time.Millisecond, "not before the lease ended")
	var attempts int
	require.NoError(t, pool.QueryRow(t.Context(),
		`SELECT attempts FROM sim_outbox WHERE event_id = 'EVT-ORPHAN'`).Scan(&attempts))
	require.Equal(t, 2, attempts, "the dead process's attempt counts")
}
