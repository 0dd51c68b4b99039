package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

func lost(w *world, shipmentID string) {
	w.signal(workflows.SignalShipmentException, workflows.ShipmentExceptionSignal{ShipmentID: shipmentID, EventID: "ex-" + shipmentID,
		Detail: "lost in the depot", OccurredAt: time.Date(2029, 12, 1, 0, 0, 0, 0, time.UTC)})
}

func delivered(w *world, shipmentID string) {
	w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: shipmentID, EventID: "ev-" + shipmentID})
}

func countOf(actions []string, want string) int {
	n := 0
	for _, a := range actions {
		if a == want {
			n++
		}
	}
	return n
}

// Issue 8: a shipment the carrier lost is reshipped from stock under a
// replacement order, with a booking of its own and no new invoice; the
// order waits for the reship and bills once.
func TestReshipALostShipment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := func(a order.Actor, id, reason string) workflows.ReshipInput {
		return workflows.ReshipInput{Actor: a, ShipmentID: id, Reason: reason}
	}
	var reship *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		w.update(workflows.UpdateReship, rs(cs, "SH-WH-NORTH", "lost"), workflows.ErrTypeInvalidState) // no problem reported yet
		lost(w, "SH-WH-NORTH")
		delivered(w, "SH-WH-SOUTH")
	})
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateReship, rs(buyer, "SH-WH-NORTH", "lost"), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateReship, rs(cs, "SH-NOPE", "lost"), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateReship, rs(cs, "SH-WH-NORTH", ""), workflows.ErrTypeInvalidArgument)
		reship = w.update(workflows.UpdateReship, rs(cs, "SH-WH-NORTH", "lost in the depot, carrier case 4711"), "")
	})
	w.at(4*time.Hour, func() {
		w.update(workflows.UpdateReship, rs(cs, "SH-WH-NORTH", "again"), workflows.ErrTypeInvalidState)
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "the order waits for the reship")
		require.Len(t, d.Shipments, 3)
		old := d.Shipments[0]
		require.True(t, old.Replaced)
		require.Contains(t, old.Resolution, "reshipped as SH-R-WH-NORTH (replacement order SO-R1)")
		require.Equal(t, "SH-WH-NORTH", d.Shipments[2].Replaces)
		require.Contains(t, d.Waiting, "1 of 3 shipment(s)")
		require.NotContains(t, d.Waiting, "lost in the depot", "the old shipment's exception is closed")
		delivered(w, "SH-R-WH-NORTH")
	})
	w.at(5*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 8})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, reship.res.Message, "Shipment SH-WH-NORTH reshipped as SH-R-WH-NORTH (replacement order SO-R1, no new invoice)")
	require.Equal(t, 1, countOf(w.actions(), "shipment.reshipped"))
	require.Equal(t, 1, countOf(w.actions(), "invoice.issued"), "a reship bills nothing")
	var told bool
	for _, m := range w.mails {
		told = told || (m.Kind == mail.KindShipmentBooked && m.Data.Shipment.ShipmentID == "SH-R-WH-NORTH" &&
			strings.Contains(m.Data.Reason, "replaces SH-WH-NORTH"))
	}
	require.True(t, told, "the buyer learns of the reship's tracking")
}

// Goods delivered damaged are reshipped after the invoice: the order is
// paid, but completes only when the reship is delivered.
func TestReshipDamagedGoodsKeepsThePaidOrderOpenUntilDelivered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateReship, workflows.ReshipInput{Actor: cs, ShipmentID: "SH-WH-SOUTH", Reason: "motor housing cracked on arrival"}, "")
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 5})
	})
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusPaid, d.Status)
		require.Contains(t, d.Waiting, "reship SH-R-WH-SOUTH to be delivered")
		// The reship's lines are the damaged shipment's, from its warehouse.
		require.Equal(t, []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}, d.Shipments[2].Lines)
	})
	w.at(10*24*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status, "still waiting for the reship")
		delivered(w, "SH-R-WH-SOUTH")
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Equal(t, 1, countOf(w.actions(), "invoice.issued"))
}

