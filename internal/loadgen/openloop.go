package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Arrival processes: how an open-loop run spaces the starts of its orders.
const (
	// ArrivalPoisson starts orders as a Poisson process: the gaps are drawn
	// from an exponential distribution with mean 1/Rate, so starts bunch up
	// now and then as independent customers' would.
	ArrivalPoisson = "poisson"
	// ArrivalUniform starts an order every 1/Rate exactly.
	ArrivalUniform = "uniform"
)

// OpenLoop paces a run by the clock instead of by completions: orders start
// at Rate per second for Duration, however many are still in flight, so a
// system that falls behind shows it as growing latencies (queueing) instead
// of a lower rate, as a closed loop would.
type OpenLoop struct {
	// Rate is how many orders start per second, on average.
	Rate float64
	// Duration is how long orders are started; the run then waits for the
	// ones in flight to finish (each bounded by Config.StageTimeout per stage).
	Duration time.Duration
	// Arrivals is ArrivalPoisson or ArrivalUniform.
	Arrivals string
	// Seed makes the Poisson gaps repeatable; runs with the same seed start
	// their orders at the same offsets.
	Seed uint64
}

// OpenLoopStats says how an open-loop run went beside the latencies.
type OpenLoopStats struct {
	Rate     float64       `json:"rate_per_second"`
	Duration time.Duration `json:"duration_ns"`
	Arrivals string        `json:"arrivals"`
	// MaxInFlight is the most orders under way at once.
	MaxInFlight int `json:"max_in_flight"`
	// StartLag is how late the driver started orders against the schedule:
	// large values mean the load generator itself fell behind, and the
	// offered rate was not met.
	StartLag Summary `json:"start_lag"`
}

// Validate says which setting cannot work.
func (o OpenLoop) Validate() error {
	switch {
	case !(o.Rate > 0) || math.IsInf(o.Rate, 0):
		return errors.New("rate: must be a positive number of orders per second")
	case o.Duration <= 0:
		return errors.New("duration: must be positive")
	case o.Arrivals != ArrivalPoisson && o.Arrivals != ArrivalUniform:
		return fmt.Errorf("arrivals: %q or %q, not %q", ArrivalPoisson, ArrivalUniform, o.Arrivals)
	case o.Rate*o.Duration.Seconds() < 1:
		return fmt.Errorf("rate × duration: %.2f orders; at least 1", o.Rate*o.Duration.Seconds())
	}
	return nil
}

// Schedule returns when each order starts, as offsets from the run's start,
// in increasing order and all before Duration. Uniform arrivals are i/Rate,
// so there are ceil(Rate × Duration) of them; Poisson arrivals are the sums
// of exponential gaps with mean 1/Rate drawn from Seed, so there are Rate ×
// Duration of them on average.
func (o OpenLoop) Schedule() []time.Duration {
	var out []time.Duration
	switch o.Arrivals {
	case ArrivalUniform:
		for i := 0; ; i++ {
			at := time.Duration(float64(i) / o.Rate * float64(time.Second))
			if at >= o.Duration {
				return out
			}
			out = append(out, at)
		}
	default:
		rng := rand.New(rand.NewPCG(o.Seed, 0x6f7264657266))
		t := 0.0 // seconds
		for {
			t += rng.ExpFloat64() / o.Rate
			at := time.Duration(t * float64(time.Second))
			if at >= o.Duration {
				return out
			}
			out = append(out, at)
		}
	}
}

// RunOpen starts orders at the times ol.Schedule gives, each on its own
// (cfg.Orders and cfg.Concurrency are not used), and takes every one to
// COMPLETED as Run does. It returns an error only when the run could not
// start or was interrupted; orders that fail are counted and described.
func RunOpen(ctx context.Context, t Targets, cfg Config, ol OpenLoop) (Report, error) {
	if err := ol.Validate(); err != nil {
		return Report{}, err
	}
	if err := cfg.validateOrders(); err != nil {
		return Report{}, err
	}
	schedule := ol.Schedule()
	// Enough idle connections for what may be in flight at once: every
	// order polls while it waits.
	d := newDriver(t, cfg, max(64, int(ol.Rate*10)))
	if err := d.ping(ctx); err != nil {
		return Report{}, err
	}

	start := time.Now()
	st := runSchedule(ctx, schedule, func(i int) {
		id, tm, err := d.one(ctx, i)
		d.finish(i, id, tm, err)
	})
	started := len(st.lags)

	r := d.report(started, st.maxInFlight, time.Since(start))
	r.OpenLoop = &OpenLoopStats{Rate: ol.Rate, Duration: ol.Duration, Arrivals: ol.Arrivals,
		MaxInFlight: st.maxInFlight, StartLag: Summarize("start lag", st.lags)}
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("run interrupted after starting %d of %d orders: %w", started, len(schedule), err)
	}
	return r, nil
}

// scheduled is what runSchedule saw.
type scheduled struct {
	// lags are how late each started order began against its offset.
	lags        []time.Duration
	maxInFlight int
}

// runSchedule calls run(i) on a goroutine of its own at offset schedule[i]
// from now, never waiting for an earlier call to return, and returns once
// every call has. It stops starting calls when ctx ends.
func runSchedule(ctx context.Context, schedule []time.Duration, run func(i int)) scheduled {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight int
		out      = scheduled{lags: make([]time.Duration, 0, len(schedule))}
	)
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i, at := range schedule {
		if wait := time.Until(start.Add(at)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				wg.Wait()
				return out
			}
		} else if ctx.Err() != nil {
			break
		}
		out.lags = append(out.lags, max(time.Since(start)-at, 0))
		mu.Lock()
		inFlight++
		out.maxInFlight = max(out.maxInFlight, inFlight)
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				inFlight--
				mu.Unlock()
			}()
			run(i)
		})
	}
	wg.Wait()
	return out
}
