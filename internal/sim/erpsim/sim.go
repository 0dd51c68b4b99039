package erpsim

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable is where tern records the simulator's schema version, apart
// from orderflow's own so both can share one database.
const VersionTable = "erpsim_schema_version"

// Route names, used by fault rules and the call counter.
const (
	RoutePrices            = "prices"
	RouteExposure          = "exposure"
	RouteSalesOrdersCreate = "sales-orders.create"
	RouteSalesOrdersCancel = "sales-orders.cancel"
	RouteInvoicesCreate    = "invoices.create"
	RouteInvoicesVoid      = "invoices.void"
	// RouteAll in a fault rule matches every route.
	RouteAll = faults.All
)

// Routes lists the ERP routes, in the order the contract names them.
var Routes = []string{
	RoutePrices, RouteExposure, RouteSalesOrdersCreate, RouteSalesOrdersCancel,
	RouteInvoicesCreate, RouteInvoicesVoid,
}

// idempotencyHeader is the contract's header; the simulator does not import
// the client side (internal/downstream) so that the two are checked against
// each other, not against a shared constant.
const idempotencyHeader = "Idempotency-Key"

// maxBody bounds a request body: the largest legal one (200 lines) is a few KB.
const maxBody = 1 << 20

// Sim is the simulated ERP. Its state lives in PostgreSQL; only the fault
// rules live in memory.
type Sim struct {
	pool   *pgxpool.Pool
	log    zerolog.Logger
	faults *faults.Set
	// now is the clock for issued_at, created_at and outage windows; tests
	// inside the package may replace it.
	now func() time.Time
}

// New returns a simulator on pool. Call Migrate (and usually Seed) before
// serving; several Sims on one database share their ERP state.
func New(pool *pgxpool.Pool, log zerolog.Logger) *Sim {
	log = log.With().Str("component", "erpsim").Logger()
	return &Sim{
		pool:   pool,
		log:    log,
		faults: faults.New(Routes, log),
		now:    func() time.Time { return time.Now().UTC() },
	}
}

// Migrate applies the simulator's migrations (tables prefixed erpsim_).
func (s *Sim) Migrate(ctx context.Context) error {
	// tern looks for its files at the root of the FS it is given.
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("erpsim: migrations: %w", err)
	}
	if err := pgdb.Migrate(ctx, s.pool, files, VersionTable); err != nil {
		return fmt.Errorf("erpsim: %w", err)
	}
	return nil
}

// Handler serves the ERP contract under /v1 and the simulator's control
// endpoints under /sim.
func (s *Sim) Handler() http.Handler {
	r := mux.NewRouter()
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.HandleFunc("/prices", s.erp(RoutePrices, s.handlePrices)).Methods(http.MethodPost)
	v1.HandleFunc("/customers/{id}/exposure", s.erp(RouteExposure, s.handleExposure)).Methods(http.MethodGet)
	v1.HandleFunc("/sales-orders", s.erp(RouteSalesOrdersCreate, s.handleCreateSalesOrder)).Methods(http.MethodPost)
	v1.HandleFunc("/sales-orders/{id}/cancel", s.erp(RouteSalesOrdersCancel, s.handleCancelSalesOrder)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices", s.erp(RouteInvoicesCreate, s.handleCreateInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/void", s.erp(RouteInvoicesVoid, s.handleVoidInvoice)).Methods(http.MethodPost)

	sim := r.PathPrefix("/sim").Subrouter()
	sim.HandleFunc("/sales-orders", s.handleListSalesOrders).Methods(http.MethodGet)
	sim.HandleFunc("/invoices", s.handleListInvoices).Methods(http.MethodGet)
	sim.HandleFunc("/stock", s.handleListStock).Methods(http.MethodGet)
	sim.HandleFunc("/calls", s.handleListCalls).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandleGet).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandlePut).Methods(http.MethodPut)
	sim.HandleFunc("/faults", s.faults.HandleDelete).Methods(http.MethodDelete)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" "+r.URL.Path)
	})
	return r
}

// erp wraps an ERP route: count the call, then apply the fault rules before
// the handler touches anything, so an injected failure never has an effect.
func (s *Sim) erp(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.countCall(r.Context(), route); err != nil {
			// The counter is for tests; an ERP that cannot count still answers.
			s.log.Warn().Err(err).Str("route", route).Msg("count call")
		}
		if s.faults.Inject(w, r, route) {
			return
		}
		h(w, r)
	}
}

// countCall adds one to the route's call counter.
func (s *Sim) countCall(ctx context.Context, route string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO erpsim_calls (route, calls) VALUES ($1, 1)
		ON CONFLICT (route) DO UPDATE SET calls = erpsim_calls.calls + 1`, route)
	if err != nil {
		return fmt.Errorf("count call of %s: %w", route, err)
	}
	return nil
}

// errorAnswer is the body of every non-2xx answer.
type errorAnswer struct {
	Error  string `json:"error"`
	SKU    string `json:"sku,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, errorAnswer{Error: code, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":"internal","detail":"encode answer"}`)
	}
	writeRaw(w, status, data)
}

func writeRaw(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// internalError answers 500 and logs why; callers return right after.
func (s *Sim) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("erpsim request failed")
	writeError(w, http.StatusInternalServerError, "internal", err.Error())
}

// decode reads a JSON body into v, answering 400 itself when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid_json", "trailing data after the JSON object")
		return false
	}
	return true
}

// isNoRows reports whether a query found nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
