//go:build !nodev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/historycost"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

func TestParseLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []order.Line
		err  bool
	}{
		{in: "BOLT-M8:10", want: []order.Line{{SKU: "BOLT-M8", Quantity: 10}}},
		{in: " BOLT-M8:10 , NUT-M8:5,", want: []order.Line{{SKU: "BOLT-M8", Quantity: 10}, {SKU: "NUT-M8", Quantity: 5}}},
		{in: "", err: true},
		{in: "BOLT-M8", err: true},
		{in: "BOLT-M8:0", err: true},
		{in: "BOLT-M8:-1", err: true},
		{in: ":3", err: true},
		{in: "BOLT-M8:ten", err: true},
	}
	for _, tc := range tests {
		got, err := parseLines(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseLines(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestBenchTakesOrdersToCompletion runs `orderflow bench` as a user would,
// small, against its own in-process stack, and reads what it wrote.
func TestBenchTakesOrdersToCompletion(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL()) // the bench names its own throw-away database on this server
	admin, err := pgdb.Open(context.Background(), pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	out := filepath.Join(t.TempDir(), "bench.json")
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"bench", "-orders", "4", "-concurrency", "2", "-poll", "20ms",
		"-memory", "-erp-latency", "5ms", "-json", out, "-cpuprofile", prof}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"4 orders, 2 at a time: 4 completed, 0 failed", "stage", "confirm", "POST /v1/quotes", "ERP faults: 0% of calls answer 503, +5ms per call",
		"what an order costs in Temporal, per order, from 4 orders' histories", "billable actions", "https://docs.temporal.io/cloud/actions"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, p := range []string{prof, prof + ".reference"} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("no CPU profile written to %s: %v", p, err)
		}
	}
	got := readBenchJSON(t, out)
	if got.Report.Completed != 4 || len(got.Report.Stages) != 5 || got.Report.Stages[4].N != 4 || got.Memory == nil {
		t.Errorf("bench JSON: %+v", got)
	}
	// What an order cost, from the four histories: every order ran the same
	// main path, so each has a history, workflow tasks, activities, local
	// activities and billable Actions, and a billable Action per activity at least.
	if got.Cost == nil || got.Cost.N != 4 || got.CostError != "" || len(got.Report.OrderIDs) != 4 {
		t.Fatalf("bench JSON cost: %+v (error %q, order ids %v)", got.Cost, got.CostError, got.Report.OrderIDs)
	}
	row := func(name string) historycost.Row {
		r, ok := got.Cost.Row(name)
		if !ok {
			t.Fatalf("cost has no row %q: %+v", name, got.Cost.Rows)
		}
		return r
	}
	for _, name := range []string{"history events", "workflow tasks", "activities", "local activities", "timers", "billable actions"} {
		if r := row(name); r.Min <= 0 || float64(r.Min) > r.Mean || r.Mean > float64(r.Max) {
			t.Errorf("cost %q: %+v, want a positive count with min ≤ mean ≤ max", name, r)
		}
	}
	if ev, b, act := row("history events"), row("billable actions"), row("activities"); b.Min < act.Min+1 || b.Max >= ev.Max {
		t.Errorf("billable actions %+v: want at least the start and each activity (%+v), and fewer than the events (%+v)", b, act, ev)
	}

	// The reference arm ran as many bare workflows, shaped like the mean
	// order as the bench counted it, and their histories have that shape.
	ref := got.Reference
	if ref == nil || got.ReferenceError != "" || ref.Runs != 4 || ref.Concurrency != 2 || ref.Completed != 4 || ref.PerSecond <= 0 {
		t.Fatalf("bench JSON reference: %+v (error %q)", ref, got.ReferenceError)
	}
	for name, n := range map[string]int{"activities": ref.Shape.Activities, "local activities": ref.Shape.LocalActivities, "workflow tasks": ref.Shape.WorkflowTasks} {
		if order := row(name); math.Round(order.Mean) != float64(n) {
			t.Errorf("reference shape %+v: %s %d, the orders' mean %.2f", ref.Shape, name, n, order.Mean)
		}
	}
	if ref.Cost == nil || ref.Cost.N != 4 {
		t.Fatalf("reference cost: %+v (%s)", ref.Cost, ref.CostError)
	}
	for name, n := range map[string]int{"activities": ref.Shape.Activities, "local activities": ref.Shape.LocalActivities} {
		if r, _ := ref.Cost.Row(name); r.Min != n || r.Max != n {
			t.Errorf("bare workflows' %s: %+v, want %d each", name, r, n)
		}
	}
	if r, _ := ref.Cost.Row("workflow tasks"); r.Min < ref.WorkflowTasksLeast || r.Max > ref.WorkflowTasksMost {
		t.Errorf("bare workflows' workflow tasks: %+v, want within %d–%d", r, ref.WorkflowTasksLeast, ref.WorkflowTasksMost)
	}
	if want := got.Report.PerSecond / ref.PerSecond; math.Abs(ref.Ratio-want) > 1e-9 {
		t.Errorf("ratio %v, want orders/s ÷ bare/s = %v", ref.Ratio, want)
	}
	for _, want := range []string{"reference arm: a bare workflow shaped like the mean order", "bare workflows/s", "orders/s ÷ bare workflows/s = "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}

	// Its own database only: other runs on the same server (a developer's
	// bench) come and go meanwhile.
	if !strings.HasPrefix(got.Database, "orderflow_bench_") {
		t.Fatalf("bench JSON names no throw-away database: %q", got.Database)
	}
	var left bool
	if err := admin.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, got.Database).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left {
		t.Errorf("bench database %s was not dropped", got.Database)
	}
}

