package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/store"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// pumpsAndMotor needs both warehouses: the pumps come from WH-NORTH (first in
// name order, 20 on hand), the motor only from WH-SOUTH.
var pumpsAndMotor = []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}

func TestPriceQuote(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	in := activities.PriceQuoteInput{
		OrderID: "ord-price", CustomerID: "ACME-001", Revision: 1, At: at,
		Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1000}, {SKU: "PUMP-200", Quantity: 1}},
	}

	t.Run("contract prices and the customer's discount", func(t *testing.T) {
		res := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, in)
		want := order.Quote{
			Revision: 1,
			Lines: []order.PricedLine{
				// Acme's contract price of 0.20 beats the list price of 0.25.
				{SKU: "BOLT-M8", Quantity: 1000, ListPrice: eur(25), UnitPrice: eur(20), Contract: true, Total: eur(20000)},
				{SKU: "PUMP-200", Quantity: 1, ListPrice: eur(125000), UnitPrice: eur(125000), Total: eur(125000)},
			},
			Subtotal:         eur(145000),
			DiscountBP:       300,
			Discount:         eur(4350), // 3% of 1450.00
			Net:              eur(140650),
			TaxRateBP:        1900,       // Acme pays 19 % VAT
			Tax:              eur(26724), // 267.235 rounded half up
			Total:            eur(167374),
			ValidUntil:       at.AddDate(0, 0, 14),
			LeadTimeDays:     5,
			PaymentTermsDays: 30,
		}
		assert.Equal(t, want, res.Quote)
		assert.Equal(t, "1673.74 EUR", res.Quote.Total.String())
		assertSameInstant(t, time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC), res.Quote.ValidUntil, "valid until")
		assert.Equal(t, "ACME-001", res.Terms.CustomerID)
		assert.Equal(t, "EUR", res.Terms.Currency)

		stored, err := f.store.Quotes(ctx, "ord-price")
		require.NoError(t, err)
		assert.Equal(t, []order.Quote{res.Quote}, stored, "the quote the buyer is sent is the one persisted")
	})

	t.Run("a retry stores the revision once", func(t *testing.T) {
		mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, in)
		stored, err := f.store.Quotes(ctx, "ord-price")
		require.NoError(t, err)
		assert.Len(t, stored, 1)
	})

	t.Run("a rep's discount carries the rep's own authority", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			by        order.Actor
			requested int64
			wantBy    string
			authority int64
		}{
			// rita's record: 5 %; Acme's terms give its reps 10 %.
			{"a rep with a record", order.Actor{Subject: "rita.rep@seller.example", Role: order.RoleSalesRep}, 700, "rita.rep@seller.example", 500},
			{"a rep without one", order.Actor{Subject: "new.rep@seller.example", Role: order.RoleSalesRep}, 700, "new.rep@seller.example", 1000},
			{"below the standing discount", order.Actor{Subject: "rita.rep@seller.example", Role: order.RoleSalesRep}, 200, "", 0},
			{"a manager's", order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}, 700, "", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rev := in
				rev.OrderID, rev.RequestedDiscountBP, rev.DiscountBy = "ord-rep-"+tc.name, tc.requested, tc.by
				res := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, rev)
				assert.Equal(t, tc.wantBy, res.Quote.DiscountBy)
				assert.Equal(t, tc.authority, res.Quote.DiscountAuthorityBP)
			})
		}
	})

	t.Run("a scaled order's quote is valid for its validity at scale, and saved so", func(t *testing.T) {
		scaled := in
		scaled.OrderID, scaled.TimeScale = "ord-price-scaled", 5760
		res := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, scaled)
		// Acme's 14 days at 5760 business seconds a second: 210 s.
		assertSameInstant(t, at.Add(210*time.Second), res.Quote.ValidUntil, "valid until")
		stored, err := f.store.Quotes(ctx, "ord-price-scaled")
		require.NoError(t, err)
		require.Len(t, stored, 1)
		assertSameInstant(t, at.Add(210*time.Second), stored[0].ValidUntil, "the saved quote's validity")
	})

	t.Run("a revision with a larger requested discount", func(t *testing.T) {
		rev := in
		rev.Revision, rev.RequestedDiscountBP = 2, 500
		rev.Lines = []order.Line{{SKU: "PUMP-200", Quantity: 2}}
		res := mustRun[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, rev)
		assert.Equal(t, int64(500), res.Quote.DiscountBP, "the larger of standing and requested discount")
		assert.Equal(t, eur(250000), res.Quote.Subtotal)
		assert.Equal(t, eur(237500), res.Quote.Net)
		assert.Equal(t, eur(282625), res.Quote.Total, "net plus 19 % VAT")

		stored, err := f.store.Quotes(ctx, "ord-price")
		require.NoError(t, err)
		require.Len(t, stored, 2)
		assert.Equal(t, []int{1, 2}, []int{stored[0].Revision, stored[1].Revision})
	})

	t.Run("unknown customer", func(t *testing.T) {
		bad := in
		bad.OrderID, bad.CustomerID = "ord-nobody", "NOBODY-999"
		_, err := run[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, bad)
		appErr := requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		assert.Contains(t, appErr.Error(), "NOBODY-999")
		stored, err := f.store.Quotes(ctx, "ord-nobody")
		require.NoError(t, err)
		assert.Empty(t, stored)
	})

	t.Run("unknown SKU is refused by the ERP", func(t *testing.T) {
		bad := in
		bad.OrderID = "ord-widget"
		bad.Lines = []order.Line{{SKU: "BOLT-M8", Quantity: 10}, {SKU: "WIDGET-9", Quantity: 1}}
		_, err := run[activities.PriceQuoteResult](t, f.env, f.acts.PriceQuote, bad)
		appErr := requireAppError(t, err, activities.ErrTypeLinesRefused, true)
		assert.Contains(t, appErr.Error(), "WIDGET-9", "the operator sees which SKU")
		var fields []order.FieldError
		require.NoError(t, appErr.Details(&fields))
		assert.Equal(t, []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}, fields,
			"the buyer's 422 names the line")
		stored, err := f.store.Quotes(ctx, "ord-widget")
		require.NoError(t, err)
		assert.Empty(t, stored)
	})
}

