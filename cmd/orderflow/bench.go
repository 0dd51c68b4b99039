//go:build !nodev

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/benchref"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/historycost"
	"github.com/orderflow/orderflow/internal/loadgen"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
)

// benchRun is what `orderflow bench -json` writes: the settings, the
// machine and the report, so a result can be compared with a later one.
type benchRun struct {
	At        time.Time    `json:"at"`
	Target    string       `json:"target"`
	Temporal  string       `json:"temporal,omitempty"`
	GoVersion string       `json:"go_version"`
	CPUs      int          `json:"cpus"`
	Lines     []order.Line `json:"lines"`
	Customers []string     `json:"customers"`
	ERPFaults *faults.Rule `json:"erp_faults,omitempty"`
	// Database is the in-process stack's throw-away database, dropped
	// after the run unless -keep-db.
	Database string         `json:"database,omitempty"`
	Report   loadgen.Report `json:"report"`
	Memory   *benchMemory   `json:"memory,omitempty"`
	// Cost is what an order cost in Temporal, from the completed orders'
	// histories (-cost); CostError says why some or all could not be read.
	Cost      *historycost.Summary `json:"cost,omitempty"`
	CostError string               `json:"cost_error,omitempty"`
	// Reference is the bare-workflow arm (-reference); ReferenceError says
	// why it did not run or did not finish.
	Reference      *benchref.Result `json:"reference,omitempty"`
	ReferenceError string           `json:"reference_error,omitempty"`
}

// costFetchers bounds how many histories the bench reads at once after a
// run, so reading them stays a small load on the stack it measured.
const costFetchers = 4

