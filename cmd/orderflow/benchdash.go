//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
)

// dashQuery is one of the dashboard's queries, as the bench times it.
type dashQuery struct {
	name string
	run  func(context.Context, *store.Store, store.KPIFilter) error
}

var dashQueries = []dashQuery{
	{"lead times (p50/p90 + weekly trend)", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPILeadTimes(ctx, f)
		return err
	}},
	{"on-time delivery", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIOnTime(ctx, f)
		return err
	}},
	{"automation", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIAutomation(ctx, f)
		return err
	}},
	{"exceptions by stage", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIExceptions(ctx, f)
		return err
	}},
	{"quote conversion", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIConversion(ctx, f)
		return err
	}},
	{"NPS (overall + 4 scenarios)", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPINPS(ctx, f)
		return err
	}},
	{"receivables (DSO, overdue)", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIReceivables(ctx, f)
		return err
	}},
	{"orders per day", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIOrdersPerDay(ctx, f)
		return err
	}},
	{"automation report (STP, auto-match, exceptions by cause; facts + Summarize)", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		facts, err := s.AutomationFacts(ctx, store.AutomationFilter{From: f.From, To: f.To, CustomerID: f.CustomerID})
		automation.Summarize(facts.Orders, facts.Payments, automation.ExcludeRealTraffic)
		return err
	}},
	{"whole page (all of the above)", func(ctx context.Context, s *store.Store, f store.KPIFilter) error {
		_, err := s.KPIs(ctx, f)
		return err
	}},
}

// benchDashboard is `orderflow bench -dashboard`: it generates orders
// straight into a database (a throw-away one unless dbURL names one that
// has them already) and times each dashboard query.
func benchDashboard(ctx context.Context, cfg config.Config, orders, runs int, dbURL string, keepDB bool, stdout, stderr io.Writer) error {
	if runs < 1 {
		return fmt.Errorf("-runs: at least 1")
	}
	throwAway := dbURL == ""
	if throwAway {
		var err error
		if dbURL, err = pgdb.WithDatabase(cfg.DatabaseURL, "orderflow_dashbench_"+randomHex(6)); err != nil {
			return err
		}
	}
	if err := pgdb.EnsureDatabase(ctx, dbURL); err != nil {
		return err
	}
	if throwAway && !keepDB {
		defer func() {
			if err := pgdb.DropDatabase(context.WithoutCancel(ctx), dbURL); err != nil {
				fmt.Fprintln(stderr, "bench: could not drop the database:", err)
			}
		}()
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	s := store.New(pool)

	// The generated history ends at midnight today; a database that has it
	// already keeps its own end.
	var have int
	var last *time.Time
	if err := pool.QueryRow(ctx, `SELECT count(*), max(created_at) FROM orders WHERE id LIKE $1`, store.GeneratedPrefix+"%").Scan(&have, &last); err != nil {
		return err
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	if have > 0 {
		end = last.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
		fmt.Fprintf(stderr, "bench: the database has %d generated orders already (history ends %s); not generating\n", have, end.Format(time.DateOnly))
		orders = have
	} else {
		fmt.Fprintf(stderr, "bench: generating %d orders over two years…\n", orders)
		began := time.Now()
		if err := s.GenerateDashboardData(ctx, store.DashboardData{Orders: orders, End: end}); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "bench: generated and analysed in %s\n", time.Since(began).Round(time.Second))
	}
	if keepDB {
		fmt.Fprintf(stderr, "bench: the database stays: %s (pass it to -dashboard-db to time again)\n", redact(dbURL))
	}
	var customer string
	if err := pool.QueryRow(ctx, `SELECT customer_id FROM orders WHERE id LIKE $1 GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1`,
		store.GeneratedPrefix+"%").Scan(&customer); err != nil {
		return err
	}
	var counts [5]int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM shipments), (SELECT count(*) FROM invoices),
		(SELECT count(*) FROM surveys), (SELECT count(*) FROM order_exceptions)`).Scan(&counts[0], &counts[1], &counts[2], &counts[3], &counts[4]); err != nil {
		return err
	}

	filters := []struct {
		name string
		f    store.KPIFilter
	}{
		{"30 days", store.KPIFilter{From: end.AddDate(0, 0, -30), To: end}},
		{"365 days", store.KPIFilter{From: end.AddDate(0, 0, -365), To: end}},
		{"30 days, 1 customer", store.KPIFilter{From: end.AddDate(0, 0, -30), To: end, CustomerID: customer}},
	}
	fmt.Fprintf(stdout, "\norderflow bench -dashboard — %s, %d CPUs, PostgreSQL on %s\n", runtime.Version(), runtime.NumCPU(), redact(hostOf(dbURL)))
	fmt.Fprintf(stdout, "%d orders, %d shipments, %d invoices, %d surveys, %d exceptions; periods end %s; median of %d runs after one warm-up\n\n",
		counts[0], counts[1], counts[2], counts[3], counts[4], end.Format(time.DateOnly), runs)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "query\t")
	for _, f := range filters {
		fmt.Fprintf(tw, "%s\t", f.name)
	}
	fmt.Fprintln(tw)
	for _, q := range dashQueries {
		fmt.Fprintf(tw, "%s\t", q.name)
		for _, f := range filters {
			d, err := medianRun(ctx, runs, func() error { return q.run(ctx, s, f.f) })
			if err != nil {
				return fmt.Errorf("%s, %s: %w", q.name, f.name, err)
			}
			fmt.Fprintf(tw, "%s\t", ms(d))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// medianRun runs fn once to warm the caches, then runs times, and returns
// the median duration.
func medianRun(ctx context.Context, runs int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, 0, runs)
	for range runs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		began := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(began))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// hostOf is the host part of a database URL.
func hostOf(url string) string {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}