func TestCheckCredit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()

	// Another Acme order, confirmed and not yet invoiced, counts towards the
	// exposure; the order under check counts once, as this order, even when
	// a retry finds it already confirmed.
	for _, tr := range []store.Transition{
		{OrderID: "ord-acme-open", CustomerID: "ACME-001", Seq: 1, Status: order.StatusConfirmed, Total: eur(100000), Action: "status.changed"},
		{OrderID: "ord-acme", CustomerID: "ACME-001", Seq: 1, Status: order.StatusConfirmed, Total: eur(140650), Action: "status.changed"},
	} {
		require.NoError(t, f.store.RecordTransition(ctx, tr))
	}

	t.Run("small Acme order is within the limit", func(t *testing.T) {
		res := mustRun[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit,
			activities.CheckCreditInput{OrderID: "ord-acme", CustomerID: "ACME-001", Total: eur(140650)})
		assert.Equal(t, order.Exposure{
			OpenReceivables: eur(1200000), // 12000.00 in the ERP
			OpenOrders:      eur(100000),
			ThisOrder:       eur(140650),
			Total:           eur(1440650),
			Limit:           eur(5000000),
			WithinLimit:     true,
		}, res.Exposure)
	})

	// Globex: limit 2000.00, receivables 1500.00, nothing open here. Each
	// case is an order of its own (a retry of one order would answer its
	// first decision); none has a projection row, so none counts for the
	// others.
	for _, tc := range []struct {
		name   string
		total  int64
		within bool
	}{
		{"up to the limit", 50000, true},
		{"one cent over", 50001, false},
		{"600.00 order", 60000, false},
	} {
		t.Run("Globex "+tc.name, func(t *testing.T) {
			res := mustRun[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit,
				activities.CheckCreditInput{OrderID: fmt.Sprintf("ord-globex-%d", tc.total), CustomerID: "GLOBEX-002", Total: eur(tc.total)})
			e := res.Exposure
			assert.Equal(t, eur(150000), e.OpenReceivables)
			assert.Equal(t, eur(0), e.OpenOrders)
			assert.Equal(t, eur(tc.total), e.ThisOrder)
			assert.Equal(t, eur(200000), e.Limit)
			assert.Equal(t, e.OpenReceivables.Minor+e.OpenOrders.Minor+e.ThisOrder.Minor, e.Total.Minor, "exposure adds up")
			assert.Equal(t, tc.within, e.WithinLimit, "exposure %s against limit %s", e.Total, e.Limit)
		})
	}

	t.Run("order in another currency than the terms", func(t *testing.T) {
		_, err := run[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit,
			activities.CheckCreditInput{OrderID: "ord-usd", CustomerID: "ACME-001", Total: money.New(1000, "USD")})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})

	t.Run("unknown customer", func(t *testing.T) {
		_, err := run[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit,
			activities.CheckCreditInput{OrderID: "ord-x", CustomerID: "NOBODY-999", Total: eur(100)})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

func TestReserve(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	in := activities.ReserveInput{OrderID: "ord-reserve", CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor}

	var first activities.ReserveResult
	t.Run("one planned shipment per warehouse", func(t *testing.T) {
		first = mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve, in)
		assert.NotEmpty(t, first.SalesOrderID)
		assert.Equal(t, []order.Shipment{
			{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}},
			{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}},
		}, first.Shipments)
		assert.Equal(t, int64(18), available(t, f.erp, "WH-NORTH", "PUMP-200"))
		assert.Equal(t, int64(9), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))
	})

	t.Run("a retry returns the same sales order and reserves nothing more", func(t *testing.T) {
		again := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve, in)
		assert.Equal(t, first, again)
		sos := salesOrders(t, f.erp, "ord-reserve")
		require.Len(t, sos, 1, "the ERP holds one sales order")
		assert.Equal(t, first.SalesOrderID, sos[0].ID)
		assert.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
		assert.Equal(t, int64(18), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	})

	t.Run("an ERP outage is retryable", func(t *testing.T) {
		f.erp.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteSalesOrdersCreate, FailNext: 1, Status: 503}})
		t.Cleanup(f.erp.ClearFaults)
		out := activities.ReserveInput{OrderID: "ord-outage", CustomerID: "ACME-001", Currency: "EUR",
			Lines: []order.Line{{SKU: "VALVE-50", Quantity: 3}}}
		_, err := run[activities.ReserveResult](t, f.env, f.acts.Reserve, out)
		appErr := requireAppError(t, err, activities.ErrTypeUnavailable, false)
		assert.Contains(t, appErr.Error(), "503")
		assert.Empty(t, salesOrders(t, f.erp, "ord-outage"), "the failed call reserved nothing")

		// Temporal's next attempt goes through.
		res := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve, out)
		assert.Len(t, salesOrders(t, f.erp, "ord-outage"), 1)
		assert.Equal(t, []order.Shipment{{Warehouse: "WH-NORTH", Lines: out.Lines}}, res.Shipments)
	})

	t.Run("insufficient stock is rejected for good", func(t *testing.T) {
		_, err := run[activities.ReserveResult](t, f.env, f.acts.Reserve, activities.ReserveInput{
			OrderID: "ord-too-many", CustomerID: "ACME-001", Currency: "EUR",
			Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1000}}})
		appErr := requireAppError(t, err, activities.ErrTypeRejected, true)
		assert.Contains(t, appErr.Error(), "insufficient_stock")
		assert.Empty(t, salesOrders(t, f.erp, "ord-too-many"))
		assert.Equal(t, int64(9), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"), "all or nothing")
	})
}

func TestReserveBreakerOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, downstream.BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute})
	f.erp.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteSalesOrdersCreate, FailNext: 1, Status: 503}})
	in := activities.ReserveInput{OrderID: "ord-breaker", CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor}

	_, err := run[activities.ReserveResult](t, f.env, f.acts.Reserve, in)
	appErr := requireAppError(t, err, activities.ErrTypeUnavailable, false)
	// The first attempt failed: the next comes after 1 s with equal jitter.
	assert.GreaterOrEqual(t, appErr.NextRetryDelay(), 500*time.Millisecond)
	assert.LessOrEqual(t, appErr.NextRetryDelay(), time.Second)

	// The one failure opened the breaker: the next attempt is not made, and
	// Temporal is told to come back once the breaker lets a probe through,
	// jittered so that orders waiting on it do not all come back at once.
	_, err = run[activities.ReserveResult](t, f.env, f.acts.Reserve, in)
	appErr = requireAppError(t, err, activities.ErrTypeBreakerOpen, false)
	assert.GreaterOrEqual(t, appErr.NextRetryDelay(), time.Minute)
	assert.LessOrEqual(t, appErr.NextRetryDelay(), 2*time.Minute)

	calls, err := f.erp.Calls(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), calls[erpsim.RouteSalesOrdersCreate], "the ERP saw only the call that failed")
	assert.Empty(t, salesOrders(t, f.erp, "ord-breaker"))
}

func TestCancelSalesOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	res := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: "ord-cancel", CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	require.Equal(t, int64(18), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	require.Equal(t, int64(9), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))

	cancel := activities.CancelSalesOrderInput{OrderID: "ord-cancel", SalesOrderID: res.SalesOrderID}
	mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
	assert.Equal(t, int64(20), available(t, f.erp, "WH-NORTH", "PUMP-200"), "reservation released")
	assert.Equal(t, int64(10), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"), "reservation released")
	sos := salesOrders(t, f.erp, "ord-cancel")
	require.Len(t, sos, 1)
	assert.Equal(t, erpsim.SalesOrderCancelled, sos[0].Status)

	// Compensation may run again after a crash: a second cancel is fine and
	// releases nothing twice.
	mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
	assert.Equal(t, int64(20), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	assert.Equal(t, int64(10), available(t, f.erp, "WH-SOUTH", "MOTOR-7K"))

	_, err := run[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder,
		activities.CancelSalesOrderInput{OrderID: "ord-ghost", SalesOrderID: "SO-999999"})
	requireAppError(t, err, activities.ErrTypeRejected, true)

	stock, err := f.erp.Stock(ctx)
	require.NoError(t, err)
	for _, s := range stock {
		assert.Zero(t, s.Reserved, "%s in %s still reserved", s.SKU, s.Warehouse)
	}
}

func TestShipments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	north := activities.BookShipmentInput{OrderID: "ord-ship", Warehouse: "WH-NORTH", Lines: pumpsAndMotor[:1]}
	south := activities.BookShipmentInput{OrderID: "ord-ship", Warehouse: "WH-SOUTH", Lines: pumpsAndMotor[1:]}

	before := time.Now()
	booked := mustRun[activities.BookShipmentResult](t, f.env, f.acts.BookShipment, north)
	assert.NotEmpty(t, booked.ShipmentID)
	assert.NotEmpty(t, booked.TrackingNumber)
	// The carrier promises delivery three days after booking.
	assert.WithinRange(t, booked.PromisedDate, before.Add(72*time.Hour-time.Second), time.Now().Add(72*time.Hour+time.Second))

	t.Run("booking twice books once", func(t *testing.T) {
		again := mustRun[activities.BookShipmentResult](t, f.env, f.acts.BookShipment, north)
		assert.Equal(t, booked.ShipmentID, again.ShipmentID)
		assert.Equal(t, booked.TrackingNumber, again.TrackingNumber)
		list, err := f.carrier.Shipments(ctx, "ord-ship")
		require.NoError(t, err)
		require.Len(t, list, 1, "one booking at the carrier")
		assert.Equal(t, "WH-NORTH", list[0].Warehouse)
		assert.Equal(t, north.Lines, list[0].Lines)
	})

	var southID string
	t.Run("each warehouse is its own shipment", func(t *testing.T) {
		res := mustRun[activities.BookShipmentResult](t, f.env, f.acts.BookShipment, south)
		assert.NotEqual(t, booked.ShipmentID, res.ShipmentID)
		southID = res.ShipmentID
		list, err := f.carrier.Shipments(ctx, "ord-ship")
		require.NoError(t, err)
		assert.Len(t, list, 2)
	})

	t.Run("tracking follows the carrier", func(t *testing.T) {
		tr := mustRun[activities.TrackShipmentResult](t, f.env, f.acts.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: booked.ShipmentID})
		assert.Equal(t, carrier.StatusBooked, tr.Status)
		assert.True(t, tr.DeliveredAt.IsZero())

		_, err := f.carrier.Deliver(ctx, booked.ShipmentID)
		require.NoError(t, err)
		tr = mustRun[activities.TrackShipmentResult](t, f.env, f.acts.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: booked.ShipmentID})
		assert.Equal(t, carrier.StatusDelivered, tr.Status)
		assert.WithinRange(t, tr.DeliveredAt, before, time.Now())
	})

	t.Run("cancel", func(t *testing.T) {
		cancel := activities.CancelShipmentInput{OrderID: "ord-ship", ShipmentID: southID}
		mustRun[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment, cancel)
		mustRun[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment, cancel) // compensation replayed
		tr := mustRun[activities.TrackShipmentResult](t, f.env, f.acts.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: southID})
		assert.Equal(t, carrier.StatusCancelled, tr.Status)
	})

	t.Run("a delivered shipment cannot be cancelled", func(t *testing.T) {
		_, err := run[activities.CancelShipmentResult](t, f.env, f.acts.CancelShipment,
			activities.CancelShipmentInput{OrderID: "ord-ship", ShipmentID: booked.ShipmentID})
		requireAppError(t, err, activities.ErrTypeRejected, true)
	})

	t.Run("unknown shipment", func(t *testing.T) {
		_, err := run[activities.TrackShipmentResult](t, f.env, f.acts.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: "SHP-NONE"})
		requireAppError(t, err, activities.ErrTypeRejected, true)
	})
}

