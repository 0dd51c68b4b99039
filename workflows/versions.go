package workflows

import "go.temporal.io/sdk/workflow"

// Change ids for workflow.GetVersion, one per change (and per place) in the
// workflow's behaviour that orders in flight must not see. The recorded
// histories in testdata/ (TestReplayRecordedHistories) replay from before the
// gates and with every gate at 1; keep-early-answers, shipment-exceptions,
// ordered-shipment-events, continue-as-new, resend-by-key and local-records
// also have a
// history that fails replay without them. Gates "asked once when the order
// starts" are asked in setup and kept as flags. A branch for DefaultVersion
// may go once no order started before its change is open (docs/design.md,
// "Changing the workflow").
const (
	// changeKeepEarlyAnswers (version 1): the buyer's accept/revise/reject
	// given while the quote mail was still being sent is kept. Before it, the
	// wait cleared the answer and the order hung.
	// History: testdata/order_accepted_while_quote_mailed.json.
	changeKeepEarlyAnswers = "keep-early-answers"

	// changeKeepEarlyCSActions (version 1): the same for a CS action given
	// while the CS alert was being sent (a gate of its own, so orders past
	// acceptance when it lands get it too).
	changeKeepEarlyCSActions = "keep-early-cs-actions"

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

	// changeFinishOutsideCalls (version 1): a cancel from the Temporal UI
	// lets a forward outside call in flight (reserve, book, invoice) finish,
	// so its undo is registered and run, starts no new step, and no longer
	// unwinds an order whose final status is already recorded. Before it,
	// the call was cancelled half-way and its change could stay in the ERP
	// or with the carrier with no undo.
	changeFinishOutsideCalls = "finish-outside-calls"

	// changeOrderedShipmentEvents (version 1): carrier exceptions are
	// ordered per shipment by when they happened. One older than the
	// shipment's proof of delivery, or than an exception already applied,
	// is recorded in the audit log and changes nothing (no flag on the
	// shipment, no CS mail). Before it, a late-arriving old "damaged" event
	// marked a delivered shipment and alerted CS.
	// History: testdata/order_completed_old_exception_after_delivery.json
	// (recorded by the e2e test TestOldCarrierEventAfterDeliveryChangesNothing
	// with ORDERFLOW_RECORD_HISTORY set; it also has the quote update of
	// POST /v1/quotes' Update-with-Start).
	changeOrderedShipmentEvents = "ordered-shipment-events"

	// changePaidStatus (version 1): an order paid in full (or a prepaid
	// order delivered) whose survey is still open shows PAID in the
	// projection, the OrderStatus search attribute and the metrics. Before
	// it, it went on showing AWAITING_PAYMENT (or SHIPPING) for up to the
	// survey's 14 days.
	changePaidStatus = "paid-status"

	// changeRetryThroughOutages (version 1, asked once when the order
	// starts): outside calls retry until they succeed or fail for good (no
	// ScheduleToClose); a step past StepBudget sets NeedsAttention, alerts
	// CS once and keeps retrying, and the flag clears itself when the call
	// succeeds; mails go out beside the main path and are never dropped.
	// Before it, a step gave up after StepBudget and waited for CS, and a
	// mail was dropped after it. Orders started before keep the old way.
	changeRetryThroughOutages = "retry-through-outages"

	// changeUndoBeforeCall (version 1, asked once when the order starts):
	// reserve, book and invoice register their undo, named by the call's
	// idempotency key, before the call; a cancel abandons a forward call
	// that is still retrying and the undo finds by key whatever it made
	// (the ERP and the carrier fence the key, so a late attempt cannot
	// commit after it). Before it, an undo was registered only once the
	// answer came back: a change whose answer was lost stayed in the ERP or
	// with the carrier after a cancel.
	changeUndoBeforeCall = "undo-before-call"

	// changeTemporalCancelLikeCS (version 1, asked once when the order
	// starts): the order runs on a context that cancelling the workflow
	// does not stop, and a cancellation from the Temporal UI becomes a
	// cancel request with a CS cancel's rules: before delivery the undos
	// run; after delivery it is refused (audited as cancel.refused,
	// NeedsAttention, a CS alert) and the order keeps its invoice and
	// payment. Before it, a UI cancel after delivery voided even a paid
	// invoice and cancelled the sales order.
	changeTemporalCancelLikeCS = "temporal-cancel-like-cs"

	// changeApplyEveryPayment (version 1, asked once when the order
	// starts): a coroutine applies every payment signalled once the order
	// has an invoice, whenever it arrives (while the survey is open, after
	// a prepayment cleared); one on a settled invoice is a credit balance
	// with a finance alert; a payment counts only once the store accepted
	// its match, and one it refused is audited (payment.not-applied) with a
	// finance alert. Before it, payments arriving after the invoice was
	// settled were acknowledged and never applied, and money was counted
	// before the store accepted it.
	changeApplyEveryPayment = "apply-every-payment"

	// changeBoundedCadence (version 1, asked once when the order starts):
	// the carrier is polled every 6 hours until the order flags the
	// delivery overdue, then daily for two weeks, then weekly (spread by the order
	// id); dunning reminders are weekly until the escalation to finance,
	// then monthly. Before it a lost shipment was polled every 6 hours and
	// an unpaid invoice dunned weekly for ever: a year of either grew the
	// history towards Temporal's limit.
	changeBoundedCadence = "bounded-cadence"

	// changeContinueAsNew (version 1, asked once when the order starts):
	// an order waiting for delivery or for money continues as new when
	// Temporal suggests it or its history passes ContinueAsNewAfter
	// events (OrderInput.HistoryLimit), at a quiet moment, carrying its
	// state (Carried) into the next run, which picks up the same wait.
	// Before it, a run grew for as long as the order lived.
	// History: testdata/order_continued_as_new_run1.json and
	// testdata/order_continued_as_new_resent.json (recorded by the e2e test
	// TestLongLivedOrderContinuesAsNew; both fail replay without the gate).
	changeContinueAsNew = "continue-as-new"

	// changeResendByKey (version 1, asked once when the order starts): the
	// order keeps only the key and audience of each kind's last mail; the
	// mail activity keeps what a mail said under its key (table mails),
	// and a CS resend runs ResendMail on that key. Before it, the order
	// kept every last mail's template data in its state and a resend ran
	// SendMail with it.
	// History: testdata/order_continued_as_new_resent.json (fails replay
	// without the gate).
	changeResendByKey = "resend-by-key"

	// changeLocalRecords (version 1, asked once when the order starts): the
	// projection and audit writes (Record) run as local activities, in the
	// worker and inside the workflow task that decided them, instead of as
	// activity tasks: each saves a round trip through the server and three
	// history events. A Record that has not succeeded within
	// localRecordBudget (the database is down) falls back to an ordinary
	// activity that retries until the database is back. A local activity
	// ends with the workflow, so the order ends only once none is in flight.
	// Before it every Record was an ordinary activity; orders started
	// before keep that.
	// History: testdata/order_completed_two_shipments_local_records.json
	// (fails replay without the gate, as every older history does with the
	// gate's local branch alone).
	changeLocalRecords = "local-records"

	// changeRefundOnCancel (version 1, asked once when the order starts): a
	// payment applied to the order's invoice registers its refund as an
	// undo, right below the invoice's void; cancelling a prepaid or partly
	// paid order voids the invoice, then pays each payment back to its
	// payer (Refund: ERP refund document and bank transfer, by key). Before
	// it, a cancelled prepaid order kept the money.
	changeRefundOnCancel = "refund-on-cancel"

	// changeAutoWriteOff (version 1, asked where a payment leaves a
	// balance within the customer's short-payment tolerance): the rest is
	// written off in the ERP and the invoice is settled. Before it, such a
	// balance waited for the rest, with reminders.
	changeAutoWriteOff = "auto-write-off"

	// changeCreditNoteMail (version 1, asked when a credit note is issued):
	// the buyer gets the credit note by mail, linked to its printable page
	// and UBL. Before it, only finance heard of a credit balance.
	changeCreditNoteMail = "credit-note-mail"

	// changeRefundWhatIsLeft (version 1, asked when a cancel refunds a
	// payment finance had already paid part of back): the cancel refunds
	// what is left of it, or nothing. Before it, it asked for the whole
	// payment, which the ERP refused, and the undo waited for CS.
	changeRefundWhatIsLeft = "refund-what-is-left"

	// changeRepKnows (version 1, asked where the order is confirmed and
	// where it starts waiting for approvals): the customer's sales rep is
	// mailed then too, not only when a quote is rejected or expires.
	changeRepKnows = "rep-knows"

	// changeSurveyPerShipment (version 1, asked at the first delivery, or
	// where the order's one survey would start): each delivered shipment
	// gets its own NPS survey (its warehouse, carrier and lines), started
	// at its delivery, and the order completes when the last one closes.
	// A detractor's answer mails the rep too. Before it, one survey went
	// out once everything was delivered.
	// History: testdata/order_completed_two_shipments_survey_per_shipment.json
	// (the e2e TestOrderFromQuoteToCash with the gate at 1).
	changeSurveyPerShipment = "survey-per-shipment"

	// changeDeliveryOverdueAttribute (version 1, asked where a delivery
	// becomes overdue and where every shipment is delivered): the
	// DeliveryOverdue search attribute is set while a shipment is late,
	// so operators find late orders in the Temporal UI.
	changeDeliveryOverdueAttribute = "delivery-overdue-attribute"

	// changeLeanHistory (version 1, asked first when the order starts):
	// what an order costs in Temporal, cut (issue 11; docs/benchmarks.md,
	// "What an order costs in Temporal"). A run with it
	//   - takes every change above at version 1 without asking: one
	//     marker instead of one marker and one TemporalChangeVersion
	//     upsert per gate (see gate);
	//   - upserts only the search attributes whose value changes (none
	//     at the start, where the order was started with them);
	//   - bounds a step by its activities' ScheduleToClose instead of a
	//     timer beside them (see runWatched);
	//   - writes its own database (surveys, payment matches) in local
	//     activities like Record;
	//   - sends the mails of one transition in one SendMails activity.
	// Runs started before it keep every gate and the old commands.
	// Histories: testdata/*_lean.json (recorded by the e2e path tests
	// with ORDERFLOW_RECORD_HISTORY set: the two-shipment order, approval,
	// prepayment, CS retry, cancel with compensation, reship, return,
	// short payment).
	changeLeanHistory = "lean-history"

	// changeCustomerEvents (version 1, asked at the order's first
	// milestone, when its quote is sent): the order tells its customer's
	// workflow (CustomerWorkflowID) when its quote is sent, accepted,
	// rejected or expired, and when it completes or ends
	// (SignalOrderEvent), so the customer workflow can follow the customer
	// between orders. Before it, orders told nobody.
	// History: testdata/order_completed_customer_events.json.
	changeCustomerEvents = "customer-events"
)

// gate reports whether the run takes change id's new behaviour (version
// 1). Runs with changeLeanHistory take every change listed before it
// without asking Temporal, so their histories carry no marker for them;
// older runs ask, and replay as they were recorded. A change added after
// changeLeanHistory is asked with workflow.GetVersion as usual.
func (o *orderState) gate(ctx workflow.Context, id string) bool {
	if o.lean {
		return true
	}
	return workflow.GetVersion(ctx, id, workflow.DefaultVersion, 1) != workflow.DefaultVersion
}
