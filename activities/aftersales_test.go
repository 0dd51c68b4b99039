package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// loseThenRetry runs an activity while the simulator drops every answer of
// route (it commits, the activity hears nothing: retryable), heals, runs it
// again under the same input, and returns the second result: what a
// Temporal retry after a lost answer gets.
func loseThenRetry[R any](t *testing.T, f *fixture, setFaults func(), activity, in any) R {
	t.Helper()
	setFaults()
	_, err := run[R](t, f.env, activity, in)
	requireAppError(t, err, activities.ErrTypeUnavailable, false)
	f.erp.ClearFaults()
	f.carrier.ClearFaults()
	f.bank.ClearFaults()
	return mustRun[R](t, f.env, activity, in)
}

// paidInvoice invoices pumpsAndMotor for orderID (498 000) and pays it
// through the bank, which posts the payment to the ERP's statement; it
// returns the sales order, the invoice and the bank transaction.
func paidInvoice(t *testing.T, f *fixture, orderID string) (string, order.Invoice, string) {
	t.Helper()
	so, inv := invoiceOrder(t, f, orderID, time.Now())
	txn, _, err := f.bank.Pay(context.Background(), inv.Number, inv.Amount, "Acme Industrial GmbH")
	require.NoError(t, err)
	return so, inv, txn
}

