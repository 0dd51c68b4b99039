package workflows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// The run an order continues into takes the state the run before carried
// (workflows.Carried) and picks up its long wait. The e2e test
// TestLongLivedOrderContinuesAsNew makes real orders continue on the
// Temporal server; these tests check, stage by stage, that a continued run
// does what the run before would have done.

var start = time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)

// shippingState is an order continued while it waited for its two
// shipments, one of them delivered, seq 20 recorded.
func shippingState(t *testing.T) *workflows.Carried {
	t.Helper()
	lines := []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}
	q, err := order.Price(1, lines, listPrices, acmeTerms(), 0, start)
	require.NoError(t, err)
	require.Equal(t, mainTotal, q.Total)
	c := &workflows.Carried{
		Stage: "delivery", Run: 2, Terms: acmeTerms(), Lines: lines, Seq: 20, Failures: 1, Resends: 1,
		Details: workflows.Details{OrderID: "ord-1", CustomerID: "ACME-001", PONumber: "PO-77", Status: order.StatusShipping,
			Quote: &q, SalesOrderID: "SO-1", Waiting: "Waiting for proof of delivery of 1 of 2 shipment(s).",
			Shipments: []order.Shipment{
				{Warehouse: "WH-NORTH", Lines: lines[:1], ShipmentID: "SH-WH-NORTH", TrackingNumber: "TRK-N", PromisedDate: start.Add(72 * time.Hour),
					Delivered: true, DeliveredAt: start.Add(48 * time.Hour)},
				{Warehouse: "WH-SOUTH", Lines: lines[1:], ShipmentID: "SH-WH-SOUTH", TrackingNumber: "TRK-S", PromisedDate: start.Add(72 * time.Hour),
					Exception: "depot delay"},
			}},
		SeenExceptions: map[string]bool{"exc-1": true},
		LastMail:       map[mail.Kind]workflows.SentMail{mail.KindShipmentBooked: {Audience: "buyer", Key: "ord-1/mail/shipment-WH-SOUTH"}},
		Paid:           money.Zero("EUR"),
	}
	require.NoError(t, json.Unmarshal([]byte(`[
		{"kind":"cancel-sales-order","ref":"SO-1","key":"ord-1/sales-order","label":"cancel ERP sales order SO-1"},
		{"kind":"cancel-shipment","ref":"SH-WH-NORTH","key":"ord-1/shipment/WH-NORTH","label":"cancel shipment SH-WH-NORTH"},
		{"kind":"cancel-shipment","ref":"SH-WH-SOUTH","key":"ord-1/shipment/WH-SOUTH","label":"cancel shipment SH-WH-SOUTH"}]`), &c.Undos))
	c.Details.Compensations = []string{"cancel ERP sales order SO-1", "cancel shipment SH-WH-NORTH", "cancel shipment SH-WH-SOUTH"}
	return c
}

// paymentState is an order continued while it waited for the money: three
// reminders sent, finance told, the survey over, 1,000.00 paid.
func paymentState(t *testing.T) *workflows.Carried {
	t.Helper()
	c := shippingState(t)
	c.Stage, c.Seq, c.Dunned, c.Reminded, c.Escalated = "payment", 40, 3, 3, true
	c.Details.Status = order.StatusAwaitingPayment
	for i := range c.Details.Shipments {
		c.Details.Shipments[i].Delivered = true
	}
	inv := order.Invoice{InvoiceID: "inv-1", Number: "INV-000001", Amount: mainTotal, IssuedAt: start,
		DueDate: start.Add(30 * 24 * time.Hour)}
	c.Details.Invoice = &inv
	c.Paid = eur(100_000)
	c.Details.Paid = &c.Paid
	c.SurveyStarted, c.SurveyClosed = true, true
	c.SeenPayments = map[string]bool{"BTX-1": true}
	return c
}

func (w *world) runFrom(c *workflows.Carried) workflows.OrderResult {
	w.t.Helper()
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{
		OrderID: "ord-1", CustomerID: "ACME-001", PONumber: "PO-77", Lines: c.Lines, RequestedBy: buyer, Resume: c})
	require.True(w.t, w.env.IsWorkflowCompleted(), "workflow did not complete")
	for _, p := range w.pending {
		require.True(w.t, p.done, "update %s got no answer", p.name)
	}
	require.NoError(w.t, w.env.GetWorkflowError())
	var res workflows.OrderResult
	require.NoError(w.t, w.env.GetWorkflowResult(&res))
	return res
}

