package api

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// decodeMS reads the timestamp back out of an id.
func decodeMS(t *testing.T, id string) int64 {
	t.Helper()
	var v uint64
	for _, c := range strings.TrimPrefix(id, OrderIDPrefix)[:10] {
		v = v<<5 | uint64(strings.IndexRune(crockford, c))
	}
	return int64(v) // 10 characters are 50 bits: 2 zero bits of padding, then the 48-bit timestamp
}

func TestOrderIDsSortByCreationTime(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^ord_[0-9A-HJKMNP-TV-Z]{26}$`)
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		times []time.Duration // offsets from base, in creation order
	}{
		{"one per millisecond", []time.Duration{0, time.Millisecond, 2 * time.Millisecond, time.Second, time.Hour, 24 * 365 * time.Hour}},
		{"many in one millisecond", slices.Repeat([]time.Duration{5 * time.Millisecond}, 1000)},
		{"clock steps back", []time.Duration{time.Second, 0, 500 * time.Millisecond, time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var g idGen
			var ids []string
			for _, d := range tt.times {
				id := g.next(base.Add(d))
				if !format.MatchString(id) {
					t.Fatalf("id %q has the wrong form", id)
				}
				ids = append(ids, id)
			}
			if !slices.IsSorted(ids) {
				t.Fatalf("ids do not sort in creation order: %v", ids)
			}
			if len(slices.Compact(slices.Clone(ids))) != len(ids) {
				t.Fatalf("duplicate ids: %v", ids)
			}
			if got, want := decodeMS(t, ids[0]), base.Add(tt.times[0]).UnixMilli(); got != want {
				t.Fatalf("the first id encodes %d ms, want %d", got, want)
			}
		})
	}
}

func TestOrderIDsAreRandomAcrossGenerators(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var a, b idGen
	x, y := a.next(now), b.next(now)
	if x == y {
		t.Fatalf("two processes minted the same id %s", x)
	}
	if x[:14] != y[:14] {
		t.Fatalf("ids of the same millisecond differ in their timestamp: %s %s", x, y)
	}
}

func TestEncode128(t *testing.T) {
	t.Parallel()
	var zero, ones [16]byte
	for i := range ones {
		ones[i] = 0xff
	}
	if got := encode128(zero); got != strings.Repeat("0", 26) {
		t.Fatalf("zero encodes as %s", got)
	}
	// 128 one bits: the first character carries the top 3 bits (7).
	if got := encode128(ones); got != "7"+strings.Repeat("Z", 25) {
		t.Fatalf("all ones encode as %s", got)
	}
}
