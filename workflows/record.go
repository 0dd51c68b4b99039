package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Typed keys of the search attributes, for the workflow and the API alike.
var (
	KeyCustomerID     = temporal.NewSearchAttributeKeyKeyword(SACustomerID)
	KeyOrderStatus    = temporal.NewSearchAttributeKeyKeyword(SAOrderStatus)
	KeyOrderTotal     = temporal.NewSearchAttributeKeyFloat64(SAOrderTotal)
	KeyNeedsAttention = temporal.NewSearchAttributeKeyBool(SANeedsAttention)
	KeyPONumber       = temporal.NewSearchAttributeKeyKeyword(SAPONumber)
	// KeyDeliveryOverdue is set only once a delivery is late (orders do
	// not start with it), so orders start in a namespace without it.
	KeyDeliveryOverdue = temporal.NewSearchAttributeKeyBool(SADeliveryOverdue)
)

// StartSearchAttributes are the search attributes an order starts with, so
// it is found by customer and PO from its first moment.
func StartSearchAttributes(customerID, poNumber string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		KeyCustomerID.ValueSet(customerID),
		KeyOrderStatus.ValueSet(string(order.StatusQuoting)),
		KeyPONumber.ValueSet(poNumber),
		KeyNeedsAttention.ValueSet(false),
		KeyOrderTotal.ValueSet(0),
	)
}

// SearchAttributes are the custom search attributes every order carries; the
// dev server and deployments register them.
func SearchAttributes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		SACustomerID:      enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAOrderStatus:     enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAOrderTotal:      enums.INDEXED_VALUE_TYPE_DOUBLE,
		SANeedsAttention:  enums.INDEXED_VALUE_TYPE_BOOL,
		SAPONumber:        enums.INDEXED_VALUE_TYPE_KEYWORD,
		SADeliveryOverdue: enums.INDEXED_VALUE_TYPE_BOOL,
	}
}

// noCurrency is ISO 4217's code for "no currency": the total before pricing.
const noCurrency = "XXX"

// transition moves the order to s (or re-records it) and keeps the search
// attributes, the UI's current details and the projection in step.
func (o *orderState) transition(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string) {
	o.transitionFields(ctx, s, actor, action, reason, nil)
}

// transitionFields is transition with field errors for the audit entry.
func (o *orderState) transitionFields(ctx workflow.Context, s order.Status, actor order.Actor, action, reason string, fields []order.FieldError) {
	o.d.Status = s
	if o.lean {
		o.stateDirty = true
	} else if err := o.upsertState(ctx); err != nil {
		o.logger.Error("upsert search attributes", "Error", err)
	}
	o.recordFields(ctx, actor, action, reason, fields)
}

// stateUpserter upserts a lean run's state search attributes once the
// workflow task settles after a transition (no local activity running), so
// that transitions decided in one task, such as INVOICED and then
// AWAITING_PAYMENT, cost one upsert (upsertState upserts only what
// changed). It runs for the life of the run on a disconnected context.
func (o *orderState) stateUpserter(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return o.stateDirty && o.localActive == 0 }); err != nil {
			return
		}
		o.flushState(ctx)
	}
}

// flushState upserts the state search attributes if a transition changed
// them since the last upsert; the order's last transition is flushed before
// the workflow ends (finishFields).
func (o *orderState) flushState(ctx workflow.Context) {
	if !o.stateDirty {
		return
	}
	o.stateDirty = false
	if err := o.upsertState(ctx); err != nil {
		o.logger.Error("upsert search attributes", "Error", err)
	}
}

// upsertState sets the OrderStatus, NeedsAttention and OrderTotal search
// attributes to the order's state, in one upsert. A lean run
// (changeLeanHistory) upserts only those whose value changes, and nothing
// when none does: each upsert is a billed Action and two history events.
func (o *orderState) upsertState(ctx workflow.Context) error {
	status, attention, total := string(o.d.Status), o.d.NeedsAttention, o.total()
	if !o.lean {
		return workflow.UpsertTypedSearchAttributes(ctx,
			KeyOrderStatus.ValueSet(status), KeyNeedsAttention.ValueSet(attention), KeyOrderTotal.ValueSet(total))
	}
	sa := workflow.GetTypedSearchAttributes(ctx)
	var changed []temporal.SearchAttributeUpdate
	if v, ok := sa.GetKeyword(KeyOrderStatus); !ok || v != status {
		changed = append(changed, KeyOrderStatus.ValueSet(status))
	}
	if v, ok := sa.GetBool(KeyNeedsAttention); !ok || v != attention {
		changed = append(changed, KeyNeedsAttention.ValueSet(attention))
	}
	if v, ok := sa.GetFloat64(KeyOrderTotal); !ok || v != total {
		changed = append(changed, KeyOrderTotal.ValueSet(total))
	}
	if len(changed) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, changed...)
}

// upsertIdentity sets the CustomerId and PONumber search attributes, which
// the API starts an order with; a lean run upserts them only when they are
// missing or differ (a run started some other way).
func (o *orderState) upsertIdentity(ctx workflow.Context) error {
	if o.lean {
		sa := workflow.GetTypedSearchAttributes(ctx)
		c, okC := sa.GetKeyword(KeyCustomerID)
		p, okP := sa.GetKeyword(KeyPONumber)
		if okC && okP && c == o.in.CustomerID && p == o.in.PONumber {
			return nil
		}
	}
	return workflow.UpsertTypedSearchAttributes(ctx,
		KeyCustomerID.ValueSet(o.in.CustomerID), KeyPONumber.ValueSet(o.in.PONumber))
}

