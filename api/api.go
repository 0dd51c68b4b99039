package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// DefaultWebhookTolerance is how old a webhook signature may be when
// Deps.WebhookTolerance is zero.
const DefaultWebhookTolerance = 5 * time.Minute

// DefaultQueryTimeout bounds the workflow query behind an order's "live"
// field when Deps.QueryTimeout is zero. A query waits for a worker; with no
// worker running it would hang until the request's own deadline.
const DefaultQueryTimeout = 3 * time.Second

// DefaultUpdateTimeout bounds an order update (accept, approvals, actions,
// …) when Deps.UpdateTimeout is zero. The workflow answers within 20 s once
// a worker runs the update; with no worker the call would wait for ever, so
// the caller gets a 503 "timeout" and may retry with its Idempotency-Key.
const DefaultUpdateTimeout = time.Minute

// DefaultQuoteWait bounds how long POST /v1/quotes waits for the ERP to
// price the first quote when Deps.QuoteWait is zero. Past it the answer is
// 202 with the order id and the status it has reached.
const DefaultQuoteWait = 5 * time.Second

// Deps is what the API needs from the process that runs it.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	// Tokens authenticates bearer tokens: an *auth.Authenticator in
	// production (keyring, OIDC, revocation list), or an *auth.Issuer.
	Tokens Authenticator
	// Links checks the signed links of buyer mails (nil: their pages say
	// the link is not valid).
	Links *links.Signer
	// LogisticsSecret and PaymentsSecret verify the webhooks' signatures.
	LogisticsSecret, PaymentsSecret []byte
	// PublicURL is where clients reach the API, for absolute links
	// (the Location of a new order); empty gives relative links.
	PublicURL string
	Logger    zerolog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WebhookTolerance is how far a webhook's signed timestamp may lie from
	// Now; zero means DefaultWebhookTolerance.
	WebhookTolerance time.Duration
	// QueryTimeout bounds the details query of an order view; zero means
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
	// UpdateTimeout bounds an order update; zero means DefaultUpdateTimeout.
	UpdateTimeout time.Duration
	// QuoteWait bounds how long POST /v1/quotes waits for the priced
	// quote; zero means DefaultQuoteWait.
	QuoteWait time.Duration
	// StepBudget is passed to every new order (workflows.OrderInput);
	// zero leaves the workflow's default.
	StepBudget time.Duration
	// HistoryLimit is passed to every new order (workflows.OrderInput):
	// the history length past which it continues as new in its long
	// waits; zero leaves the workflow's default. Tests set it low.
	HistoryLimit int
	// TimeScale is passed to every new order (workflows.OrderInput): the
	// business seconds that pass per wall second in it, for simulations
	// and demos (ORDERFLOW_TIME_SCALE). 0 or 1 is real time; anything
	// else that is not a finite number above 1 counts as 1. New logs a
	// warning when it is not real time.
	TimeScale float64
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
}

// server holds the dependencies every handler shares.
type server struct {
	store        *store.Store
	temporal     client.Client
	tokens       Authenticator
	links        *links.Signer
	logistics    []byte
	payments     []byte
	publicURL    string
	log          zerolog.Logger
	now          func() time.Time
	tolerance    time.Duration
	queryTimeout time.Duration
	updTimeout   time.Duration
	quoteWait    time.Duration
	stepBudget   time.Duration
	historyLimit int
	timeScale    float64 // 0: real time
	ids          idGen
}

// handler is what New returns: the router behind the outer middleware.
type handler struct {
	http.Handler
	router *mux.Router
}

// Router returns the route table, for tests and tools that walk the routes
// (the OpenAPI document is checked against it).
func (h handler) Router() *mux.Router { return h.router }

