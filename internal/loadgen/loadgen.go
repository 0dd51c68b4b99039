// Package loadgen drives orders from quote to cash the way the outside world
// does, to measure orderflow under load: a storefront asks for quotes and
// accepts them over the REST API, the carrier simulator delivers the
// shipments (its signed webhooks reach the API), the buyer answers the survey
// from the link in the survey mail, and the bank simulator receives the
// payment (its signed webhook reaches the API). Nothing is called in-process:
// what is measured is what a storefront would see.
//
// `orderflow bench` runs it against an in-process stack or a running
// `orderflow dev`; docs/benchmarks.md records the results.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// Targets are the addresses of the system under load and the storefront's
// bearer token.
type Targets struct {
	API, Carrier, Bank, Mail string
	// Token is a storefront token: it may quote and accept for any customer.
	Token string
}

// Config shapes a run.
type Config struct {
	// Orders is how many orders to take to COMPLETED.
	Orders int
	// Concurrency is how many orders are in flight at once.
	Concurrency int
	// Customers take turns; each must exist in the terms catalog with credit
	// and stock enough for Orders/len(Customers) orders of Lines.
	Customers []string
	Lines     []order.Line
	// Poll is how often an order is read while the driver waits for it to
	// move; it bounds the resolution of the stage timings.
	Poll time.Duration
	// StageTimeout fails an order that does not reach a stage's status in time.
	StageTimeout time.Duration
	// RunID makes the Idempotency-Keys, PO numbers and bank references of
	// this run unique, so runs against the same system do not collide.
	RunID string
	// LiveReads makes the storefront ask for the workflow's live details on
	// every read (GET /v1/orders/{id}?live=true), as every read did before
	// reads came from the projection.
	LiveReads bool
	// RespondAsync makes the storefront ask for its quote with "Prefer:
	// respond-async": POST /v1/quotes answers 202 once the order is
	// started, and the storefront reads the order until it is priced.
	// The request is reported as "POST /v1/quotes (respond-async)".
	RespondAsync bool
	// Park stops each order once it is invoiced and AWAITING_PAYMENT, its
	// survey open, instead of answering the survey and paying: the orders
	// stay parked in their workflows (for measuring what a parked order
	// costs). The settle stage is then empty.
	Park bool
}

// Validate says which setting cannot work.
func (c Config) Validate() error {
	switch {
	case c.Orders < 1:
		return errors.New("orders: at least 1")
	case c.Concurrency < 1:
		return errors.New("concurrency: at least 1")
	}
	return c.validateOrders()
}

// validateOrders checks what shapes each order, whatever paces them.
func (c Config) validateOrders() error {
	switch {
	case len(c.Customers) == 0:
		return errors.New("customers: at least one")
	case len(c.Lines) == 0:
		return errors.New("lines: at least one")
	case c.Poll <= 0:
		return errors.New("poll: must be positive")
	case c.StageTimeout <= 0:
		return errors.New("stage timeout: must be positive")
	case c.RunID == "":
		return errors.New("run id: required")
	}
	for i, l := range c.Lines {
		if l.SKU == "" || l.Quantity < 1 {
			return fmt.Errorf("lines[%d]: a SKU and a quantity of at least 1", i)
		}
	}
	return nil
}

// Stage is one leg of an order's way, timed from the storefront's call that
// starts it to the moment the order is seen in the status that ends it.
type Stage string

// The stages, in order.
const (
	// StageQuote: POST /v1/quotes → AWAITING_ACCEPTANCE (priced by the ERP, persisted, mailed).
	StageQuote Stage = "quote"
	// StageConfirm: POST /accept → SHIPPING (credit check, ERP sales order and reservation, carrier bookings).
	StageConfirm Stage = "confirm"
	// StageInvoice: the carrier delivers → AWAITING_PAYMENT (webhook, ERP invoice, invoice and survey mails).
	StageInvoice Stage = "invoice"
	// StageSettle: survey answered and bank pays → COMPLETED (webhook, matching, reconciliation).
	StageSettle Stage = "settle"
	// StageTotal is the whole way, including the driver's own think time (none).
	StageTotal Stage = "total"
)

// Stages lists the stages in the order a report shows them.
var Stages = []Stage{StageQuote, StageConfirm, StageInvoice, StageSettle, StageTotal}

