package loadgen

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestUniformArrivalsAreEvenlySpaced(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		rate     float64
		duration time.Duration
		want     []time.Duration
	}{
		{4, time.Second, []time.Duration{0, 250 * ms, 500 * ms, 750 * ms}},
		{2, 1500 * ms, []time.Duration{0, 500 * ms, time.Second}},
		{0.5, 2 * time.Second, []time.Duration{0}},
	}
	for _, tc := range tests {
		got := OpenLoop{Rate: tc.rate, Duration: tc.duration, Arrivals: ArrivalUniform}.Schedule()
		if !slices.Equal(got, tc.want) {
			t.Errorf("rate %g for %s: %v; want %v", tc.rate, tc.duration, got, tc.want)
		}
	}
}

func TestPoissonArrivalsHaveExponentialGaps(t *testing.T) {
	t.Parallel()
	const rate = 50.0
	ol := OpenLoop{Rate: rate, Duration: 200 * time.Second, Arrivals: ArrivalPoisson, Seed: 7}
	got := ol.Schedule()
	// 10,000 expected; a Poisson count has a standard deviation of 100.
	if n := len(got); math.Abs(float64(n)-10_000) > 500 {
		t.Fatalf("%d arrivals in 200 s at 50/s; want about 10,000", n)
	}
	if !slices.IsSorted(got) || got[len(got)-1] >= ol.Duration || got[0] < 0 {
		t.Fatalf("arrivals not increasing within [0, %s): first %s, last %s", ol.Duration, got[0], got[len(got)-1])
	}
	gaps := make([]float64, len(got)-1)
	var sum float64
	for i := range gaps {
		gaps[i] = (got[i+1] - got[i]).Seconds()
		sum += gaps[i]
	}
	mean := sum / float64(len(gaps))
	var sq float64
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	cv := math.Sqrt(sq/float64(len(gaps))) / mean
	// An exponential distribution's standard deviation equals its mean;
	// evenly spaced starts would have none.
	if math.Abs(mean-1/rate) > 0.05/rate || math.Abs(cv-1) > 0.05 {
		t.Errorf("gaps: mean %.5fs, coefficient of variation %.3f; want 0.02000s and 1", mean, cv)
	}
	// Shorter than a tenth of the mean gap: 1-e^-0.1 (about 9.5 %) of
	// exponential gaps, none of evenly spaced ones.
	short := 0
	for _, g := range gaps {
		if g < 0.1/rate {
			short++
		}
	}
	if share := float64(short) / float64(len(gaps)); math.Abs(share-0.095) > 0.015 {
		t.Errorf("%.1f %% of gaps are shorter than a tenth of the mean; want about 9.5 %%", 100*share)
	}

	if again := ol.Schedule(); !slices.Equal(again, got) {
		t.Error("the same seed gave another schedule")
	}
	ol.Seed = 8
	if other := ol.Schedule(); slices.Equal(other[:10], got[:10]) {
		t.Error("another seed gave the same schedule")
	}
}

func TestOpenLoopValidateNamesTheSettingAtFault(t *testing.T) {
	t.Parallel()
	ok := OpenLoop{Rate: 2, Duration: time.Second, Arrivals: ArrivalPoisson}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good setting: %v", err)
	}
	tests := []struct {
		field string
		mod   func(*OpenLoop)
	}{
		{"rate", func(o *OpenLoop) { o.Rate = 0 }},
		{"rate", func(o *OpenLoop) { o.Rate = math.NaN() }},
		{"rate", func(o *OpenLoop) { o.Rate = math.Inf(1) }},
		{"duration", func(o *OpenLoop) { o.Duration = 0 }},
		{"arrivals", func(o *OpenLoop) { o.Arrivals = "bursty" }},
		{"rate × duration", func(o *OpenLoop) { o.Rate, o.Duration = 0.5, time.Second }},
	}
	for _, tc := range tests {
		o := ok
		tc.mod(&o)
		if err := o.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%+v: Validate() = %v; want an error about %q", o, err, tc.field)
		}
	}
}

// The point of an open loop: a slow order does not hold back the next start.
func TestRunScheduleStartsOnTimeWhateverIsInFlight(t *testing.T) {
	t.Parallel()
	schedule := make([]time.Duration, 10)
	for i := range schedule {
		schedule[i] = time.Duration(i) * 20 * time.Millisecond
	}
	var ran atomic.Int32
	start := time.Now()
	st := runSchedule(context.Background(), schedule, func(int) {
		time.Sleep(200 * time.Millisecond) // each call outlasts several gaps
		ran.Add(1)
	})
	took := time.Since(start)
	if ran.Load() != 10 || len(st.lags) != 10 {
		t.Fatalf("ran %d, started %d; want 10 and 10", ran.Load(), len(st.lags))
	}
	// Closed, one at a time, it would take 2 s and never overlap.
	if took > time.Second {
		t.Errorf("took %s: the starts waited for earlier calls", took)
	}
	if st.maxInFlight < 5 {
		t.Errorf("at most %d in flight; calls of 200 ms started every 20 ms overlap by 10", st.maxInFlight)
	}
	if s := Summarize("lag", st.lags); s.P50 > 50*time.Millisecond {
		t.Errorf("median start lag %s: the schedule was not kept", s.P50)
	}
}

func TestRunScheduleStopsStartingWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	schedule := []time.Duration{0, 10 * time.Millisecond, time.Hour}
	var ran atomic.Int32
	done := make(chan scheduled)
	go func() {
		done <- runSchedule(ctx, schedule, func(int) { ran.Add(1) })
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case st := <-done:
		if len(st.lags) != 2 || ran.Load() != 2 {
			t.Errorf("started %d, ran %d; want the two before the cancel", len(st.lags), ran.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runSchedule still waits for an hour-late start after the cancel")
	}
}
