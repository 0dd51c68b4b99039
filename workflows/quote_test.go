package workflows_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// refuseUnknownSKUs answers like the PriceQuote activity when the ERP does
// not know a SKU: a non-retryable LinesRefused naming each line.
func refuseUnknownSKUs(lines []order.Line) error {
	var fields []order.FieldError
	for i, l := range lines {
		if !slices.ContainsFunc(listPrices, func(p order.ListPrice) bool { return p.SKU == l.SKU }) {
			fields = append(fields, order.FieldError{Field: fmt.Sprintf("lines[%d].sku", i), Reason: "the ERP does not know this SKU"})
		}
	}
	if fields == nil {
		return nil
	}
	return temporal.NewApplicationErrorWithOptions("price lines in the ERP: unknown SKU", activities.ErrTypeLinesRefused,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{fields}})
}

// answer is an update's outcome, filled in when it completes.
type answer[T any] struct {
	done bool
	res  T
	err  error
}

// ask sends an update the validator must accept and keeps its outcome.
func ask[T any](w *world, name string, arg any) *answer[T] {
	ans := &answer[T]{}
	w.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { w.t.Errorf("update %s rejected: %v", name, err) },
		OnAccept: func() {},
		OnComplete: func(r any, err error) {
			ans.done, ans.err = true, err
			if err == nil {
				ans.res = r.(T)
			}
		},
	}, arg)
	return ans
}

// The storefront's POST /v1/quotes sends the quote update with the start
// and answers with the priced quote.
func TestQuoteUpdateAnswersWithThePricedQuote(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var quote *answer[workflows.QuoteResult]
	w.at(0, func() {
		quote = ask[workflows.QuoteResult](w, workflows.UpdateQuote, workflows.QuoteInput{Actor: buyer})
	})
	w.at(time.Hour, func() {
		require.True(t, quote.done)
		require.NoError(t, quote.err)
		require.Equal(t, order.StatusAwaitingAcceptance, quote.res.Status)
		require.Equal(t, mainTotal, quote.res.Quote.Total)
		require.Empty(t, quote.res.Refused)
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "no"}, "")
	})
	w.run()
}

// Hole 3: an unknown SKU used to leave an order in QUOTING with
// NeedsAttention and a CS alert. Now the quote request ends QUOTE_REFUSED
// at once, the quote update names the line, and nobody is mailed.
func TestUnknownSKUEndsTheQuoteRequestRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var quote *answer[workflows.QuoteResult]
	w.at(0, func() {
		quote = ask[workflows.QuoteResult](w, workflows.UpdateQuote, workflows.QuoteInput{Actor: buyer})
	})
	res := w.run(order.Line{SKU: "PUMP-200", Quantity: 2}, order.Line{SKU: "NOPE-1", Quantity: 1})
	require.Equal(t, order.StatusQuoteRefused, res.Status)
	require.True(t, quote.done)
	require.NoError(t, quote.err)
	require.Equal(t, order.StatusQuoteRefused, quote.res.Status)
	require.Equal(t, []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}, quote.res.Refused)
	require.Empty(t, w.mailKinds(), "no quote, no CS alert")
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusQuoteRefused}, w.statuses())
	p := w.projection()
	last := p[len(p)-1]
	require.Equal(t, order.ActionQuoteRefused, last.Action)
	require.False(t, last.NeedsAttention)
	require.Equal(t, []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}, last.Fields,
		"the audit entry keeps the refused lines for a replayed POST")
}

// A revision with a line the ERP refuses leaves the standing quote in
// force: the revise update fails naming the line and the buyer may still
// accept revision 1.
func TestRefusedRevisionKeepsTheStandingQuote(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var revise *answer[workflows.DecisionResult]
	w.at(time.Hour, func() {
		revise = ask[workflows.DecisionResult](w, workflows.UpdateRevise,
			workflows.ReviseInput{Actor: buyer, Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 10}, {SKU: "NOPE-1", Quantity: 1}}})
	})
	w.at(2*time.Hour, func() {
		require.True(t, revise.done)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, revise.err, &appErr)
		require.Equal(t, workflows.ErrTypeInvalidArgument, appErr.Type())
		var fields []order.FieldError
		require.NoError(t, appErr.Details(&fields))
		require.Equal(t, []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}, fields)
		d := w.details()
		require.Equal(t, order.StatusAwaitingAcceptance, d.Status)
		require.Equal(t, 1, d.Quote.Revision)
		require.False(t, d.NeedsAttention)
		require.Contains(t, d.Waiting, "The ERP refused revision 2")
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "revision 1 went on with its own lines")
		require.Len(t, d.Shipments, 2)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "test over"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.NotContains(t, w.mailKinds(), mail.KindCSAlert)
	require.Contains(t, w.actions(), "quote.revision-refused")
}

// Hole 1 in the workflow: a buyer's revision may not carry a discount.
func TestBuyerMayNotDiscountARevision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := order.Actor{Subject: "rita@seller", Role: order.RoleSalesRep}
	w.at(time.Hour, func() {
		w.update(workflows.UpdateRevise, workflows.ReviseInput{Actor: buyer, Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 10}}, DiscountBP: 1000},
			workflows.ErrTypeForbidden)
		w.update(workflows.UpdateRevise, workflows.ReviseInput{Actor: rep, Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1000}}, DiscountBP: 500}, "")
	})
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, 2, d.Quote.Revision)
		require.Equal(t, int64(500), d.Quote.DiscountBP, "the rep's discount, within the rep's authority")
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "no"}, "")
	})
	w.run()
}

