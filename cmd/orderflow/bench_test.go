//go:build !nodev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
	benchDBs := func() (n int) {
		if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname LIKE 'orderflow\_bench\_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := benchDBs()
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
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("no CPU profile written: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got benchRun
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
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

	if after := benchDBs(); after != before {
		t.Errorf("bench databases: %d before, %d after: the run's was not dropped", before, after)
	}
}

// TestBenchOpenLoopStartsOrdersAtTheRate runs `orderflow bench -rate` as a
// user would, small: evenly spaced starts, every order completes, and the
// report says what was offered and how many started.
func TestBenchOpenLoopStartsOrdersAtTheRate(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "-rate", "4", "-duration", "1s", "-arrivals", "uniform", "-poll", "20ms",
		"-memory", "-cost=false", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench -rate: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"open loop, 4 orders/s offered (uniform arrivals) for 1s: 4 started", "4 completed, 0 failed",
		"GET /v1/orders/{id}", "POST /v1/quotes"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got benchRun
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
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
