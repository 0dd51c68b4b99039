package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// The main order (2 pumps from WH-NORTH, a motor from WH-SOUTH, 4830.60)
// for a customer invoiced per shipment: the pumps' part is 2425.00, the
// motor's the rest, 2405.60.
var (
	pumpsPart = eur(242_500)
	motorPart = eur(240_560)
)

func perShipmentWorld(t *testing.T) *world {
	w := newWorld(t)
	w.terms.InvoicePerShipment = true
	return w
}

func payInvoice(w *world, txn string, amount money.Money, number string) {
	w.signal(workflows.SignalPayment, workflows.PaymentSignal{BankTransactionID: txn, Amount: amount, Reference: number})
}

// mailsFor lists the kinds of the buyer's mails about invoice number.
func (w *world) mailsFor(number string) []mail.Kind {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []mail.Kind
	for _, m := range w.mails {
		if m.Audience == activities.AudienceBuyer && m.Data.Invoice != nil && m.Data.Invoice.Number == number {
			out = append(out, m.Kind)
		}
	}
	return out
}

// Each shipment is invoiced when it is delivered, under its own key, for
// its lines' share; the first invoice is dunned at its due date while the
// second shipment is still on its way; each payment settles the invoice
// it names, and the order completes when both are paid.
func TestInvoicePerShipmentBillsEachDeliveryAndDunsEachInvoice(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	day := 24 * time.Hour
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*day, func() { delivered(w, "SH-WH-NORTH") })
	w.at(2*day+time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "the motor is still on its way")
		require.Len(t, d.Invoices, 1)
		inv := d.Invoices[0]
		require.Equal(t, "INV-SH-WH-NORTH", inv.Number)
		require.Equal(t, pumpsPart, inv.Amount)
		require.Equal(t, "SH-WH-NORTH", inv.Shipment)
		require.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 2}}, inv.Lines)
		require.Equal(t, "INV-SH-WH-NORTH", d.Shipments[0].Invoice)
		require.Contains(t, d.Waiting, "Invoiced per shipment so far: INV-SH-WH-NORTH 2425.00 EUR open of 2425.00 EUR")
		require.Equal(t, []mail.Kind{mail.KindInvoice}, w.mailsFor("INV-SH-WH-NORTH"))
	})
	// Due 30 days after the 2nd: the reminder goes out on the 32nd, while
	// the motor is still on its way.
	w.at(33*day, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.Equal(t, []mail.Kind{mail.KindInvoice, mail.KindDunning}, w.mailsFor("INV-SH-WH-NORTH"))
		payInvoice(w, "BTX-1", pumpsPart, "INV-SH-WH-NORTH")
	})
	w.at(34*day, func() {
		require.Contains(t, w.details().Waiting, "INV-SH-WH-NORTH paid")
		delivered(w, "SH-WH-SOUTH")
	})
	w.at(34*day+time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.Len(t, d.Invoices, 2)
		require.Equal(t, "INV-SH-WH-SOUTH", d.Invoices[1].Number)
		require.Equal(t, motorPart, d.Invoices[1].Amount, "the last invoice bills what is left of the quote")
		require.Equal(t, d.Quote.Total.Minor, d.Invoices[0].Amount.Minor+d.Invoices[1].Amount.Minor)
		require.Contains(t, d.Waiting, "Waiting for payment of 2405.60 EUR on 2 invoice(s)")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(34*day+2*time.Hour, func() {
		// A payment that names no invoice of the order goes to the oldest open one.
		payInvoice(w, "BTX-2", motorPart, "PO-4711")
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusCreditCheck,
		order.StatusConfirmed, order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusCompleted},
		w.statuses())
	var keys []string
	for _, in := range w.invoiced {
		keys = append(keys, in.Key)
	}
	require.Equal(t, []string{activities.ShipmentInvoiceKey("ord-1", "SH-WH-NORTH"), activities.ShipmentInvoiceKey("ord-1", "SH-WH-SOUTH")}, keys)
	require.Equal(t, []mail.Kind{mail.KindInvoice}, w.mailsFor("INV-SH-WH-SOUTH"), "the second invoice was paid before it was due")
	d := w.details()
	require.Equal(t, "INV-SH-WH-NORTH", d.Payments[0].AppliedTo)
	require.Equal(t, "INV-SH-WH-SOUTH", d.Payments[1].AppliedTo)
	require.Equal(t, 2, countOf(w.actions(), "payment.exact"))
}

