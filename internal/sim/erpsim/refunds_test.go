package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func refundBody(txn string, minor int64) map[string]any {
	b := map[string]any{"customer_id": "ACME-001", "amount": eur(minor), "reason": "returned goods"}
	if txn != "" {
		b["bank_transaction_id"] = txn
	}
	return b
}

func TestRefundOfAPaymentNeverMoreThanItPaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invID, number := e.invoiceTaxed(t, "ord-rf")
	_, err := e.sim.PostBankPayment(ctx, "BTX-1", number, eur(119000))
	require.NoError(t, err)

	// Applied to an invoice still open for it: nothing is held to refund.
	r := e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-1", refundBody("BTX-1", 1000))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "refund_exceeds_credit_balance", r.json(t)["error"])

	// A credit note for one pump puts 59 500 on the credit balance.
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-rf/credit", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "kind": "lines",
		"lines": []map[string]any{{"sku": "PUMP-200", "quantity": 1, "amount": eur(59500)}}})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	require.Equal(t, int64(59500), e.creditBalance(t))

	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-1", refundBody("BTX-1", 59500))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	rf := r.json(t)
	assert.Equal(t, "RF-000001", rf["refund_id"])
	assert.Equal(t, "payment", rf["source"])
	assert.Equal(t, "BTX-1", rf["bank_transaction_id"])
	assert.Equal(t, int64(0), e.creditBalance(t))
	receivables := e.receivables(t, "ACME-001", "EUR")

	// A retry is the same refund; a second refund finds nothing left.
	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-1", refundBody("BTX-1", 59500))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "RF-000001", r.json(t)["refund_id"])
	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-2", refundBody("BTX-1", 1))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "refund_exceeds_credit_balance", r.json(t)["error"])
	assert.Equal(t, receivables, e.receivables(t, "ACME-001", "EUR"), "a refund does not touch the receivables")

	// Once the credit note is refunded it cannot be taken back.
	r = e.do(t, http.MethodPost, "/v1/credit-notes/void-by-key", "ord-rf/credit/undo", map[string]any{"forward_key": "ord-rf/credit"})
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "credit_note_refunded", r.json(t)["error"])

	// Voiding the rest of the invoice frees the rest of the payment, but
	// never more than the payment brought in.
	r = e.do(t, http.MethodPost, "/v1/credit-notes", "ord-rf/credit-rest", map[string]any{
		"invoice_id": invID, "customer_id": "ACME-001", "kind": "full"})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	_, err = e.sim.PostBankPayment(ctx, "BTX-2", number, eur(1000)) // an overpayment on top
	require.NoError(t, err)
	require.Equal(t, int64(59500+1000), e.creditBalance(t))
	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-3", refundBody("BTX-1", 60000))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "refund_exceeds_payment", r.json(t)["error"])
	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-3", refundBody("BTX-1", 59500))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	r = e.do(t, http.MethodPost, "/v1/refunds", "ord-rf/refund-4", refundBody("", 1000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, "credit_balance", r.json(t)["source"])
	assert.Equal(t, int64(0), e.creditBalance(t))

	refunds, err := e.sim.Refunds(ctx, "ACME-001")
	require.NoError(t, err)
	require.Len(t, refunds, 3)
	assert.Equal(t, []string{"RF-000001", "RF-000002", "RF-000003"}, []string{refunds[0].ID, refunds[1].ID, refunds[2].ID})
	assert.Equal(t, erpsim.RefundOfCreditBalance, refunds[2].Source)
}

func TestRefundRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, number := e.invoiceTaxed(t, "ord-rr")
	_, err := e.sim.PostBankPayment(ctx, "BTX-OVER", number, eur(120000)) // 1 000 over
	require.NoError(t, err)
	_, err = e.sim.PostBankPayment(ctx, "BTX-NOBODY", "thanks", eur(5000)) // names no invoice
	require.NoError(t, err)

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"more than the balance", refundBody("", 1001), 422, "refund_exceeds_credit_balance"},
		{"an unknown payment", refundBody("BTX-NONE", 1), 422, "unknown_payment"},
		{"another customer's payment", map[string]any{"customer_id": "GLOBEX-002", "amount": eur(1), "bank_transaction_id": "BTX-OVER"}, 422, "customer_mismatch"},
		{"another currency", map[string]any{"customer_id": "ACME-001", "amount": money.New(1, "USD"), "bank_transaction_id": "BTX-OVER"}, 422, "currency_mismatch"},
		{"an unknown customer", map[string]any{"customer_id": "NOPE", "amount": eur(1)}, 422, "unknown_customer"},
		{"unapplied cash, more than it paid", map[string]any{"customer_id": "GLOBEX-002", "amount": eur(5001), "bank_transaction_id": "BTX-NOBODY"}, 422, "refund_exceeds_payment"},
		{"no amount", map[string]any{"customer_id": "ACME-001"}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		r := e.do(t, http.MethodPost, "/v1/refunds", "bad/"+tt.name, tt.body)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.code, r.json(t)["error"], tt.name)
	}

	// The overpayment is refundable, and unapplied cash is refundable to whoever paid it.
	r := e.do(t, http.MethodPost, "/v1/refunds", "ok/over", refundBody("BTX-OVER", 1000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	r = e.do(t, http.MethodPost, "/v1/refunds", "ok/nobody", map[string]any{"customer_id": "GLOBEX-002", "amount": eur(5000), "bank_transaction_id": "BTX-NOBODY"})
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(0), e.creditBalance(t))
}
