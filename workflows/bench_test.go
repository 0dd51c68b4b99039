package workflows_test

import (
	"log/slog"
	"os"
	"testing"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/workflows"
)

// BenchmarkReplayOrderCompleted: the CPU and memory a worker spends rebuilding one finished order (242 events) after a cache eviction.
//
// The recorded history is decoded from JSON once, before timing: a worker
// gets its history from the server as protobuf, so the JSON decoding that
// TestReplayRecordedHistories pays is not part of a worker's cost.
func BenchmarkReplayOrderCompleted(b *testing.B) {
	f, err := os.Open("testdata/order_completed.json")
	if err != nil {
		b.Fatal(err)
	}
	history, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	_ = f.Close()
	if err != nil {
		b.Fatal(err)
	}
	// The replayer checks that the code completes the workflow the way the
	// history's last event says; make sure that is a completion.
	if n := len(history.Events); n == 0 || history.Events[n-1].GetEventType() != enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		b.Fatal("testdata/order_completed.json does not end with the workflow's completion")
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
	// The replayer's own logger; the workflow's logs are silent in replay anyway.
	logger := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))

	b.ReportAllocs()
	for b.Loop() {
		if err := r.ReplayWorkflowHistory(logger, history); err != nil {
			b.Fatal(err)
		}
	}
}
