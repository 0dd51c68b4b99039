//go:build !nodev

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/player"
	"github.com/orderflow/orderflow/internal/scenario"
	"github.com/orderflow/orderflow/internal/store"
)

// runSimulate is `orderflow simulate`: a scenario played against the whole
// system in this process, at the scenario's time scale.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate")
	file := fs.String("scenario", "scenarios/month.yaml", "the scenario file to play (format: docs/scenarios.md)")
	scale := fs.Float64("time-scale", 0, "business seconds per wall second, instead of the file's time_scale (0: the file's)")
	poll := fs.Duration("poll", 500*time.Millisecond, "how often the player reads an order it waits on (wall time)")
	timeout := fs.Duration("timeout", 2*time.Hour, "give up a run that has not settled in this wall time (it still reports)")
	temporalStore := fs.String("temporal-store", string(devserver.StoreSQLite), "where the in-process Temporal keeps its data: sqlite (a file in a temporary directory) or postgres (throw-away databases beside the run's own)")
	keepDB := fs.Bool("keep-db", false, "keep the throw-away database for inspection")
	jsonOut := fs.String("json", "", "also write what the player did (every order and payment) as JSON to this file")
	reportOut := fs.String("report", "", "also write the automation report (Markdown, as printed) to this file")
	chartOut := fs.String("chart", "", "also write the report's chart (SVG) to this file; the Markdown links it by this path")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	s, err := scenario.Load(*file)
	if err != nil {
		return err
	}
	if *scale != 0 {
		s.TimeScale = *scale
	}
	plan, err := scenario.Expand(s)
	if err != nil {
		return err
	}
	tstore, err := devserver.ParseStore(*temporalStore)
	if err != nil {
		return fmt.Errorf("-temporal-store: %w", err)
	}
	log := newLogger(cfg, stderr)
	fmt.Fprintf(stderr, "simulate: %s, %d orders over %s of business time at %g× (about %s of requests), on a private in-process stack…\n",
		plan.Name, len(plan.Orders), plan.Duration, plan.TimeScale, plan.Compress(plan.Duration).Round(time.Second))
	// The orders run at the scenario's scale: it reaches each workflow
	// through its input (ORDERFLOW_TIME_SCALE, here the plan's).
	cfg.TimeScale = plan.TimeScale
	// An open breaker waits wall time before it probes again: at the
	// scale, its 30 s would hold orders days of business time after an
	// outage ended. It waits its business time, a second at least.
	breaker := downstream.BreakerSettings{ConsecutiveFailures: cfg.BreakerFailures,
		OpenFor: max(time.Second, scenario.Compress(cfg.BreakerOpenFor, plan.TimeScale))}
	stack, cleanup, err := startBenchStack(ctx, cfg, log, tstore, false, *keepDB, func(o *devstack.Options) { o.Breaker = breaker })
	if err != nil {
		return err
	}
	defer cleanup()
	iss, _, err := auth.FromConfig(cfg, nil)
	if err != nil {
		return err
	}
	targets := player.Targets{API: stack.APIURL, ERP: stack.ERPURL, Carrier: stack.CarrierURL, Bank: stack.BankURL, Mail: stack.MailURL,
		Mint: func(a order.Actor) (string, error) { return iss.Mint(a, 24*time.Hour) }}
	start := time.Now()
	res, runErr := player.Play(ctx, plan, targets, player.Options{Poll: *poll, Timeout: *timeout, Log: log,
		Progress: func(format string, a ...any) {
			fmt.Fprintf(stderr, "simulate: %s  %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(format, a...))
		}})
	if res == nil {
		return runErr
	}
	violations, checkErr := player.Check(context.WithoutCancel(ctx), res, targets)
	printPlayed(stdout, res, violations)
	rep, repErr := simulationReport(context.WithoutCancel(ctx), stack.Store, res)
	if repErr == nil {
		chart := ""
		if *chartOut != "" {
			chart = *chartOut
			if err := os.WriteFile(*chartOut, []byte(rep.SVG()), 0o644); err != nil {
				return fmt.Errorf("-chart: %w", err)
			}
		}
		md := rep.Markdown(chart) + missesByPlan(res)
		fmt.Fprintf(stdout, "\n%s", md)
		if *reportOut != "" {
			if err := os.WriteFile(*reportOut, []byte(md), 0o644); err != nil {
				return fmt.Errorf("-report: %w", err)
			}
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("-json: %w", err)
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case checkErr != nil:
		return checkErr
	case repErr != nil:
		return repErr
	case len(violations) > 0:
		return fmt.Errorf("%d invariants broken", len(violations))
	case len(res.Errors) > 0:
		return fmt.Errorf("the player met %d errors", len(res.Errors))
	}
	return nil
}

// simulationReport reads the run's facts from orderflow's records (its
// orders, the payments received while it ran), moves them onto business
// time, and summarises them with the plan's forced reasons as the STP
// excluder.
func simulationReport(ctx context.Context, st *store.Store, res *player.Result) (automation.Report, error) {
	facts, err := st.AutomationFacts(ctx, store.AutomationFilter{OrderIDs: res.OrderIDs(),
		PaymentsFrom: res.Started, PaymentsTo: res.Finished.Add(time.Minute), At: res.Finished})
	if err != nil {
		return automation.Report{}, fmt.Errorf("read the run's facts: %w", err)
	}
	player.InBusinessTime(facts.Orders, facts.Payments, res.Started, res.Plan.TimeScale)
	return automation.Summarize(facts.Orders, facts.Payments, automation.ExcludeListed(res.Forced())), nil
}

// missesByPlan says what the scenario did to the orders that count
// against STP (in the denominator, not straight through): their payment
// behaviour and carrier outcome, so that a missed target names the
// scenario's cause beside the system's.
func missesByPlan(res *player.Result) string {
	forced := res.Forced()
	count := map[string]int{}
	for _, o := range res.Orders {
		if o.OrderID == "" || len(forced[o.OrderID]) > 0 {
			continue
		}
		straight := (o.Status == order.StatusCompleted || o.Status == order.StatusPaid) && !touchedByStaff(o)
		if straight {
			continue
		}
		count[fmt.Sprintf("payment %s, carrier %s", o.Plan.Payment.Behaviour, o.Plan.Carrier)]++
	}
	if len(count) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n**What the scenario did to the orders that missed STP:**\n\n| plan | orders |\n|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, count[k])
	}
	return b.String()
}

