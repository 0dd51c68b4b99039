package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input panics the loader or, once it loads, the expansion
// and its summary. Run: go test ./internal/scenario -run '^$' -fuzz FuzzParse -fuzztime 30s
// (stretches of "0/sec" are the fuzzer minimizing a new input, up to
// -fuzzminimizetime, 60s by default)
func FuzzParse(f *testing.F) {
	for _, name := range []string{"short.yaml", "month.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nduration: 1d\ncustomers: [{id: A, rhythm: {mean_interval: 1m}, lines: [{sku: S, quantity: {min: 1, max: 1}}]}]\n"))
	f.Add([]byte("duration: 99999999d\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil || s.ExpectedOrders() > 5000 {
			return // large plans are tested elsewhere; here they would only slow the fuzzer down
		}
		p, err := Expand(s)
		if err != nil {
			t.Fatalf("a scenario Parse accepts must expand: %v", err)
		}
		_ = p.Summarize().String()
		_ = p.Timeline()
	})
}
