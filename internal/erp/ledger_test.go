package erp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
)

func TestWriteOff(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	inv := invoiced(t, c, "ord-wo")
	_, err := sim.PostBankPayment(ctx, "BTX-1", inv.Number, eur(118900))
	require.NoError(t, err)

	req := erp.WriteOffRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001", Amount: eur(100), Reason: "short payment within tolerance"}
	wo, err := c.WriteOff(ctx, "ord-wo/write-off/1", req)
	require.NoError(t, err)
	assert.Regexp(t, `^WO-\d{6}$`, wo.WriteOffID)
	assert.Equal(t, inv.Number, wo.InvoiceNumber)
	assert.Equal(t, eur(100), wo.Amount)
	assert.Equal(t, eur(0), wo.InvoiceOpenAfter, "settled")
	again, err := c.WriteOff(ctx, "ord-wo/write-off/1", req)
	require.NoError(t, err)
	assert.Equal(t, wo, again, "a retry is the same write-off")
	open, err := c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(1200000), open)

	_, err = c.WriteOff(ctx, "ord-wo/write-off/2", req)
	de := requireDownstream(t, err, http.StatusConflict, true)
	assert.Contains(t, de.Detail, "invoice_settled")

	u, err := c.VoidWriteOff(ctx, "ord-wo/write-off/1/undo", "ord-wo/write-off/1")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, WriteOffID: wo.WriteOffID}, u)
	open, err = c.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(1200000+100), open)

	_, err = c.WriteOff(ctx, "ord-wo/write-off/3", erp.WriteOffRequest{InvoiceID: inv.InvoiceID, CustomerID: "ACME-001",
		Amount: eur(101), Reason: "too much"})
	de = requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "write_off_exceeds_open")
	assert.Contains(t, de.Detail, `"field":"amount"`)

	u, err = c.VoidWriteOff(ctx, "ord-wo/never/undo", "ord-wo/never")
	require.NoError(t, err)
	assert.False(t, u.Found)
	_, err = c.WriteOff(ctx, "", req)
	requireDownstream(t, err, 0, true)
}

func TestAllocateCredit(t *testing.T) {
	t.Parallel()
	sim, c := newClient(t)
	ctx := context.Background()
	first := invoiced(t, c, "ord-a1")
	second := invoiced(t, c, "ord-a2")
	_, err := sim.PostBankPayment(ctx, "BTX-1", first.Number, eur(119000+40000))
	require.NoError(t, err)

	req := erp.CreditAllocationRequest{CustomerID: "ACME-001", InvoiceID: second.InvoiceID, Amount: eur(40000), Reason: "overpayment of " + first.Number}
	a, err := c.AllocateCredit(ctx, "ord-a2/credit-allocation/1", req)
	require.NoError(t, err)
	assert.Regexp(t, `^CA-\d{6}$`, a.AllocationID)
	assert.Equal(t, eur(40000), a.Applied)
	assert.Equal(t, eur(0), a.CreditBalanceAfter)
	assert.Equal(t, eur(79000), a.InvoiceOpenAfter)
	again, err := c.AllocateCredit(ctx, "ord-a2/credit-allocation/1", req)
	require.NoError(t, err)
	assert.Equal(t, a, again)
	bal, err := c.CreditBalance(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(0), bal, "applied once")

	_, err = c.AllocateCredit(ctx, "ord-a2/credit-allocation/2", erp.CreditAllocationRequest{CustomerID: "ACME-001",
		InvoiceID: second.InvoiceID, Amount: eur(1)})
	de := requireDownstream(t, err, http.StatusUnprocessableEntity, true)
	assert.Contains(t, de.Detail, "allocation_exceeds_credit_balance")
	_, err = c.AllocateCredit(ctx, "ord-a2/credit-allocation/2", erp.CreditAllocationRequest{CustomerID: "ACME-001",
		InvoiceID: second.InvoiceID, Amount: money.New(1, "USD")})
	requireDownstream(t, err, http.StatusUnprocessableEntity, true)

	u, err := c.VoidCreditAllocation(ctx, "ord-a2/credit-allocation/1/undo", "ord-a2/credit-allocation/1")
	require.NoError(t, err)
	assert.Equal(t, erp.Undo{Found: true, AllocationID: a.AllocationID}, u)
	bal, err = c.CreditBalance(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(40000), bal)
	u, err = c.VoidCreditAllocation(ctx, "ord-a2/credit-allocation/1/undo", "ord-a2/credit-allocation/1")
	require.NoError(t, err)
	assert.True(t, u.Found, "the undo replays")
}
