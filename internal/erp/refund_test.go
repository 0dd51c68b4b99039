package erp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
)

func TestRefund(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	inv := invoiced(t, c, "ord-rf")
	_, err := sim.PostBankPayment(ctx, "BTX-1", inv.Number, eur(119000))
	require.NoError(t, err)
	_, err = c.IssueCreditNote(ctx, "ord-rf/credit", erp.CreditNoteRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001", Kind: erp.CreditFull})
	require.NoError(t, err)
	bal, err := c.CreditBalance(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(119000), bal)

	req := erp.RefundRequest{CustomerID: "ACME-001", Amount: eur(119000), BankTransactionID: "BTX-1", Reason: "order cancelled"}
	rf, err := c.Refund(ctx, "ord-rf/refund", req)
	require.NoError(t, err)
	assert.Regexp(t, `^RF-\d{6}$`, rf.RefundID)
	assert.Equal(t, "payment", rf.Source)
	again, err := c.Refund(ctx, "ord-rf/refund", req)
	require.NoError(t, err)
	assert.Equal(t, rf, again)
	bal, err = c.CreditBalance(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(0), bal)

	// More than was paid less what was refunded: refused for good.
	_, err = c.Refund(ctx, "ord-rf/refund-2", erp.RefundRequest{CustomerID: "ACME-001", Amount: eur(1), BankTransactionID: "BTX-1"})
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "refund_exceeds_payment")

	_, err = c.Refund(ctx, "", req)
	requireDownstream(t, err, 0, true)
	_, err = c.CreditBalance(ctx, "NOPE", "EUR")
	requireDownstream(t, err, http.StatusNotFound, true)
}