// touchedByStaff: the player acted on the order as CS or finance.
func touchedByStaff(o player.OrderRun) bool {
	for _, s := range o.StaffSteps {
		if strings.HasPrefix(s, string(order.RoleCS)+":") || strings.HasPrefix(s, string(order.RoleFinance)+":") {
			return true
		}
	}
	return false
}

// printPlayed writes what the run did and whether its invariants hold.
func printPlayed(w io.Writer, res *player.Result, violations []string) {
	fmt.Fprintf(w, "scenario %s: %d orders, %d payments sent, %s wall\n", res.Plan.Name, len(res.Orders), len(res.Payments),
		res.Finished.Sub(res.Started).Round(time.Second))
	byStatus := map[string]int{}
	parked := map[string]int{}
	for _, o := range res.Orders {
		byStatus[string(o.Status)]++
		if o.Parked != "" {
			parked[strings.SplitN(o.Parked, ":", 2)[0]]++
		}
	}
	fmt.Fprintln(w, "orders by status when the run ended:")
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		fmt.Fprintf(w, "  %-20s %4d\n", s, byStatus[s])
	}
	if len(parked) > 0 {
		fmt.Fprintln(w, "left waiting by design:")
		for _, s := range slices.Sorted(maps.Keys(parked)) {
			fmt.Fprintf(w, "  %4d  %s\n", parked[s], s)
		}
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "player errors (%d):\n", len(res.Errors))
		for _, e := range res.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(violations) == 0 {
		fmt.Fprintln(w, "invariants: hold (every order terminal or waiting on a named person; every payment applied or in finance's worklist; no effect duplicated in a simulator)")
		return
	}
	fmt.Fprintf(w, "invariants: %d broken\n", len(violations))
	for _, v := range violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
}
