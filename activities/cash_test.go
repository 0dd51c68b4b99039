package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func TestLedgerKeys(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ord-1/write-off/1", activities.WriteOffKey("ord-1", 1))
	assert.Equal(t, "ord-1/write-off/2", activities.WriteOffKey("ord-1", 2))
	assert.Equal(t, "ord-1/credit-allocation/1", activities.CreditAllocationKey("ord-1", 1))
	assert.NotEqual(t, activities.WriteOffKey("ord-1", 1), activities.CreditNoteKey("ord-1", 1))
}

func TestWriteOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-wo"
	_, inv := invoiceOrder(t, f, orderID, time.Now())
	// The customer pays 20.00 short.
	_, _, err := f.bank.Pay(ctx, inv.Number, eur(498000-2000), "Acme Industrial GmbH")
	require.NoError(t, err)
	in := activities.WriteOffInput{Key: activities.WriteOffKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001",
		InvoiceID: inv.InvoiceID, Amount: eur(2000), Reason: "short payment within tolerance"}

	t.Run("more than is open is refused for good", func(t *testing.T) {
		over := in
		over.Key, over.Amount = activities.WriteOffKey(orderID, 9), eur(2001)
		_, err := run[activities.WriteOffResult](t, f.env, f.acts.WriteOff, over)
		appErr := requireAppError(t, err, activities.ErrTypeRejected, true)
		assert.Contains(t, appErr.Error(), "write_off_exceeds_open")
		noReason := in
		noReason.Reason = ""
		_, err = run[activities.WriteOffResult](t, f.env, f.acts.WriteOff, noReason)
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})

	t.Run("a retry after a lost answer writes off once and settles the invoice", func(t *testing.T) {
		wo := loseThenRetry[activities.WriteOffResult](t, f,
			func() { f.erp.SetFaults(loseAnswers(erpsim.RouteWriteOffsCreate)) }, f.acts.WriteOff, in)
		assert.Equal(t, activities.WriteOffResult{WriteOffID: "WO-000001", Amount: eur(2000), InvoiceOpenAfter: eur(0)}, wo)
		invs, err := f.erp.Invoices(ctx, orderID)
		require.NoError(t, err)
		assert.Equal(t, eur(2000), invs[0].WrittenOff)
		assert.Equal(t, eur(0), invs[0].Open)
	})

	t.Run("void by key, twice, and a key that posted nothing", func(t *testing.T) {
		void := activities.VoidWriteOffInput{Key: in.Key, OrderID: orderID}
		res := mustRun[activities.VoidWriteOffResult](t, f.env, f.acts.VoidWriteOff, void)
		assert.Equal(t, activities.VoidWriteOffResult{WriteOffID: "WO-000001"}, res)
		assert.Equal(t, res, mustRun[activities.VoidWriteOffResult](t, f.env, f.acts.VoidWriteOff, void))
		invs, err := f.erp.Invoices(ctx, orderID)
		require.NoError(t, err)
		assert.Equal(t, eur(2000), invs[0].Open)
		nothing := mustRun[activities.VoidWriteOffResult](t, f.env, f.acts.VoidWriteOff,
			activities.VoidWriteOffInput{Key: activities.WriteOffKey(orderID, 7), OrderID: orderID})
		assert.True(t, nothing.NothingToUndo)
		_, err = run[activities.VoidWriteOffResult](t, f.env, f.acts.VoidWriteOff, activities.VoidWriteOffInput{OrderID: orderID})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

func TestAllocateCredit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	// The first order is overpaid by 100.00; finance applies that to the second.
	_, first := invoiceOrder(t, f, "ord-a1", time.Now())
	_, second := invoiceOrder(t, f, "ord-a2", time.Now())
	_, _, err := f.bank.Pay(ctx, first.Number, eur(498000+10000), "Acme Industrial GmbH")
	require.NoError(t, err)
	const orderID = "ord-a2"
	in := activities.AllocateCreditInput{Key: activities.CreditAllocationKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001",
		InvoiceID: second.InvoiceID, Amount: eur(10000), Reason: "overpayment of " + first.Number}

	t.Run("more than the balance is refused for good", func(t *testing.T) {
		over := in
		over.Key, over.Amount = activities.CreditAllocationKey(orderID, 9), eur(10001)
		_, err := run[activities.AllocateCreditResult](t, f.env, f.acts.AllocateCredit, over)
		appErr := requireAppError(t, err, activities.ErrTypeRejected, true)
		assert.Contains(t, appErr.Error(), "allocation_exceeds_credit_balance")
	})

	t.Run("a retry after a lost answer applies once", func(t *testing.T) {
		res := loseThenRetry[activities.AllocateCreditResult](t, f,
			func() { f.erp.SetFaults(loseAnswers(erpsim.RouteAllocationsCreate)) }, f.acts.AllocateCredit, in)
		assert.Equal(t, activities.AllocateCreditResult{AllocationID: "CA-000001", Applied: eur(10000),
			CreditBalanceAfter: eur(0), InvoiceOpenAfter: eur(488000)}, res)
	})

	t.Run("void by key gives the balance back", func(t *testing.T) {
		void := activities.VoidCreditAllocationInput{Key: in.Key, OrderID: orderID}
		res := mustRun[activities.VoidCreditAllocationResult](t, f.env, f.acts.VoidCreditAllocation, void)
		assert.Equal(t, activities.VoidCreditAllocationResult{AllocationID: "CA-000001"}, res)
		assert.Equal(t, res, mustRun[activities.VoidCreditAllocationResult](t, f.env, f.acts.VoidCreditAllocation, void))
		bals, err := f.erp.CreditBalances(ctx, "ACME-001")
		require.NoError(t, err)
		require.Len(t, bals, 1)
		assert.Equal(t, eur(10000), bals[0].Balance)
	})
}
