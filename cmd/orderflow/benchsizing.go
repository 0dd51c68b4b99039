//go:build !nodev

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/loadgen"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/rs/zerolog"
	sdkworker "go.temporal.io/sdk/worker"
)

// defaultStickyCache is the Go SDK's sticky workflow cache size when
// sdkworker.SetStickyWorkflowCacheSize is not called (go.temporal.io/sdk
// v1.50.0, internal.defaultStickyCacheSize); orderflow does not call it.
const defaultStickyCache = 10000

// memReading is what the process holds at one moment, read after a forced
// garbage collection so that only live memory counts.
type memReading struct {
	// HeapAlloc is the live heap objects' bytes; HeapInuse the bytes of the
	// heap spans holding them (with their free slots); StackInuse the
	// goroutine stacks' bytes.
	HeapAlloc  uint64 `json:"heap_alloc_bytes"`
	HeapInuse  uint64 `json:"heap_inuse_bytes"`
	StackInuse uint64 `json:"stack_inuse_bytes"`
	Goroutines int    `json:"goroutines"`
}

// live is the memory the process cannot give back: live heap and stacks.
func (m memReading) live() uint64 { return m.HeapAlloc + m.StackInuse }

// readMemory collects garbage (twice, so objects freed by finalizers go too)
// and reads the process's memory.
func readMemory() memReading {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memReading{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()}
}

// orderCost is what each of Orders orders adds to the process: the
// difference between a reading with them and one without, divided by Orders.
type orderCost struct {
	Orders         int     `json:"orders"`
	LiveBytes      float64 `json:"live_bytes"` // live heap + stacks
	HeapInuseBytes float64 `json:"heap_inuse_bytes"`
	StackBytes     float64 `json:"stack_bytes"`
	Goroutines     float64 `json:"goroutines"`
}

