package erpsim

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
	"github.com/orderflow/orderflow/internal/sim/schema"
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
	RouteCreditNotesCreate = "credit-notes.create"
	RouteCreditNotesVoid   = "credit-notes.void"
	RouteRefundsCreate     = "refunds.create"
	RouteRMAsCreate        = "rmas.create"
	RouteRMAsCancel        = "rmas.cancel"
	RouteRMAsReceive       = "rmas.receive"
	RouteReplacementCreate = "replacement-orders.create"
	RouteWriteOffsCreate   = "write-offs.create"
	RouteWriteOffsVoid     = "write-offs.void"
	RouteAllocationsCreate = "credit-allocations.create"
	RouteAllocationsVoid   = "credit-allocations.void"
	// RouteAll in a fault rule matches every route.
	RouteAll = faults.All
)

// Routes lists the ERP routes, in the order the contract names them.
var Routes = []string{
	RoutePrices, RouteExposure, RouteSalesOrdersCreate, RouteSalesOrdersCancel,
	RouteInvoicesCreate, RouteInvoicesVoid, RouteCreditNotesCreate, RouteCreditNotesVoid,
	RouteRefundsCreate, RouteRMAsCreate, RouteRMAsCancel, RouteRMAsReceive,
	RouteReplacementCreate, RouteWriteOffsCreate, RouteWriteOffsVoid, RouteAllocationsCreate, RouteAllocationsVoid,
}

// maxBody bounds a request body: the largest legal one (200 lines) is a few KB.
const maxBody = 1 << 20

// Sim is the simulated ERP. Its state lives in PostgreSQL; only the fault
// rules live in memory.
type Sim struct {
	pool   *pgxpool.Pool
	log    zerolog.Logger
	faults *faults.Set
	keys   *idempotency.Store
	// autoRestock is the dev default that refills low shelves (SetAutoRestock).
	autoRestock atomic.Bool
	// now is the clock for issued_at, created_at and outage windows; tests
	// inside the package may replace it.
	now func() time.Time
}

// New returns a simulator on pool. Call Migrate (and usually Seed) before
// serving; several Sims on one database share their ERP state.
func New(pool *pgxpool.Pool, log zerolog.Logger) *Sim {
	log = log.With().Str("component", "erpsim").Logger()
	s := &Sim{
		pool:   pool,
		log:    log,
		faults: faults.New(Routes, log),
		now:    func() time.Time { return time.Now().UTC() },
	}
	// Through s.now, not a copy of it, so a test's clock stamps the keys too.
	s.keys = idempotency.New(pool, "erpsim_idempotency_keys", log, func() time.Time { return s.now() })
	return s
}

// Migrate applies the simulator's migrations (tables prefixed erpsim_).
func (s *Sim) Migrate(ctx context.Context) error {
	if err := schema.Apply(ctx, s.pool, migrations, VersionTable); err != nil {
		return fmt.Errorf("erpsim: %w", err)
	}
	return nil
}