// A cancel while a reship is on its way undoes the reship's booking and
// its replacement order with the rest.
func TestCancelUndoesAReship(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { lost(w, "SH-WH-NORTH") })
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateReship, workflows.ReshipInput{Actor: cs, ShipmentID: "SH-WH-NORTH", Reason: "lost"}, "")
	})
	w.at(4*time.Hour, func() {
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "customer no longer needs it"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	u := w.undos
	require.Equal(t, []string{"cancel-shipment SH-R-WH-NORTH", "cancel-replacement-order SO-R1", "cancel-shipment SH-WH-SOUTH",
		"cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, u)
}

// Issue 8: a return of paid goods — RMA, pickup, the carrier's "returned"
// event, a credit note by lines, and the refund to the payer.
func TestReturnOfPaidGoodsCreditsAndRefunds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.creditNote = func(in activities.IssueCreditNoteInput) activities.IssueCreditNoteResult {
		amount := money.Zero("EUR")
		for _, l := range in.Lines {
			amount.Minor += l.Amount.Minor
		}
		// The invoice is paid: all of it goes to the credit balance.
		return activities.IssueCreditNoteResult{CreditNoteID: "cn-1", Number: "CN-000001", Amount: amount,
			AppliedToInvoice: money.Zero("EUR"), ToCreditBalance: amount}
	}
	rt := func(a order.Actor, lines ...order.Line) workflows.ReturnInput {
		return workflows.ReturnInput{Actor: a, Lines: lines, Reason: "wrong pump model"}
	}
	var ret *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateReturn, rt(cs, order.Line{SKU: "PUMP-200", Quantity: 1}), workflows.ErrTypeInvalidState) // nothing delivered yet
		w.deliverAll()
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status)
		w.update(workflows.UpdateReturn, rt(buyer, order.Line{SKU: "PUMP-200", Quantity: 1}), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateReturn, rt(cs, order.Line{SKU: "PUMP-200", Quantity: 3}), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateReturn, rt(cs, order.Line{SKU: "BOLT-M8", Quantity: 1}), workflows.ErrTypeInvalidArgument)
		ret = w.update(workflows.UpdateReturn, rt(cs, order.Line{SKU: "PUMP-200", Quantity: 1}), "")
	})
	w.at(5*time.Hour, func() {
		// The second pump may still go back, not the first one again twice.
		w.update(workflows.UpdateReturn, rt(cs, order.Line{SKU: "PUMP-200", Quantity: 2}), workflows.ErrTypeInvalidArgument)
		d := w.details()
		require.Len(t, d.Returns, 1)
		require.Equal(t, workflows.ReturnAwaitingGoods, d.Returns[0].Status)
		require.Contains(t, d.Waiting, "the goods of return RMA-1 to come back")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 6})
	})
	w.at(3*24*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status, "the order waits for the goods")
		w.signal(workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{EventID: "ev-ret", ReturnID: "RET-RMA-1"})
		w.signal(workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{EventID: "ev-ret", ReturnID: "RET-RMA-1"}) // a repeat
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, ret.res.Message, "Return RMA-1 authorised for 1 × PUMP-200; the carrier collects on 2030-02-01 (tracking TRK-RET-RMA-1)")
	d := w.details()
	r := d.Returns[0]
	require.Equal(t, workflows.ReturnCredited, r.Status)
	require.Equal(t, "CN-000001", r.CreditNote)
	// One pump of two: 1250.00 of the 4980.00 subtotal, 3 % off: 1212.50 of 4830.60.
	require.Equal(t, eur(121_250), *r.Refunded)
	require.Len(t, d.Refunds, 1)
	require.Equal(t, "BTX-1", d.Refunds[0].BankTransactionID)
	require.Equal(t, order.System, d.Refunds[0].By)
	require.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 1}}, d.CreditNotes[0].Lines)
	require.Contains(t, w.undos, "receive RMA-1")
	require.Contains(t, w.undos, "refund BTX-1 1212.50 EUR (ord-1/refund/2)")
	for _, want := range []string{"return.authorised", "return.received", "credit-note.issued", "refund.paid", "return.credited"} {
		require.Equal(t, 1, countOf(w.actions(), want), want)
	}
	require.Contains(t, w.mailKinds(), mail.KindReturnAuthorised)
	for _, m := range w.mails {
		require.False(t, m.Kind == mail.KindFinanceAlert && strings.Contains(m.Data.Reason, "credit balance"),
			"the refund follows at once: finance has nothing to do")
	}
}

// A return before the invoice is paid lowers what the customer owes: the
// credit note comes off the invoice, no money moves back.
func TestReturnBeforePaymentLowersTheBalance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateReturn, workflows.ReturnInput{Actor: cs, Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}, Reason: "not needed"}, "")
	})
	w.at(4*time.Hour, func() {
		w.signal(workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{EventID: "ev-1", ReturnID: "RET-RMA-1"})
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Equal(t, workflows.ReturnCredited, d.Returns[0].Status)
		// The motor: 2480.00 of 4980.00, 3 % off: 2405.60; 2425.00 stays open.
		require.Contains(t, d.Waiting, "Waiting for payment of 2425.00 EUR")
		w.pay("BTX-1", eur(242_500))
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, w.actions(), "payment.exact")
	require.Empty(t, w.details().Refunds)
}