// Goods returned from both shipments are credited on the invoice that
// billed each: one credit note per invoice.
func TestInvoicePerShipmentReturnCreditsEachInvoice(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		require.Len(t, w.details().Invoices, 2)
		w.update(workflows.UpdateReturn, workflows.ReturnInput{Actor: cs, Reason: "not needed",
			Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}, {SKU: "MOTOR-7K", Quantity: 1}}}, "")
	})
	w.at(4*time.Hour, func() {
		w.signal(workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{EventID: "ev-1", ReturnID: "RET-RMA-1"})
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Equal(t, workflows.ReturnCredited, d.Returns[0].Status)
		require.Len(t, d.CreditNotes, 2)
		require.Equal(t, "INV-SH-WH-NORTH", d.CreditNotes[0].Invoice)
		require.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 1}}, d.CreditNotes[0].Lines)
		require.Equal(t, eur(121_250), d.CreditNotes[0].Amount)
		require.Equal(t, "INV-SH-WH-SOUTH", d.CreditNotes[1].Invoice)
		require.Equal(t, motorPart, d.CreditNotes[1].Amount)
		require.Contains(t, d.Waiting, "Waiting for payment of 1212.50 EUR")
		require.Contains(t, d.Waiting, "INV-SH-WH-SOUTH paid")
		payInvoice(w, "BTX-1", eur(121_250), "INV-SH-WH-NORTH")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Empty(t, w.details().Refunds)
}

// With several invoices, finance and CS name the one they act on; the
// validators say which exist, and each action lands on its invoice.
func TestInvoicePerShipmentActionsNameTheirInvoice(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	var wo, cn *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { delivered(w, "SH-WH-NORTH") })
	w.at(3*time.Hour, func() {
		// One invoice so far: it is the one, while the motor travels.
		cn = w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Amount: eur(2_500), Reason: "scratched pump housing"}, "")
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Reason: "not on this invoice",
			Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}}, workflows.ErrTypeInvalidArgument)
	})
	w.at(4*time.Hour, func() { delivered(w, "SH-WH-SOUTH") })
	w.at(5*time.Hour, func() {
		w.update(workflows.UpdateWriteOff, workflows.WriteOffInput{Actor: finance, Reason: "which one?"}, workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateWriteOff, workflows.WriteOffInput{Actor: finance, Reason: "not ours", InvoiceNumber: "INV-000042"}, workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Amount: eur(100), Reason: "which one?"}, workflows.ErrTypeInvalidArgument)
		payInvoice(w, "BTX-1", eur(242_500-2_500), "INV-SH-WH-NORTH")
		payInvoice(w, "BTX-2", eur(240_000), "INV-SH-WH-SOUTH") // 5.60 short, above the 5.00 tolerance
	})
	w.at(6*time.Hour, func() {
		d := w.details()
		require.Contains(t, d.Waiting, "Waiting for payment of 5.60 EUR")
		wo = w.update(workflows.UpdateWriteOff, workflows.WriteOffInput{Actor: finance, Reason: "bank charges", InvoiceNumber: "INV-SH-WH-SOUTH"}, "")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, cn.res.Message, "on invoice INV-SH-WH-NORTH")
	require.Contains(t, wo.res.Message, "Wrote off 5.60 EUR of invoice INV-SH-WH-SOUTH")
	d := w.details()
	require.Equal(t, "INV-SH-WH-NORTH", d.CreditNotes[0].Invoice)
	require.Equal(t, "INV-SH-WH-SOUTH", d.WriteOffs[0].Invoice)
	require.Equal(t, 1, countOf(w.actions(), "payment.exact"))
	require.Equal(t, 1, countOf(w.actions(), "payment.partial"))
}

// A shipment lost before it was billed is billed when its reship is
// delivered; the reship of a damaged shipment, already billed, is not
// billed again.
func TestInvoicePerShipmentBillsAReshipOnlyForGoodsNotBilled(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		lost(w, "SH-WH-SOUTH")
		delivered(w, "SH-WH-NORTH")
	})
	var lostReship, damagedReship *pending
	w.at(3*time.Hour, func() {
		lostReship = w.update(workflows.UpdateReship, workflows.ReshipInput{Actor: cs, ShipmentID: "SH-WH-SOUTH", Reason: "lost"}, "")
		damagedReship = w.update(workflows.UpdateReship, workflows.ReshipInput{Actor: cs, ShipmentID: "SH-WH-NORTH", Reason: "pump housings cracked on arrival"}, "")
	})
	w.at(4*time.Hour, func() {
		require.Equal(t, []string{"INV-SH-WH-NORTH"}, invoiceNumbers(w.details()), "the damaged pumps were billed on delivery")
		delivered(w, "SH-R-WH-SOUTH")
		delivered(w, "SH-R-WH-NORTH")
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Equal(t, []string{"INV-SH-WH-NORTH", "INV-SH-R-WH-SOUTH"}, invoiceNumbers(d))
		require.Equal(t, motorPart, d.Invoices[1].Amount)
		payInvoice(w, "BTX-1", pumpsPart, "INV-SH-WH-NORTH")
		payInvoice(w, "BTX-2", motorPart, "INV-SH-R-WH-SOUTH")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 7})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Len(t, w.invoiced, 2)
	require.Contains(t, lostReship.res.Message, "invoiced on delivery, as SH-WH-SOUTH was never invoiced")
	require.Contains(t, damagedReship.res.Message, "no new invoice")
}

