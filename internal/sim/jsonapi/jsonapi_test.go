package jsonapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// The bodies are compared as bytes: the simulators' clients (and their
// stored idempotent answers) see exactly these.
func TestWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		write  func(w http.ResponseWriter)
		status int
		body   string
	}{
		{"json", func(w http.ResponseWriter) {
			jsonapi.WriteJSON(w, http.StatusCreated, map[string]int{"n": 1})
		}, 201, `{"n":1}`},
		{"value that does not encode", func(w http.ResponseWriter) {
			jsonapi.WriteJSON(w, http.StatusOK, func() {})
		}, 500, `{"error":"internal","detail":"encode answer"}`},
		{"raw bytes as they are", func(w http.ResponseWriter) {
			jsonapi.WriteRaw(w, http.StatusOK, []byte(`{"b":2,  "a":1}`))
		}, 200, `{"b":2,  "a":1}`},
		{"error without field", func(w http.ResponseWriter) {
			jsonapi.WriteError(w, http.StatusConflict, "shipment_delivered", "too late")
		}, 409, `{"error":"shipment_delivered","detail":"too late"}`},
		{"error with only a code", func(w http.ResponseWriter) {
			jsonapi.WriteError(w, http.StatusNotFound, "not_found", "")
		}, 404, `{"error":"not_found"}`},
		{"error naming a field", func(w http.ResponseWriter) {
			jsonapi.WriteJSON(w, http.StatusUnprocessableEntity,
				jsonapi.Error{Error: "invalid_request", Field: "payer", Detail: "1 to 140 characters"})
		}, 422, `{"error":"invalid_request","field":"payer","detail":"1 to 140 characters"}`},
		{"nil list", func(w http.ResponseWriter) {
			jsonapi.WriteJSON(w, http.StatusOK, map[string][]string{"items": jsonapi.NonNil([]string(nil))})
		}, 200, `{"items":[]}`},
		{"list kept", func(w http.ResponseWriter) {
			jsonapi.WriteJSON(w, http.StatusOK, jsonapi.NonNil([]string{"a"}))
		}, 200, `["a"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			tc.write(rec)
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			require.Equal(t, tc.body, rec.Body.String())
		})
	}
}

func TestInternalErrorAnswersAndLogs(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/v1/things", nil)
	jsonapi.InternalError(rec, r, zerolog.New(&logged), errors.New("insert thing: connection reset"))

	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, `{"error":"internal","detail":"insert thing: connection reset"}`, rec.Body.String())
	require.Contains(t, logged.String(), `"error":"insert thing: connection reset"`)
	require.Contains(t, logged.String(), `"path":"/v1/things"`)
}

func TestDecode(t *testing.T) {
	t.Parallel()
	type thing struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name   string
		body   string
		limit  int64
		ok     bool
		want   thing
		answer string // the 400's body when not ok; "" to check only the code
	}{
		{"one object", `{"name":"bolt","count":3}`, 1 << 10, true, thing{"bolt", 3}, ""},
		{"trailing space is fine", "{\"name\":\"bolt\"}\n  ", 1 << 10, true, thing{Name: "bolt"}, ""},
		{"two objects", `{"name":"a"}{"name":"b"}`, 1 << 10, false, thing{},
			`{"error":"invalid_json","detail":"trailing data after the JSON object"}`},
		{"not JSON", `{`, 1 << 10, false, thing{}, `{"error":"invalid_json","detail":"unexpected EOF"}`},
		{"wrong type", `{"count":"three"}`, 1 << 10, false, thing{}, ""},
		{"empty body", ``, 1 << 10, false, thing{}, `{"error":"invalid_json","detail":"EOF"}`},
		{"over the limit", `{"name":"` + strings.Repeat("x", 100) + `"}`, 50, false, thing{},
			`{"error":"invalid_json","detail":"http: request body too large"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(tc.body))
			var got thing
			ok := jsonapi.Decode(rec, r, tc.limit, &got)
			require.Equal(t, tc.ok, ok)
			if tc.ok {
				require.Equal(t, tc.want, got)
				require.Zero(t, rec.Body.Len(), "a good body is left for the caller to answer")
				return
			}
			require.Equal(t, http.StatusBadRequest, rec.Code)
			if tc.answer != "" {
				require.Equal(t, tc.answer, rec.Body.String())
			} else {
				require.Contains(t, rec.Body.String(), `"error":"invalid_json"`)
			}
		})
	}
}

func TestRouterAnswersUnknownRoutesInJSON(t *testing.T) {
	t.Parallel()
	r := jsonapi.NewRouter()
	// As the simulators mount their routes: under prefixes.
	r.PathPrefix("/v1").Subrouter().HandleFunc("/things", func(w http.ResponseWriter, _ *http.Request) {
		jsonapi.WriteJSON(w, http.StatusOK, []string{"bolt"})
	}).Methods(http.MethodGet)
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/v1/things", 200, `["bolt"]`},
		{http.MethodGet, "/v1/nothing", 404, `{"error":"not_found","detail":"no route GET /v1/nothing"}`},
		{http.MethodGet, "/elsewhere", 404, `{"error":"not_found","detail":"no route GET /elsewhere"}`},
		{http.MethodDelete, "/v1/things", 405, `{"error":"method_not_allowed","detail":"DELETE /v1/things"}`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			require.Equal(t, tc.body, rec.Body.String())
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	jsonapi.NotFound(rec, httptest.NewRequest(http.MethodGet, "/v1/nothing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, `{"error":"not_found","detail":"no route GET /v1/nothing"}`, rec.Body.String())

	rec = httptest.NewRecorder()
	jsonapi.MethodNotAllowed(rec, httptest.NewRequest(http.MethodDelete, "/v1/things", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, `{"error":"method_not_allowed","detail":"DELETE /v1/things"}`, rec.Body.String())
}

func TestListAnswersTheFilteredListOrAnEmptyOne(t *testing.T) {
	var asked string
	load := func(_ context.Context, filter string) ([]string, error) {
		asked = filter
		if filter == "none" {
			return nil, nil
		}
		if filter == "broken" {
			return nil, errors.New("database down")
		}
		return []string{"a", "b"}, nil
	}
	h := jsonapi.List(zerolog.Nop(), "things", "owner", load)
	for _, tc := range []struct {
		query, body string
		status      int
	}{
		{"?owner=acme", `{"things":["a","b"]}`, http.StatusOK},
		{"?owner=none", `{"things":[]}`, http.StatusOK},
		{"?owner=broken", "", http.StatusInternalServerError},
	} {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodGet, "/sim/things"+tc.query, nil))
		require.Equal(t, tc.status, w.Code, tc.query)
		if tc.body != "" {
			require.JSONEq(t, tc.body, w.Body.String())
		}
	}
	require.Equal(t, "broken", asked)
}
