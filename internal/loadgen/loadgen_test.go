package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

func TestSummarizeUsesNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	tests := []struct {
		name               string
		in                 []time.Duration
		p50, p90, p99, max time.Duration
		mean               time.Duration
	}{
		{"none", nil, 0, 0, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"four", ms(40, 10, 30, 20), 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 25 * time.Millisecond},
		{"hundred", ms(hundred...), 50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond, 50500 * time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize("x", tc.in)
			if s.N != len(tc.in) || s.P50 != tc.p50 || s.P90 != tc.p90 || s.P99 != tc.p99 || s.Max != tc.max || s.Mean != tc.mean {
				t.Errorf("Summarize = %+v; want n=%d p50=%s p90=%s p99=%s max=%s mean=%s", s, len(tc.in), tc.p50, tc.p90, tc.p99, tc.max, tc.mean)
			}
		})
	}
}

func TestSummarizeLeavesItsInputAlone(t *testing.T) {
	t.Parallel()
	in := []time.Duration{3, 1, 2}
	Summarize("x", in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("input reordered: %v", in)
	}
}

func TestConfigValidateNamesTheSettingAtFault(t *testing.T) {
	t.Parallel()
	ok := Config{Orders: 1, Concurrency: 1, Customers: []string{"ACME-001"}, Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1}},
		Poll: time.Millisecond, StageTimeout: time.Second, RunID: "r"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	tests := []struct {
		field string
		mod   func(*Config)
	}{
		{"orders", func(c *Config) { c.Orders = 0 }},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }},
		{"customers", func(c *Config) { c.Customers = nil }},
		{"lines", func(c *Config) { c.Lines = nil }},
		{"lines[0]", func(c *Config) { c.Lines = []order.Line{{SKU: "BOLT-M8"}} }},
		{"lines[1]", func(c *Config) { c.Lines = append(c.Lines, order.Line{Quantity: 2}) }},
		{"poll", func(c *Config) { c.Poll = 0 }},
		{"stage timeout", func(c *Config) { c.StageTimeout = -time.Second }},
		{"run id", func(c *Config) { c.RunID = "" }},
	}
	for _, tc := range tests {
		c := ok
		c.Lines = append([]order.Line(nil), ok.Lines...)
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%s: Validate() = %v; want an error about %q", tc.field, err, tc.field)
		}
	}
}
