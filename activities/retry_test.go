package activities_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	const samples = 200
	for attempt := int32(1); attempt <= 20; attempt++ {
		for _, breaker := range []time.Duration{0, 2 * time.Second, 30 * time.Second} {
			t.Run(fmt.Sprintf("attempt %d breaker %s", attempt, breaker), func(t *testing.T) {
				t.Parallel()
				// Exponential from 1 s, capped at 5 minutes, raised to twice
				// the breaker's wait; equal jitter draws from its upper half.
				d := min(time.Second<<(attempt-1), activities.RetryCap)
				d = max(d, 2*breaker)
				seen := map[time.Duration]bool{}
				for range samples {
					got := activities.RetryDelay(attempt, breaker)
					require.GreaterOrEqual(t, got, d/2)
					require.LessOrEqual(t, got, d)
					require.GreaterOrEqual(t, got, breaker, "never before the breaker lets a call through")
					require.LessOrEqual(t, got, max(activities.RetryCap, 2*breaker))
					seen[got] = true
				}
				assert.Greater(t, len(seen), samples/2, "the delays spread out instead of repeating")
			})
		}
	}
}

func TestRetryDelayBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		attempt  int32
		breaker  time.Duration
		min, max time.Duration
	}{
		{"first attempt", 1, 0, 500 * time.Millisecond, time.Second},
		{"fourth attempt", 4, 0, 4 * time.Second, 8 * time.Second},
		{"capped", 10, 0, activities.RetryCap / 2, activities.RetryCap},
		{"far past the cap", 1 << 30, 0, activities.RetryCap / 2, activities.RetryCap},
		{"attempt 0 counts as the first", 0, 0, 500 * time.Millisecond, time.Second},
		{"open breaker floors the delay", 1, 30 * time.Second, 30 * time.Second, time.Minute},
		{"half-open breaker", 1, 2 * time.Second, 2 * time.Second, 4 * time.Second},
		{"backoff past the breaker's wait", 9, 30 * time.Second, 128 * time.Second, 256 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 100 {
				got := activities.RetryDelay(tt.attempt, tt.breaker)
				require.GreaterOrEqual(t, got, tt.min)
				require.LessOrEqual(t, got, tt.max)
			}
		})
	}
}

// TestRetryDelaySpreadsASynchronizedFailure: a thousand orders whose call
// failed at the same moment on the same attempt come back over a window,
// not in one instant.
func TestRetryDelaySpreadsASynchronizedFailure(t *testing.T) {
	t.Parallel()
	var lo, hi time.Duration = activities.RetryCap, 0
	for range 1000 {
		d := activities.RetryDelay(6, 0) // 32 s before jitter
		lo, hi = min(lo, d), max(hi, d)
	}
	assert.Greater(t, hi-lo, 12*time.Second, "spread over most of the 16 s jitter window")
}
