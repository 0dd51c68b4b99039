package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"gopkg.in/yaml.v3"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	w := e.do(req{method: http.MethodGet, path: "/healthz"})
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"status":"ok"}`, w.Body.String())

	e.tc.On("CheckHealth", mock.Anything, mock.Anything).Return(&client.CheckHealthResponse{}, nil).Once()
	w = e.do(req{method: http.MethodGet, path: "/readyz"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	e.tc.On("CheckHealth", mock.Anything, mock.Anything).Return(nil, serviceerror.NewUnavailable("dial tcp 127.0.0.1:7233: connection refused")).Once()
	p := requireProblem(t, e.do(req{method: http.MethodGet, path: "/readyz"}), http.StatusServiceUnavailable)
	require.Equal(t, []string{"temporal"}, p.fields())
	require.NotContains(t, p.Detail, "7233", "addresses stay in the log")
}

func TestReadyWhenPostgresIsDown(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, nil)
	pool.Close()
	tc := mocks.NewClient(t)
	tc.On("CheckHealth", mock.Anything, mock.Anything).Return(nil, errors.New("down too"))
	tokens, err := auth.NewIssuer(tokenSecret)
	require.NoError(t, err)
	h := api.New(api.Deps{Store: store.New(pool), Temporal: tc, Tokens: tokens, Logger: zerolog.Nop()})
	e := &env{t: t, h: h}
	p := requireProblem(t, e.do(req{method: http.MethodGet, path: "/readyz"}), http.StatusServiceUnavailable)
	require.Equal(t, []string{"postgres", "temporal"}, p.fields())
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("m1", quoteBody())

	t.Run("request ids", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/healthz", header: map[string]string{api.RequestIDHeader: "caller-id-1"}})
		require.Equal(t, "caller-id-1", w.Header().Get(api.RequestIDHeader))
		w = e.do(req{method: http.MethodGet, path: "/healthz", header: map[string]string{api.RequestIDHeader: "bad id\nwith newline"}})
		require.Regexp(t, `^[0-9a-f]{24}$`, w.Header().Get(api.RequestIDHeader))
		w = e.do(req{method: http.MethodGet, path: "/healthz"})
		require.Regexp(t, `^[0-9a-f]{24}$`, w.Header().Get(api.RequestIDHeader))
		p := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + id, header: map[string]string{api.RequestIDHeader: "caller-id-2"}}), http.StatusUnauthorized)
		require.Equal(t, "caller-id-2", p.RequestID)
		require.Equal(t, "/v1/orders/"+id, p.Instance)
	})

	t.Run("access log", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + id, token: e.token(order.RoleCS),
			header: map[string]string{api.RequestIDHeader: "log-me"}})
		require.Equal(t, http.StatusOK, w.Code)
		var line map[string]any
		for _, l := range e.logs.lines(t) {
			if l["message"] == "request" && l["request_id"] == "log-me" {
				line = l
			}
		}
		require.NotNil(t, line)
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/v1/orders/{id}", line["route"])
		require.Equal(t, id, line["order_id"])
		require.EqualValues(t, 200, line["status"])
		require.Contains(t, line, "duration")
	})

	t.Run("unknown routes and methods are problems", func(t *testing.T) {
		requireProblem(t, e.do(req{method: http.MethodGet, path: "/v2/nothing"}), http.StatusNotFound)
		requireProblem(t, e.do(req{method: http.MethodDelete, path: "/v1/orders/" + id, token: e.token(order.RoleCS)}), http.StatusMethodNotAllowed)
	})
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	// A mock without a test panics on a call nobody expected: here the
	// details query of GET /v1/orders/{id}?live=true.
	tc := &mocks.Client{}
	allowStart(t, tc, pricedQuote)
	e := newEnv(t, withClient(tc))
	created := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
		header: map[string]string{"Idempotency-Key": "k"}})
	require.Equal(t, http.StatusCreated, created.Code, created.Body.String())
	var o struct{ ID string }
	require.NoError(t, json.Unmarshal(created.Body.Bytes(), &o))
	w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + o.ID + "?live=true", token: e.token(order.RoleStorefront)})
	p := requireProblem(t, w, http.StatusInternalServerError)
	require.NotContains(t, p.Detail, "mock")
	var logged bool
	for _, l := range e.logs.lines(t) {
		logged = logged || (l["level"] == "error" && l["message"] == "handler panicked" && l["request_id"] == p.RequestID)
	}
	require.True(t, logged)
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMetrics(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# metrics")
	})))

	w := e.do(req{method: http.MethodGet, path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, w.Code)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(w.Body.Bytes(), &doc))
	require.Equal(t, "3.0.3", doc["openapi"])
	paths := doc["paths"].(map[string]any)

	routed := map[string]bool{}
	router := e.h.(interface{ Router() *mux.Router }).Router()
	require.NoError(t, router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		require.NoError(t, err)
		methods, err := route.GetMethods()
		require.NoError(t, err)
		for _, m := range methods {
			routed[strings.ToLower(m)+" "+tpl] = true
			item, ok := paths[tpl].(map[string]any)
			require.True(t, ok, "route %s is not in openapi.yaml", tpl)
			require.Contains(t, item, strings.ToLower(m), "%s %s is not in openapi.yaml", m, tpl)
		}
		return nil
	}))
	require.Contains(t, routed, "get /metrics")

	var documented []string
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, m) {
				documented = append(documented, m+" "+p)
			}
		}
	}
	for _, d := range documented {
		require.True(t, routed[d], "openapi.yaml documents %s, which the router does not serve", d)
	}

	// Every local $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				require.True(t, strings.HasPrefix(ref, "#/"), ref)
				var cur any = doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, ok := cur.(map[string]any)
					require.True(t, ok, "bad $ref %s", ref)
					cur, ok = m[part]
					require.True(t, ok, "dangling $ref %s", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)

	// The webhook signature header and bearer auth are described.
	require.Contains(t, w.Body.String(), "Webhook-Signature")
	require.Contains(t, w.Body.String(), "scheme: bearer")
	require.Contains(t, w.Body.String(), "application/problem+json")
}

// The enums of POST /actions in openapi.yaml are the ones the API accepts.
func TestOpenAPIActionEnumsMatchTheCode(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	at := func(v any, keys ...string) any {
		for _, k := range keys {
			m, ok := v.(map[string]any)
			require.True(t, ok, "openapi.yaml: no object at %q", k)
			v = m[k]
		}
		return v
	}
	props := at(doc, "paths", "/v1/orders/{id}/actions", "post", "requestBody", "content", "application/json", "schema", "properties")
	enum := func(field string) []string {
		var out []string
		for _, v := range at(props, field, "enum").([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	var kinds []string
	for _, k := range mail.Kinds() {
		kinds = append(kinds, string(k))
	}
	require.Equal(t, kinds, enum("mail"), "openapi.yaml's mail kinds")
	require.ElementsMatch(t, []string{string(workflows.ActionRetry), string(workflows.ActionSkip), string(workflows.ActionResend),
		string(workflows.ActionCancel)}, enum("action"), "openapi.yaml's actions")
}
