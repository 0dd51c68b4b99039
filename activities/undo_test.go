package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

// loseAnswers makes every call of route commit and then lose its answer,
// until the test's faults are cleared: "commit, then drop the answer". Every
// call, so the one resend Go's transport makes by itself on a reused
// connection is lost too and the activity sees no answer at all.
func loseAnswers(route string) []faults.Rule {
	return []faults.Rule{{Route: route, Mode: faults.ModeDropAnswer, ErrorRate: 1}}
}

// requireNothingReserved checks the ERP's stock view: no unit of anything is
// held for a sales order.
func requireNothingReserved(t *testing.T, sim *erpsim.Sim) {
	t.Helper()
	stock, err := sim.Stock(context.Background())
	require.NoError(t, err)
	for _, s := range stock {
		assert.Zero(t, s.Reserved, "%s in %s is still reserved", s.SKU, s.Warehouse)
	}
}

// TestCancelSalesOrderByForwardKeyAfterALostAnswer is issue 7's scenario: the
// ERP reserved the stock but its answer was lost; CS cancels the order; the
// undo, registered with Reserve's key before the call, releases the
// reservation although nobody ever learnt the sales order's id.
func TestCancelSalesOrderByForwardKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	const orderID = "ord-lost"

	f.erp.SetFaults(loseAnswers(erpsim.RouteSalesOrdersCreate))
	_, err := run[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	requireAppError(t, err, activities.ErrTypeUnavailable, false)
	f.erp.ClearFaults()
	sos := salesOrders(t, f.erp, orderID)
	require.Len(t, sos, 1, "the ERP reserved before the answer was lost")
	require.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
	require.Equal(t, int64(18), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	require.Equal(t, int64(9), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))

	// CS cancels: the undo knows only the key Reserve used.
	cancel := activities.CancelSalesOrderInput{OrderID: orderID, ForwardKey: activities.SalesOrderKey(orderID)}
	res := mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
	assert.Equal(t, activities.CancelSalesOrderResult{SalesOrderID: sos[0].ID}, res)
	assert.Equal(t, erpsim.SalesOrderCancelled, salesOrders(t, f.erp, orderID)[0].Status)
	assert.Equal(t, int64(20), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	assert.Equal(t, int64(10), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))
	requireNothingReserved(t, f.erp)

	// Compensation may run again after a crash.
	again := mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
	assert.Equal(t, res, again)
	requireNothingReserved(t, f.erp)
}

