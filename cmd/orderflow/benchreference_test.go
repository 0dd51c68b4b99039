//go:build !nodev

package main

import (
	"context"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/benchref"
	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/historycost"
	"github.com/orderflow/orderflow/worker"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
)

// TestBareWorkflowHasItsShape runs bare workflows of several shapes on an
// embedded Temporal server and counts their histories as the bench counts
// the orders': each has the activities, local activities and workflow
// tasks it was built for (timers making up workflow tasks that activities
// do not), and a shape with more activities than waits stays within the
// workflow tasks its plan allows.
func TestBareWorkflowHasItsShape(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{FrontendAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr(), Namespace: srv.Namespace(), Logger: worker.Logger(zerolog.Nop())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tests := []struct {
		shape  benchref.Shape
		timers int
		exact  bool
	}{
		{benchref.Shape{Activities: 5, LocalActivities: 7, WorkflowTasks: 6}, 0, true},
		{benchref.Shape{Activities: 3, LocalActivities: 4, WorkflowTasks: 8}, 4, true},
		{benchref.Shape{Activities: 0, LocalActivities: 2, WorkflowTasks: 1}, 0, true},
		{benchref.Shape{Activities: 6, LocalActivities: 3, WorkflowTasks: 5}, 0, false},
	}
	for i, tc := range tests {
		res, err := benchref.Run(ctx, c, benchref.Config{
			Shape: tc.shape, Runs: 3, Concurrency: 2, IDPrefix: "shape-" + string(rune('a'+i)),
			OrdersPerSecond: 1, WorkerOptions: worker.Options(nil),
		})
		res.ReadCost(ctx, c, 2)
		if err != nil || res.Completed != 3 || res.Failed != 0 || res.PerSecond <= 0 || res.Ratio <= 0 {
			t.Fatalf("%+v: %+v, %v", tc.shape, res, err)
		}
		if res.Cost == nil || res.Cost.N != 3 || res.CostError != "" {
			t.Fatalf("%+v: cost %+v (%s)", tc.shape, res.Cost, res.CostError)
		}
		row := func(name string) historycost.Row {
			r, ok := res.Cost.Row(name)
			if !ok {
				t.Fatalf("no row %q", name)
			}
			return r
		}
		exactly := func(name string, want int) {
			if r := row(name); r.Min != want || r.Max != want {
				t.Errorf("%+v: %s from %d to %d, want %d", tc.shape, name, r.Min, r.Max, want)
			}
		}
		exactly("activities", tc.shape.Activities)
		exactly("activity attempts", tc.shape.Activities)
		exactly("local activities", tc.shape.LocalActivities)
		exactly("timers", tc.timers)
		if tc.exact {
			exactly("workflow tasks", tc.shape.WorkflowTasks)
			continue
		}
		if r := row("workflow tasks"); r.Min < res.WorkflowTasksLeast || r.Max > res.WorkflowTasksMost || res.WorkflowTasksLeast != tc.shape.WorkflowTasks {
			t.Errorf("%+v: workflow tasks from %d to %d, want within %d–%d", tc.shape, r.Min, r.Max, res.WorkflowTasksLeast, res.WorkflowTasksMost)
		}
	}
}
