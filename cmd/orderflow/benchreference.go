//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/orderflow/orderflow/internal/benchref"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/worker"
)

// referenceFlag is -reference: on by default for the in-process stack; with
// -api the bench has no worker of the system under load to run the bare
// workflow beside, so there it is off, and asking for it is an error.
func referenceFlag(fs *flag.FlagSet, on bool, apiURL string) (bool, error) {
	if apiURL == "" {
		return on, nil
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "reference" })
	if set && on {
		return false, errors.New("-reference: only with the in-process stack (no -api): the bare workflow must run in the same worker set-up as the orders")
	}
	return false, nil
}

// benchReference runs the reference arm on the in-process stack after the
// orders: as many bare workflows as orders, at the same concurrency, each
// shaped like the run's mean order, then reads their histories. With
// cpuProfile set it profiles the bare run (not the reading) into
// cpuProfile+".reference", so the two profiles compare
// (go tool pprof -diff_base). It reports failure in words rather than
// failing the bench: the orders' numbers stand without it.
func benchReference(ctx context.Context, stack *devstack.Stack, run benchRun, runID, cpuProfile string) (*benchref.Result, string) {
	if run.Cost == nil {
		return nil, "not run: it copies the orders' measured cost, and -cost=false skipped reading it"
	}
	shape, err := benchref.ShapeOf(*run.Cost)
	if err != nil {
		return nil, "not run: " + err.Error()
	}
	stopProfile := func() {}
	if cpuProfile != "" {
		if stopProfile, err = startCPUProfile(cpuProfile + ".reference"); err != nil {
			return nil, err.Error()
		}
	}
	res, err := benchref.Run(ctx, stack.Client, benchref.Config{
		Shape: shape, Runs: run.Report.Orders, Concurrency: run.Report.Concurrency,
		IDPrefix: "benchref-" + runID, OrdersPerSecond: run.Report.PerSecond,
		WorkerOptions: worker.Options(stack.Metrics),
	})
	stopProfile()
	res.ReadCost(ctx, stack.Client, costFetchers)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return &res, msg
}

// printReference prints the reference arm: what the bare workflow was
// built to cost, what it cost, its throughput and the ratio.
func printReference(w io.Writer, r *benchref.Result, errMsg string) {
	if r != nil {
		sh := r.Shape
		fmt.Fprintf(w, "\nreference arm: a bare workflow shaped like the mean order (%d no-op activities, %d no-op local activities, %d workflow tasks",
			sh.Activities, sh.LocalActivities, sh.WorkflowTasks)
		if r.WorkflowTasksMost != r.WorkflowTasksLeast || r.WorkflowTasksLeast != sh.WorkflowTasks {
			fmt.Fprintf(w, "; its plan takes %d–%d", r.WorkflowTasksLeast, r.WorkflowTasksMost)
		}
		fmt.Fprintf(w, "), task queue %s, same worker options\n", benchref.TaskQueue)
		fmt.Fprintf(w, "%d bare workflows, %d at a time: %d completed, %d failed in %s — %.1f bare workflows/s\n",
			r.Runs, r.Concurrency, r.Completed, r.Failed, r.Wall.Round(time.Millisecond), r.PerSecond)
		if c := r.Cost; c != nil && c.N > 0 {
			mean := func(name string) float64 { row, _ := c.Row(name); return row.Mean }
			fmt.Fprintf(w, "their histories, per workflow (mean of %d): %.1f activities, %.1f local activities, %.1f workflow tasks, %.1f events\n",
				c.N, mean("activities"), mean("local activities"), mean("workflow tasks"), mean("history events"))
		}
		if r.CostError != "" {
			fmt.Fprintln(w, "reference cost:", r.CostError)
		}
		if r.Ratio > 0 {
			fmt.Fprintf(w, "orders/s ÷ bare workflows/s = %.2f\n", r.Ratio)
		}
		for _, e := range r.Errors {
			fmt.Fprintln(w, "reference error:", e)
		}
	}
	if errMsg != "" {
		fmt.Fprintln(w, "reference arm:", errMsg)
	}
}
