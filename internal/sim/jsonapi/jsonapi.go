package jsonapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// Error is the body of a non-2xx answer. Error is a stable code a client can
// branch on; Field names the request field at fault, Detail says why for a
// human.
type Error struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// encodeFailed answers in place of a value that does not encode: the caller
// meant to answer, so it gets a 500 it can read rather than an empty body.
var encodeFailed = []byte(`{"error":"internal","detail":"encode answer"}`)

// WriteJSON answers status with v encoded as JSON, or 500 when v does not encode.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, encodeFailed
	}
	WriteRaw(w, status, data)
}

// WriteRaw answers status with data, which is already JSON: a stored answer
// replayed as it was first sent.
func WriteRaw(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// WriteError answers status with an [Error] of code and detail.
func WriteError(w http.ResponseWriter, status int, code, detail string) {
	WriteJSON(w, status, Error{Error: code, Detail: detail})
}

// InternalError answers 500 with err's text and logs it with the request,
// on log (which names the simulator). Callers return right after.
func InternalError(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
	WriteError(w, http.StatusInternalServerError, "internal", err.Error())
}

// Decode reads r's body, at most maxBytes of it, as exactly one JSON value
// into v. When it cannot, it answers 400 invalid_json itself and returns
// false; the caller then returns.
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	// A second value would be ignored silently by Decode: refuse it, so a
	// client that concatenated two bodies hears about it.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		WriteError(w, http.StatusBadRequest, "invalid_json", "trailing data after the JSON object")
		return false
	}
	return true
}

// NewRouter returns a router whose answers to unknown routes ([NotFound])
// and to known routes called with another method ([MethodNotAllowed]) are
// JSON like every other.
func NewRouter() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(NotFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(MethodNotAllowed)
	return r
}

// NotFound answers 404 not_found naming the method and path.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
}

// MethodNotAllowed answers 405 method_not_allowed naming the method and path.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" "+r.URL.Path)
}

// List is a GET handler for a simulator's /sim listing: it loads the list
// filtered by the query parameter param ("" when absent) and answers
// {"<key>": [...]}, an empty list rather than null; a load error is a 500.
func List[T any](log zerolog.Logger, key, param string, load func(ctx context.Context, filter string) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, err := load(r.Context(), r.URL.Query().Get(param))
		if err != nil {
			InternalError(w, r, log, err)
			return
		}
		WriteJSON(w, http.StatusOK, map[string][]T{key: NonNil(list)})
	}
}

// NonNil returns list, or an empty list when it is nil, so that a list
// answer encodes as [] rather than null.
func NonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
