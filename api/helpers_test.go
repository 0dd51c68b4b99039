package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// Demo customers seeded by store.SeedDemo.
const (
	acme   = "ACME-001"
	globex = "GLOBEX-002"
)

var (
	tokenSecret     = []byte("test-token-secret-test-token-secret")
	logisticsSecret = []byte("logistics-secret")
	paymentsSecret  = []byte("payments-secret")
)

// Short names for the types the tests pass around.
type (
	responseRecorder = httptest.ResponseRecorder
	startOptions     = client.StartWorkflowOptions
)

// syncBuffer is a log sink the handler and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t testing.TB) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

// env is one API over a throw-away database and a mock Temporal client.
type env struct {
	t       testing.TB
	store   *store.Store
	tc      *mocks.Client
	tokens  *auth.Issuer
	links   *links.Signer
	h       http.Handler
	now     time.Time
	logs    *syncBuffer
	logTo   io.Writer // where the API's logs go; logs unless changed
	metrics http.Handler
	pool    *pgxpool.Pool
	// quote answers the quote update of Update-with-Start; pricedQuote
	// unless a test changes it.
	quote func(workflows.OrderInput) (workflows.QuoteResult, error)
	// timeScale is the API's Deps.TimeScale (ORDERFLOW_TIME_SCALE).
	timeScale float64
}

type envOption func(*env)

// withMetrics mounts a metrics handler.
func withMetrics(h http.Handler) envOption { return func(e *env) { e.metrics = h } }

// withLogsTo sends the API's logs to w instead of keeping them.
func withLogsTo(w io.Writer) envOption { return func(e *env) { e.logTo = w } }

// withTimeScale starts orders at a time scale (ORDERFLOW_TIME_SCALE).
func withTimeScale(s float64) envOption { return func(e *env) { e.timeScale = s } }

// withClient uses a mock client without a test attached: a call nobody
// expected panics instead of failing the test.
func withClient(c *mocks.Client) envOption { return func(e *env) { e.tc = c } }

var linkSecret = []byte("test-link-secret-test-link-secret-0")

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	pool := pgtest.NewPool(t, store.Migrate)
	st := store.New(pool)
	require.NoError(t, st.SeedDemo(context.Background()))
	tokens, err := auth.NewIssuer(tokenSecret)
	require.NoError(t, err)
	e := &env{t: t, store: st, tokens: tokens, now: time.Now().UTC().Truncate(time.Second), logs: &syncBuffer{}, pool: pool, quote: pricedQuote}
	e.logTo = e.logs
	for _, o := range opts {
		o(e)
	}
	if e.tc == nil {
		e.tc = mocks.NewClient(t)
	}
	signer, err := links.New(linkSecret)
	require.NoError(t, err)
	e.links = signer
	e.h = api.New(api.Deps{
		Store:            st,
		Temporal:         e.tc,
		Tokens:           tokens,
		Links:            signer,
		LogisticsSecret:  logisticsSecret,
		PaymentsSecret:   paymentsSecret,
		PublicURL:        "https://orders.example",
		Logger:           zerolog.New(e.logTo).With().Timestamp().Logger(),
		Now:              func() time.Time { return e.now },
		WebhookTolerance: 5 * time.Minute,
		QueryTimeout:     time.Second,
		UpdateTimeout:    500 * time.Millisecond,
		QuoteWait:        300 * time.Millisecond,
		Metrics:          e.metrics,
		TimeScale:        e.timeScale,
	})
	return e
}

// with returns the env reporting to t: a fuzz target must not use its *testing.F.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// token mints a bearer token for a role; buyer roles act for acme.
func (e *env) token(role order.Role) string {
	a := order.Actor{Subject: "user-" + string(role), Role: role}
	if role.CustomerScoped() {
		a.CustomerID = acme
	}
	return e.tokenFor(a)
}

func (e *env) tokenFor(a order.Actor) string {
	tok, err := e.tokens.Mint(a, time.Hour)
	require.NoError(e.t, err)
	return tok
}

// req is one request to the API.
type req struct {
	method, path, token string
	body                any // string, []byte or a value encoded as JSON
	header              map[string]string
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader = http.NoBody
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

// problem is the RFC 7807 body as a client reads it.
type problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail"`
	Instance  string             `json:"instance"`
	RequestID string             `json:"request_id"`
	Errors    []order.FieldError `json:"errors"`
}

// requireProblem checks status and media type and returns the problem.
func requireProblem(t testing.TB, w *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	require.Equal(t, status, p.Status)
	require.True(t, strings.HasPrefix(p.Type, api.ProblemTypePrefix), p.Type)
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.RequestID)
	return p
}

