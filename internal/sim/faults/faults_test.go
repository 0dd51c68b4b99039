package faults_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/faults"
)

var routes = []string{"things.create", "things.get"}

func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	type call struct {
		route  string
		delay  time.Duration
		status int
		drop   bool
	}
	tests := []struct {
		name  string
		rules []faults.Rule
		calls []call
		left  []int // FailNext of each rule afterwards
	}{
		{name: "no rules", calls: []call{{route: "things.create"}}},
		{name: "fail_next counts down",
			rules: []faults.Rule{{Route: "things.create", FailNext: 2}},
			calls: []call{{"things.create", 0, 503, false}, {"things.get", 0, 0, false}, {"things.create", 0, 503, false}, {"things.create", 0, 0, false}},
			left:  []int{0}},
		{name: "custom status",
			rules: []faults.Rule{{Route: "things.get", FailNext: 1, Status: 500}},
			calls: []call{{"things.get", 0, 500, false}, {"things.get", 0, 0, false}}},
		{name: "star matches every route",
			rules: []faults.Rule{{Route: faults.All, FailNext: 2, Status: 502}},
			calls: []call{{"things.create", 0, 502, false}, {"things.get", 0, 502, false}, {"things.get", 0, 0, false}}},
		{name: "outage on",
			rules: []faults.Rule{{Route: "things.create", OutageUntil: now.Add(time.Minute)}},
			calls: []call{{"things.create", 0, 503, false}, {"things.create", 0, 503, false}, {"things.get", 0, 0, false}}},
		{name: "outage over",
			rules: []faults.Rule{{Route: "things.create", OutageUntil: now.Add(-time.Second)}},
			calls: []call{{"things.create", 0, 0, false}}},
		{name: "error rate 1 always fails",
			rules: []faults.Rule{{Route: "things.create", ErrorRate: 1, Status: 429}},
			calls: []call{{"things.create", 0, 429, false}, {"things.create", 0, 429, false}}},
		{name: "error rate 0 never fails",
			rules: []faults.Rule{{Route: "things.create", ErrorRate: 0, LatencyMS: 5}},
			calls: []call{{"things.create", 5 * time.Millisecond, 0, false}}},
		{name: "latencies add up",
			rules: []faults.Rule{{Route: faults.All, LatencyMS: 10}, {Route: "things.get", LatencyMS: 30}},
			calls: []call{{"things.get", 40 * time.Millisecond, 0, false}, {"things.create", 10 * time.Millisecond, 0, false}}},
		{name: "first failing rule wins, later keep their fail_next",
			rules: []faults.Rule{{Route: "things.create", FailNext: 1, Status: 500}, {Route: faults.All, FailNext: 1, Status: 502, LatencyMS: 7}},
			calls: []call{{"things.create", 7 * time.Millisecond, 500, false}, {"things.create", 7 * time.Millisecond, 502, false}, {"things.create", 7 * time.Millisecond, 0, false}},
			left:  []int{0, 0}},
		{name: "drop_answer fails by dropping, not refusing",
			rules: []faults.Rule{{Route: "things.create", Mode: faults.ModeDropAnswer, FailNext: 1}},
			calls: []call{{"things.create", 0, 0, true}, {"things.create", 0, 0, false}},
			left:  []int{0}},
		{name: "refuse is the default mode",
			rules: []faults.Rule{{Route: "things.create", Mode: faults.ModeRefuse, FailNext: 1}},
			calls: []call{{"things.create", 0, 503, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := faults.New(routes, zerolog.Nop())
			s.Replace(tc.rules)
			for i, c := range tc.calls {
				d := s.Decide(c.route, now)
				require.Equal(t, c.delay, d.Delay, "call %d delay", i)
				require.Equal(t, c.status, d.Status, "call %d status", i)
				require.Equal(t, c.drop, d.Drop, "call %d drop", i)
				if d.Fails() {
					require.NotEmpty(t, d.Why)
				}
			}
			for i, n := range tc.left {
				require.Equal(t, n, s.Rules()[i].FailNext, "rule %d fail_next left", i)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	s := faults.New(routes, zerolog.Nop())
	tests := []struct {
		rule faults.Rule
		want string // "" for valid
	}{
		{rule: faults.Rule{Route: "things.create", FailNext: 3}},
		{rule: faults.Rule{Route: faults.All, Status: 429, ErrorRate: 0.5, LatencyMS: 100}},
		{rule: faults.Rule{Route: "things.delete"}, want: `route "things.delete"`},
		{rule: faults.Rule{Route: "things.get", FailNext: -1}, want: "fail_next -1"},
		{rule: faults.Rule{Route: "things.get", Status: 200}, want: "status 200"},
		{rule: faults.Rule{Route: "things.get", ErrorRate: 1.5}, want: "error_rate 1.5"},
		{rule: faults.Rule{Route: "things.get", LatencyMS: -1}, want: "latency_ms -1"},
		{rule: faults.Rule{Route: "things.create", Mode: faults.ModeDropAnswer, FailNext: 1}},
		{rule: faults.Rule{Route: "things.create", Mode: faults.ModeRefuse, Status: 500}},
		{rule: faults.Rule{Route: "things.create", Mode: "explode"}, want: `mode "explode"`},
		{rule: faults.Rule{Route: "things.create", Mode: faults.ModeDropAnswer, Status: 502}, want: "a dropped answer has no status"},
	}
	for _, tc := range tests {
		err := s.Validate(tc.rule)
		if tc.want == "" {
			require.NoError(t, err, "%+v", tc.rule)
			continue
		}
		require.ErrorContains(t, err, tc.want)
	}
}

func TestHTTPControl(t *testing.T) {
	t.Parallel()
	s := faults.New(routes, zerolog.Nop())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/faults", s.HandleGet)
	mux.HandleFunc("PUT /sim/faults", s.HandlePut)
	mux.HandleFunc("DELETE /sim/faults", s.HandleDelete)
	mux.HandleFunc("GET /things", s.Wrap("things.get", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	do := func(method, path, body string) (int, faults.Body) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b faults.Body
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return resp.StatusCode, b
	}

	code, b := do(http.MethodGet, "/sim/faults", "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, b.Rules)

	code, _ = do(http.MethodPut, "/sim/faults", `{"rules":[{"route":"nope","fail_next":1}]}`)
	require.Equal(t, http.StatusBadRequest, code)
	code, _ = do(http.MethodPut, "/sim/faults", `{"rules":[`)
	require.Equal(t, http.StatusBadRequest, code)
	_, b = do(http.MethodGet, "/sim/faults", "")
	require.Empty(t, b.Rules, "a refused PUT changes nothing")

	code, b = do(http.MethodPut, "/sim/faults", `{"rules":[{"route":"things.get","fail_next":1,"status":500}]}`)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []faults.Rule{{Route: "things.get", FailNext: 1, Status: 500}}, b.Rules)

	code, _ = do(http.MethodGet, "/things", "")
	require.Equal(t, http.StatusInternalServerError, code)
	code, _ = do(http.MethodGet, "/things", "")
	require.Equal(t, http.StatusOK, code)
	_, b = do(http.MethodGet, "/sim/faults", "")
	require.Equal(t, 0, b.Rules[0].FailNext)

	code, b = do(http.MethodDelete, "/sim/faults", "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, b.Rules)
}

func TestInjectedFaultBody(t *testing.T) {
	t.Parallel()
	s := faults.New(routes, zerolog.Nop())
	s.Replace([]faults.Rule{{Route: "things.create", FailNext: 1}})
	ran := 0
	h := func(w http.ResponseWriter, _ *http.Request) { ran++; w.WriteHeader(http.StatusCreated) }
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest(http.MethodPost, "/things", nil), "things.create", h)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.JSONEq(t, `{"error":"simulated_fault","detail":"things.create: fail_next"}`, w.Body.String())
	require.Zero(t, ran, "a refused call never reaches the handler")
	w = httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest(http.MethodPost, "/things", nil), "things.create", h)
	require.Equal(t, http.StatusCreated, w.Code)
	require.Equal(t, 1, ran)
}

func TestLatencyStopsWhenCallerGivesUp(t *testing.T) {
	t.Parallel()
	s := faults.New(routes, zerolog.Nop())
	s.Replace([]faults.Rule{{Route: "things.get", LatencyMS: 600_000}})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	ran := false
	s.Serve(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/things", nil).WithContext(ctx), "things.get",
		func(http.ResponseWriter, *http.Request) { ran = true })
	require.False(t, ran, "the handler must not run for a caller that left")
	require.Less(t, time.Since(start), 10*time.Second)
}

// TestDropAnswerRunsTheHandlerThenClosesTheConnection is "commit, then drop
// the answer": the handler's effect happens, the caller gets no answer at
// all, and the next call is answered again.
func TestDropAnswerRunsTheHandlerThenClosesTheConnection(t *testing.T) {
	t.Parallel()
	s := faults.New(routes, zerolog.Nop())
	var effects atomic.Int32
	srv := httptest.NewServer(s.Wrap("things.create", func(w http.ResponseWriter, _ *http.Request) {
		effects.Add(1)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"thing-1"}`))
	}))
	t.Cleanup(srv.Close)
	// A fresh connection per call: Go's transport itself resends a request
	// that carries an Idempotency-Key when a reused connection dies, which
	// would hide the lost answer from this test.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	post := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(`{}`))
		require.NoError(t, err)
		return client.Do(req)
	}

	s.Replace([]faults.Rule{{Route: "things.create", Mode: faults.ModeDropAnswer, FailNext: 1}})
	resp, err := post()
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "no answer, not even a status line")
	require.Equal(t, int32(1), effects.Load(), "the call took effect before its answer was lost")

	resp, err = post()
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, int32(2), effects.Load())
}

func TestPutReplacesAndClearsARunningSimulatorsRules(t *testing.T) {
	t.Parallel()
	set := faults.New(routes, zerolog.Nop())
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /sim/faults", set.HandlePut)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()

	require.NoError(t, faults.Put(ctx, srv.URL+"/sim/faults", []faults.Rule{{Route: faults.All, ErrorRate: 0.25, LatencyMS: 5}}))
	require.Equal(t, []faults.Rule{{Route: faults.All, ErrorRate: 0.25, LatencyMS: 5}}, set.Rules())

	require.NoError(t, faults.Put(ctx, srv.URL+"/sim/faults", nil))
	require.Empty(t, set.Rules())

	err := faults.Put(ctx, srv.URL+"/sim/faults", []faults.Rule{{Route: "no.such.route", FailNext: 1}})
	require.ErrorContains(t, err, "400", "the simulator's refusal reaches the caller")
	require.Empty(t, set.Rules(), "a refused PUT changes nothing")
}
