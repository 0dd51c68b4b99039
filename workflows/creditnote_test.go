package workflows_test

import (
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

// Issue 8: CS credits up to the customer's limit per order, finance above
// it; the credit comes off what the customer owes, and paying the rest
// completes the order.
func TestCreditNotesLowerWhatIsOwed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.deliverAll()
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 4, Comment: "one pump scratched"})
	})
	var byCS, byFinance *pending
	w.at(3*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		cn := func(a order.Actor, m money.Money, reason string) workflows.CreditNoteInput {
			return workflows.CreditNoteInput{Actor: a, Amount: m, Reason: reason}
		}
		w.update(workflows.UpdateCreditNote, cn(buyer, eur(1000), "x"), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateCreditNote, cn(cs, eur(1000), ""), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditNote, cn(cs, money.New(1000, "USD"), "x"), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditNote, cn(finance, eur(mainTotal.Minor+1), "too much"), workflows.ErrTypeInvalidArgument)
		byCS = w.update(workflows.UpdateCreditNote, cn(cs, eur(30_000), "scratched pump"), "")
	})
	w.at(4*time.Hour, func() {
		// 300.00 + 300.00 passes CS's 500.00 for Acme: finance's call.
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Amount: eur(30_000), Reason: "late"}, workflows.ErrTypeForbidden)
		byFinance = w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: finance, Amount: eur(30_000), Reason: "late delivery"}, "")
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Len(t, d.CreditNotes, 2)
		require.Equal(t, cs.Subject, d.CreditNotes[0].By.Subject)
		require.Contains(t, d.Waiting, "Waiting for payment of 4230.60 EUR", "4830.60 less 600.00 of credit")
		w.pay("BTX-1", eur(mainTotal.Minor-60_000))
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, byCS.res.Message, "Credit note")
	require.Contains(t, byFinance.res.Message, "issued on invoice INV-000001")
	require.Contains(t, w.actions(), "payment.exact", "the rest is exactly what was owed")
	n := 0
	for _, a := range w.actions() {
		if a == "credit-note.issued" {
			n++
		}
	}
	require.Equal(t, 2, n)
}

// A credit note on a paid invoice goes to the customer's credit balance,
// and finance is told to refund or apply it.
func TestCreditNoteOnAPaidInvoiceIsACreditBalance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.creditNote = func(in activities.IssueCreditNoteInput) activities.IssueCreditNoteResult {
		return activities.IssueCreditNoteResult{CreditNoteID: "cn-1", Number: "CN-000001", Amount: in.Amount,
			AppliedToInvoice: money.Zero("EUR"), ToCreditBalance: in.Amount}
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	var cn *pending
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status)
		cn = w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: finance, Amount: eur(10_000), Reason: "goodwill"}, "")
	})
	w.at(5*time.Hour, func() { w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9}) })
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, cn.res.Message, "credit balance")
	var told bool
	for _, m := range w.mails {
		told = told || (m.Kind == mail.KindFinanceAlert && strings.Contains(m.Data.Reason, "credit balance to refund or apply"))
	}
	require.True(t, told, "finance is told of the credit balance")
}

// Issue 8: finance pays an overpayment back to its payer; never more than
// a payment brought in, never to a payment the order does not have.
func TestFinanceRefundsAnOverpayment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(mainTotal.Minor+10_000)) }) // 100.00 too much
	var refund *pending
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusPaid, w.details().Status)
		rf := func(a order.Actor, m money.Money, txn string) workflows.RefundInput {
			return workflows.RefundInput{Actor: a, Amount: m, BankTransactionID: txn, Reason: "overpaid"}
		}
		w.update(workflows.UpdateRefund, rf(cs, eur(10_000), ""), workflows.ErrTypeForbidden)
		w.update(workflows.UpdateRefund, rf(finance, eur(10_000), "BTX-NOPE"), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateRefund, rf(finance, eur(mainTotal.Minor+10_001), "BTX-1"), workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateRefund, workflows.RefundInput{Actor: finance, Amount: eur(10_000)}, workflows.ErrTypeInvalidArgument)
		refund = w.update(workflows.UpdateRefund, rf(finance, eur(10_000), ""), "")
	})
	w.at(5*time.Hour, func() {
		d := w.details()
		require.Len(t, d.Refunds, 1)
		require.Equal(t, "BTX-1", d.Refunds[0].BankTransactionID)
		require.Equal(t, finance.Subject, d.Refunds[0].By.Subject)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Contains(t, refund.res.Message, "Refunded 100.00 EUR of payment BTX-1 to Acme Industrial GmbH")
	require.Contains(t, w.undos, "refund BTX-1 100.00 EUR (ord-1/refund/2)", "the refund's key follows the payment's registered undo")
	require.Contains(t, w.actions(), "refund.paid")
}

// Two CS credit notes at once, each within CS's 500.00 for Acme, together
// above it: the second is finance's.
func TestConcurrentCreditNotesKeepCSWithinItsLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() { w.deliverAll() })
	w.at(3*time.Hour, func() {
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Amount: eur(30_000), Reason: "scratched"}, "")
		w.update(workflows.UpdateCreditNote, workflows.CreditNoteInput{Actor: cs, Amount: eur(30_000), Reason: "late"}, workflows.ErrTypeForbidden)
	})
	w.at(4*time.Hour, func() {
		w.pay("BTX-1", eur(mainTotal.Minor-30_000))
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 8})
	})
	require.Equal(t, order.StatusCompleted, w.run().Status)
	require.Len(t, w.details().CreditNotes, 1)
}