// Continued in the delivery wait: the query shows the carried order at
// once, a CS resend sends the carried mail, the last delivery leads on to
// the invoice and the money, and the audit log goes on from the carried
// seq without a repeated shipping transition.
func TestContinuedInTheDeliveryWaitCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.SetStartTime(start.Add(50 * time.Hour))
	// The run before sent the booking mail; the mail activity kept it.
	w.kept["ord-1/mail/shipment-WH-SOUTH"] = activities.SendMailInput{Key: "ord-1/mail/shipment-WH-SOUTH", Kind: mail.KindShipmentBooked,
		OrderID: "ord-1", Audience: "buyer", Data: mail.Data{OrderID: "ord-1", Shipment: &order.Shipment{ShipmentID: "SH-WH-SOUTH", TrackingNumber: "TRK-S"}}}
	var resend *pending
	w.at(time.Minute, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.Equal(t, "depot delay", d.Shipments[1].Exception)
		require.Len(t, d.Compensations, 3)
		// A repeat of a carrier event the run before applied changes nothing.
		w.signal(workflows.SignalShipmentException, workflows.ShipmentExceptionSignal{ShipmentID: "SH-WH-SOUTH", EventID: "exc-1", Detail: "old news"})
		resend = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend,
			Mail: mail.KindShipmentBooked, Reason: "buyer asks for the tracking number"}, "")
	})
	w.at(time.Hour, func() {
		require.Equal(t, "depot delay", w.details().Shipments[1].Exception)
		w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-S"})
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 10})
	})
	w.at(2*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.runFrom(shippingState(t))
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Contains(t, resend.res.Message, "Resent")

	p := w.projection()
	require.Greater(t, p[0].Seq, int64(20), "the audit log goes on from the carried seq")
	require.Equal(t, []order.Status{order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusCompleted}, w.statuses())
	require.NotContains(t, w.actions(), "order.shipping")
	require.NotContains(t, w.actions(), "shipment.exception", "exc-1 was applied by the run before")
	require.Equal(t, []mail.Kind{mail.KindShipmentBooked}, w.mailKinds()[:1], "the resend, then invoice and survey")
	require.Contains(t, w.mailKinds(), mail.KindInvoice)
}

// Continued in the delivery wait, then cancelled by CS: the undos the run
// before registered are run.
func TestContinuedOrderCancelRunsTheCarriedUndos(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.SetStartTime(start.Add(50 * time.Hour))
	w.at(time.Minute, func() {
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer called"}, "")
	})
	c := shippingState(t)
	c.Details.Shipments[0].Delivered = false // nothing delivered yet: CS may cancel
	res := w.runFrom(c)
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, []string{"cancel-shipment SH-WH-SOUTH", "cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, w.undos)
}

// Continued in the payment wait: the reminders go on from the fourth, and
// finance is not told a second time; the rest of the money completes the
// order (the survey closed in the run before, so no PAID).
func TestContinuedInThePaymentWaitDunsOnAndCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.SetStartTime(start.Add(62 * 24 * time.Hour)) // 32 days overdue
	w.at(40*24*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.Equal(t, eur(100_000), *d.Paid)
		// The run before applied BTX-1: a redelivered signal is not counted twice.
		w.pay("BTX-1", eur(100_000))
		w.pay("BTX-2", eur(383_060))
	})
	res := w.runFrom(paymentState(t))
	require.Equal(t, order.StatusCompleted, res.Status)
	var keys []string
	w.mu.Lock()
	for _, m := range w.mails {
		keys = append(keys, string(m.Kind))
		if m.Kind.Dunning() {
			require.NotContains(t, []string{"ord-1/mail/dunning-1", "ord-1/mail/dunning-3"}, m.Key, "reminders go on from the fourth")
		}
	}
	w.mu.Unlock()
	require.NotContains(t, keys, string(mail.KindFinanceAlert), "finance was told in the run before")
	require.Contains(t, keys, string(mail.KindDunningFinal), "reminders after the escalation are final notices")
	require.Equal(t, []order.Status{order.StatusAwaitingPayment, order.StatusCompleted}, w.statuses())
	require.Contains(t, w.actions(), "payment.exact")
}

// Every record carries a fence (the deciding task's history length above
// the runs before, store.Transition.Fence), and a run that continues as
// new hands the next one a base above every fence it used: history
// lengths start again in each run, fences never go back.
func TestRecordsAreFencedAcrossContinueAsNew(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.SetStartTime(start.Add(62 * 24 * time.Hour))
	w.env.SetCurrentHistoryLength(9)
	c := paymentState(t)
	c.FenceBase = 500
	w.at(time.Hour, func() { w.pay("BTX-2", eur(100_000)) })
	// Later tasks, further down the history, reach the order's limit.
	w.at(2*time.Hour, func() { w.env.SetCurrentHistoryLength(11) })
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{
		OrderID: "ord-1", CustomerID: "ACME-001", PONumber: "PO-77", Lines: c.Lines, RequestedBy: buyer, Resume: c,
		HistoryLimit: 10})
	require.True(t, w.env.IsWorkflowCompleted())

	var cont *workflow.ContinueAsNewError
	require.ErrorAs(t, w.env.GetWorkflowError(), &cont, "a history at its limit continues as new")
	var next workflows.OrderInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(cont.Input, &next))
	require.NotNil(t, next.Resume)
	require.Equal(t, int64(511), next.Resume.FenceBase, "the next run's records start above this run's")

	p := w.projection()
	require.NotEmpty(t, p, "the payment is recorded before the order continues")
	var fences []int64
	for _, r := range p {
		fences = append(fences, r.Fence)
		if r.Action == "payment.partial" {
			require.Equal(t, int64(509), r.Fence, "the payment is fenced by the task that applied it")
		}
	}
	require.IsNonDecreasing(t, fences, "a later seq never has an earlier fence")
	require.Contains(t, w.actions(), "payment.partial")
}
