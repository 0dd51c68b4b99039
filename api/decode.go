package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

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
//
// Keys must match dst's JSON names exactly: encoding/json would take
// "Customer_ID" for customer_id, so a key that differs from a known name
// only in case is refused like any unknown field (see checkKeys).
func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty; send a JSON object")
	}
	tree, trailing, err := parseTree(body)
	if err != nil {
		return err
	}
	if err := checkKeys(tree, reflect.TypeOf(dst), false); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// A second value after the object is a client bug worth reporting.
	if trailing {
		return badRequest("the request body must hold exactly one JSON object")
	}
	return nil
}

// decodeLenient decodes a body from an outside sender that may add fields.
// Unknown keys are ignored, and so is a key that differs from a known name
// only in case: the field it resembles stays unset, so its own check (say,
// "required") speaks, not a value the sender did not mean for it.
func decodeLenient(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty; send a JSON object")
	}
	tree, trailing, err := parseTree(body)
	if err != nil {
		return err
	}
	if trailing {
		return badRequest("the request body must hold exactly one JSON object")
	}
	if err := checkKeys(tree, reflect.TypeOf(dst), true); errors.Is(err, errKeysDropped) {
		// Decode what is left: the tree holds the same values, minus those keys.
		if body, err = json.Marshal(tree); err != nil {
			return fmt.Errorf("re-encode a webhook body: %w", err)
		}
	} else if err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// parseTree decodes the first JSON value of body into plain maps, slices,
// strings, json.Numbers, bools and nils, and reports whether anything but
// white space follows it.
func parseTree(body []byte) (tree any, trailing bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers stay as written: no float overflow, no rounding
	if err := dec.Decode(&tree); err != nil {
		return nil, false, decodeError(err)
	}
	_, err = dec.Token()
	return tree, !errors.Is(err, io.EOF), nil
}

// errKeysDropped is checkKeys' report that it removed keys (lenient mode).
var errKeysDropped = errors.New("keys differing only in case were dropped")

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkKeys walks tree (from parseTree) along the Go type t that it will be
// decoded into, object by object, through nested structs, pointers, slices,
// arrays and maps. A key that is not a field's JSON name but equals one
// under case folding (encoding/json's rule, strings.EqualFold) is refused
// in strict mode (400, "unknown field", named by its dotted path) and
// removed from tree in lenient mode (errKeysDropped).
//
// A field whose type decodes itself (time.Time, …) is decoded here alone, so
// that a bad value is a 400 naming the field: encoding/json's own error for
// it names none.
func checkKeys(tree any, t reflect.Type, lenient bool) error {
	var c keyChecker
	c.walk(tree, t, "", lenient)
	switch {
	case len(c.unknown) > 0:
		return badRequest("the request has a field this endpoint does not know", c.unknown...)
	case len(c.invalid) > 0:
		return badRequest("a field has the wrong type", c.invalid...)
	case c.dropped:
		return errKeysDropped
	}
	return nil
}

type keyChecker struct {
	unknown []order.FieldError
	invalid []order.FieldError
	dropped bool
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *keyChecker) walk(v any, t reflect.Type, path string, lenient bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) {
			break
		}
		t = t.Elem()
	}
	if t == nil || v == nil {
		return
	}
	if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		c.decodeAlone(v, t, path)
		return
	}
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		if _, ok := v.(string); ok {
			c.decodeAlone(v, t, path)
		}
		return // any other JSON kind is encoding/json's type error, which names the field
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // encoding/json reports the type error
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if ft, ok := fields[k]; ok {
				c.walk(obj[k], ft, joinPath(path, k), lenient)
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(fields)) {
				if strings.EqualFold(k, name) {
					if lenient {
						delete(obj, k)
						c.dropped = true
					} else {
						c.unknown = append(c.unknown, order.FieldError{Field: joinPath(path, k),
							Reason: fmt.Sprintf("unknown field (keys are case-sensitive: did you mean %q?)", name)})
					}
					break
				}
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return
		}
		for _, e := range arr {
			c.walk(e, t.Elem(), path, lenient)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			c.walk(obj[k], t.Elem(), joinPath(path, k), lenient)
		}
	}
}

// decodeAlone decodes one value into a fresh t and records its error.
func (c *keyChecker) decodeAlone(v any, t reflect.Type, path string) {
	raw, err := json.Marshal(v)
	if err != nil {
		return // not reachable for a parsed tree; encoding/json will say what is wrong
	}
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		reason := "not a valid value"
		if t == reflect.TypeFor[time.Time]() {
			reason = "must be an RFC 3339 date-time such as 2026-11-25T10:15:42Z"
		}
		c.invalid = append(c.invalid, order.FieldError{Field: path, Reason: reason})
	}
}

// fieldCache holds jsonFields' answers per struct type.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names encoding/json decodes into a struct type to
// the fields' types, following its rules: a json tag's name or the Go name,
// "-" skipped, unexported fields skipped, the fields of an untagged embedded
// struct promoted (the shallower field wins a name).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	depth := map[string]int{}
	var add func(t reflect.Type, d int)
	add = func(t reflect.Type, d int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					add(et, d+1)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if old, ok := depth[name]; !ok || d < old {
				fields[name], depth[name] = ft, d
			}
		}
	}
	add(t, 0)
	fieldCache.Store(t, fields)
	return fields
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