func TestUndoByForwardKeyOfAWriteThatNeverHappened(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	const orderID = "ord-never"

	so := mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder,
		activities.CancelSalesOrderInput{OrderID: orderID, ForwardKey: activities.SalesOrderKey(orderID)})
	assert.Equal(t, activities.CancelSalesOrderResult{NothingToUndo: true}, so)
	sh := mustRun[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment,
		activities.CancelShipmentInput{OrderID: orderID, ForwardKey: activities.ShipmentKey(orderID, "WH-NORTH")})
	assert.Equal(t, activities.CancelShipmentResult{NothingToUndo: true}, sh)
	inv := mustRun[activities.VoidInvoiceResult](t, f.env, f.acts.VoidInvoice,
		activities.VoidInvoiceInput{OrderID: orderID, ForwardKey: activities.InvoiceKey(orderID)})
	assert.Equal(t, activities.VoidInvoiceResult{NothingToUndo: true}, inv)

	// A forward call that arrives after its undo (an attempt still on its
	// way) is refused for good instead of reserving behind the undo's back.
	_, err := run[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	appErr := requireAppError(t, err, activities.ErrTypeRejected, true)
	assert.Contains(t, appErr.Error(), "undone_by_key")
	assert.Empty(t, salesOrders(t, f.erp, orderID))
	requireNothingReserved(t, f.erp)
	_, err = run[activities.BookShipmentResult](t, f.env, f.acts.BookShipment,
		activities.BookShipmentInput{OrderID: orderID, Warehouse: "WH-NORTH", Lines: pumpsAndMotor[:1]})
	requireAppError(t, err, activities.ErrTypeRejected, true)
	list, err := f.carrier.Shipments(context.Background(), orderID)
	require.NoError(t, err)
	assert.Empty(t, list)

	t.Run("an undo with neither id nor key cannot succeed", func(t *testing.T) {
		_, err := run[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder,
			activities.CancelSalesOrderInput{OrderID: orderID})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		_, err = run[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment,
			activities.CancelShipmentInput{OrderID: orderID})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		_, err = run[activities.VoidInvoiceResult](t, f.env, f.acts.VoidInvoice,
			activities.VoidInvoiceInput{OrderID: orderID})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

func TestCancelShipmentByForwardKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-lost-booking"

	f.carrier.SetFaults(loseAnswers(carriersim.RouteBook))
	_, err := run[activities.BookShipmentResult](t, f.env, f.acts.BookShipment,
		activities.BookShipmentInput{OrderID: orderID, Warehouse: "WH-SOUTH", Lines: pumpsAndMotor[1:]})
	requireAppError(t, err, activities.ErrTypeUnavailable, false)
	f.carrier.ClearFaults()
	list, err := f.carrier.Shipments(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, list, 1, "the carrier booked before the answer was lost")

	cancel := activities.CancelShipmentInput{OrderID: orderID, ForwardKey: activities.ShipmentKey(orderID, "WH-SOUTH")}
	res := mustRun[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment, cancel)
	assert.Equal(t, activities.CancelShipmentResult{ShipmentID: list[0].ShipmentID}, res)
	assert.Equal(t, res, mustRun[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment, cancel))
	list, err = f.carrier.Shipments(ctx, orderID)
	require.NoError(t, err)
	assert.Equal(t, carriersim.StatusCancelled, list[0].Status)
}

func TestVoidInvoiceByForwardKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const orderID = "ord-lost-invoice"
	so := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})

	f.erp.SetFaults(loseAnswers(erpsim.RouteInvoicesCreate))
	_, err := run[activities.InvoiceResult](t, f.env, f.acts.Invoice, activities.InvoiceInput{
		OrderID: orderID, CustomerID: "ACME-001", SalesOrderID: so.SalesOrderID, Amount: eur(498000), PaymentTermsDays: 30})
	requireAppError(t, err, activities.ErrTypeUnavailable, false)
	f.erp.ClearFaults()
	invs, err := f.erp.Invoices(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, invs, 1, "the ERP invoiced before the answer was lost")
	open, err := f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	require.Equal(t, eur(1200000+498000), open)

	// Compensation in reverse order, the invoice by its key, then the sales order.
	void := mustRun[activities.VoidInvoiceResult](t, f.env, f.acts.VoidInvoice,
		activities.VoidInvoiceInput{OrderID: orderID, ForwardKey: activities.InvoiceKey(orderID)})
	assert.Equal(t, activities.VoidInvoiceResult{InvoiceID: invs[0].ID}, void)
	open, err = f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
	require.NoError(t, err)
	assert.Equal(t, eur(1200000), open, "the void takes the invoice off the receivables")

	cancel := mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder,
		activities.CancelSalesOrderInput{OrderID: orderID, SalesOrderID: so.SalesOrderID})
	assert.Equal(t, activities.CancelSalesOrderResult{SalesOrderID: so.SalesOrderID}, cancel)
	// The invoice issued the goods; the cancel puts them back on the shelf.
	assert.Equal(t, int64(20), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	assert.Equal(t, int64(10), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))
	requireNothingReserved(t, f.erp)
}

// The forward keys are the keys the forward activities have always used: an
// order in flight when this shipped finds its writes under them.
func TestForwardKeys(t *testing.T) {
	t.Parallel()
	assert.Equal(t, activities.Key("ord-1", "sales-order"), activities.SalesOrderKey("ord-1"))
	assert.Equal(t, activities.Key("ord-1", "shipment", "WH-NORTH"), activities.ShipmentKey("ord-1", "WH-NORTH"))
	assert.Equal(t, activities.Key("ord-1", "invoice"), activities.InvoiceKey("ord-1"))
}