func TestIssueCreditNote(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-cn"
	_, inv := invoiceOrder(t, f, orderID, time.Now())
	in := activities.IssueCreditNoteInput{Key: activities.CreditNoteKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001",
		InvoiceID: inv.InvoiceID, Kind: activities.CreditLines, Reason: "one pump damaged",
		Lines: []activities.CreditLine{{SKU: "PUMP-200", Quantity: 1, Amount: eur(125000)}}}

	t.Run("a retry after a lost answer credits once", func(t *testing.T) {
		cn := loseThenRetry[activities.IssueCreditNoteResult](t, f,
			func() { f.erp.SetFaults(loseAnswers(erpsim.RouteCreditNotesCreate)) }, f.acts.IssueCreditNote, in)
		assert.Equal(t, eur(125000), cn.Amount)
		assert.Equal(t, eur(125000), cn.AppliedToInvoice, "the invoice was open")
		assert.Equal(t, inv.Number, cn.InvoiceNumber)
		cns, err := f.erp.CreditNotes(ctx, orderID)
		require.NoError(t, err)
		require.Len(t, cns, 1)
		assert.Equal(t, cns[0].ID, cn.CreditNoteID)
		open, err := f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
		require.NoError(t, err)
		assert.Equal(t, eur(1200000+498000-125000), open)
	})

	t.Run("more than is left on the invoice is refused for good", func(t *testing.T) {
		over := in
		over.Key, over.Kind, over.Lines, over.Amount = activities.CreditNoteKey(orderID, 2), activities.CreditAmount, nil, eur(498000)
		_, err := run[activities.IssueCreditNoteResult](t, f.env, f.acts.IssueCreditNote, over)
		requireAppError(t, err, activities.ErrTypeRejected, true)
		noKey := in
		noKey.Key = ""
		_, err = run[activities.IssueCreditNoteResult](t, f.env, f.acts.IssueCreditNote, noKey)
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})

	t.Run("void by the key it was issued under", func(t *testing.T) {
		void := activities.VoidCreditNoteInput{OrderID: orderID, ForwardKey: in.Key}
		res := mustRun[activities.VoidCreditNoteResult](t, f.env, f.acts.VoidCreditNote, void)
		assert.NotEmpty(t, res.CreditNoteID)
		assert.Equal(t, res, mustRun[activities.VoidCreditNoteResult](t, f.env, f.acts.VoidCreditNote, void), "compensation replayed")
		byID := mustRun[activities.VoidCreditNoteResult](t, f.env, f.acts.VoidCreditNote,
			activities.VoidCreditNoteInput{OrderID: orderID, CreditNoteID: res.CreditNoteID})
		assert.Equal(t, res.CreditNoteID, byID.CreditNoteID)
		open, err := f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
		require.NoError(t, err)
		assert.Equal(t, eur(1200000+498000), open)
		nothing := mustRun[activities.VoidCreditNoteResult](t, f.env, f.acts.VoidCreditNote,
			activities.VoidCreditNoteInput{OrderID: orderID, ForwardKey: activities.CreditNoteKey(orderID, 9)})
		assert.Equal(t, activities.VoidCreditNoteResult{NothingToUndo: true}, nothing)
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-rf"
	_, inv, txn := paidInvoice(t, f, orderID)
	// The motor comes back: its credit goes to the credit balance, the invoice being paid.
	cn := mustRun[activities.IssueCreditNoteResult](t, f.env, f.acts.IssueCreditNote, activities.IssueCreditNoteInput{
		Key: activities.CreditNoteKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001", InvoiceID: inv.InvoiceID,
		Kind: activities.CreditLines, Lines: []activities.CreditLine{{SKU: "MOTOR-7K", Quantity: 1, Amount: eur(248000)}}})
	require.Equal(t, eur(248000), cn.ToCreditBalance)
	in := activities.RefundInput{Key: activities.RefundKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001",
		Amount: eur(248000), BankTransactionID: txn, Reason: "motor returned"}

	t.Run("more than was paid is refused, and the bank pays nothing", func(t *testing.T) {
		over := in
		over.Key, over.Amount = activities.RefundKey(orderID, 9), eur(498001)
		_, err := run[activities.RefundResult](t, f.env, f.acts.Refund, over)
		appErr := requireAppError(t, err, activities.ErrTypeRejected, true)
		assert.Contains(t, appErr.Error(), "refund_exceeds_payment")
		more := in
		more.Key, more.Amount = activities.RefundKey(orderID, 9), eur(248001)
		_, err = run[activities.RefundResult](t, f.env, f.acts.Refund, more)
		requireAppError(t, err, activities.ErrTypeRejected, true)
		transfers, err := f.bank.Transfers(ctx, "")
		require.NoError(t, err)
		assert.Empty(t, transfers)
	})

	t.Run("lost answers of the ERP and of the bank: booked once, paid once", func(t *testing.T) {
		// The ERP books the refund and its answer is lost: nothing is paid yet.
		f.erp.SetFaults(loseAnswers(erpsim.RouteRefundsCreate))
		_, err := run[activities.RefundResult](t, f.env, f.acts.Refund, in)
		requireAppError(t, err, activities.ErrTypeUnavailable, false)
		f.erp.ClearFaults()
		// The retry finds the refund; the bank pays and its answer is lost.
		res := loseThenRetry[activities.RefundResult](t, f,
			func() { f.bank.SetFaults(loseAnswers(banksim.RouteTransfersCreate)) }, f.acts.Refund, in)
		assert.Equal(t, eur(248000), res.Amount)
		assert.Equal(t, "payment", res.Source)
		assert.Equal(t, "Acme Industrial GmbH", res.PaidTo, "back to the payer")

		refunds, err := f.erp.Refunds(ctx, "ACME-001")
		require.NoError(t, err)
		require.Len(t, refunds, 1, "the ERP booked one refund")
		assert.Equal(t, res.RefundID, refunds[0].ID)
		transfers, err := f.bank.Transfers(ctx, txn)
		require.NoError(t, err)
		require.Len(t, transfers, 1, "the bank paid once")
		assert.Equal(t, res.TransferID, transfers[0].TransferID)
		assert.Equal(t, eur(248000), transfers[0].Amount)
		bal, err := f.acts.ERP.CreditBalance(ctx, "ACME-001", "EUR")
		require.NoError(t, err)
		assert.Equal(t, eur(0), bal)

		again := mustRun[activities.RefundResult](t, f.env, f.acts.Refund, in)
		assert.Equal(t, res, again, "a later retry is answered, not paid")
	})

	t.Run("a refund of the credit balance names whom to pay", func(t *testing.T) {
		noPayee := activities.RefundInput{Key: activities.RefundKey(orderID, 2), OrderID: orderID, CustomerID: "ACME-001", Amount: eur(1)}
		_, err := run[activities.RefundResult](t, f.env, f.acts.Refund, noPayee)
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		refunds, err := f.erp.Refunds(ctx, "ACME-001")
		require.NoError(t, err)
		assert.Len(t, refunds, 1, "refused before the ERP booked anything")
	})
}

func TestReturnAuthorisationAndPickup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-ret"
	so, _ := invoiceOrder(t, f, orderID, time.Now())
	rmaIn := activities.CreateRMAInput{Key: activities.RMAKey(orderID, 1), OrderID: orderID, CustomerID: "ACME-001",
		SalesOrderID: so, Lines: []order.Line{{SKU: "PUMP-200", Quantity: 1}}, Reason: "damaged"}

	rma := loseThenRetry[activities.CreateRMAResult](t, f,
		func() { f.erp.SetFaults(loseAnswers(erpsim.RouteRMAsCreate)) }, f.acts.CreateRMA, rmaIn)
	rmas, err := f.erp.RMAs(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, rmas, 1, "authorised once")
	assert.Equal(t, rmas[0].ID, rma.RMAID)

	over := rmaIn
	over.Key, over.Lines = activities.RMAKey(orderID, 2), []order.Line{{SKU: "PUMP-200", Quantity: 2}}
	_, err = run[activities.CreateRMAResult](t, f.env, f.acts.CreateRMA, over)
	requireAppError(t, err, activities.ErrTypeRejected, true)

	pickupIn := activities.BookReturnPickupInput{Key: activities.ReturnPickupKey(orderID, rma.RMAID), OrderID: orderID,
		RMAID: rma.RMAID, Warehouse: "WH-NORTH", Lines: rma.Lines}
	pickup := loseThenRetry[activities.BookReturnPickupResult](t, f,
		func() { f.carrier.SetFaults(loseAnswers(carriersim.RouteReturnBook)) }, f.acts.BookReturnPickup, pickupIn)
	list, err := f.carrier.Shipments(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, list, 1, "booked once")
	assert.Equal(t, list[0].ShipmentID, pickup.ReturnID)
	assert.Equal(t, carriersim.KindReturn, list[0].Kind)
	assert.Equal(t, rma.RMAID, list[0].RMA)

	t.Run("the goods come back: received once, on hand again", func(t *testing.T) {
		_, err := f.carrier.Return(ctx, pickup.ReturnID)
		require.NoError(t, err)
		before := available(t, f.erp, "WH-NORTH", "PUMP-200")
		in := activities.ReceiveRMAInput{OrderID: orderID, RMAID: rma.RMAID}
		got := mustRun[activities.ReceiveRMAResult](t, f.env, f.acts.ReceiveRMA, in)
		assert.Equal(t, rma.Lines, got.Lines)
		mustRun[activities.ReceiveRMAResult](t, f.env, f.acts.ReceiveRMA, in)
		assert.Equal(t, before+1, available(t, f.erp, "WH-NORTH", "PUMP-200"))
		_, err = run[activities.CancelRMAResult](t, f.env, f.acts.CancelRMA, activities.CancelRMAInput{OrderID: orderID, RMAID: rma.RMAID})
		requireAppError(t, err, activities.ErrTypeRejected, true)
		_, err = run[activities.CancelReturnPickupResult](t, f.env, f.acts.CancelReturnPickup,
			activities.CancelReturnPickupInput{OrderID: orderID, ReturnID: pickup.ReturnID})
		requireAppError(t, err, activities.ErrTypeRejected, true)
	})

	t.Run("undone by key: the RMA and the pickup of a second return", func(t *testing.T) {
		second := rmaIn
		second.Key = activities.RMAKey(orderID, 3)
		second.Lines = []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}
		rma2 := mustRun[activities.CreateRMAResult](t, f.env, f.acts.CreateRMA, second)
		pk := activities.ReturnPickupKey(orderID, rma2.RMAID)
		p2 := mustRun[activities.BookReturnPickupResult](t, f.env, f.acts.BookReturnPickup, activities.BookReturnPickupInput{
			Key: pk, OrderID: orderID, RMAID: rma2.RMAID, Warehouse: "WH-SOUTH", Lines: rma2.Lines})

		cp := mustRun[activities.CancelReturnPickupResult](t, f.env, f.acts.CancelReturnPickup,
			activities.CancelReturnPickupInput{OrderID: orderID, ForwardKey: pk})
		assert.Equal(t, activities.CancelReturnPickupResult{ReturnID: p2.ReturnID}, cp)
		cr := mustRun[activities.CancelRMAResult](t, f.env, f.acts.CancelRMA, activities.CancelRMAInput{OrderID: orderID, ForwardKey: second.Key})
		assert.Equal(t, activities.CancelRMAResult{RMAID: rma2.RMAID}, cr)
		rmas, err := f.erp.RMAs(ctx, orderID)
		require.NoError(t, err)
		assert.Equal(t, erpsim.RMACancelled, rmas[len(rmas)-1].Status)

		none := mustRun[activities.CancelRMAResult](t, f.env, f.acts.CancelRMA,
			activities.CancelRMAInput{OrderID: orderID, ForwardKey: activities.RMAKey(orderID, 9)})
		assert.True(t, none.NothingToUndo)
		_, err = run[activities.CancelRMAResult](t, f.env, f.acts.CancelRMA, activities.CancelRMAInput{OrderID: orderID})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

func TestReship(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-reship"
	res := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	first := mustRun[activities.BookShipmentResult](t, f.env, f.acts.BookShipment,
		activities.BookShipmentInput{OrderID: orderID, Warehouse: "WH-NORTH", Lines: pumpsAndMotor[:1]})
	_, err := f.carrier.Exception(ctx, first.ShipmentID, "pallet crushed")
	require.NoError(t, err)

	in := activities.CreateReplacementOrderInput{Key: activities.ReplacementOrderKey(orderID, 1), OrderID: orderID,
		CustomerID: "ACME-001", Replaces: res.SalesOrderID, Lines: pumpsAndMotor[:1], Reason: "damaged in transit"}
	rep := loseThenRetry[activities.CreateReplacementOrderResult](t, f,
		func() { f.erp.SetFaults(loseAnswers(erpsim.RouteReplacementCreate)) }, f.acts.CreateReplacementOrder, in)
	require.Equal(t, []order.Shipment{{Warehouse: "WH-NORTH", Lines: pumpsAndMotor[:1]}}, rep.Shipments)
	assert.Equal(t, int64(20-2-2), available(t, f.erp, "WH-NORTH", "PUMP-200"), "the replacement took its pumps once")
	sos := salesOrders(t, f.erp, orderID)
	require.Len(t, sos, 2)
	assert.Equal(t, res.SalesOrderID, sos[1].Replaces)

	// The reship is a second booking from the same warehouse, under its own key.
	book := activities.BookShipmentInput{OrderID: orderID, Warehouse: "WH-NORTH", Lines: rep.Shipments[0].Lines,
		Key: activities.ReshipKey(orderID, "WH-NORTH", 1)}
	reship := loseThenRetry[activities.BookShipmentResult](t, f,
		func() { f.carrier.SetFaults(loseAnswers(carriersim.RouteBook)) }, f.acts.BookShipment, book)
	assert.NotEqual(t, first.ShipmentID, reship.ShipmentID)
	list, err := f.carrier.Shipments(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, list, 2, "the first booking and one reship")

	t.Run("cancelled by key, the replacement's goods go back on hand", func(t *testing.T) {
		cancel := activities.CancelReplacementOrderInput{OrderID: orderID, ForwardKey: in.Key}
		got := mustRun[activities.CancelReplacementOrderResult](t, f.env, f.acts.CancelReplacementOrder, cancel)
		assert.Equal(t, activities.CancelReplacementOrderResult{SalesOrderID: rep.SalesOrderID}, got)
		assert.Equal(t, got, mustRun[activities.CancelReplacementOrderResult](t, f.env, f.acts.CancelReplacementOrder, cancel))
		byID := mustRun[activities.CancelReplacementOrderResult](t, f.env, f.acts.CancelReplacementOrder,
			activities.CancelReplacementOrderInput{OrderID: orderID, SalesOrderID: rep.SalesOrderID})
		assert.Equal(t, rep.SalesOrderID, byID.SalesOrderID)
		assert.Equal(t, int64(20-2), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	})
}