// costPerOrder divides the difference between the readings with and without
// n orders by n. A difference may be negative (the process freed more than
// the orders held): it is reported as it is, not hidden.
func costPerOrder(with, without memReading, n int) (orderCost, error) {
	if n < 1 {
		return orderCost{}, fmt.Errorf("orders: %d, want at least 1 to divide by", n)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return orderCost{
		Orders:         n,
		LiveBytes:      per(with.live(), without.live()),
		HeapInuseBytes: per(with.HeapInuse, without.HeapInuse),
		StackBytes:     per(with.StackInuse, without.StackInuse),
		Goroutines:     float64(with.Goroutines-without.Goroutines) / float64(n),
	}, nil
}

// cachedOrders is how many of parked orders the sticky cache holds: all of
// them up to its size. The cache is an LRU shared by the process's workers.
func cachedOrders(parked, cacheSize int) int {
	if cacheSize <= 0 {
		cacheSize = defaultStickyCache
	}
	return min(parked, cacheSize)
}

// sizingRun is what `orderflow bench -sizing` prints and writes with -json.
type sizingRun struct {
	At          time.Time      `json:"at"`
	GoVersion   string         `json:"go_version"`
	CPUs        int            `json:"cpus"`
	Temporal    string         `json:"temporal"`
	LoadAverage string         `json:"load_average,omitempty"`
	StickyCache int            `json:"sticky_cache_size"`
	Report      loadgen.Report `json:"report"`
	// CPUSeconds is the whole process's user and system CPU time while the
	// orders were driven to AWAITING_PAYMENT: load generator, API, worker,
	// simulators and the embedded Temporal server.
	CPUSeconds         float64 `json:"cpu_seconds"`
	OrdersPerCPUSecond float64 `json:"orders_per_cpu_second"`
	// The readings: before any order (worker running); with the orders parked
	// and cached; with the worker stopped and the sticky cache purged; with
	// a worker started again (the orders parked, none cached).
	Before  memReading `json:"before"`
	Cached  memReading `json:"cached"`
	Stopped memReading `json:"stopped"`
	Evicted memReading `json:"evicted"`
	// PerCachedOrder is Cached − Evicted over the cached orders: what the
	// worker holds for an order in its cache. PerEvictedOrder is Evicted −
	// Before over the parked orders: what the whole process (Temporal
	// server, API, database pools, worker) kept per parked order once none
	// was cached.
	PerCachedOrder  orderCost `json:"per_cached_order"`
	PerEvictedOrder orderCost `json:"per_evicted_order"`
}

// sizingOptions are bench's flags that -sizing reads.
type sizingOptions struct {
	api                 string // must be empty: the sizing run needs the in-process stack
	memory, keepDB      bool
	store               devserver.Store // where Temporal keeps its data
	stickyCache         int
	jsonOut, cpuProfile string
}

// benchSizing parks lc.Orders orders at AWAITING_PAYMENT in an in-process
// stack and measures what they cost the process, cached and not cached.
func benchSizing(ctx context.Context, cfg config.Config, log zerolog.Logger, lc loadgen.Config, o sizingOptions, stdout, stderr io.Writer) error {
	cacheSize, memory, jsonOut := o.stickyCache, o.memory, o.jsonOut
	switch {
	case o.api != "":
		return errors.New("-sizing: only with the in-process stack (no -api): it reads the worker's memory in this process")
	case cacheSize < 0:
		return errors.New("-sticky-cache: at least 1 (0: the SDK's default)")
	}
	if cacheSize > 0 {
		sdkworker.SetStickyWorkflowCacheSize(cacheSize) // before the stack starts its worker
	}
	lc.Park = true
	run := sizingRun{At: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Temporal: "SQLite file", StickyCache: cacheSize}
	switch {
	case memory:
		run.Temporal = "in memory"
	case o.store == devserver.StorePostgres:
		run.Temporal = "PostgreSQL"
	}
	if run.StickyCache == 0 {
		run.StickyCache = defaultStickyCache
	}
	stack, cleanup, err := startBenchStack(ctx, cfg, log, o.store, memory, o.keepDB)
	if err != nil {
		return err
	}
	defer cleanup()
	targets, err := benchTargets(cfg, stack)
	if err != nil {
		return err
	}
	run.Before = quietReading(ctx, stderr)

	fmt.Fprintf(stderr, "bench -sizing: parking %d orders at AWAITING_PAYMENT, %d at a time…\n", lc.Orders, lc.Concurrency)
	cpu0, err := cpuTime()
	if err != nil {
		return err
	}
	stopProfile := func() {}
	if o.cpuProfile != "" {
		if stopProfile, err = startCPUProfile(o.cpuProfile); err != nil {
			return err
		}
	}
	report, runErr := loadgen.Run(ctx, targets, lc)
	stopProfile()
	cpu1, err := cpuTime()
	if err != nil {
		return err
	}
	run.Report = report
	if runErr != nil {
		return runErr
	}
	if report.Completed == 0 {
		return fmt.Errorf("no order reached AWAITING_PAYMENT: %v", report.Errors)
	}
	run.CPUSeconds = (cpu1 - cpu0).Seconds()
	if run.CPUSeconds > 0 {
		run.OrdersPerCPUSecond = float64(report.Completed) / run.CPUSeconds
	}

	fmt.Fprintln(stderr, "bench -sizing: reading the memory with the orders cached, stopped, restarted…")
	run.Cached = quietReading(ctx, stderr)
	// Stopping the process's last worker would clear the cache, but the
	// embedded Temporal server runs its own SDK workers in this process,
	// sharing the cache: purge it (as the SDK asks, with orderflow's worker
	// stopped; the server's workers are idle and replay what they had).
	stack.StopWorker()
	sdkworker.PurgeStickyWorkflowCache()
	run.Stopped = quietReading(ctx, stderr)
	if err := stack.StartWorker(); err != nil {
		return err
	}
	run.Evicted = quietReading(ctx, stderr)
	if run.PerCachedOrder, err = costPerOrder(run.Cached, run.Evicted, cachedOrders(report.Completed, cacheSize)); err != nil {
		return err
	}
	if run.PerEvictedOrder, err = costPerOrder(run.Evicted, run.Before, report.Completed); err != nil {
		return err
	}
	run.LoadAverage = loadAverage()
	printSizing(stdout, run)
	if jsonOut != "" {
		b, err := json.MarshalIndent(run, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("-json: %w", err)
		}
	}
	if report.Failed > 0 {
		return fmt.Errorf("%d of %d orders did not reach AWAITING_PAYMENT", report.Failed, report.Orders)
	}
	return nil
}

// benchTargets are the in-process stack's addresses and a storefront token.
func benchTargets(cfg config.Config, stack *devstack.Stack) (loadgen.Targets, error) {
	t := loadgen.Targets{API: stack.APIURL, Carrier: stack.CarrierURL, Bank: stack.BankURL, Mail: stack.MailURL}
	iss, _, err := auth.FromConfig(cfg, nil)
	if err != nil {
		return t, err
	}
	t.Token, err = iss.Mint(order.Actor{Subject: "bench@storefront", Role: order.RoleStorefront}, 24*time.Hour)
	return t, err
}

// Quiet is when the goroutine count has stayed within quietBand of itself
// for quietFor: the workers' tasks are done and the process idles.
const (
	quietFor   = 3 * time.Second
	quietBand  = 5
	quietLimit = time.Minute
)

// quietReading waits until the process is quiet (at most quietLimit) and
// reads its memory.
func quietReading(ctx context.Context, stderr io.Writer) memReading {
	deadline := time.Now().Add(quietLimit)
	last, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < quietFor {
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "bench -sizing: the goroutine count did not settle in %s; reading anyway\n", quietLimit)
			break
		}
		select {
		case <-ctx.Done():
			return readMemory()
		case <-time.After(250 * time.Millisecond):
		}
		if n := runtime.NumGoroutine(); n > last+quietBand || n < last-quietBand {
			last, since = n, time.Now()
		}
	}
	return readMemory()
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("read the process's CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func printSizing(w io.Writer, r sizingRun) {
	rep := r.Report
	fmt.Fprintf(w, "\norderflow bench -sizing — in-process stack (Temporal: %s), %s, %d CPUs, load average %s\n", r.Temporal, r.GoVersion, r.CPUs, r.LoadAverage)
	fmt.Fprintf(w, "%d orders, %d at a time: %d parked at AWAITING_PAYMENT, %d failed in %s — %.2f orders/s\n",
		rep.Orders, rep.Concurrency, rep.Completed, rep.Failed, rep.Wall.Round(time.Millisecond), rep.PerSecond)
	fmt.Fprintf(w, "process CPU time while parking: %.1f s — %.2f orders per CPU-second (the whole stack, not the worker alone)\n\n", r.CPUSeconds, r.OrdersPerCPUSecond)
	fmt.Fprintln(w, "reading (after GC)                          live heap  heap in use   stacks  goroutines")
	for _, x := range []struct {
		name string
		m    memReading
	}{
		{"before any order, worker running", r.Before},
		{"orders parked and cached", r.Cached},
		{"worker stopped, cache purged", r.Stopped},
		{"worker restarted, orders parked, none cached", r.Evicted},
	} {
		fmt.Fprintf(w, "%-44s %7.1f MiB %7.1f MiB %5.1f MiB %10d\n", x.name, mib(x.m.HeapAlloc), mib(x.m.HeapInuse), mib(x.m.StackInuse), x.m.Goroutines)
	}
	c, e := r.PerCachedOrder, r.PerEvictedOrder
	fmt.Fprintf(w, "\nper cached order (cached − none cached, over %d cached; sticky cache %d): %.1f KiB live (heap + stacks; %.1f KiB stacks), %.1f KiB heap in use, %.1f goroutines\n",
		c.Orders, r.StickyCache, c.LiveBytes/1024, c.StackBytes/1024, c.HeapInuseBytes/1024, c.Goroutines)
	fmt.Fprintf(w, "per parked order not cached (none cached − before, whole process, over %d): %.1f KiB live, %.2f goroutines\n",
		e.Orders, e.LiveBytes/1024, e.Goroutines)
	for _, err := range rep.Errors {
		fmt.Fprintln(w, "error:", err)
	}
}

// loadAverage is the machine's 1, 5 and 15 minute load averages as Linux
// reports them, "" where /proc/loadavg cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}
