package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// Issue 8: a payment short by a bank fee within the customer's tolerance
// (5.00 EUR or 0.5 %, the smaller) settles the invoice: the rest is
// written off in the ERP, by the system, recorded.
func TestShortPaymentWithinToleranceIsWrittenOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(mainTotal.Minor-350)) }) // 3.50 EUR bank fee
	require.Equal(t, order.StatusCompleted, w.run().Status)
	d := w.details()
	require.Len(t, d.WriteOffs, 1)
	require.Equal(t, eur(350), d.WriteOffs[0].Amount)
	require.True(t, d.WriteOffs[0].Tolerated)
	require.Equal(t, order.System, d.WriteOffs[0].By)
	require.Contains(t, w.actions(), "invoice.written-off")
	require.Contains(t, w.actions(), "payment.reconciled")
}

// A shortfall above the tolerance waits for the money; finance may write
// it off (all of it, with a reason), and nobody else.
func TestFinanceWritesOffAShortfallAboveTolerance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(mainTotal.Minor-2_000)) }) // 20.00 short: above 5.00
	var wo *pending
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.Empty(t, d.WriteOffs)
		wi := func(a order.Actor, minor int64, reason string) workflows.WriteOffInput {
			return workflows.WriteOffInput{Actor: a, Amount: eur(minor), Reason: reason}
		}
		w.update(workflows.UpdateWriteOff, wi(cs, 0, "small"), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateWriteOff, wi(finance, 0, ""), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateWriteOff, wi(finance, 2_001, "too much"), workflows.ErrTypeInvalidArgument)
		wo = w.update(workflows.UpdateWriteOff, wi(finance, 0, "not worth chasing"), "")
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, wo.res.Message, "Wrote off 20.00 EUR of invoice INV-000001")
	d := w.details()
	require.Len(t, d.WriteOffs, 1)
	require.False(t, d.WriteOffs[0].Tolerated)
	require.Equal(t, finance.Subject, d.WriteOffs[0].By.Subject)
}

// Finance applies the customer's credit balance to what is open; the ERP
// refuses more than the balance, and the answer says so.
func TestFinanceAppliesCreditBalance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(mainTotal.Minor-15_000)) }) // 150.00 open
	w.at(4*time.Hour, func() {
		ac := func(a order.Actor, minor int64) workflows.ApplyCreditInput {
			return workflows.ApplyCreditInput{Actor: a, Amount: eur(minor), Reason: "overpaid on INV-000007"}
		}
		w.update(workflows.UpdateApplyCredit, ac(cs, 15_000), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateApplyCredit, ac(finance, 15_001), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateApplyCredit, ac(finance, 5_000), "")
	})
	w.at(5*time.Hour, func() {
		require.Contains(t, w.details().Waiting, "Waiting for payment of 100.00 EUR")
		w.update(workflows.UpdateApplyCredit, workflows.ApplyCreditInput{Actor: finance, Amount: eur(10_000), Reason: "the rest"}, "")
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	d := w.details()
	require.Len(t, d.CreditApplied, 2)
	require.Equal(t, []string{"allocate 50.00 EUR (ord-1/credit-allocation/1)", "allocate 100.00 EUR (ord-1/credit-allocation/2)"}, w.undos)
}

// Issue 8, three-way match: the ERP answers an invoice for another amount
// than the order expects. The buyer is not billed; CS corrects it in the
// ERP and retries; then the invoice goes out.
func TestThreeWayMatchStopsAWrongInvoice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.invoiceOff = 1
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention)
		require.Equal(t, "three-way match", d.Failure.Step)
		require.Contains(t, d.Failure.Error, "the ERP's invoice INV-000001 is for 4831.60 EUR")
		require.Contains(t, d.Failure.Error, "the order expects 4830.60 EUR")
		require.NotContains(t, w.mailKinds(), mail.KindInvoice, "the buyer is not billed wrongly")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "corrected in the ERP"}, "")
	})
	w.at(4*time.Hour, func() {
		d := w.details()
		require.False(t, d.NeedsAttention)
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, w.mailKinds(), mail.KindInvoice)
}

// Three-way match before billing: the ERP reserved and shipped one pump
// of the two quoted. Nothing is invoiced until CS decides: a retry finds
// it still short; a skip invoices as quoted (the difference goes by
// credit note).
func TestThreeWayMatchStopsInvoicingShortDeliveries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.reserve = func() (activities.ReserveResult, error) {
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{
			{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}},
			{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}},
		}}, nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention)
		require.Contains(t, d.Failure.Error, "1 × PUMP-200 delivered, 2 ordered")
		require.True(t, d.Failure.Skippable)
		require.Nil(t, d.Invoice)
		require.NotContains(t, w.mailKinds(), mail.KindInvoice)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "checked"}, "")
	})
	w.at(4*time.Hour, func() {
		require.True(t, w.details().NeedsAttention, "still short")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "customer keeps one; credit note follows"}, "")
	})
	w.at(5*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.pay("BTX-1", mainTotal)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, w.actions(), "action.skip")
}

// Issue 8: dunning levels. A friendly reminder at the due date, second
// notices weekly after it, and the final notice once finance has the
// invoice (with finance's alert the same day).
func TestDunningLevels(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, w.deliverAll)
	// Due 30 days after invoicing: reminders at 0, 7, 14, 21, 28 days
	// overdue; finance at 30; then monthly, the first at 60; paid at 100
	// days after the order.
	w.at(100*24*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	require.Equal(t, order.StatusCompleted, w.run().Status)
	var levels []mail.Kind
	for _, k := range w.mailKinds() {
		if k.Dunning() || k == mail.KindFinanceAlert {
			levels = append(levels, k)
		}
	}
	require.Equal(t, []mail.Kind{mail.KindDunning, mail.KindDunningSecond, mail.KindDunningSecond, mail.KindDunningSecond,
		mail.KindDunningSecond, mail.KindFinanceAlert, mail.KindDunningFinal}, levels)
}
