package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// TestConflictsAreNotRetried: store answers that no retry can change end the
// attempt for good, so the order asks CS at once instead of burning its
// retry budget.
func TestConflictsAreNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()

	t.Run("payment already applied to another invoice", func(t *testing.T) {
		_, inv := invoiceOrder(t, f, "ord-pay", time.Now())
		_, _, err := f.store.RecordPayment(ctx, store.Payment{BankTransactionID: "BANK-1", Amount: inv.Amount, Reference: inv.Number})
		require.NoError(t, err)
		mustRun[activities.ApplyPaymentResult](t, f.env, f.acts.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: "ord-pay", BankTransactionID: "BANK-1", InvoiceNumber: inv.Number, Kind: order.MatchExact})
		_, err = run[activities.ApplyPaymentResult](t, f.env, f.acts.ApplyPayment, activities.ApplyPaymentInput{
			OrderID: "ord-other", BankTransactionID: "BANK-1", InvoiceNumber: "INV-999999", Kind: order.MatchExact})
		requireAppError(t, err, activities.ErrTypeConflict, true)
	})

	t.Run("a retried pricing that comes out otherwise answers the first saved quote", func(t *testing.T) {
		in := activities.PriceQuoteInput{OrderID: "ord-q", CustomerID: "ACME-001", Revision: 1, At: time.Now(),
			Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1}}}
		first := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, in)
		// Another outcome of the same revision (here: other lines; in life,
		// an ERP price that changed between two attempts).
		in.Lines = []order.Line{{SKU: "BOLT-M8", Quantity: 2}}
		again := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, in)
		require.Equal(t, first.Quote, again.Quote, "the first saved revision wins; the order is not stopped")
	})

	t.Run("open order in another currency than the terms", func(t *testing.T) {
		require.NoError(t, f.store.RecordTransition(ctx, store.Transition{OrderID: "ord-usd", CustomerID: "GLOBEX-002",
			Seq: 1, Status: order.StatusConfirmed, Total: money.New(100, "USD"), Action: "status.changed"}))
		_, err := run[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit,
			activities.CheckCreditInput{OrderID: "ord-c", CustomerID: "GLOBEX-002", Total: eur(100)})
		requireAppError(t, err, activities.ErrTypeConflict, true)
	})
}