// Report is the outcome of a run.
type Report struct {
	Orders      int `json:"orders"`
	Concurrency int `json:"concurrency"`
	// Completed counts the orders that reached the run's goal: COMPLETED,
	// or AWAITING_PAYMENT with Config.Park.
	Completed int           `json:"completed"`
	Failed    int           `json:"failed"`
	Wall      time.Duration `json:"wall_ns"`
	// PerSecond is completed orders per second of wall time.
	PerSecond float64 `json:"orders_per_second"`
	// Stages and Requests are latency summaries, in the order of Stages and
	// by request name (method and route).
	Stages   []Summary `json:"stages"`
	Requests []Summary `json:"requests"`
	// Errors holds the first failures, one per failed order.
	Errors []string `json:"errors,omitempty"`
	// OrderIDs are the completed (or parked) orders (their workflow ids),
	// in the order they got there, so their histories can be read after the run.
	OrderIDs []string `json:"order_ids,omitempty"`
	// OpenLoop is set for a run at a fixed arrival rate (RunOpen); Orders
	// is then how many were started, Concurrency the most in flight.
	OpenLoop *OpenLoopStats `json:"open_loop,omitempty"`
}

// maxErrors bounds Report.Errors.
const maxErrors = 20

// Run takes cfg.Orders orders to COMPLETED (to AWAITING_PAYMENT with
// cfg.Park), cfg.Concurrency at a time. It
// returns an error only when the run could not start; orders that fail are
// counted and described in the report.
func Run(ctx context.Context, t Targets, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	d := newDriver(t, cfg, 4*cfg.Concurrency)
	if err := d.ping(ctx); err != nil {
		return Report{}, err
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				id, tm, err := d.one(ctx, i)
				d.finish(i, id, tm, err)
			}
		})
	}
feed:
	for i := range cfg.Orders {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	r := d.report(cfg.Orders, cfg.Concurrency, time.Since(start))
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("run interrupted after %d of %d orders: %w", r.Completed, r.Orders, err)
	}
	return r, nil
}

func newDriver(t Targets, cfg Config, idleConns int) *driver {
	return &driver{
		t: t, cfg: cfg,
		http: &http.Client{
			Timeout: time.Minute,
			Transport: &http.Transport{
				MaxIdleConns: idleConns, MaxIdleConnsPerHost: idleConns,
				IdleConnTimeout: 30 * time.Second,
			},
		},
		stages:   map[Stage][]time.Duration{},
		requests: map[string][]time.Duration{},
	}
}

// report sums up a run of orders orders, at most concurrency in flight,
// that took wall.
func (d *driver) report(orders, concurrency int, wall time.Duration) Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := Report{
		Orders: orders, Concurrency: concurrency, Wall: wall,
		Completed: d.completed, Failed: orders - d.completed, Errors: d.errors,
		OrderIDs: d.ids,
	}
	if r.Wall > 0 {
		r.PerSecond = float64(r.Completed) / r.Wall.Seconds()
	}
	for _, s := range Stages {
		r.Stages = append(r.Stages, Summarize(string(s), d.stages[s]))
	}
	names := make([]string, 0, len(d.requests))
	for n := range d.requests {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r.Requests = append(r.Requests, Summarize(n, d.requests[n]))
	}
	return r
}

// driver holds a run's shared state.
type driver struct {
	t    Targets
	cfg  Config
	http *http.Client

	mu        sync.Mutex
	completed int
	ids       []string
	errors    []string
	stages    map[Stage][]time.Duration
	requests  map[string][]time.Duration
}

// timings are one order's stage durations.
type timings map[Stage]time.Duration

func (d *driver) finish(i int, id string, tm timings, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if len(d.errors) < maxErrors {
			d.errors = append(d.errors, fmt.Sprintf("order #%d: %v", i, err))
		}
		return
	}
	d.completed++
	d.ids = append(d.ids, id)
	for s, v := range tm {
		d.stages[s] = append(d.stages[s], v)
	}
}

func (d *driver) observe(name string, took time.Duration) {
	d.mu.Lock()
	d.requests[name] = append(d.requests[name], took)
	d.mu.Unlock()
}

// ping checks that every target answers before the clock starts.
func (d *driver) ping(ctx context.Context) error {
	for _, c := range []struct{ what, url string }{
		{"API", d.t.API + "/readyz"}, {"carrier simulator", d.t.Carrier + "/sim/shipments?reference=-"},
		{"bank simulator", d.t.Bank + "/sim/payments?reference=-"}, {"mail sink", d.t.Mail + "/messages?order=-"},
	} {
		var out any
		if _, err := d.do(ctx, "", http.MethodGet, c.url, nil, nil, &out); err != nil {
			return fmt.Errorf("%s at %s does not answer: %w", c.what, strings.TrimSuffix(c.url, "?reference=-"), err)
		}
	}
	return nil
}