// TestBenchOnPostgres runs the bench with Temporal's data in PostgreSQL: the
// orders complete, the report says where Temporal kept them, and the
// Temporal databases are dropped with the bench's own.
func TestBenchOnPostgres(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	admin, err := pgdb.Open(context.Background(), pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	benchDBs := func() (names []string) {
		rows, err := admin.Query(context.Background(), `SELECT datname FROM pg_database WHERE datname LIKE 'orderflow\_bench\_%' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		return names
	}

	var stdout, stderr bytes.Buffer
	for _, bad := range [][]string{{"-temporal-store", "mysql"}, {"-temporal-store", "postgres", "-memory"}} {
		err := run(context.Background(), append([]string{"bench", "-orders", "1"}, bad...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), bad[len(bad)-1]) {
			t.Errorf("bench %v: %v, want an error naming %s", bad, err, bad[len(bad)-1])
		}
	}

	out := filepath.Join(t.TempDir(), "bench.json")
	err = run(context.Background(), []string{"bench", "-orders", "2", "-concurrency", "2", "-poll", "20ms", "-temporal-store", "postgres", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"(Temporal: PostgreSQL)", "2 orders, 2 at a time: 2 completed, 0 failed", "from 2 orders' histories"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	// Its own databases only: other runs on the same server come and go.
	got := readBenchJSON(t, out)
	if !strings.HasPrefix(got.Database, "orderflow_bench_") {
		t.Fatalf("bench JSON names no throw-away database: %q", got.Database)
	}
	for _, db := range []string{got.Database, got.Database + "_temporal", got.Database + "_temporal_visibility"} {
		if slices.Contains(benchDBs(), db) {
			t.Errorf("bench database %s was not dropped", db)
		}
	}
}

// TestBenchOpenLoopStartsOrdersAtTheRate runs `orderflow bench -rate` as a
// user would, small: evenly spaced starts, every order completes, and the
// report says what was offered and how many started. The storefront asks
// for its quotes with "Prefer: respond-async" and waits for the pricing by
// reading the order.
func TestBenchOpenLoopStartsOrdersAtTheRate(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "-rate", "4", "-duration", "1s", "-arrivals", "uniform", "-poll", "20ms",
		"-memory", "-cost=false", "-respond-async", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench -rate: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"open loop, 4 orders/s offered (uniform arrivals) for 1s: 4 started", "4 completed, 0 failed",
		"GET /v1/orders/{id}", "POST /v1/quotes (respond-async)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	got := readBenchJSON(t, out)
	ol := got.Report.OpenLoop
	if ol == nil || ol.Rate != 4 || ol.StartLag.N != 4 || ol.MaxInFlight < 1 || got.Report.Orders != 4 || got.Report.Completed != 4 {
		t.Errorf("bench JSON: open loop %+v, report %+v", ol, got.Report)
	}
	if err := run(context.Background(), []string{"bench", "-rate", "-1"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("bench -rate -1: %v; want an error about the rate", err)
	}
}

// TestBenchDashboardTimesEveryQuery runs `orderflow bench -dashboard` as a
// user would, small: it generates orders into its own database, prints a
// time per query and period, and drops the database.
func TestBenchDashboardTimesEveryQuery(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	var stdout, stderr bytes.Buffer
	require := func(cond bool, msg string) {
		t.Helper()
		if !cond {
			t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", msg, stdout.String(), stderr.String())
		}
	}
	err := run(context.Background(), []string{"bench", "-dashboard", "-orders", "2000", "-runs", "1"}, &stdout, &stderr)
	require(err == nil, fmt.Sprint("bench -dashboard: ", err))
	out := stdout.String()
	require(strings.Contains(out, "2000 orders"), "the orders generated")
	for _, q := range dashQueries {
		require(regexp.MustCompile(regexp.QuoteMeta(q.name)+`\s+[0-9.]+ms\s+[0-9.]+ms\s+[0-9.]+ms`).MatchString(out), "a row for "+q.name)
	}
}

// readBenchJSON reads the run a bench wrote with -json path.
func readBenchJSON(t *testing.T, path string) benchRun {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got benchRun
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got
}
