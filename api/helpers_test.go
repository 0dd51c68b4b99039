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
	h       http.Handler
	now     time.Time
	logs    *syncBuffer
	logTo   io.Writer // where the API's logs go; logs unless changed
	metrics http.Handler
	pool    *pgxpool.Pool
}

type envOption func(*env)

// withMetrics mounts a metrics handler.
func withMetrics(h http.Handler) envOption { return func(e *env) { e.metrics = h } }

// withLogsTo sends the API's logs to w instead of keeping them.
func withLogsTo(w io.Writer) envOption { return func(e *env) { e.logTo = w } }

// withClient uses a mock client without a test attached: a call nobody
// expected panics instead of failing the test.
func withClient(c *mocks.Client) envOption { return func(e *env) { e.tc = c } }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	pool := pgtest.NewPool(t, store.Migrate)
	st := store.New(pool)
	require.NoError(t, st.SeedDemo(context.Background()))
	tokens, err := auth.NewIssuer(tokenSecret)
	require.NoError(t, err)
	e := &env{t: t, store: st, tokens: tokens, now: time.Now().UTC().Truncate(time.Second), logs: &syncBuffer{}, pool: pool}
	e.logTo = e.logs
	for _, o := range opts {
		o(e)
	}
	if e.tc == nil {
		e.tc = mocks.NewClient(t)
	}
	e.h = api.New(api.Deps{
		Store:            st,
		Temporal:         e.tc,
		Tokens:           tokens,
		LogisticsSecret:  logisticsSecret,
		PaymentsSecret:   paymentsSecret,
		PublicURL:        "https://orders.example",
		Logger:           zerolog.New(e.logTo).With().Timestamp().Logger(),
		Now:              func() time.Time { return e.now },
		WebhookTolerance: 5 * time.Minute,
		QueryTimeout:     time.Second,
		UpdateTimeout:    500 * time.Millisecond,
		Metrics:          e.metrics,
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

// orderView mirrors the API's order body.
type orderView struct {
	store.OrderRecord
	Live *workflows.Details `json:"live"`
}

// quoteBody is a valid quote request for acme.
func quoteBody() map[string]any {
	return map[string]any{
		"customer_id": acme,
		"po_number":   "PO-4711",
		"lines":       []map[string]any{{"sku": "BOLT-M8", "quantity": 100}, {"sku": "NUT-M8", "quantity": 100}},
	}
}

// expectStart lets ExecuteWorkflow succeed any number of times.
func (e *env) expectStart() {
	run := mocks.NewWorkflowRun(e.t)
	run.On("GetRunID").Return("run-1").Maybe()
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).Return(run, nil).Maybe()
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

// startCalls returns the start options ExecuteWorkflow saw for an order id.
func (e *env) startCalls(id string) []client.StartWorkflowOptions {
	var out []client.StartWorkflowOptions
	for _, c := range e.tc.Calls {
		if c.Method != "ExecuteWorkflow" {
			continue
		}
		if o := c.Arguments.Get(1).(client.StartWorkflowOptions); o.ID == id {
			out = append(out, o)
		}
	}
	return out
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