// New builds the HTTP handler of the whole API.
func New(d Deps) http.Handler {
	s := &server{
		store:        d.Store,
		temporal:     d.Temporal,
		tokens:       d.Tokens,
		links:        d.Links,
		logistics:    d.LogisticsSecret,
		payments:     d.PaymentsSecret,
		publicURL:    strings.TrimRight(d.PublicURL, "/"),
		log:          d.Logger,
		now:          d.Now,
		tolerance:    d.WebhookTolerance,
		queryTimeout: d.QueryTimeout,
		updTimeout:   d.UpdateTimeout,
		quoteWait:    d.QuoteWait,
		stepBudget:   d.StepBudget,
		historyLimit: d.HistoryLimit,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if scale := order.TimeScale(d.TimeScale); scale != 1 {
		s.timeScale = scale
		s.log.Warn().Float64("time_scale", scale).
			Msgf("business time runs %g× faster in new orders (ORDERFLOW_TIME_SCALE): for simulations only; a business day lasts %s",
				scale, order.Compress(24*time.Hour, scale).Round(time.Millisecond))
	}
	if s.tolerance <= 0 {
		s.tolerance = DefaultWebhookTolerance
	}
	if s.queryTimeout <= 0 {
		s.queryTimeout = DefaultQueryTimeout
	}
	if s.quoteWait <= 0 {
		s.quoteWait = DefaultQuoteWait
	}
	if s.updTimeout <= 0 {
		s.updTimeout = DefaultUpdateTimeout
	}

	r := mux.NewRouter()
	r.Use(routeLogger)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, notFound("no such endpoint; see /openapi.yaml"))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, &apiError{status: http.StatusMethodNotAllowed, slug: ProblemMethod,
			detail: r.Method + " is not allowed here; see /openapi.yaml"})
	})

	// Operations.
	r.Handle("/healthz", s.handle(s.healthz)).Methods(http.MethodGet)
	r.Handle("/readyz", s.handle(s.readyz)).Methods(http.MethodGet)
	r.Handle("/openapi.yaml", http.HandlerFunc(serveOpenAPI)).Methods(http.MethodGet)
	if d.Metrics != nil {
		r.Handle("/metrics", d.Metrics).Methods(http.MethodGet)
	}

	// The buyer's survey page: the token in the path is the secret.
	r.HandleFunc("/survey/{token}", s.surveyPage).Methods(http.MethodGet)
	r.HandleFunc("/survey/{token}", s.surveyAnswer).Methods(http.MethodPost)

	// The buyer's order page, from the signed link in a mail.
	r.HandleFunc("/o/{link}", s.orderPage).Methods(http.MethodGet)
	r.HandleFunc("/o/{link}/accept", s.acceptByLink).Methods(http.MethodPost)
	r.HandleFunc("/o/{link}/approve", s.approveByLink).Methods(http.MethodPost)

	// The pages of the customer workflow's mail links: a pre-filled quote
	// request, and the opt-out of marketing mails (customerpages.go).
	r.HandleFunc("/reorder/{token}", s.reorderPage).Methods(http.MethodGet)
	r.HandleFunc("/reorder/{token}", s.reorderSubmit).Methods(http.MethodPost)
	r.HandleFunc("/unsubscribe/{token}", s.unsubscribe).Methods(http.MethodGet, http.MethodPost)

	// The buyer's invoices and credit notes: the token in the path is the secret.
	r.Handle("/documents/{token}", s.handle(s.documentPage)).Methods(http.MethodGet)
	r.Handle("/documents/{token}/ubl", s.handle(s.documentUBL)).Methods(http.MethodGet)

	// The seller's KPI dashboard: staff, by bearer token or the login cookie.
	r.HandleFunc("/dashboard", s.dashboard).Methods(http.MethodGet)
	r.HandleFunc("/dashboard/login", s.dashboardLogin).Methods(http.MethodPost)
	r.HandleFunc("/dashboard/logout", s.dashboardLogout).Methods(http.MethodPost)
	r.Handle("/dashboard/{section}.csv", s.handle(s.dashboardCSV)).Methods(http.MethodGet)

	// Webhooks: authenticated by their HMAC signature, not a bearer token.
	r.Handle("/v1/webhooks/logistics", s.handle(s.logisticsWebhook)).Methods(http.MethodPost)
	r.Handle("/v1/webhooks/payments", s.handle(s.paymentsWebhook)).Methods(http.MethodPost)

	// The bearer-token API.
	v1 := func(path string, method string, h func(http.ResponseWriter, *http.Request) error) {
		r.Handle(path, s.requireToken(s.handle(h))).Methods(method)
	}
	v1("/v1/quotes", http.MethodPost, s.createQuote)
	v1("/v1/orders", http.MethodGet, s.listOrders)
	v1("/v1/orders/{id}", http.MethodGet, s.getOrder)
	v1("/v1/orders/{id}/audit", http.MethodGet, s.orderAudit)
	v1("/v1/orders/{id}/documents", http.MethodGet, s.orderDocuments)
	v1("/v1/orders/{id}/accept", http.MethodPost, s.accept)
	v1("/v1/orders/{id}/revise", http.MethodPost, s.revise)
	v1("/v1/orders/{id}/reject", http.MethodPost, s.reject)
	v1("/v1/orders/{id}/cancel", http.MethodPost, s.cancel)
	v1("/v1/orders/{id}/dispute", http.MethodPost, s.dispute)
	v1("/v1/orders/{id}/resolve", http.MethodPost, s.resolve)
	v1("/v1/orders/{id}/credit-note", http.MethodPost, s.creditNote)
	v1("/v1/orders/{id}/refund", http.MethodPost, s.refund)
	v1("/v1/orders/{id}/reship", http.MethodPost, s.reship)
	v1("/v1/orders/{id}/write-off", http.MethodPost, s.writeOff)
	v1("/v1/orders/{id}/apply-credit", http.MethodPost, s.applyCredit)
	v1("/v1/orders/{id}/return", http.MethodPost, s.returnGoods)
	v1("/v1/orders/{id}/approvals", http.MethodPost, s.approve)
	v1("/v1/orders/{id}/credit-decision", http.MethodPost, s.creditDecision)
	v1("/v1/orders/{id}/actions", http.MethodPost, s.action)
	v1("/v1/actions/bulk", http.MethodPost, s.bulkAction)
	v1("/v1/customers/{id}/terms", http.MethodGet, s.getTerms)
	v1("/v1/customers/{id}/terms", http.MethodPut, s.putTerms)
	v1("/v1/customers/{id}/contacts", http.MethodGet, s.getContacts)
	v1("/v1/customers/{id}/contacts", http.MethodPut, s.putContacts)
	v1("/v1/customers/{id}/win-back", http.MethodPost, s.winBack)
	v1("/v1/customers/{id}/audit", http.MethodGet, s.customerAudit)
	v1("/v1/customers/{id}/payer-accounts", http.MethodGet, s.getPayerAccounts)
	v1("/v1/customers/{id}/payer-accounts/{account}", http.MethodPut, s.putPayerAccount)
	v1("/v1/customers/{id}/payer-accounts/{account}", http.MethodDelete, s.deletePayerAccount)
	v1("/v1/reps", http.MethodGet, s.listReps)
	v1("/v1/reps/{subject}", http.MethodPut, s.putRep)
	v1("/v1/reps/{subject}/customers", http.MethodGet, s.repCustomers)
	v1("/v1/delegations", http.MethodPost, s.createDelegation)
	v1("/v1/delegations", http.MethodGet, s.listDelegations)
	v1("/v1/delegations/{id}", http.MethodDelete, s.revokeDelegation)
	v1("/v1/payments/unmatched", http.MethodGet, s.unmatchedPayments)
	v1("/v1/payments/{id}/allocate", http.MethodPost, s.allocatePayment)
	v1("/v1/audit/verify", http.MethodGet, s.auditVerify)
	v1("/v1/worklists/{name}", http.MethodGet, s.getWorklist)
	v1("/v1/followups/{id}/close", http.MethodPost, s.closeFollowUp)
	v1("/v1/followups/{id}/reopen", http.MethodPost, s.reopenFollowUp)

	return handler{Handler: s.outer(r), router: r}
}

// Authenticator turns a bearer token into the actor it names; a refusal
// wraps auth.ErrInvalidToken.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (order.Actor, error)
}

// handle adapts a handler that returns its error to http.Handler.
func (s *server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			fail(w, r, err)
		}
	})
}
