package loadgen

import (
	"slices"
	"time"
)

// Summary describes a set of latencies.
type Summary struct {
	Name string        `json:"name"`
	N    int           `json:"n"`
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
}

// Summarize computes a Summary; percentiles are nearest-rank.
func Summarize(name string, ds []time.Duration) Summary {
	s := Summary{Name: name, N: len(ds)}
	if len(ds) == 0 {
		return s
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	s.Mean = sum / time.Duration(len(sorted))
	s.P50, s.P90, s.P99 = rank(sorted, 50), rank(sorted, 90), rank(sorted, 99)
	s.Max = sorted[len(sorted)-1]
	return s
}

// rank is the nearest-rank p-th percentile of sorted values: the smallest
// value with at least p% of the values at or below it.
func rank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(i, 1)-1]
}
