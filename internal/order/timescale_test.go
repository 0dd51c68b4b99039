package order

import (
	"math"
	"testing"
	"time"
)

func TestTimeScale(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 1: 1, 0.5: 1, -3: 1, 5760: 5760, 1.5: 1.5} {
		if got := TimeScale(in); got != want {
			t.Errorf("TimeScale(%v) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := TimeScale(in); got != 1 {
			t.Errorf("TimeScale(%v) = %v, want 1", in, got)
		}
	}
}

func TestCompress(t *testing.T) {
	day := 24 * time.Hour
	if got := Compress(14*day, 5760); got != 210*time.Second {
		t.Errorf("14 days at 5760 = %s, want 3m30s", got)
	}
	if got := Compress(14*day, 0); got != 14*day {
		t.Errorf("14 days at 0 = %s, want unchanged", got)
	}
	if got := Compress(time.Second, 1e9); got != time.Millisecond {
		t.Errorf("a second at 1e9 = %s, want the 1ms floor", got)
	}
	if got := Compress(-time.Hour, 3600); got != -time.Second {
		t.Errorf("-1h at 3600 = %s, want -1s", got)
	}
	from := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if got, want := CompressDate(from, from.AddDate(0, 0, 30), 4320), from.Add(10*time.Minute); !got.Equal(want) {
		t.Errorf("30 days at 4320 = %s, want %s", got, want)
	}
	if got := CompressDate(from, from.AddDate(0, 0, 30), 1); !got.Equal(from.AddDate(0, 0, 30)) {
		t.Errorf("scale 1 moved the date to %s", got)
	}
	if got := CompressDate(from, time.Time{}, 4320); !got.IsZero() {
		t.Errorf("a zero date became %s", got)
	}
}