// invoiceOrder reserves pumpsAndMotor for orderID and invoices it; it
// returns the sales order id and the invoice.
func invoiceOrder(t *testing.T, f *fixture, orderID string, issuedAt time.Time) (string, order.Invoice) {
	t.Helper()
	so := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	res := mustRun[activities.InvoiceResult](t, f.env, f.acts.Invoice, activities.InvoiceInput{
		OrderID: orderID, CustomerID: "ACME-001", SalesOrderID: so.SalesOrderID,
		Amount: eur(498000), PaymentTermsDays: 30, IssuedAt: issuedAt,
	})
	return so.SalesOrderID, res.Invoice
}

// An invoice with no VAT (reverse charge, or a customer without VAT) is
// sent with its net and a tax of zero, and the ERP books it so; one with
// VAT books the split as given.
func TestInvoiceVATSplit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	for _, tc := range []struct {
		orderID  string
		net, tax money.Money
	}{
		{"ord-inv-rc", eur(498000), money.Zero("EUR")},
		{"ord-inv-vat", eur(418487), eur(79513)},
	} {
		so := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
			activities.ReserveInput{OrderID: tc.orderID, CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
		res := mustRun[activities.InvoiceResult](t, f.env, f.acts.Invoice, activities.InvoiceInput{
			OrderID: tc.orderID, CustomerID: "ACME-001", SalesOrderID: so.SalesOrderID,
			Amount: eur(498000), PaymentTermsDays: 30, IssuedAt: time.Now(), Net: tc.net, Tax: tc.tax,
		})
		assert.Equal(t, eur(498000), res.Invoice.Amount, tc.orderID)
		assert.Equal(t, tc.net, res.Invoice.Net, tc.orderID)
		assert.Equal(t, tc.tax, res.Invoice.Tax, tc.orderID)
	}
}

func TestInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	// The order's projection exists, as it does once the workflow has recorded
	// its first transition.
	require.NoError(t, f.store.RecordTransition(ctx, store.Transition{OrderID: "ord-inv", CustomerID: "ACME-001",
		Seq: 1, Status: order.StatusShipping, Total: eur(498000), Action: "status.changed"}))
	// The workflow asked five days ago; the ERP was down until now.
	issuedAt := time.Now().UTC().AddDate(0, 0, -5)
	in := activities.InvoiceInput{OrderID: "ord-inv", CustomerID: "ACME-001", Amount: eur(498000),
		PaymentTermsDays: 30, IssuedAt: issuedAt}

	before := time.Now()
	salesOrderID, inv := invoiceOrder(t, f, "ord-inv", issuedAt)
	after := time.Now()
	in.SalesOrderID = salesOrderID

	t.Run("due date from the payment terms, counted from the day the ERP issues it", func(t *testing.T) {
		assert.NotEmpty(t, inv.InvoiceID)
		assert.True(t, strings.HasPrefix(inv.Number, "INV-"), "invoice number %q", inv.Number)
		assert.Equal(t, eur(498000), inv.Amount)
		// 30 days net from today (the attempt), to the end of that day in UTC;
		// not from the day the workflow first asked.
		early, late := order.DueDate(before, 30), order.DueDate(after, 30)
		assert.True(t, inv.DueDate.Equal(early) || inv.DueDate.Equal(late), "due %s, want %s", inv.DueDate, early)
		assert.True(t, inv.DueDate.After(order.DueDate(issuedAt, 30)), "the outage does not shorten the customer's terms")
	})

	t.Run("recorded for payment matching", func(t *testing.T) {
		orderID, stored, err := f.store.InvoiceByNumber(ctx, inv.Number)
		require.NoError(t, err)
		assert.Equal(t, "ord-inv", orderID)
		assert.Equal(t, inv.InvoiceID, stored.InvoiceID)
		assert.Equal(t, inv.Amount, stored.Amount)
		assertSameInstant(t, inv.DueDate, stored.DueDate, "stored due date")

		rec, err := f.store.Order(ctx, "ord-inv")
		require.NoError(t, err)
		assert.Equal(t, inv.Number, rec.InvoiceNumber, "the order shows its invoice")
	})

	t.Run("a retry does not invoice twice", func(t *testing.T) {
		again := mustRun[activities.InvoiceResult](t, f.env, f.acts.Invoice, in)
		assert.Equal(t, inv.InvoiceID, again.Invoice.InvoiceID)
		assert.Equal(t, inv.Number, again.Invoice.Number)
		invs, err := f.erp.Invoices(ctx, "ord-inv")
		require.NoError(t, err)
		require.Len(t, invs, 1)
		assert.Equal(t, erpsim.InvoiceOpen, invs[0].Status)
		open, err := f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
		require.NoError(t, err)
		assert.Equal(t, eur(1200000+498000), open, "the ERP books the invoice once")
	})

	cancel := activities.CancelSalesOrderInput{OrderID: "ord-inv", SalesOrderID: salesOrderID}
	t.Run("an invoiced sales order cannot be cancelled before the void", func(t *testing.T) {
		_, err := run[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
		requireAppError(t, err, activities.ErrTypeRejected, true)
	})

	t.Run("void", func(t *testing.T) {
		void := activities.VoidInvoiceInput{OrderID: "ord-inv", InvoiceID: inv.InvoiceID}
		mustRun[activities.VoidInvoiceResult](t, f.env, f.acts.VoidInvoice, void)
		mustRun[activities.VoidInvoiceResult](t, f.env, f.acts.VoidInvoice, void) // compensation replayed
		invs, err := f.erp.Invoices(ctx, "ord-inv")
		require.NoError(t, err)
		require.Len(t, invs, 1)
		assert.Equal(t, erpsim.InvoiceVoid, invs[0].Status)
		open, err := f.acts.ERP.OpenReceivables(ctx, "ACME-001", "EUR")
		require.NoError(t, err)
		assert.Equal(t, eur(1200000), open, "the void takes the invoice off the receivables")

		// With the invoice void, the compensation can go on to the reservation.
		mustRun[activities.CancelSalesOrderResult](t, f.env, f.acts.CancelSalesOrder, cancel)
		assert.Equal(t, int64(20), available(t, f.erp, "WH-NORTH", "PUMP-200"))
	})
}