// Goods that never come back: after ReturnWindow the pickup and the RMA are
// cancelled, CS is told, and the order completes without a credit.
func TestReturnExpiresWhenTheGoodsNeverCome(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateReturn, workflows.ReturnInput{Actor: cs, Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, Reason: "surplus"}, "")
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(29*24*time.Hour, func() { require.Equal(t, order.StatusPaid, w.details().Status) })
	require.Equal(t, order.StatusCompleted, w.run().Status)
	d := w.details()
	require.Equal(t, workflows.ReturnExpired, d.Returns[0].Status)
	require.Empty(t, d.CreditNotes)
	require.Equal(t, []string{"cancel-return-pickup RET-RMA-1", "cancel-rma RMA-1"}, w.undos)
	require.True(t, slices.ContainsFunc(w.csAlerts(), func(m activities.SendMailInput) bool {
		return strings.Contains(m.Data.Error, "did not come back within 30 days")
	}))
}

// A pickup the carrier refuses fails the return, and the RMA made for it
// is cancelled at once.
func TestReturnWithoutPickupCancelsTheRMA(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.pickupFails = true
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		w.updateFails(workflows.UpdateReturn, workflows.ReturnInput{Actor: cs, Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}, Reason: "surplus"},
			workflows.ErrTypeInvalidState)
	})
	w.at(4*time.Hour, func() {
		require.Empty(t, w.details().Returns)
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Equal(t, []string{"cancel-rma RMA-1"}, w.undos)
	require.Contains(t, w.actions(), "return.failed")
}

// CS credits lines (a damaged pump) rather than an amount: the ERP gets
// the lines with their share of the gross.
func TestCreditNoteByLines(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var got []activities.CreditLine
	w.creditNote = func(in activities.IssueCreditNoteInput) activities.IssueCreditNoteResult {
		got = in.Lines
		return activities.IssueCreditNoteResult{CreditNoteID: "cn-1", Number: "CN-000001", Amount: in.Lines[0].Amount,
			AppliedToInvoice: in.Lines[0].Amount, ToCreditBalance: money.Zero("EUR")}
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		cn := func(a order.Actor, lines ...order.Line) workflows.CreditNoteInput {
			return workflows.CreditNoteInput{Actor: a, Lines: lines, Reason: "pump scratched"}
		}
		w.update(workflows.UpdateCreditNote, cn(cs, order.Line{SKU: "PUMP-200", Quantity: 1}), workflows.ErrTypeForbidden) // 1212.50 > CS's 500.00
		w.update(workflows.UpdateCreditNote, cn(finance, order.Line{SKU: "PUMP-200", Quantity: 3}), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: finance, Amount: eur(100), Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}, Reason: "x"},
			workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditNote, cn(finance, order.Line{SKU: "PUMP-200", Quantity: 1}), "")
	})
	w.at(4*time.Hour, func() {
		w.pay("BTX-1", eur(mainTotal.Minor-121_250))
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Equal(t, []activities.CreditLine{{SKU: "PUMP-200", Quantity: 1, Amount: eur(121_250)}}, got)
	require.Contains(t, w.actions(), "payment.exact")
}

// Two CS agents act on the same goods at once: the second reship of the
// shipment, and a second return of goods the first is taking back, are
// refused while the first is being made.
func TestConcurrentAfterSalesRequestsDoNotDoubleUp(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		rs := workflows.ReshipInput{Actor: cs, ShipmentID: "SH-WH-SOUTH", Reason: "cracked"}
		w.update(workflows.UpdateReship, rs, "")
		w.update(workflows.UpdateReship, rs, workflows.ErrTypeInvalidState)
		rt := workflows.ReturnInput{Actor: cs, Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, Reason: "surplus"}
		w.update(workflows.UpdateReturn, rt, "")
		w.update(workflows.UpdateReturn, rt, workflows.ErrTypeInvalidArgument)
	})
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Len(t, d.Shipments, 3, "one reship")
		require.Len(t, d.Returns, 1, "one return")
		delivered(w, "SH-R-WH-SOUTH")
		w.signal(workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{EventID: "ev-r", ReturnID: "RET-RMA-1"})
	})
	w.at(5*time.Hour, func() {
		w.pay("BTX-1", eur(mainTotal.Minor-242_500)) // the two pumps were credited
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 7})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Equal(t, 1, countOf(w.actions(), "shipment.reshipped"))
	require.Equal(t, 1, countOf(w.actions(), "return.authorised"))
}