// Handler serves the ERP contract under /v1 and the simulator's control
// endpoints under /sim.
func (s *Sim) Handler() http.Handler {
	r := jsonapi.NewRouter()
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.HandleFunc("/prices", s.erp(RoutePrices, s.handlePrices)).Methods(http.MethodPost)
	v1.HandleFunc("/customers/{id}/exposure", s.erp(RouteExposure, s.handleExposure)).Methods(http.MethodGet)
	v1.HandleFunc("/sales-orders", s.erp(RouteSalesOrdersCreate, s.handleCreateSalesOrder)).Methods(http.MethodPost)
	v1.HandleFunc("/sales-orders/{id}/cancel", s.erp(RouteSalesOrdersCancel, s.handleCancelSalesOrder)).Methods(http.MethodPost)
	v1.HandleFunc("/sales-orders/cancel-by-key", s.erp(RouteSalesOrdersCancel, s.handleCancelSalesOrderByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices", s.erp(RouteInvoicesCreate, s.handleCreateInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/void", s.erp(RouteInvoicesVoid, s.handleVoidInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/void-by-key", s.erp(RouteInvoicesVoid, s.handleVoidInvoiceByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/credit-notes", s.erp(RouteCreditNotesCreate, s.handleCreateCreditNote)).Methods(http.MethodPost)
	// Before /credit-notes/{id}/void: a path, not a credit note id.
	v1.HandleFunc("/credit-notes/void-by-key", s.erp(RouteCreditNotesVoid, s.handleVoidCreditNoteByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/credit-notes/{id}/void", s.erp(RouteCreditNotesVoid, s.handleVoidCreditNote)).Methods(http.MethodPost)
	v1.HandleFunc("/refunds", s.erp(RouteRefundsCreate, s.handleCreateRefund)).Methods(http.MethodPost)
	v1.HandleFunc("/replacement-orders", s.erp(RouteReplacementCreate, s.handleCreateReplacement)).Methods(http.MethodPost)
	v1.HandleFunc("/rmas", s.erp(RouteRMAsCreate, s.handleCreateRMA)).Methods(http.MethodPost)
	v1.HandleFunc("/rmas/cancel-by-key", s.erp(RouteRMAsCancel, s.handleCancelRMAByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/rmas/{id}/cancel", s.erp(RouteRMAsCancel, s.handleCancelRMA)).Methods(http.MethodPost)
	v1.HandleFunc("/rmas/{id}/receive", s.erp(RouteRMAsReceive, s.handleReceiveRMA)).Methods(http.MethodPost)
	v1.HandleFunc("/write-offs", s.erp(RouteWriteOffsCreate, s.handleCreateWriteOff)).Methods(http.MethodPost)
	v1.HandleFunc("/write-offs/void-by-key", s.erp(RouteWriteOffsVoid, s.handleVoidWriteOffByKey)).Methods(http.MethodPost)
	v1.HandleFunc("/credit-allocations", s.erp(RouteAllocationsCreate, s.handleCreateAllocation)).Methods(http.MethodPost)
	v1.HandleFunc("/credit-allocations/void-by-key", s.erp(RouteAllocationsVoid, s.handleVoidAllocationByKey)).Methods(http.MethodPost)

	sim := r.PathPrefix("/sim").Subrouter()
	sim.HandleFunc("/sales-orders", jsonapi.List(s.log, "sales_orders", "order_id", s.SalesOrders)).Methods(http.MethodGet)
	sim.HandleFunc("/invoices", jsonapi.List(s.log, "invoices", "order_id", s.Invoices)).Methods(http.MethodGet)
	sim.HandleFunc("/credit-notes", jsonapi.List(s.log, "credit_notes", "order_id", s.CreditNotes)).Methods(http.MethodGet)
	sim.HandleFunc("/credit-balances", jsonapi.List(s.log, "credit_balances", "customer_id", s.CreditBalances)).Methods(http.MethodGet)
	sim.HandleFunc("/refunds", jsonapi.List(s.log, "refunds", "customer_id", s.Refunds)).Methods(http.MethodGet)
	sim.HandleFunc("/write-offs", jsonapi.List(s.log, "write_offs", "customer_id", s.WriteOffs)).Methods(http.MethodGet)
	sim.HandleFunc("/credit-allocations", jsonapi.List(s.log, "credit_allocations", "customer_id", s.CreditAllocations)).Methods(http.MethodGet)
	sim.HandleFunc("/rmas", jsonapi.List(s.log, "rmas", "order_id", s.RMAs)).Methods(http.MethodGet)
	sim.HandleFunc("/stock", s.handleListStock).Methods(http.MethodGet)
	sim.HandleFunc("/stock", s.handleRestock).Methods(http.MethodPost)
	sim.HandleFunc("/receivables", s.handleAdjustReceivables).Methods(http.MethodPost)
	sim.HandleFunc("/calls", s.handleListCalls).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandleGet).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandlePut).Methods(http.MethodPut)
	sim.HandleFunc("/faults", s.faults.HandleDelete).Methods(http.MethodDelete)
	return r
}

// erp wraps an ERP route: count the call, then apply the fault rules. A
// refusal answers before the handler touches anything, so it never has an
// effect; a dropped answer (faults.ModeDropAnswer) comes after the handler
// committed.
func (s *Sim) erp(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.countCall(r.Context(), route); err != nil {
			// The counter is for tests; an ERP that cannot count still answers.
			s.log.Warn().Err(err).Str("route", route).Msg("count call")
		}
		s.faults.Serve(w, r, route, h)
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

// errorAnswer is the body of the ERP's refusals: a jsonapi.Error that names
// the SKU at fault where the others name a field, as the ERP contract has it.
type errorAnswer struct {
	Error  string `json:"error"`
	SKU    string `json:"sku,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// isNoRows reports whether a query found nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
