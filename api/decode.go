package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/internal/order"
)

// MaxBodyBytes bounds every request body; larger bodies answer 413.
const MaxBodyBytes = 1 << 20

// readBody reads the whole body up to MaxBodyBytes. An oversized body is an
// *http.MaxBytesError, which problemFor turns into 413.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, badRequest("the request body could not be read")
	}
	return b, nil
}

// decodeJSON reads a JSON request body into dst strictly: one object, no
// unknown fields, every field of its declared type.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &apiError{status: http.StatusUnsupportedMediaType, slug: ProblemMediaType,
				detail: fmt.Sprintf("Content-Type %q is not application/json", ct)}
		}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// decodeStrict is decodeJSON on bytes already read; the fuzz tests reach it
// through the handlers.
func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// A second value after the object is a client bug worth reporting.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the request body must hold exactly one JSON object")
	}
	return nil
}

// decodeLenient decodes a body from an outside sender that may add fields.
func decodeLenient(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns encoding/json's errors into 400 problems that name the
// field at fault.
func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return badRequest("a field has the wrong type", order.FieldError{
			Field:  typ.Field,
			Reason: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value),
		})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("the request has a field this endpoint does not know",
			order.FieldError{Field: name, Reason: "unknown field"})
	}
	return badRequest("the request body is not valid JSON")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "another type"
}
