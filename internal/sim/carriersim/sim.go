package carriersim

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/sim/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable is where tern records the simulator's schema version, apart
// from orderflow's own so both can share one database.
const VersionTable = "carriersim_schema_version"

// Sender names the carrier's rows in the shared webhook outbox.
const Sender = "carriersim"

// Route names for fault rules.
const (
	RouteBook   = "shipments.book"
	RouteCancel = "shipments.cancel"
	RouteGet    = "shipments.get"
	// RouteReturnBook and RouteReturnCancel are the return pickups' book
	// and cancel (by id and by key).
	RouteReturnBook   = "returns.book"
	RouteReturnCancel = "returns.cancel"
	// RouteAll in a fault rule matches every route.
	RouteAll = faults.All
)

// Routes lists the carrier routes fault rules may name.
var Routes = []string{RouteBook, RouteCancel, RouteGet, RouteReturnBook, RouteReturnCancel}

// FaultRule makes a carrier route misbehave; see package faults.
type FaultRule = faults.Rule

// maxBody bounds a request body: the largest legal booking (200 lines) is a few KB.
const maxBody = 1 << 20

// Options tune the simulated carrier.
type Options struct {
	// WebhookURL receives the signed logistics events, e.g.
	// http://localhost:8080/v1/webhooks/logistics. Empty: events are queued
	// until a run with a URL.
	WebhookURL string
	// WebhookSecret signs them.
	WebhookSecret []byte
	// PromiseDays is how many days after booking delivery is promised (default 3).
	PromiseDays int
	// AutoDeliverAfter delivers every booked shipment that long after booking;
	// 0 delivers only on request (POST /sim/shipments/{id}/deliver).
	AutoDeliverAfter time.Duration
	// DropWebhooks records events but never sends them, to exercise the
	// polling fallback.
	DropWebhooks bool
	// PickupDays is how many days after booking a return pickup collects
	// the goods (default 1).
	PickupDays int
	// AutoReturnAfter brings every booked return pickup's goods back (and
	// sends its "returned" event) that long after booking; 0 only on
	// request (POST /sim/returns/{id}/returned).
	AutoReturnAfter time.Duration
}

// Sim is the simulated carrier. Its state lives in PostgreSQL; only the fault
// rules live in memory.
type Sim struct {
	pool   *pgxpool.Pool
	opts   Options
	log    zerolog.Logger
	faults *faults.Set
	outbox *outbox.Outbox
	keys   *idempotency.Store
	// now is the clock for bookings, deliveries and auto-delivery; truncated
	// to PostgreSQL's microseconds so what is answered is what is stored.
	now func() time.Time
}

// New returns a carrier on pool. Call Migrate before serving.
func New(pool *pgxpool.Pool, opts Options, log zerolog.Logger) *Sim {
	if opts.PromiseDays <= 0 {
		opts.PromiseDays = 3
	}
	if opts.PickupDays <= 0 {
		opts.PickupDays = 1
	}
	log = log.With().Str("component", "carriersim").Logger()
	s := &Sim{
		pool:   pool,
		opts:   opts,
		log:    log,
		faults: faults.New(Routes, log),
		outbox: outbox.New(pool, outbox.Config{Sender: Sender, URL: opts.WebhookURL, Secret: opts.WebhookSecret}, log),
		now:    func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	s.keys = idempotency.New(pool, "carriersim_idempotency_keys", log, func() time.Time { return s.now() })
	return s
}

// Migrate creates the simulator's tables (carriersim_*) and the shared outbox.
func (s *Sim) Migrate(ctx context.Context) error {
	if err := outbox.Migrate(ctx, s.pool); err != nil {
		return fmt.Errorf("carriersim: %w", err)
	}
	if err := schema.Apply(ctx, s.pool, migrations, VersionTable); err != nil {
		return fmt.Errorf("carriersim: %w", err)
	}
	return nil
}

// Webhooks is the carrier's outbox: tests and dev tools wait on it
// (Drain, Pending) for the events to arrive.
func (s *Sim) Webhooks() *outbox.Outbox { return s.outbox }

// SetFaults replaces every fault rule.
func (s *Sim) SetFaults(rules []FaultRule) { s.faults.Replace(rules) }

// ClearFaults removes every fault rule: the carrier behaves again.
func (s *Sim) ClearFaults() { s.faults.Clear() }

// Faults returns the rules in force, with FailNext as far as it has counted down.
func (s *Sim) Faults() []FaultRule { return s.faults.Rules() }

// Run sends the queued webhooks and, with AutoDeliverAfter or
// AutoReturnAfter set, delivers shipments and brings return pickups back
// as they come due, until ctx ends; then it returns nil.
func (s *Sim) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.outbox.Run(ctx) })
	if s.opts.AutoDeliverAfter > 0 {
		wg.Go(func() { s.every(ctx, s.opts.AutoDeliverAfter, "auto-delivery", s.deliverDue) })
	}
	if s.opts.AutoReturnAfter > 0 {
		wg.Go(func() { s.every(ctx, s.opts.AutoReturnAfter, "auto-return", s.returnDue) })
	}
	wg.Wait()
	return nil
}

// Handler serves the carrier contract under /v1 and the control endpoints
// under /sim.
func (s *Sim) Handler() http.Handler {
	r := jsonapi.NewRouter()
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.HandleFunc("/shipments", s.faults.Wrap(RouteBook, s.handleBook)).Methods(http.MethodPost)
	// Before /shipments/{id}: a path, not a shipment id.
	v1.HandleFunc("/shipments/cancel-by-key", s.faults.Wrap(RouteCancel, s.handleCancelByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/shipments/{id}/cancel", s.faults.Wrap(RouteCancel, s.handleCancel)).Methods(http.MethodPost)
	v1.HandleFunc("/shipments/{id}", s.faults.Wrap(RouteGet, s.handleGet)).Methods(http.MethodGet)
	v1.HandleFunc("/returns", s.faults.Wrap(RouteReturnBook, s.handleBookReturn)).Methods(http.MethodPost)
	v1.HandleFunc("/returns/cancel-by-key", s.faults.Wrap(RouteReturnCancel, s.handleCancelReturnByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/returns/{id}/cancel", s.faults.Wrap(RouteReturnCancel, s.handleCancelReturn)).Methods(http.MethodPost)

	sim := r.PathPrefix("/sim").Subrouter()
	sim.HandleFunc("/shipments", jsonapi.List(s.log, "shipments", "reference", s.Shipments)).Methods(http.MethodGet)
	sim.HandleFunc("/shipments/{id}/deliver", s.handleDeliver).Methods(http.MethodPost)
	sim.HandleFunc("/shipments/{id}/exception", s.handleException).Methods(http.MethodPost)
	sim.HandleFunc("/returns/{id}/returned", s.handleReturned).Methods(http.MethodPost)
	sim.HandleFunc("/events", s.handleEvents).Methods(http.MethodGet)
	sim.HandleFunc("/events/{id}/redeliver", s.handleRedeliver).Methods(http.MethodPost)
	sim.HandleFunc("/faults", s.faults.HandleGet).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandlePut).Methods(http.MethodPut)
	sim.HandleFunc("/faults", s.faults.HandleDelete).Methods(http.MethodDelete)
	return r
}
