package benchref

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/historycost"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// Config shapes a reference run.
type Config struct {
	Shape Shape
	// Runs is how many bare workflows to run to completion, Concurrency of
	// them at once (the orders' numbers).
	Runs, Concurrency int
	// IDPrefix starts each bare workflow's id, so runs do not collide.
	IDPrefix string
	// OrdersPerSecond is the orders' throughput the ratio is taken of.
	OrdersPerSecond float64
	// WorkerOptions build the bare workflow's worker: the order worker's.
	WorkerOptions sdkworker.Options
}

// Result is what the reference arm measured.
type Result struct {
	// Shape is what each bare workflow was built to cost, and
	// WorkflowTasksLeast and WorkflowTasksMost the range of workflow tasks
	// its plan can take (Shape.WorkflowTaskRange).
	Shape              Shape `json:"shape"`
	WorkflowTasksLeast int   `json:"workflow_tasks_least"`
	WorkflowTasksMost  int   `json:"workflow_tasks_most"`
	Runs               int   `json:"runs"`
	Concurrency        int   `json:"concurrency"`
	Completed          int   `json:"completed"`
	Failed             int   `json:"failed"`
	// Wall is from the first start to the last completion.
	Wall time.Duration `json:"wall_ns"`
	// PerSecond is completed bare workflows per second of wall time.
	PerSecond float64 `json:"bare_per_second"`
	// Ratio is OrdersPerSecond ÷ PerSecond.
	Ratio float64 `json:"ratio"`
	// Cost is what the completed bare workflows cost, from their histories;
	// CostError says why some or all could not be read.
	Cost      *historycost.Summary `json:"cost,omitempty"`
	CostError string               `json:"cost_error,omitempty"`
	// Errors holds the first failures.
	Errors []string `json:"errors,omitempty"`
	// WorkflowIDs are the completed bare workflows, for ReadCost.
	WorkflowIDs []string `json:"-"`
}

// maxErrors bounds Result.Errors.
const maxErrors = 10

// Run starts a worker for the bare workflow on c, runs cfg.Runs bare
// workflows cfg.Concurrency at a time, each started and awaited as a
// client would, and stops the worker. It returns an error only when the run
// could not start or was interrupted; ReadCost reads the histories after.
func Run(ctx context.Context, c client.Client, cfg Config) (Result, error) {
	if err := cfg.Shape.Validate(); err != nil {
		return Result{}, err
	}
	if cfg.Runs < 1 || cfg.Concurrency < 1 {
		return Result{}, fmt.Errorf("reference run: %d runs, %d at a time: want at least one of each", cfg.Runs, cfg.Concurrency)
	}
	w := NewWorker(c, cfg.WorkerOptions)
	if err := w.Start(); err != nil {
		return Result{}, fmt.Errorf("start the reference worker: %w", err)
	}
	res := Result{Shape: cfg.Shape, Runs: cfg.Runs, Concurrency: cfg.Concurrency}
	res.WorkflowTasksLeast, res.WorkflowTasksMost = cfg.Shape.WorkflowTaskRange()

	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	jobs := make(chan int)
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				id := fmt.Sprintf("%s-%d", cfg.IDPrefix, i)
				err := runOne(ctx, c, id, cfg.Shape)
				mu.Lock()
				if err != nil {
					if len(res.Errors) < maxErrors {
						res.Errors = append(res.Errors, err.Error())
					}
				} else {
					ids = append(ids, id)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range cfg.Runs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	res.Wall = time.Since(start)
	w.Stop()

	res.Completed = len(ids)
	res.Failed = cfg.Runs - res.Completed
	if res.Wall > 0 {
		res.PerSecond = float64(res.Completed) / res.Wall.Seconds()
	}
	if res.PerSecond > 0 {
		res.Ratio = cfg.OrdersPerSecond / res.PerSecond
	}
	res.WorkflowIDs = ids
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("reference run interrupted after %d of %d: %w", res.Completed, cfg.Runs, err)
	}
	return res, nil
}

// runOne starts one bare workflow and waits for it to complete.
func runOne(ctx context.Context, c client.Client, id string, shape Shape) error {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}, WorkflowName, shape)
	if err != nil {
		return fmt.Errorf("start bare workflow %s: %w", id, err)
	}
	if err := run.Get(ctx, nil); err != nil {
		return fmt.Errorf("bare workflow %s: %w", id, err)
	}
	return nil
}

// ReadCost reads the histories of r's completed bare workflows, readers at
// a time, into r.Cost (and r.CostError when some could not be read).
func (r *Result) ReadCost(ctx context.Context, c client.Client, readers int) {
	if len(r.WorkflowIDs) == 0 {
		return
	}
	costs, err := historycost.FetchAll(ctx, c, r.WorkflowIDs, readers)
	s := historycost.Summarize(costs)
	r.Cost = &s
	if err != nil {
		r.CostError = fmt.Sprintf("read %d of %d histories: %v", len(costs), len(r.WorkflowIDs), err)
	}
}
