package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test types for the decoders: nested structs, a slice of objects, a
// pointer, an embedded struct, a field that decodes itself (time.Time).
type (
	keyInner struct {
		X  int64     `json:"x"`
		At time.Time `json:"at"`
	}
	keyEmbedded struct {
		E string `json:"e"`
	}
	keyBody struct {
		keyEmbedded
		AB string     `json:"a_b"`
		N  []keyInner `json:"n"`
		P  *keyInner  `json:"p"`
		// Skip is never decoded: a key "Skip" or "skip" is merely unknown.
		Skip string `json:"-"`
	}
)

// keyNames is every JSON name keyBody decodes, at any depth.
var keyNames = map[string]bool{"e": true, "a_b": true, "n": true, "p": true, "x": true, "at": true}

// fieldsOf returns the fields a decode error names, nil when it names none.
func fieldsOf(t testing.TB, err error) []string {
	t.Helper()
	var ae *apiError
	require.ErrorAs(t, err, &ae)
	var out []string
	for _, f := range ae.fields {
		out = append(out, f.Field)
	}
	return out
}

func TestDecodeStrictMatchesKeysExactly(t *testing.T) {
	t.Parallel()
	ok := []string{
		`{"a_b":"v","e":"w","n":[{"x":1},{"x":2,"at":"2026-11-25T10:15:42Z"}],"p":{"x":3}}`,
		`{"p":null,"n":null,"n":[]}`,
	}
	for _, body := range ok {
		var v keyBody
		require.NoError(t, decodeStrict([]byte(body), &v), body)
	}
	var v keyBody
	require.NoError(t, decodeStrict([]byte(ok[0]), &v))
	require.Equal(t, keyBody{keyEmbedded: keyEmbedded{E: "w"}, AB: "v", N: []keyInner{{X: 1}, {X: 2, At: time.Date(2026, 11, 25, 10, 15, 42, 0, time.UTC)}}, P: &keyInner{X: 3}}, v)

	tests := []struct {
		body   string
		status int
		fields []string
	}{
		{`{"A_B":"v"}`, 400, []string{"A_B"}},
		{`{"a_B":"v","a_b":"w"}`, 400, []string{"a_B"}},
		{`{"a_b":"w","a_B":"v"}`, 400, []string{"a_B"}},
		{`{"E":"promoted"}`, 400, []string{"E"}},
		{`{"n":[{"x":1},{"X":2}]}`, 400, []string{"n.X"}},
		{`{"p":{"AT":"2026-11-25T10:15:42Z"}}`, 400, []string{"p.AT"}},
		{`{"p":{"\u212a":1}}`, 400, nil},                      // KELVIN SIGN is not x: merely unknown
		{"{\"a_\u212a\":1}", 400, []string{"a_\u212a"}},       // unknown field, named by encoding/json
		{`{"P":{"x":1},"N":[]}`, 400, []string{"N", "P"}},     // every one named
		{`{"n":[{"at":"yesterday"}]}`, 400, []string{"n.at"}}, // a bad time names its field
		{`{"p":{"at":5}}`, 400, []string{"p.at"}},
		{`{"skip":"x"}`, 400, []string{"skip"}},
		{`{"a_b":1}`, 400, []string{"a_b"}},
		{`{"a_b":"v"} {}`, 400, nil},
		{`{"a_b":`, 400, nil},
	}
	for _, tt := range tests {
		var v keyBody
		err := decodeStrict([]byte(tt.body), &v)
		require.Error(t, err, tt.body)
		require.Equal(t, tt.status, problemFor(err).Status, tt.body)
		if tt.fields != nil {
			require.Equal(t, tt.fields, fieldsOf(t, err), tt.body)
		}
	}
	// \u212a (KELVIN SIGN) folds to k: encoding/json would take "a_\u212a"
	// for a field "a_k"; there is none here, so check the rule on one.
	type kelvin struct {
		AK string `json:"a_k"`
	}
	var k kelvin
	err := decodeStrict([]byte("{\"a_\u212a\":\"v\"}"), &k)
	require.Equal(t, []string{"a_\u212a"}, fieldsOf(t, err))
	require.Empty(t, k.AK)
}

