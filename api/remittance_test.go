package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// remittanceAck is the payments webhook's answer to a remittance.
type remittanceAck struct {
	Status string `json:"status"`
	Parts  []struct {
		Reference         string `json:"reference"`
		BankTransactionID string `json:"bank_transaction_id"`
		Status            string `json:"status"`
	} `json:"parts"`
}

func TestPaymentsWebhookSplitsARemittance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	ctx := context.Background()
	eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
	first, second := e.createOrder("r1", quoteBody()), e.createOrder("r2", quoteBody())
	for id, number := range map[string]string{first: "INV-2001", second: "INV-2002"} {
		require.NoError(t, e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "inv_" + number, Number: number,
			Amount: eur(100_00), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	}
	const path = "/v1/webhooks/payments"
	received := e.now.Add(-time.Minute)
	pay := func(eventID string, parts ...webhook.RemittancePart) webhook.PaymentEvent {
		var sum int64
		for _, p := range parts {
			sum += p.Amount.Minor
		}
		return webhook.PaymentEvent{EventID: eventID, BankTransactionID: "BTX-R", Amount: eur(sum), Reference: "INV-2001 INV-2002",
			Payer: "Acme Industrial GmbH", ReceivedAt: received, Remittance: parts}
	}
	parts := []webhook.RemittancePart{{Reference: "INV-2001", Amount: eur(100_00)}, {Reference: " INV-2002", Amount: eur(30_00)},
		{Reference: "PO-99", Amount: eur(20_00)}}

	t.Run("a part whose order cannot be told fails the event, unrecorded", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, first, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		e.tc.On("SignalWorkflow", mock.Anything, second, "", workflows.SignalPayment, mock.Anything).
			Return(errors.New("deadline exceeded")).Once()
		requireProblem(t, e.hook(path, paymentsSecret, e.now, pay("rev-1", parts...)), http.StatusServiceUnavailable)
		seen, err := e.store.WebhookEventSeen(ctx, api.SourcePayments, "rev-1")
		require.NoError(t, err)
		require.False(t, seen)
	})

	t.Run("each part is signalled to its own order under its own id", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, first, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		e.tc.On("SignalWorkflow", mock.Anything, second, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		w := e.hook(path, paymentsSecret, e.now, pay("rev-1", parts...))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		ack := decode[remittanceAck](t, w)
		require.Equal(t, api.WebhookAccepted, ack.Status)
		require.Len(t, ack.Parts, 3)
		require.Equal(t, "BTX-R:INV-2001", ack.Parts[0].BankTransactionID)
		require.Equal(t, "INV-2002", ack.Parts[1].Reference)
		require.Equal(t, []string{api.WebhookAccepted, api.WebhookAccepted, api.WebhookUnmatched},
			[]string{ack.Parts[0].Status, ack.Parts[1].Status, ack.Parts[2].Status})

		sigs := e.signals(first, workflows.SignalPayment)
		require.Len(t, sigs, 2, "the failed attempt's and the retry's")
		require.Equal(t, workflows.PaymentSignal{BankTransactionID: "BTX-R:INV-2001", Amount: eur(100_00),
			Reference: "INV-2001", ReceivedAt: received}, sigs[1])
		require.Equal(t, sigs[0], sigs[1], "told again under the same id: the order drops the copy")
		sigs = e.signals(second, workflows.SignalPayment)
		require.Equal(t, workflows.PaymentSignal{BankTransactionID: "BTX-R:INV-2002", Amount: eur(30_00),
			Reference: "INV-2002", ReceivedAt: received}, sigs[len(sigs)-1])

		// The part no invoice matches waits for finance, like an unmatched payment.
		queue, err := e.store.UnmatchedPayments(ctx)
		require.NoError(t, err)
		var unmatched []store.Payment
		for _, p := range queue {
			if p.BankTransactionID == "BTX-R:PO-99" {
				unmatched = append(unmatched, p)
			}
		}
		require.Len(t, unmatched, 1)
		require.Equal(t, eur(20_00), unmatched[0].Amount)
		require.Equal(t, "PO-99", unmatched[0].Reference)
	})

	t.Run("a duplicate is acknowledged and not signalled again", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		require.Equal(t, api.WebhookDuplicate, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("rev-1", parts...))))
		require.Len(t, e.calls("SignalWorkflow"), before)
	})

	t.Run("a bad remittance is a 422 naming the field, and nothing is stored", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		short := pay("rev-bad-1", parts...)
		short.Amount = eur(149_99)
		tests := []struct {
			name  string
			ev    webhook.PaymentEvent
			field string
		}{
			{"the parts do not add up", short, "remittance"},
			{"a part in another currency", pay("rev-bad-2", parts[0], parts[1], webhook.RemittancePart{Reference: "PO-99", Amount: money.New(20_00, "USD")}), "remittance[2].amount"},
			{"a part of nothing", pay("rev-bad-3", parts[0], parts[1], webhook.RemittancePart{Reference: "PO-99", Amount: eur(0)}), "remittance[2].amount"},
			{"a part without a reference", pay("rev-bad-4", parts[0], webhook.RemittancePart{Reference: "", Amount: eur(30_00)}), "remittance[1].reference"},
			{"a reference given twice", pay("rev-bad-5", parts[0], webhook.RemittancePart{Reference: "INV-2001", Amount: eur(30_00)}), "remittance[1].reference"},
		}
		for _, tt := range tests {
			tt.ev.BankTransactionID = "BTX-BAD"
			p := requireProblem(t, e.hook(path, paymentsSecret, e.now, tt.ev), http.StatusUnprocessableEntity)
			require.Equal(t, []string{tt.field}, p.fields(), tt.name)
			seen, err := e.store.WebhookEventSeen(ctx, api.SourcePayments, tt.ev.EventID)
			require.NoError(t, err)
			require.False(t, seen, tt.name)
		}
		for _, id := range []string{"BTX-BAD", "BTX-BAD:INV-2001", "BTX-BAD:PO-99"} {
			_, err := e.store.Payment(ctx, id)
			require.ErrorIs(t, err, store.ErrNotFound, "%s is never written", id)
		}
		require.Len(t, e.calls("SignalWorkflow"), before, "never reaches an order")
	})

	t.Run("finance allocates an unmatched part by its id", func(t *testing.T) {
		w := e.do(req{method: http.MethodPost, path: "/v1/payments/BTX-R:PO-99/allocate", token: e.token(order.RoleFinance),
			body: map[string]any{"order_id": "ord_NOPE", "reason": "remittance named the PO"}})
		// The payment is found by its part id; the allocation is refused for the order it names.
		p := requireProblem(t, w, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"order_id"}, p.fields())
	})
}