func TestSendMail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		audience activities.Audience
		kind     mail.Kind
		data     mail.Data
		to       string
	}{
		{activities.AudienceBuyer, mail.KindOrderCancelled, mail.Data{Reason: "buyer asked"}, "purchasing@acme.example"},
		{activities.AudienceRep, mail.KindQuoteRejected, mail.Data{Reason: "too expensive"}, "anna.rep@seller.example"},
		{activities.AudienceCS, mail.KindCSAlert, mail.Data{Step: "Reserve", Error: "ERP down"}, csEmail},
		{activities.AudienceSalesManagers, mail.KindApprovalRequest,
			mail.Data{Needs: []order.ApprovalNeed{{Side: order.SideSeller, Count: 1, Reason: "discount"}}}, salesManagersEmail},
	} {
		t.Run(string(tc.audience), func(t *testing.T) {
			orderID := "ord-mail-" + string(tc.audience)
			key := activities.Key(orderID, "mail", string(tc.kind))
			res := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
				Key: key, Kind: tc.kind, OrderID: orderID, CustomerID: "ACME-001", Audience: tc.audience, Data: tc.data,
			})
			assert.Equal(t, []string{tc.to}, res.To)

			msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{OrderID: orderID}, 1)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, []string{tc.to}, m.To)
			assert.Equal(t, string(tc.kind), m.Kind)
			assert.Equal(t, orderID, m.OrderID)
			assert.Equal(t, "<"+key+"@orderflow>", m.MessageID)
			assert.Equal(t, key, m.OrderflowID)
			assert.False(t, m.Duplicate)
			assert.Contains(t, m.Subject+m.Text, orderID)
			assert.Empty(t, m.ParseError)
		})
	}

	t.Run("the buyer is greeted by the customer's name", func(t *testing.T) {
		msgs := f.sink.Messages(mailsink.Filter{OrderID: "ord-mail-buyer"})
		require.Len(t, msgs, 1)
		assert.Contains(t, msgs[0].Text, "Acme Industrial GmbH")
	})

	t.Run("a send repeated under its key does not mail again", func(t *testing.T) {
		in := activities.SendMailInput{Key: activities.Key("ord-mail-twice", "mail", "cancelled"),
			Kind: mail.KindOrderCancelled, OrderID: "ord-mail-twice", CustomerID: "GLOBEX-002", Audience: activities.AudienceBuyer}
		first := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, in)
		again := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, in)
		assert.Equal(t, first.To, again.To)
		// The sink has every message by the time a send returns.
		msgs := f.sink.Messages(mailsink.Filter{OrderID: "ord-mail-twice"})
		require.Len(t, msgs, 1, "a retried send whose first try went out is not sent again")
		assert.Equal(t, []string{"procurement@globex.example"}, msgs[0].To)
	})

	t.Run("mails sent together", func(t *testing.T) {
		orderID := "ord-mail-together"
		in := activities.SendMailsInput{Mails: []activities.SendMailInput{
			{Key: activities.Key(orderID, "mail", "cancelled"), Kind: mail.KindOrderCancelled, OrderID: orderID,
				CustomerID: "ACME-001", Audience: activities.AudienceBuyer},
			{Key: activities.Key(orderID, "mail", "alert"), Kind: mail.KindFinanceAlert, OrderID: orderID,
				Audience: activities.AudienceFinance, Data: mail.Data{Reason: "overpaid"}},
			{Key: activities.Key(orderID, "mail", "rejected"), Kind: mail.KindQuoteRejected, OrderID: orderID,
				CustomerID: "ACME-001", Audience: activities.AudienceRep, Data: mail.Data{Reason: "too expensive"}},
		}}
		res := mustRun[activities.SendMailsResult](t, f.env, f.acts.SendMails, in)
		require.Len(t, res.Mails, 3)
		assert.Equal(t, []string{"purchasing@acme.example"}, res.Mails[0].To)
		assert.Empty(t, res.Mails[0].Failed)
		assert.Contains(t, res.Mails[1].Failed, "finance", "no finance address: this one fails for good, the others go")
		assert.Equal(t, []string{"anna.rep@seller.example"}, res.Mails[2].To)
		assert.Len(t, f.sink.Messages(mailsink.Filter{OrderID: orderID}), 2)

		// The batch again, as a retry would run it: nothing is mailed twice.
		mustRun[activities.SendMailsResult](t, f.env, f.acts.SendMails, in)
		assert.Len(t, f.sink.Messages(mailsink.Filter{OrderID: orderID}), 2)

		_, err := run[activities.SendMailsResult](t, f.env, f.acts.SendMails, activities.SendMailsInput{})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})

	t.Run("an audience without an address", func(t *testing.T) {
		_, err := run[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
			Key: activities.Key("ord-mail-finance", "mail", "alert"), Kind: mail.KindFinanceAlert,
			OrderID: "ord-mail-finance", Audience: activities.AudienceFinance, Data: mail.Data{Reason: "overpaid"},
		})
		appErr := requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		assert.Contains(t, appErr.Error(), "finance")
		assert.Empty(t, f.sink.Messages(mailsink.Filter{OrderID: "ord-mail-finance"}))
	})

	t.Run("a buyer of an unknown customer", func(t *testing.T) {
		_, err := run[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
			Key: activities.Key("ord-mail-nobody", "mail"), Kind: mail.KindOrderCancelled,
			OrderID: "ord-mail-nobody", CustomerID: "NOBODY-999", Audience: activities.AudienceBuyer,
		})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})

	t.Run("data the mail kind needs is missing", func(t *testing.T) {
		_, err := run[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
			Key: activities.Key("ord-mail-noquote", "mail"), Kind: mail.KindQuote,
			OrderID: "ord-mail-noquote", CustomerID: "ACME-001", Audience: activities.AudienceBuyer,
		})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		assert.Empty(t, f.sink.Messages(mailsink.Filter{OrderID: "ord-mail-noquote"}))
	})

	t.Run("CS resends a kept mail: same text, its own Message-ID, today's address", func(t *testing.T) {
		orig := activities.Key("ord-mail-resend", "mail", "invoice")
		mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
			Key: orig, Kind: mail.KindOrderCancelled, OrderID: "ord-mail-resend", CustomerID: "ACME-001",
			Audience: activities.AudienceBuyer, Data: mail.Data{Reason: "out of stock for a month"}})
		res := mustRun[activities.ResendMailResult](t, f.env, f.acts.ResendMail, activities.ResendMailInput{
			Key: orig, NewKey: activities.Key("ord-mail-resend", "mail", "resend-1-invoice")})
		assert.Equal(t, activities.ResendMailResult{To: []string{"purchasing@acme.example"}, Kind: mail.KindOrderCancelled,
			Audience: activities.AudienceBuyer}, res)
		msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-mail-resend"}, 2)
		require.NoError(t, err)
		require.Len(t, msgs, 2)
		assert.NotEqual(t, msgs[0].MessageID, msgs[1].MessageID)
		assert.False(t, msgs[1].Duplicate)
		assert.Equal(t, msgs[0].Text, msgs[1].Text)
		assert.Contains(t, msgs[1].Text, "out of stock for a month")
	})

	t.Run("a resend of a mail never kept is refused for good", func(t *testing.T) {
		_, err := run[activities.ResendMailResult](t, f.env, f.acts.ResendMail, activities.ResendMailInput{
			Key: activities.Key("ord-mail-never", "mail", "invoice"), NewKey: activities.Key("ord-mail-never", "mail", "resend-1")})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
		assert.Empty(t, f.sink.Messages(mailsink.Filter{OrderID: "ord-mail-never"}))
	})

	t.Run("mail server down is retried", func(t *testing.T) {
		down := *f.acts
		down.Mail = newSender(t, closedPort(t))
		_, err := run[activities.SendMailResult](t, newEnv(&down), down.SendMail, activities.SendMailInput{
			Key: activities.Key("ord-mail-down", "mail"), Kind: mail.KindOrderCancelled,
			OrderID: "ord-mail-down", CustomerID: "ACME-001", Audience: activities.AudienceBuyer,
		})
		requireAppError(t, err, activities.ErrTypeUnavailable, false)
	})
}

