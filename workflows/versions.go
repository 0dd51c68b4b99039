package workflows

// Change ids for workflow.GetVersion, one per change to the workflow's
// behaviour that orders in flight must not see. Each is replayed by a
// recorded history in testdata/ (TestReplayRecordedHistories); a branch for
// DefaultVersion may go once no order started before its change is open.
const (
	// changeKeepEarlyAnswers (version 1): an answer given while the mail
	// that announced the wait was still being sent is kept — the buyer's
	// accept/revise/reject during the quote mail, CS's action during the CS
	// alert. Before it, the wait cleared the answer and the order hung.
	// History: testdata/order_accepted_while_quote_mailed.json.
	changeKeepEarlyAnswers = "keep-early-answers"

	// changeShipmentExceptions (version 1): a carrier exception signal
	// alerts CS and marks the shipment. Before it the API did not send the
	// signal, but a run may hold one sent by hand or by a newer API before
	// its worker was updated; replay must not act on it.
	// History: testdata/order_exception_signal_unhandled.json.
	changeShipmentExceptions = "shipment-exceptions"

	// changeDetached (version 1): audit records and update handlers run on
	// a context that cancelling the workflow does not cancel. Before it, a
	// cancel from the Temporal UI cancelled a Record in flight (an audit
	// entry lost) and made every later update fail with "canceled", so CS
	// could not act on the compensation's undos. Replayed by every history
	// in testdata/ (none has the marker).
	changeDetached = "detached-records-and-handlers"
)
