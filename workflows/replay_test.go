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
// (two warehouses, webhook deliveries, survey answered, exact payment),
// recorded before any GetVersion gate existed.
// order_accepted_while_quote_mailed.json: an accept that arrived while the
// quote mail was sent and was lost (before keep-early-answers).
// order_exception_signal_unhandled.json: a shipment-exception signal that
// the code of its day did not handle (before shipment-exceptions).
// order_completed_exception_resend.json: quote to COMPLETED with a carrier
// exception and a CS resend, recorded with all gates of versions.go at 1.
// order_completed_old_exception_after_delivery.json: started through
// Update-with-Start, a carrier exception older than the delivery arrives
// after it (ordered-shipment-events at 1), then COMPLETED; recorded by
// ORDERFLOW_RECORD_HISTORY=<dir> go test ./e2e -run TestOldCarrierEvent
// (before the gates from retry-through-outages on existed, so it replays
// their old branches).
// order_completed_with_approval.json, order_completed_prepaid.json (credit
// hold, prepayment, PAID), order_completed_after_cs_retry.json (a step
// refused for good, CS retry), order_cancelled_with_compensation.json (CS
// cancel while shipping, undos by id and by key): recorded by the e2e
// TestPath* tests with ORDERFLOW_RECORD_HISTORY=<dir>, every gate of
// versions.go at 1 up to apply-every-payment.
// order_completed_two_shipments.json: the main path, with the same gates.
// order_completed_two_shipments_latest.json, order_completed_prepaid_latest.json:
// the main and prepaid paths recorded again with every gate at 1,
// bounded-cadence included.
// order_continued_as_new_run1.json, order_continued_as_new_resent.json: the
// first run of an order that continued as new in its delivery wait, and a
// later run, started from the carried state, in which CS resent a mail
// (continue-as-new and resend-by-key at 1), recorded by the e2e
// TestLongLivedOrderContinuesAsNew. Without continue-as-new both fail;
// without resend-by-key the second fails.
// order_completed_two_shipments_local_records.json: the main path again
// with local-records at 1 (records as local activity markers); recorded by
// ORDERFLOW_RECORD_HISTORY=<dir> go test ./e2e -run TestOrderFromQuoteToCash
// and renamed. It fails replay without the gate, as every older history
// fails with the gate's local branch alone.
// *_2026-12-01.json: every path above (main, approval, credit hold and
// prepayment, failure + CS retry, cancel + compensation, an old carrier
// event, continue-as-new with a resend) recorded again with every gate of
// versions.go at 1, local-records included, by
// ORDERFLOW_RECORD_HISTORY=<dir> go test ./e2e.
// order_completed_reshipped.json, order_completed_returned.json,
// order_completed_short_paid.json: issue 8's after-sales paths (a reship
// after a carrier exception; a return with its credit note, buyer mail
// and refund; a short payment written off within tolerance), recorded by
// the e2e TestReshipAfterCarrierException, TestReturnCreditNoteRefund and
// TestShortPaymentWithinToleranceIsWrittenOff with every gate at 1,
// auto-write-off and credit-note-mail included. The last fails without
// the write-off.
//
// customer_run1.json to customer_run3.json are three runs of a customer
// workflow (e2e TestCustomerBetweenOrders, which starts it with a low
// history limit): order events, settings and insight markers, a reorder
// reminder, the dormant alert and we-miss-you mail, and a continue-as-new
// at the end of each.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.CustomerWorkflow, workflow.RegisterOptions{Name: workflows.CustomerWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