// benchMemory is the in-process stack's memory after the run.
type benchMemory struct {
	HeapInUseMiB float64 `json:"heap_in_use_mib"`
	SysMiB       float64 `json:"sys_mib"`
	Goroutines   int     `json:"goroutines"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench")
	orders := fs.Int("orders", 200, "orders to take from quote to COMPLETED")
	concurrency := fs.Int("concurrency", 20, "orders in flight at once")
	customers := fs.String("customers", "ACME-001,INITECH-003", "customers taking turns (comma-separated)")
	lines := fs.String("lines", "BOLT-M8:10,NUT-M8:10", "each order's lines as SKU:QUANTITY,…")
	poll := fs.Duration("poll", 100*time.Millisecond, "how often the storefront reads an order while it waits (the stage timings' resolution)")
	stageTimeout := fs.Duration("stage-timeout", 2*time.Minute, "fail an order that does not reach a stage's status in this time")
	apiURL := fs.String("api", "", "drive a running orderflow at this API URL (e.g. http://127.0.0.1:8080 for `orderflow dev`); empty: start a private in-process stack")
	erpURL := fs.String("erp", "http://127.0.0.1:8081", "with -api: the ERP simulator (for -erp-error-rate and -erp-latency)")
	carrierURL := fs.String("carrier", "http://127.0.0.1:8082", "with -api: the carrier simulator")
	bankURL := fs.String("bank", "http://127.0.0.1:8083", "with -api: the bank simulator")
	mailURL := fs.String("mail", "http://127.0.0.1:8025", "with -api: the mail sink")
	memory := fs.Bool("memory", false, "in-process: keep Temporal in memory instead of a SQLite file (as `orderflow dev` does); only with -temporal-store sqlite")
	temporalStore := fs.String("temporal-store", string(devserver.StoreSQLite), "in-process: where Temporal keeps its data: sqlite (a file in a temporary directory) or postgres (throw-away databases beside the bench's own)")
	keepDB := fs.Bool("keep-db", false, "in-process: keep the throw-away database for inspection (with -temporal-store postgres, Temporal's two as well)")
	erpErrorRate := fs.Float64("erp-error-rate", 0, "make this share (0–1) of every ERP call answer 503 during the run")
	erpLatency := fs.Duration("erp-latency", 0, "add this latency to every ERP call during the run")
	cost := fs.Bool("cost", true, "after the run, read every completed order's history from Temporal and print what an order costs: events, tasks, activities, timers, signals, updates, upserts and Temporal Cloud's billable Actions (-cost=false skips it)")
	temporalAddr := fs.String("temporal", "127.0.0.1:7233", "with -api and -cost: the Temporal frontend to read the orders' histories from (TEMPORAL_NAMESPACE's namespace)")
	reference := fs.Bool("reference", true, "in-process: after the orders, run as many bare workflows of no-op activities, shaped like the mean order (its activities, local activities and workflow tasks), at the same concurrency on the same Temporal and worker options, and print bare workflows/s and orders/s ÷ bare workflows/s (needs -cost; not with -api; skipped with -rate)")
	jsonOut := fs.String("json", "", "also write the run as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "in-process: write a CPU profile of the whole system during the run to this file (go tool pprof), and one of the reference arm's run to FILE.reference")
	dashboard := fs.Bool("dashboard", false, "time the dashboard's queries instead: generate -orders orders over two years straight into a throw-away database (e.g. -orders 1000000) and print each query's median time for 30 and 365 days")
	dashboardDB := fs.String("dashboard-db", "", "with -dashboard: time against this database URL, generating only when it has no generated orders (keep one with -keep-db)")
	runs := fs.Int("runs", 5, "with -dashboard: timed runs per query (the median is printed)")
	rate := fs.Float64("rate", 0, "open loop: start this many orders per second for -duration, whatever is in flight (-orders and -concurrency are then unused); 0: closed loop")
	duration := fs.Duration("duration", time.Minute, "with -rate: how long orders are started; the run then waits for those in flight")
	liveReads := fs.Bool("live-reads", false, "the storefront reads orders with ?live=true (a details query each), as all reads did before they came from the projection")
	respondAsync := fs.Bool("respond-async", false, "the storefront asks for quotes with \"Prefer: respond-async\" (202 once the order is started) and reads the order until it is priced, instead of waiting for the priced quote in the POST")
	arrivals := fs.String("arrivals", loadgen.ArrivalPoisson, "with -rate: poisson (exponential gaps, mean 1/rate) or uniform (one every 1/rate)")
	sizing := fs.Bool("sizing", false, "measure the worker's memory instead: park -orders orders at AWAITING_PAYMENT (invoiced, unpaid) in the in-process stack and print the memory and goroutines per order in the worker's sticky cache and per parked order not cached, and orders per CPU-second")
	stickyCache := fs.Int("sticky-cache", 0, "with -sizing: the worker's sticky workflow cache size (0: the Temporal Go SDK's default, 10000)")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	if *reference, err = referenceFlag(fs, *reference, *apiURL); err != nil {
		return err
	}
	if *dashboard {
		return benchDashboard(ctx, cfg, *orders, *runs, *dashboardDB, *keepDB, stdout, stderr)
	}
	lc := loadgen.Config{
		Orders: *orders, Concurrency: *concurrency, Customers: splitList(*customers),
		Poll: *poll, StageTimeout: *stageTimeout, RunID: "bench-" + randomHex(6), LiveReads: *liveReads, RespondAsync: *respondAsync,
	}
	store, err := devserver.ParseStore(*temporalStore)
	if err != nil {
		return fmt.Errorf("-temporal-store: %w", err)
	}
	if *memory && store != devserver.StoreSQLite {
		return errors.New("-memory: only with -temporal-store sqlite")
	}
	if lc.Lines, err = parseLines(*lines); err != nil {
		return fmt.Errorf("-lines: %w", err)
	}
	if err := lc.Validate(); err != nil {
		return err
	}
	ol := loadgen.OpenLoop{Rate: *rate, Duration: *duration, Arrivals: *arrivals, Seed: uint64(time.Now().UnixNano())}
	if err := ol.Validate(); *rate != 0 && err != nil {
		return err
	}
	if *sizing {
		return benchSizing(ctx, cfg, newLogger(cfg, stderr), lc, sizingOptions{
			api: *apiURL, memory: *memory, keepDB: *keepDB, store: store, stickyCache: *stickyCache, jsonOut: *jsonOut, cpuProfile: *cpuProfile,
		}, stdout, stderr)
	}
	var fault *faults.Rule
	if *erpErrorRate > 0 || *erpLatency > 0 {
		fault = &faults.Rule{Route: faults.All, ErrorRate: *erpErrorRate, LatencyMS: int(erpLatency.Milliseconds())}
	}
	log := newLogger(cfg, stderr)
	run := benchRun{At: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Lines: lc.Lines, Customers: lc.Customers, ERPFaults: fault}

	var targets loadgen.Targets
	var stack *devstack.Stack
	if *apiURL == "" {
		run.Target, run.Temporal = "in-process stack", "SQLite file"
		switch {
		case store == devserver.StorePostgres:
			run.Temporal = "PostgreSQL"
		case *memory:
			run.Temporal = "in memory"
		}
		var cleanup func()
		stack, cleanup, err = startBenchStack(ctx, cfg, log, store, *memory, *keepDB)
		if err != nil {
			return err
		}
		defer cleanup()
		run.Database = stack.Pool.Config().ConnConfig.Database
		*erpURL = stack.ERPURL
		targets = loadgen.Targets{API: stack.APIURL, Carrier: stack.CarrierURL, Bank: stack.BankURL, Mail: stack.MailURL}
	} else {
		run.Target = *apiURL
		targets = loadgen.Targets{API: strings.TrimRight(*apiURL, "/"), Carrier: *carrierURL, Bank: *bankURL, Mail: *mailURL}
	}
	iss, _, err := auth.FromConfig(cfg, nil)
	if err != nil {
		return err
	}
	if targets.Token, err = iss.Mint(order.Actor{Subject: "bench@storefront", Role: order.RoleStorefront}, 24*time.Hour); err != nil {
		return err
	}
	if fault != nil {
		if err := setERPFaults(ctx, *erpURL, []faults.Rule{*fault}); err != nil {
			return err
		}
		defer func() {
			if err := setERPFaults(context.WithoutCancel(ctx), *erpURL, nil); err != nil {
				log.Warn().Err(err).Msg("could not clear the ERP simulator's faults")
			}
		}()
	}

	stopProfile := func() {}
	if *cpuProfile != "" {
		if stack == nil {
			return errors.New("-cpuprofile: only with the in-process stack (no -api)")
		}
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		stopProfile = sync.OnceFunc(stop)
		defer stopProfile()
	}
	var report loadgen.Report
	var runErr error
	if *rate != 0 {
		fmt.Fprintf(stderr, "bench: open loop, %g orders/s (%s) for %s, against %s…\n", ol.Rate, ol.Arrivals, ol.Duration, run.Target)
		report, runErr = loadgen.RunOpen(ctx, targets, lc, ol)
	} else {
		fmt.Fprintf(stderr, "bench: %d orders, %d at a time, against %s…\n", lc.Orders, lc.Concurrency, run.Target)
		report, runErr = loadgen.Run(ctx, targets, lc)
	}
	stopProfile() // the profile covers the run, not the reading of histories after it
	run.Report = report
	if stack != nil {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		run.Memory = &benchMemory{HeapInUseMiB: mib(ms.HeapInuse), SysMiB: mib(ms.Sys), Goroutines: runtime.NumGoroutine()}
	}
	if *cost && len(report.OrderIDs) > 0 {
		fmt.Fprintf(stderr, "bench: reading %d orders' histories…\n", len(report.OrderIDs))
		run.Cost, run.CostError = benchCost(ctx, cfg, log, stack, *temporalAddr, report.OrderIDs)
	}
	// The ratio compares closed-loop throughputs: an open loop's orders/s
	// is its arrival rate.
	if *reference && *rate == 0 && stack != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "bench: reference arm, %d bare workflows…\n", report.Orders)
		run.Reference, run.ReferenceError = benchReference(ctx, stack, run, lc.RunID, *cpuProfile)
	}
	printBench(stdout, run)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(run, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("-json: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if report.Failed > 0 {
		return fmt.Errorf("%d of %d orders did not complete", report.Failed, report.Orders)
	}
	return nil
}

// benchCost reads the histories of the orders ids (every run of each) from
// the in-process stack's Temporal, or from the one at addr, and summarizes
// what an order cost. It reports failure in words rather than failing the
// bench: the run's timings stand without it.
func benchCost(ctx context.Context, cfg config.Config, log zerolog.Logger, stack *devstack.Stack, addr string, ids []string) (*historycost.Summary, string) {
	var c client.Client
	if stack != nil {
		c = stack.Client
	} else {
		opts, err := temporalOptions(cfg, log, nil)
		if err != nil {
			return nil, err.Error()
		}
		opts.HostPort = addr
		if c, err = client.DialContext(ctx, opts); err != nil {
			return nil, fmt.Sprintf("connect to Temporal at %s: %v", addr, err)
		}
		defer c.Close()
	}
	costs, err := historycost.FetchAll(ctx, c, ids, costFetchers)
	s := historycost.Summarize(costs)
	if err != nil {
		return &s, fmt.Sprintf("read %d of %d histories: %v", len(costs), len(ids), err)
	}
	return &s, ""
}

// startBenchStack runs the whole system in this process on free ports
// against a throw-away database (and, with the postgres store, throw-away
// Temporal databases beside it), quietly.
func startBenchStack(ctx context.Context, cfg config.Config, log zerolog.Logger, store devserver.Store, memory, keepDB bool, tune ...func(*devstack.Options)) (*devstack.Stack, func(), error) {
	dbURL, err := pgdb.WithDatabase(cfg.DatabaseURL, "orderflow_bench_"+randomHex(6))
	if err != nil {
		return nil, nil, err
	}
	dbURLs := []string{dbURL}
	if store == devserver.StorePostgres {
		temporalURL, visibilityURL, err := devserver.PostgresDatabaseURLs(dbURL)
		if err != nil {
			return nil, nil, err
		}
		dbURLs = append(dbURLs, temporalURL, visibilityURL)
	}
	dataDir := ""
	if !memory && store == devserver.StoreSQLite {
		if dataDir, err = os.MkdirTemp("", "orderflow-bench-"); err != nil {
			return nil, nil, err
		}
	}
	o := devstack.Options{
		DatabaseURL: dbURL, TemporalStore: store, DataDir: dataDir, TemporalAddr: "127.0.0.1:0",
		APIAddr: "127.0.0.1:0", ERPAddr: "127.0.0.1:0", CarrierAddr: "127.0.0.1:0", BankAddr: "127.0.0.1:0",
		MailAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", ERPAutoRestock: cfg.SimAutoRestock, TimeScale: cfg.TimeScale,
		Logger: log.Level(max(log.GetLevel(), zerolog.WarnLevel)),
	}
	for _, t := range tune {
		t(&o)
	}
	cleanup := func() {
		if dataDir != "" {
			_ = os.RemoveAll(dataDir)
		}
		for _, u := range dbURLs {
			if keepDB {
				log.Info().Str("database", redact(u)).Msg("kept the bench database")
				continue
			}
			if err := pgdb.DropDatabase(context.WithoutCancel(ctx), u); err != nil {
				log.Warn().Err(err).Str("database", redact(u)).Msg("could not drop the bench database")
			}
		}
	}
	s, err := devstack.Start(ctx, o)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return s, func() { s.Stop(); cleanup() }, nil
}

// startCPUProfile profiles this process until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// setERPFaults replaces the ERP simulator's fault rules (nil clears them).
func setERPFaults(ctx context.Context, erpURL string, rules []faults.Rule) error {
	return faults.Put(ctx, strings.TrimRight(erpURL, "/")+"/sim/faults", rules)
}

func printBench(w io.Writer, r benchRun) {
	rep := r.Report
	fmt.Fprintf(w, "\norderflow bench — %s", r.Target)
	if r.Temporal != "" {
		fmt.Fprintf(w, " (Temporal: %s)", r.Temporal)
	}
	fmt.Fprintf(w, ", %s, %d CPUs\n", r.GoVersion, r.CPUs)
	if r.ERPFaults != nil {
		fmt.Fprintf(w, "ERP faults: %.0f%% of calls answer 503, +%dms per call\n", 100*r.ERPFaults.ErrorRate, r.ERPFaults.LatencyMS)
	}
	if ol := rep.OpenLoop; ol != nil {
		fmt.Fprintf(w, "open loop, %g orders/s offered (%s arrivals) for %s: %d started, at most %d in flight, start lag p99 %s\n",
			ol.Rate, ol.Arrivals, ol.Duration, rep.Orders, ol.MaxInFlight, ms(ol.StartLag.P99))
		fmt.Fprintf(w, "%d completed, %d failed in %s (the last started order included) — %.1f orders/s\n\n",
			rep.Completed, rep.Failed, rep.Wall.Round(time.Millisecond), rep.PerSecond)
	} else {
		fmt.Fprintf(w, "%d orders, %d at a time: %d completed, %d failed in %s — %.1f orders/s\n\n",
			rep.Orders, rep.Concurrency, rep.Completed, rep.Failed, rep.Wall.Round(time.Millisecond), rep.PerSecond)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(s loadgen.Summary) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, s.N, ms(s.Mean), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
	fmt.Fprintln(tw, "stage\tn\tmean\tp50\tp90\tp99\tmax\t")
	for _, s := range rep.Stages {
		row(s)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
	fmt.Fprintln(tw, "request\tn\tmean\tp50\tp90\tp99\tmax\t")
	for _, s := range rep.Requests {
		row(s)
	}
	_ = tw.Flush()
	if r.Memory != nil {
		fmt.Fprintf(w, "\nprocess after the run: heap in use %.0f MiB, from the OS %.0f MiB, %d goroutines\n",
			r.Memory.HeapInUseMiB, r.Memory.SysMiB, r.Memory.Goroutines)
	}
	if r.Cost != nil && r.Cost.N > 0 {
		printCost(w, *r.Cost)
	}
	if r.CostError != "" {
		fmt.Fprintln(w, "cost:", r.CostError)
	}
	printReference(w, r.Reference, r.ReferenceError)
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

// printCost prints what an order cost in Temporal, per order.
func printCost(w io.Writer, s historycost.Summary) {
	fmt.Fprintf(w, "\nwhat an order costs in Temporal, per order, from %d orders' histories (all runs)\n", s.N)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "count\tmean\tp50\tmin\tmax\t")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%d\t%d\t\n", r.Name, r.Mean, r.P50, r.Min, r.Max)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "billable actions: Temporal Cloud's rule (https://docs.temporal.io/cloud/actions) applied to the histories;")
	fmt.Fprintln(w, "not counted, as no history shows them: queries (reads with ?live=true, the buyer's order page, payment allocation), heartbeats, rejected updates.")
}

// parseLines reads "SKU:QTY,SKU:QTY".
func parseLines(s string) ([]order.Line, error) {
	var out []order.Line
	for _, part := range splitList(s) {
		sku, qty, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(qty)
		if !ok || sku == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want SKU:QUANTITY with a quantity of at least 1", part)
		}
		out = append(out, order.Line{SKU: sku, Quantity: int64(n)})
	}
	if len(out) == 0 {
		return nil, errors.New("at least one line")
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