func invoiceNumbers(d workflows.Details) []string {
	var out []string
	for _, inv := range d.Invoices {
		out = append(out, inv.Number)
	}
	return out
}

// A prepaid order is invoiced whole before it ships, whatever the terms.
func TestPrepaidOrderIsInvoicedWholeEvenPerShipment(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	w.prepaidAndPaid()
	w.at(4*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Len(t, w.invoiced, 1)
	require.Empty(t, w.invoiced[0].Key, "the order's invoice key")
	require.Equal(t, mainTotal, w.invoiced[0].Amount)
}

// Continued in the delivery wait with one shipment invoiced and reminded
// once: the run takes the invoice's dunning with it, sends the second
// reminder when due (not the first again), and invoices the last
// shipment on delivery.
func TestContinuedPerShipmentOrderDunsOnAndInvoicesTheRest(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	c := shippingState(t)
	c.Terms.InvoicePerShipment = true
	north, err := c.Details.Quote.Part(c.Details.Shipments[0].Lines)
	require.Nil(t, err)
	inv := order.Invoice{InvoiceID: "inv-SH-WH-NORTH", Number: "INV-SH-WH-NORTH", Amount: north.Total, IssuedAt: start.Add(48 * time.Hour),
		DueDate: start.Add(32 * 24 * time.Hour), Shipment: "SH-WH-NORTH", Lines: c.Details.Shipments[0].Lines}
	c.Details.Invoice, c.Details.Invoices = &inv, []order.Invoice{inv}
	c.Details.Shipments[0].Invoice = inv.Number
	c.Dunning = []workflows.DunState{{Invoice: inv.Number, Dunned: 1, Reminded: 1}}
	w.env.SetStartTime(start.Add(40 * 24 * time.Hour)) // the second reminder was due a day ago
	w.at(time.Hour, func() {
		require.Equal(t, []mail.Kind{mail.KindDunningSecond}, w.mailsFor("INV-SH-WH-NORTH"))
		delivered(w, "SH-WH-SOUTH")
	})
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.Equal(t, []string{"INV-SH-WH-NORTH", "INV-SH-WH-SOUTH"}, invoiceNumbers(d))
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() {
		payInvoice(w, "BTX-1", pumpsPart, "INV-SH-WH-NORTH")
		payInvoice(w, "BTX-2", motorPart, "INV-SH-WH-SOUTH")
	})
	require.Equal(t, order.StatusCompleted, w.runFrom(c).Status)
	w.mu.Lock()
	defer w.mu.Unlock()
	var keys []string
	for _, m := range w.mails {
		if m.Kind.Dunning() {
			keys = append(keys, m.Key)
		}
	}
	require.Equal(t, []string{"ord-1/mail/dunning-INV-SH-WH-NORTH-2"}, keys)
}

// The buyer disputes the first shipment's invoice while the second is on
// its way: no reminders until the dispute is resolved, then they resume a
// week later.
func TestInvoicePerShipmentDisputeWhileShippingPausesReminders(t *testing.T) {
	t.Parallel()
	w := perShipmentWorld(t)
	day := 24 * time.Hour
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*day, func() { delivered(w, "SH-WH-NORTH") })
	w.at(10*day, func() {
		w.update(workflows.UpdateDispute, workflows.DisputeInput{Actor: buyer, Reason: "two pumps invoiced, one arrived"}, "")
	})
	w.at(11*day, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.Contains(t, d.Waiting, "No reminders until the dispute is resolved")
	})
	w.at(40*day, func() {
		require.Equal(t, []mail.Kind{mail.KindInvoice}, w.mailsFor("INV-SH-WH-NORTH"), "due on the 32nd, but disputed")
		w.update(workflows.UpdateResolve, workflows.ResolveInput{Actor: cs, Reason: "second pump found at the dock"}, "")
	})
	w.at(46*day, func() {
		require.Equal(t, []mail.Kind{mail.KindInvoice}, w.mailsFor("INV-SH-WH-NORTH"), "reminders wait a week after the resolution")
	})
	w.at(48*day, func() {
		require.Equal(t, []mail.Kind{mail.KindInvoice, mail.KindDunning}, w.mailsFor("INV-SH-WH-NORTH"))
		delivered(w, "SH-WH-SOUTH")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(49*day, func() {
		payInvoice(w, "BTX-1", pumpsPart, "INV-SH-WH-NORTH")
		payInvoice(w, "BTX-2", motorPart, "INV-SH-WH-SOUTH")
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
}