func TestDecodeLenientIgnoresKeysDifferingInCase(t *testing.T) {
	t.Parallel()
	var v keyBody
	require.NoError(t, decodeLenient([]byte(`{"A_B":"wrong","a_b":"right","extra":{"A_B":1},"n":[{"X":9,"x":1}],"P":{"x":2},"E":"no"}`), &v))
	require.Equal(t, keyBody{AB: "right", N: []keyInner{{X: 1}}}, v)

	v = keyBody{}
	require.NoError(t, decodeLenient([]byte(`{"a_b":"right","A_B":"wrong"}`), &v))
	require.Equal(t, "right", v.AB, "the exact key wins whatever the order")

	v = keyBody{}
	require.NoError(t, decodeLenient([]byte(`{"p":{"AT":"yesterday"}}`), &v), "a dropped key is not checked")
	require.Equal(t, &keyInner{}, v.P)

	err := decodeLenient([]byte(`{"p":{"at":"yesterday"}}`), &v)
	require.Equal(t, 400, problemFor(err).Status)
	require.Equal(t, []string{"p.at"}, fieldsOf(t, err))
}

// jsonKeys returns every object key in a parsed tree, at any depth.
func jsonKeys(tree any, out map[string]bool) {
	switch v := tree.(type) {
	case map[string]any:
		for k, e := range v {
			out[k] = true
			jsonKeys(e, out)
		}
	case []any:
		for _, e := range v {
			jsonKeys(e, out)
		}
	}
}

// dropUnknown removes every key keyBody does not know under any name.
func dropUnknown(tree any) {
	switch v := tree.(type) {
	case map[string]any:
		for k, e := range v {
			if !keyNames[k] {
				delete(v, k)
				continue
			}
			dropUnknown(e)
		}
	case []any:
		for _, e := range v {
			dropUnknown(e)
		}
	}
}

// FuzzDecodeExactKeys checks both decoders against plain models of the rule:
//   - strict: whatever decodeStrict accepts holds no key keyBody does not
//     know exactly; and what encoding/json accepts strictly, with only
//     exact keys, decodeStrict accepts too, with the same value;
//   - lenient: decodeLenient decodes like encoding/json on the body without
//     the keys keyBody does not know exactly.
func FuzzDecodeExactKeys(f *testing.F) {
	for _, seed := range []string{
		`{"a_b":"v","e":"w","n":[{"x":1},{"x":2,"at":"2026-11-25T10:15:42Z"}],"p":{"x":3}}`,
		`{"A_B":"v"}`, `{"a_b":"w","A_b":"v"}`, `{"n":[{"X":2}]}`, `{"p":{"At":"2026-11-25T10:15:42Z"}}`,
		`{"E":"x"}`, "{\"a_\u212a\":1}", `{"p":{"at":"yesterday"}}`, `{"n":[{"x":1e400}]}`,
		`{"a_b":"\u0000"}`, `[]`, `null`, `{"a_b":"v"} {}`, `{`, `{"skip":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tree, trailing, perr := parseTree(body)

		var strict keyBody
		serr := decodeStrict(body, &strict)
		if serr == nil {
			keys := map[string]bool{}
			jsonKeys(tree, keys)
			for k := range keys {
				require.True(t, keyNames[k], "decodeStrict accepted key %q in %q", k, body)
			}
		}
		var std keyBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		stdErr := dec.Decode(&std)
		if _, terr := dec.Token(); stdErr == nil && errors.Is(terr, io.EOF) && perr == nil {
			keys := map[string]bool{}
			jsonKeys(tree, keys)
			exact := true
			for k := range keys {
				exact = exact && keyNames[k]
			}
			if exact {
				require.NoError(t, serr, "encoding/json accepts %q with exact keys", body)
				require.Equal(t, std, strict)
			}
		}

		var lenient keyBody
		lerr := decodeLenient(body, &lenient)
		if perr != nil {
			require.Error(t, lerr)
			return
		}
		dropUnknown(tree)
		model, err := json.Marshal(tree)
		require.NoError(t, err)
		var want keyBody
		werr := json.Unmarshal(model, &want)
		if trailing {
			require.Error(t, lerr, "trailing data after %q", body)
			return
		}
		require.Equal(t, werr == nil, lerr == nil, "body %q: model error %v, decodeLenient error %v", body, werr, lerr)
		if lerr == nil {
			require.Equal(t, want, lenient, "body %q", body)
		}
	})
}