// total is the OrderTotal search attribute: the quote's total in major
// units, 0 before pricing.
func (o *orderState) total() float64 {
	if o.d.Quote == nil {
		return 0
	}
	return float64(o.d.Quote.Total.Minor) / 100
}

// record writes one audit entry and the projection's current state.
func (o *orderState) record(ctx workflow.Context, actor order.Actor, action, reason string) {
	o.recordFields(ctx, actor, action, reason, nil)
}

// recordFields is record with field errors (lines the ERP refused) for the
// audit entry's data.
func (o *orderState) recordFields(ctx workflow.Context, actor order.Actor, action, reason string, fields []order.FieldError) {
	ctx = o.detached(ctx)
	o.seq++
	seq := o.seq
	o.recordsInFlight++
	defer func() {
		o.recorded = max(o.recorded, seq)
		o.recordsInFlight--
	}()
	o.showDetails(ctx)
	in := activities.RecordInput{
		OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, PONumber: o.in.PONumber, Seq: o.seq, Fence: o.fence(ctx),
		Status: o.d.Status, NeedsAttention: o.d.NeedsAttention, Total: money.Zero(noCurrency), Details: o.d.Waiting,
		Actor: actor, Action: action, Reason: reason, At: workflow.Now(ctx), Fields: fields,
		Facts: o.facts(workflow.Now(ctx)),
	}
	if o.d.Quote != nil {
		in.Total, in.QuoteRevision = o.d.Quote.Total, o.d.Quote.Revision
	}
	if all := o.invoices(); len(all) > 0 {
		// The newest: an order invoiced per shipment shows its latest.
		in.InvoiceNumber = all[len(all)-1].Number
	}
	if err := o.write(ctx, in); err != nil {
		o.logger.Error("record transition", "Action", action, "Error", err)
	}
}

// fence orders the records of the workflow task that decided them before
// those of any later task, in this run or a later one: the task's history
// length (its WorkflowTaskStarted event id), above every fence of the runs
// before (fenceBase, carried through continue-as-new).
//
// Seq alone cannot do that. A local Record runs inside the workflow task,
// before the task completes; when its worker dies or the task times out,
// the writes stay but the task is run again, by another worker, on a
// history with more events in it (a signal that arrived meanwhile), and
// may decide other transitions under the same seqs: a payment and a
// closed survey in one task go straight to COMPLETED at the seq where the
// lost task wrote PAID. The retried task has a larger history length, so
// the store takes its records over the lost task's (store.Transition).
// The value is the same when the task is replayed: no command depends on
// it, and a replay reads the same length.
func (o *orderState) fence(ctx workflow.Context) int64 {
	return o.fenceBase + int64(workflow.GetInfo(ctx).GetCurrentHistoryLength())
}

// write runs the Record activity: a local activity since
// changeLocalRecords (see ownWrite). Records may reach the store in any
// order and more than once; the store keeps the newest seq.
func (o *orderState) write(ctx workflow.Context, in activities.RecordInput) error {
	return o.ownWrite(ctx, o.localRecords, "Record "+in.Action, a.Record, in, nil)
}

// ownWrite runs activity fn, an idempotent write to orderflow's own
// database, with input in and its result into out. local runs it as a
// local activity, in the worker and inside the workflow task that decided
// it: no activity task, no round trip through the server, one marker
// instead of three history events. When the database has not answered
// within localRecordBudget it falls back to an ordinary activity that
// retries until the database is back; a refusal for good (non-retryable)
// is returned as it is.
func (o *orderState) ownWrite(ctx workflow.Context, local bool, summary string, fn, in, out any) error {
	if !local {
		return workflow.ExecuteActivity(ownDatabase(ctx, summary), fn, in).Get(ctx, out)
	}
	// A local activity lives only as long as the workflow: the order
	// ends once no local write is in flight (one of another coroutine,
	// such as a payment's, would otherwise be dropped when the main path
	// finishes first).
	o.localRecordsInFlight++
	defer func() { o.localRecordsInFlight-- }()
	o.localActive++
	err := workflow.ExecuteLocalActivity(localDatabase(ctx, summary), fn, in).Get(ctx, out)
	o.localActive--
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		return err
	}
	o.logger.Warn("the database did not answer in time; retrying as an activity", "Write", summary, "Error", err)
	return workflow.ExecuteActivity(ownDatabase(ctx, summary), fn, in).Get(ctx, out)
}

// showDetails sets the workflow's current details, which the Temporal UI shows.
func (o *orderState) showDetails(ctx workflow.Context) {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**", o.d.Status))
	if o.d.NeedsAttention {
		b.WriteString(" · **NEEDS ATTENTION**")
	}
	b.WriteString(fmt.Sprintf("\n\n%s", o.d.Waiting))
	if f := o.d.Failure; f != nil {
		next := "CS: retry the step or cancel the order."
		if f.Retrying {
			next = "Still retrying by itself; the order moves on when the call succeeds."
		}
		b.WriteString(fmt.Sprintf("\n\nFailed step: %s since %s\n\n%s\n\n%s",
			f.Step, f.Since.Format(time.RFC3339), f.Error, next))
	}
	if o.d.Quote != nil {
		b.WriteString(fmt.Sprintf("\n\nQuote revision %d: %s", o.d.Quote.Revision, o.d.Quote.Total))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}
