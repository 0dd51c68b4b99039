package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/orderflow/orderflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (testdata/*.json) against today's workflow code. A change that would break
// orders in flight fails here; such a change needs workflow.GetVersion.
//
// order_completed.json: one order from quote to COMPLETED in `orderflow dev`
// (two warehouses, webhook deliveries, survey answered, exact payment).
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