func TestSurvey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	expires := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	in := activities.OpenSurveyInput{OrderID: "ord-survey", ExpiresAt: expires}

	res := mustRun[activities.OpenSurveyResult](t, f.env, f.acts.OpenSurvey, in)
	token, ok := strings.CutPrefix(res.URL, "https://orders.seller.example/survey/")
	require.True(t, ok, "survey link %q", res.URL)
	require.NotEmpty(t, token)
	assert.NotContains(t, token, "/")

	sv, err := f.store.SurveyByToken(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "ord-survey", sv.OrderID)
	assertSameInstant(t, expires, sv.ExpiresAt, "survey expiry")
	assert.False(t, sv.Closed)

	t.Run("one survey per order", func(t *testing.T) {
		again := mustRun[activities.OpenSurveyResult](t, f.env, f.acts.OpenSurvey, in)
		assert.Equal(t, res.URL, again.URL, "a retried activity mails the same link")
		other := mustRun[activities.OpenSurveyResult](t, f.env, f.acts.OpenSurvey,
			activities.OpenSurveyInput{OrderID: "ord-survey-2", ExpiresAt: expires})
		assert.NotEqual(t, res.URL, other.URL)
	})

	t.Run("close", func(t *testing.T) {
		closeIn := activities.CloseSurveyInput{OrderID: "ord-survey"}
		mustRun[activities.CloseSurveyResult](t, f.env, f.acts.CloseSurvey, closeIn)
		mustRun[activities.CloseSurveyResult](t, f.env, f.acts.CloseSurvey, closeIn)
		sv, err := f.store.SurveyByToken(ctx, token)
		require.NoError(t, err)
		assert.True(t, sv.Closed)
		_, _, err = f.store.AnswerSurvey(ctx, token, 9, "late", time.Time{})
		assert.ErrorIs(t, err, store.ErrSurveyClosed, "a late answer is refused")
	})

	t.Run("closing the survey of an order without one", func(t *testing.T) {
		_, err := run[activities.CloseSurveyResult](t, f.env, f.acts.CloseSurvey, activities.CloseSurveyInput{OrderID: "ord-no-survey"})
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

func TestRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	priced := activities.RecordInput{
		OrderID: "ord-rec", CustomerID: "ACME-001", PONumber: "PO-77", Seq: 1,
		Status: order.StatusAwaitingAcceptance, Total: eur(140650), QuoteRevision: 1,
		Details: "waits for the buyer to accept quote revision 1", Action: "quote.priced", At: at,
	}

	mustRun[activities.RecordResult](t, f.env, f.acts.Record, priced)
	rec, err := f.store.Order(ctx, "ord-rec")
	require.NoError(t, err)
	assert.Equal(t, order.StatusAwaitingAcceptance, rec.Status)
	assert.Equal(t, "ACME-001", rec.CustomerID)
	assert.Equal(t, "PO-77", rec.PONumber)
	assert.Equal(t, eur(140650), rec.Total)
	assert.Equal(t, 1, rec.QuoteRevision)
	assert.Equal(t, priced.Details, rec.Details)

	t.Run("a replayed seq changes nothing", func(t *testing.T) {
		mustRun[activities.RecordResult](t, f.env, f.acts.Record, priced)
		log, err := f.store.AuditLog(ctx, "ord-rec")
		require.NoError(t, err)
		require.Len(t, log, 1)
		assert.Equal(t, int64(1), log[0].Seq)
		assert.Equal(t, "quote.priced", log[0].Action)
		assert.Equal(t, order.System, log[0].Actor)
		assertSameInstant(t, at, log[0].At, "audit time")
	})

	accepted := priced
	accepted.Seq = 2
	accepted.Status = order.StatusCreditCheck
	accepted.Action = "quote.accepted"
	accepted.Actor = order.Actor{Subject: "buyer@acme", Role: order.RoleBuyer, CustomerID: "ACME-001"}
	accepted.Details = "checks credit"
	accepted.At = at.Add(time.Hour)

	t.Run("the next seq moves the order and chains the audit log", func(t *testing.T) {
		mustRun[activities.RecordResult](t, f.env, f.acts.Record, accepted)
		rec, err := f.store.Order(ctx, "ord-rec")
		require.NoError(t, err)
		assert.Equal(t, order.StatusCreditCheck, rec.Status)
		assert.Equal(t, "checks credit", rec.Details)
		log, err := f.store.AuditLog(ctx, "ord-rec")
		require.NoError(t, err)
		require.Len(t, log, 2)
		assert.Equal(t, order.StatusAwaitingAcceptance, log[1].FromStatus)
		assert.Equal(t, order.StatusCreditCheck, log[1].ToStatus)
		assert.Equal(t, accepted.Actor, log[1].Actor)
	})

	t.Run("a late retry of an older seq does not roll the order back", func(t *testing.T) {
		mustRun[activities.RecordResult](t, f.env, f.acts.Record, priced)
		rec, err := f.store.Order(ctx, "ord-rec")
		require.NoError(t, err)
		assert.Equal(t, order.StatusCreditCheck, rec.Status)
		log, err := f.store.AuditLog(ctx, "ord-rec")
		require.NoError(t, err)
		assert.Len(t, log, 2)
	})

	t.Run("an order unknown here without a customer", func(t *testing.T) {
		orphan := priced
		orphan.OrderID, orphan.CustomerID = "ord-orphan", ""
		_, err := run[activities.RecordResult](t, f.env, f.acts.Record, orphan)
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

// A Record scheduled by a worker from before RecordInput had fields of its
// own carries {"transition": {...}, "fields": [...]} (the payload below is
// from workflows/testdata/order_completed_two_shipments_latest.json, with
// fields added); a newer worker that runs it writes the same transition.
func TestRecordReadsTheInputOfOlderWorkers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	const old = `{"transition":{"OrderID":"ord-old-shape","CustomerID":"ACME-001","PONumber":"PO-e2e-main","Seq":2,
		"Status":"QUOTE_REFUSED","NeedsAttention":false,"Total":{"minor":483060,"currency":"EUR"},"QuoteRevision":1,
		"Details":"Waiting for the buyer.","InvoiceNumber":"","Actor":{"subject":"orderflow","role":"system"},
		"Action":"quote.refused","Reason":"revision 1, total 4830.60 EUR","Data":null,"At":"2026-12-01T19:44:45.720574276Z"},
		"fields":[{"field":"lines[1].sku","reason":"the ERP does not know this SKU"}]}`
	var in activities.RecordInput
	require.NoError(t, json.Unmarshal([]byte(old), &in))
	want := activities.RecordInput{
		OrderID: "ord-old-shape", CustomerID: "ACME-001", PONumber: "PO-e2e-main", Seq: 2,
		Status: order.StatusQuoteRefused, Total: eur(483060), QuoteRevision: 1, Details: "Waiting for the buyer.",
		Actor: order.System, Action: order.ActionQuoteRefused, Reason: "revision 1, total 4830.60 EUR",
		At:     time.Date(2026, 12, 1, 19, 44, 45, 720574276, time.UTC),
		Fields: []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}},
	}
	require.Equal(t, want, in)

	t.Run("the new shape round-trips", func(t *testing.T) {
		b, err := json.Marshal(want)
		require.NoError(t, err)
		require.NotContains(t, string(b), "transition")
		var back activities.RecordInput
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, want, back)
	})

	t.Run("is written as it was meant", func(t *testing.T) {
		// The SDK's JSON payload converter decodes with encoding/json, so
		// the worker sees the RecordInput decoded above.
		mustRun[activities.RecordResult](t, f.env, f.acts.Record, in)
		rec, err := f.store.Order(ctx, "ord-old-shape")
		require.NoError(t, err)
		assert.Equal(t, order.StatusQuoteRefused, rec.Status)
		assert.Equal(t, eur(483060), rec.Total)
		fields, err := f.store.QuoteRefusal(ctx, "ord-old-shape")
		require.NoError(t, err)
		assert.Equal(t, want.Fields, fields)
	})
}

func TestApplyPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	_, inv := invoiceOrder(t, f, "ord-pay", time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))

	p, fresh, err := f.store.RecordPayment(ctx, store.Payment{
		BankTransactionID: "BANK-0001", Amount: inv.Amount, Reference: inv.Number,
	})
	require.NoError(t, err)
	require.True(t, fresh)
	require.Empty(t, p.MatchKind)

	apply := activities.ApplyPaymentInput{OrderID: "ord-pay", BankTransactionID: "BANK-0001",
		InvoiceNumber: inv.Number, Kind: order.MatchExact}
	mustRun[activities.ApplyPaymentResult](t, f.env, f.acts.ApplyPayment, apply)
	p, err = f.store.Payment(ctx, "BANK-0001")
	require.NoError(t, err)
	assert.Equal(t, "ord-pay", p.OrderID)
	assert.Equal(t, inv.Number, p.InvoiceNumber)
	assert.Equal(t, order.MatchExact, p.MatchKind)
	assert.Equal(t, "orderflow", p.AllocatedBy)
	queue, err := f.store.UnmatchedPayments(ctx)
	require.NoError(t, err)
	assert.Empty(t, queue, "a matched payment leaves finance's queue")

	t.Run("a retry changes nothing", func(t *testing.T) {
		mustRun[activities.ApplyPaymentResult](t, f.env, f.acts.ApplyPayment, apply)
		again, err := f.store.Payment(ctx, "BANK-0001")
		require.NoError(t, err)
		assert.Equal(t, p, again)
	})

	t.Run("unknown payment", func(t *testing.T) {
		ghost := apply
		ghost.BankTransactionID = "BANK-NONE"
		_, err := run[activities.ApplyPaymentResult](t, f.env, f.acts.ApplyPayment, ghost)
		requireAppError(t, err, activities.ErrTypeInvalidInput, true)
	})
}

