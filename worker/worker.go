// Package worker wires the order workflow and its activities into a Temporal
// worker. The cmd/orderflow worker and dev commands and the end-to-end tests
// build workers here, so all three run the same registration.
package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/metrics"
	"github.com/orderflow/orderflow/workflows"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"go.temporal.io/sdk/client"
)

// StopTimeout is how long Stop waits for running activities.
const StopTimeout = 50 * time.Second

// New returns a worker on the orders task queue with the order workflow and
// every activity registered; orders tell their customers' workflows their
// milestones through c unless acts has a CustomerTeller. m may be nil (no
// step metrics).
func New(c client.Client, acts *activities.Activities, m *metrics.Metrics) sdkworker.Worker {
	if acts.Customers == nil {
		acts.Customers = customerTeller{c: c}
	}
	w := sdkworker.New(c, workflows.TaskQueue, Options(m))
	w.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
	w.RegisterActivity(acts)
	// The customer workflow runs beside the orders, on their task queue
	// and with their activities (docs/design.md, "The customer between orders").
	w.RegisterWorkflowWithOptions(workflows.CustomerWorkflow, workflow.RegisterOptions{Name: workflows.CustomerWorkflowName})
	settings := acts.CustomerSettings
	if settings.MinOrders == 0 { // not configured: Activities built without config.Load
		settings = customer.DefaultSettings()
	}
	w.RegisterActivity(&activities.CustomerSettingsLoader{Settings: settings})
	return w
}

// Options are the order worker's options; `orderflow bench` builds its
// reference arm's worker with them too. m may be nil (no step metrics).
func Options(m *metrics.Metrics) sdkworker.Options {
	// On SIGTERM the running activities get StopTimeout to finish (the Helm
	// chart gives the pod 60 s); what is still running then is cancelled and
	// retried by another worker.
	opts := sdkworker.Options{WorkerStopTimeout: StopTimeout}
	if m != nil {
		opts.Interceptors = []interceptor.WorkerInterceptor{&stepMetrics{m: m}}
	}
	return opts
}

// Logger bridges zerolog to the SDK's logger, so workflow and activity logs
// come out as the same JSON lines as everything else.
func Logger(l zerolog.Logger) sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(zerolog.NewSlogHandler(l)))
}

// stepMetrics times every activity attempt into orderflow_step_duration_seconds.
type stepMetrics struct {
	interceptor.WorkerInterceptorBase
	m *metrics.Metrics
}

func (s *stepMetrics) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &stepTimer{m: s.m}
	i.Next = next
	return i
}

type stepTimer struct {
	interceptor.ActivityInboundInterceptorBase
	m *metrics.Metrics
}

func (t *stepTimer) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	start := time.Now()
	res, err := t.Next.ExecuteActivity(ctx, in)
	t.m.ObserveStep(activity.GetInfo(ctx).ActivityType.Name, err, time.Since(start))
	return res, err
}