// fields lists the fields a problem names.
func (p problem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// orderView mirrors the API's order body as staff get it.
type orderView struct {
	store.OrderRecord
	Quote *order.Quote       `json:"quote"`
	Live  *workflows.Details `json:"live"`
	// Source and Seq say where the answer comes from.
	Source string `json:"source"`
	Seq    int64  `json:"seq"`
}

// queries counts the details queries the API has asked so far.
func (e *env) queries() int {
	n := 0
	for _, c := range e.tc.Calls {
		if c.Method == "QueryWorkflow" {
			n++
		}
	}
	return n
}

// quoteBody is a valid quote request for acme.
func quoteBody() map[string]any {
	return map[string]any{
		"customer_id": acme,
		"po_number":   "PO-4711",
		"lines":       []map[string]any{{"sku": "BOLT-M8", "quantity": 100}, {"sku": "NUT-M8", "quantity": 100}},
	}
}

// startOp is the start half of an Update-with-Start as the tests see it.
type startOp struct {
	opts client.StartWorkflowOptions
	in   workflows.OrderInput
	run  client.WorkflowRun
}

func (s *startOp) Get(context.Context) (client.WorkflowRun, error) { return s.run, nil }

// pricedQuote is what the quote update answers by default: revision 1 of
// the request, priced at 1.00 EUR a unit.
func pricedQuote(in workflows.OrderInput) (workflows.QuoteResult, error) {
	q := &order.Quote{Revision: 1, Total: money.Zero("EUR"), Subtotal: money.Zero("EUR"), Discount: money.Zero("EUR"),
		ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, l := range in.Lines {
		q.Lines = append(q.Lines, order.PricedLine{SKU: l.SKU, Quantity: l.Quantity, Total: money.New(100*l.Quantity, "EUR")})
		q.Total.Minor += 100 * l.Quantity
	}
	return workflows.QuoteResult{Status: order.StatusAwaitingAcceptance, Quote: q}, nil
}

// expectStart lets Update-with-Start succeed any number of times; the
// quote update answers with e.quote.
func (e *env) expectStart() {
	allowStart(e.t, e.tc, func(in workflows.OrderInput) (workflows.QuoteResult, error) { return e.quote(in) })
}

// allowStart mocks Update-with-Start on tc: the start is taken and the
// quote update answers with answer, or with the context's error when
// answer blocks past the API's wait.
func allowStart(t testing.TB, tc *mocks.Client, answer func(workflows.OrderInput) (workflows.QuoteResult, error), failFirst ...error) {
	// Mocks without a test: a fuzz target's *testing.F must not register
	// cleanups from inside the fuzz function.
	run := &mocks.WorkflowRun{}
	run.On("GetRunID").Return("run-1").Maybe()
	tc.On("NewWithStartWorkflowOperation", mock.Anything, workflows.OrderWorkflowName, mock.Anything).Return(
		func(o client.StartWorkflowOptions, _ any, args ...any) client.WithStartWorkflowOperation {
			return &startOp{opts: o, in: args[0].(workflows.OrderInput), run: run}
		}).Maybe()
	var mu sync.Mutex
	tc.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(
		func(_ context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
			mu.Lock()
			if len(failFirst) > 0 {
				err := failFirst[0]
				failFirst = failFirst[1:]
				mu.Unlock()
				return nil, err
			}
			mu.Unlock()
			in := o.StartWorkflowOperation.(*startOp).in
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(func(ctx context.Context, out any) error {
				type result struct {
					res workflows.QuoteResult
					err error
				}
				done := make(chan result, 1)
				go func() { r, err := answer(in); done <- result{r, err} }()
				select {
				case r := <-done:
					*out.(*workflows.QuoteResult) = r.res
					return r.err
				case <-ctx.Done():
					return ctx.Err()
				}
			}).Maybe()
			return h, nil
		}).Maybe()
}

// expectNoLive makes every details query fail, as with no worker running.
func (e *env) expectNoLive() {
	e.tc.On("QueryWorkflow", mock.Anything, mock.Anything, "", workflows.QueryDetails).
		Return(nil, context.DeadlineExceeded).Maybe()
}

// expectLive answers the details query from the returned map (order id to
// workflows.Details); an order not in it answers NotFound, like a workflow
// that is gone.
func (e *env) expectLive() *sync.Map {
	var live sync.Map
	e.tc.On("QueryWorkflow", mock.Anything, mock.Anything, "", workflows.QueryDetails).Return(
		func(_ context.Context, id, _, _ string, _ ...any) (converter.EncodedValue, error) {
			d, ok := live.Load(id)
			if !ok {
				return nil, serviceerror.NewNotFound("workflow not found")
			}
			val := mocks.NewEncodedValue(e.t)
			val.On("Get", mock.Anything).Run(func(args mock.Arguments) {
				*args.Get(0).(*workflows.Details) = d.(workflows.Details)
			}).Return(nil)
			return val, nil
		})
	return &live
}

// createOrder makes an order through the API and returns its id.
func (e *env) createOrder(key string, body map[string]any) string {
	e.t.Helper()
	w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: body,
		header: map[string]string{"Idempotency-Key": key}})
	require.Equal(e.t, http.StatusCreated, w.Code, w.Body.String())
	return decode[orderView](e.t, w).ID
}

// startCalls returns the start options Update-with-Start saw for an order id.
func (e *env) startCalls(id string) []client.StartWorkflowOptions {
	var out []client.StartWorkflowOptions
	for _, c := range e.tc.Calls {
		if c.Method != "UpdateWithStartWorkflow" {
			continue
		}
		if op, ok := c.Arguments.Get(1).(client.UpdateWithStartWorkflowOptions).StartWorkflowOperation.(*startOp); ok && op.opts.ID == id {
			out = append(out, op.opts)
		}
	}
	return out
}

// startInput returns the OrderInput the workflow of id was started with.
func startInput(t *testing.T, e *env, id string) workflows.OrderInput {
	t.Helper()
	for _, c := range e.calls("UpdateWithStartWorkflow") {
		if op := c.Arguments.Get(1).(client.UpdateWithStartWorkflowOptions).StartWorkflowOperation.(*startOp); op.opts.ID == id {
			return op.in
		}
	}
	t.Fatalf("no start of %s", id)
	return workflows.OrderInput{}
}

// calls returns the recorded calls of one mock method.
func (e *env) calls(method string) []mock.Call {
	var out []mock.Call
	for _, c := range e.tc.Calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}