// TestERPUnreachable: an ERP that does not answer at all makes the activity
// retry, not fail for good.
func TestERPUnreachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	gone := *f.acts
	gone.ERP = erp.New("http://"+closedPort(t), downstream.NewBreaker(erp.System, patient, nil))
	_, err := run[activities.CheckCreditResult](t, newEnv(&gone), gone.CheckCredit,
		activities.CheckCreditInput{OrderID: "ord-x", CustomerID: "ACME-001", Total: eur(100)})
	requireAppError(t, err, activities.ErrTypeUnavailable, false)
}

// Each buyer mail goes to the customer's contacts whose role it concerns
// (Acme's seed: purchasing, a CFO who approves, accounts payable, goods
// receiving); a customer without contacts gets everything at its main
// address.
func TestBuyerMailsGoToTheContactsTheyConcern(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	inv := &order.Invoice{Number: "INV-9", Amount: eur(100), IssuedAt: time.Now(), DueDate: time.Now()}
	needs := []order.ApprovalNeed{{Side: order.SideBuyer, Count: 1, Reason: "over the purchasing limit"}}
	shipment := &order.Shipment{Warehouse: "WH-NORTH", ShipmentID: "SH-1", TrackingNumber: "TRK-1", Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1}}}
	for _, tc := range []struct {
		customer string
		kind     mail.Kind
		data     mail.Data
		to       []string
	}{
		{"ACME-001", mail.KindApprovalRequest, mail.Data{Needs: needs}, []string{"cfo@acme.example"}},
		{"ACME-001", mail.KindInvoice, mail.Data{Invoice: inv}, []string{"ap@acme.example"}},
		{"ACME-001", mail.KindDunningSecond, mail.Data{Invoice: inv, Balance: &inv.Amount}, []string{"ap@acme.example"}},
		{"ACME-001", mail.KindShipmentBooked, mail.Data{Shipment: shipment}, []string{"goods-in@acme.example"}},
		{"ACME-001", mail.KindOrderCancelled, mail.Data{Reason: "x"}, []string{"purchasing@acme.example"}},
		{"GLOBEX-002", mail.KindInvoice, mail.Data{Invoice: inv}, []string{"procurement@globex.example"}},
	} {
		t.Run(tc.customer+" "+string(tc.kind), func(t *testing.T) {
			orderID := "ord-contacts-" + tc.customer + "-" + string(tc.kind)
			res := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
				Key: activities.Key(orderID, "mail", string(tc.kind)), Kind: tc.kind, OrderID: orderID,
				CustomerID: tc.customer, Audience: activities.AudienceBuyer, Data: tc.data,
			})
			assert.Equal(t, tc.to, res.To)
		})
	}
}

// A customer with two purchasers: the mails of an order go to the one who
// asked for it; to both when the requester is not one of them.
func TestPurchaserMailsGoToWhoAsked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	require.NoError(t, f.store.SetContacts(ctx, "GLOBEX-002", []order.Contact{
		{Email: "ana@globex.example", Roles: []order.ContactRole{order.ContactPurchaser}},
		{Email: "bo@globex.example", Roles: []order.ContactRole{order.ContactPurchaser}},
	}))
	for i, tc := range []struct {
		by string
		to []string
	}{{"BO@globex.example", []string{"bo@globex.example"}}, {"storefront-7", []string{"ana@globex.example", "bo@globex.example"}}} {
		orderID := fmt.Sprintf("ord-asked-%d", i)
		res := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{
			Key: activities.Key(orderID, "mail", "cancelled"), Kind: mail.KindOrderCancelled, OrderID: orderID,
			CustomerID: "GLOBEX-002", Audience: activities.AudienceBuyer, Data: mail.Data{Reason: "x"}, RequestedBy: tc.by,
		})
		assert.Equal(t, tc.to, res.To, tc.by)
	}
}

// TestInvoiceOfAScaledOrder: a scaled order's invoice is recorded with its
// due date on the order's clock (issue + terms/scale), so the buyer's view
// and the overdue-invoices worklist agree with the order's dunning; the
// answer is the ERP's invoice as the ERP keeps it.
func TestInvoiceOfAScaledOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()
	require.NoError(t, f.store.RecordTransition(ctx, store.Transition{OrderID: "ord-inv-scaled", CustomerID: "ACME-001",
		Seq: 1, Status: order.StatusShipping, Total: eur(498000), Action: "status.changed"}))
	so := mustRun[activities.ReserveResult](t, f.env, f.acts.Reserve,
		activities.ReserveInput{OrderID: "ord-inv-scaled", CustomerID: "ACME-001", Currency: "EUR", Lines: pumpsAndMotor})
	res := mustRun[activities.InvoiceResult](t, f.env, f.acts.Invoice, activities.InvoiceInput{
		OrderID: "ord-inv-scaled", CustomerID: "ACME-001", SalesOrderID: so.SalesOrderID,
		Amount: eur(498000), PaymentTermsDays: 30, IssuedAt: time.Now().UTC(), TimeScale: 5760,
	})
	inv := res.Invoice
	require.Greater(t, inv.DueDate.Sub(inv.IssuedAt), 29*24*time.Hour, "the answer keeps the ERP's due date")
	_, stored, err := f.store.InvoiceByNumber(ctx, inv.Number)
	require.NoError(t, err)
	assertSameInstant(t, order.CompressDate(inv.IssuedAt, inv.DueDate, 5760).Truncate(time.Microsecond), stored.DueDate, "recorded on the order's clock")
	require.Less(t, stored.DueDate.Sub(inv.IssuedAt), 10*time.Minute)
}