// Hole 2 for staff and hole 7: a failed step says in one line which system
// answered what, and whether it is retried; the order's details name the
// failed step, not the stage before it.
func TestFailedStepSaysWhatFailedInOneLine(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	calls := 0
	w.reserve = func() (activities.ReserveResult, error) {
		calls++
		if calls == 1 {
			return activities.ReserveResult{}, temporal.NewApplicationErrorWithOptions(
				"create ERP sales order and reserve stock: erp: create sales order: HTTP 409: {...} (permanent)", activities.ErrTypeRejected,
				temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{activities.Failure{
					System: "ERP", Call: "create ERP sales order and reserve stock", Answer: "HTTP 409: insufficient_stock, sku MOTOR-7K", Permanent: true}}})
		}
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}}}}, nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention)
		want := "ERP, create ERP sales order and reserve stock: HTTP 409: insufficient_stock, sku MOTOR-7K. Not retried: the same call would fail the same way."
		require.Equal(t, want, d.Failure.Error)
		require.Equal(t, `Step "reserve stock" failed: `+want+" Waiting for CS to retry the step or cancel the order.", d.Waiting)
		require.NotContains(t, d.Waiting, "Checking credit")
		alerts := w.csAlerts()
		require.Len(t, alerts, 1)
		require.Equal(t, want, alerts[0].Data.Error, "the CS mail says the same line")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "stock arrived"}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.False(t, d.NeedsAttention)
		require.Nil(t, d.Failure)
		require.NotContains(t, d.Waiting, "failed")
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "test over"}, "")
	})
	w.run()
}

// Hole 7: the approval text counts what is still missing; an accept given
// while the quote mail is retried says the quote is accepted.
func TestWaitingTextsSayWhatIsLeft(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.DualApprovalThreshold = eur(100)
	w.terms.PurchasingLimit = eur(10_000_000)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingApproval, d.Status)
		require.Contains(t, d.Waiting, "Waiting for 2 seller-side approval(s)")
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Contains(t, d.Waiting, "Waiting for 1 more seller-side approval(s)")
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr2, Approve: false, Comment: "too big"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusRejected, res.Status)
}

// Hole 7: an accept given while the quote mail is still being retried
// answers that the quote is accepted, not that it waits for the buyer.
func TestAcceptAnsweredWhileQuoteMailIsRetriedSaysAccepted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mailFails[mail.KindQuote] = 1000
	var accept *pending
	w.at(time.Minute, func() { accept = w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(time.Hour, func() {
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "test over"}, "")
	})
	w.run()
	require.NotContains(t, accept.res.Message, "Waiting for the buyer")
	require.Contains(t, accept.res.Message, "Quote accepted")
}

// Hole 4: carrier events are ordered per shipment by when they happened:
// an exception older than the shipment's delivery is recorded and changes
// nothing.
func TestOldExceptionAfterDeliveryChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	delivered := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-d", DeliveredAt: delivered})
	})
	w.at(3*time.Hour, func() {
		w.signal(workflows.SignalShipmentException, workflows.ShipmentExceptionSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-old",
			Detail: "damaged in transit", OccurredAt: delivered.Add(-time.Hour)})
	})
	w.at(4*time.Hour, func() {
		d := w.details()
		require.True(t, d.Shipments[1].Delivered)
		require.Empty(t, d.Shipments[1].Exception, "an event older than the delivery changes nothing")
		require.Empty(t, w.csAlerts())
		require.Contains(t, w.actions(), "shipment.event-outdated")
		// A newer exception (a damage claim after delivery) still counts.
		w.signal(workflows.SignalShipmentException, workflows.ShipmentExceptionSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-new",
			Detail: "damage claimed by consignee", OccurredAt: delivered.Add(time.Hour)})
	})
	w.at(5*time.Hour, func() {
		require.Equal(t, "damage claimed by consignee", w.details().Shipments[1].Exception)
		require.Len(t, w.csAlerts(), 1)
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(6*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	require.Equal(t, order.StatusCompleted, w.run().Status)
}

// The projection is written inside the workflow task that prices a quote,
// before the task completes: when the worker dies then, the buyer may see
// the priced revision and accept it while the order, run again elsewhere,
// is still QUOTING it. That accept waits for the price and applies; one
// for another revision is refused at once.
func TestAcceptOfTheRevisionBeingPricedWaitsForItsPrice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.priced = make(chan struct{})
	var early, wrong *pending
	w.at(time.Millisecond, func() {
		// The ERP answers only once these are sent (w.priced): the order
		// is QUOTING revision 1.
		wrong = w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 2}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: stranger, Revision: 1}, workflows.ErrTypeForbidden)
		early = w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "")
		close(w.priced)
	})
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "test over"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.NotNil(t, wrong)
	require.Equal(t, order.StatusCreditCheck, early.res.Status, "the accept applied once the quote was priced")
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusCreditCheck},
		w.statuses()[:3])
}
