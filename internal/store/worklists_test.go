package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

const day = 24 * time.Hour

// record writes a transition as the workflow's Record activity does.
func record(t *testing.T, s *store.Store, tr store.Transition) store.RecordOutcome {
	t.Helper()
	out, err := s.RecordTransitionOutcome(context.Background(), tr)
	require.NoError(t, err)
	return out
}

// pages reads a whole worklist one row at a time, following the cursors.
func pages[T any](t *testing.T, list func(store.WorklistFilter) (store.Page[T], error), f store.WorklistFilter) []T {
	t.Helper()
	f.Limit = 1
	var all []T
	for range 100 {
		p, err := list(f)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Items), 1)
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		f.After = p.Next
	}
	t.Fatal("the cursors do not end")
	return nil
}

func requireBadCursor(t *testing.T, err error) {
	t.Helper()
	var fe *order.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "after", fe.Field)
	require.ErrorIs(t, err, store.ErrBadCursor)
}

// TestOverdueInvoices: invoices with money open past their due date, the
// longest overdue first with whole days overdue at the injected now; an
// invoice the order has not recorded a payment against is open for its
// whole amount; paid invoices and cancelled orders' are left out; the
// customer filter and the cursors work.
func TestOverdueInvoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	now := t0.AddDate(0, 0, 40)
	invoice := func(id, customer, number string, due time.Time, status order.Status, facts *order.InvoiceFact) {
		createOrder(t, s, id, customer, order.StatusQuoting, money.Money{})
		require.NoError(t, s.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "erp-" + number, Number: number,
			Amount: money.New(10_000, "EUR"), IssuedAt: t0, DueDate: due}))
		tr := transition(id, 1, status)
		if facts != nil {
			tr.Facts = &order.Facts{Invoices: []order.InvoiceFact{*facts}}
		}
		record(t, s, tr)
	}
	invoice("ord-a", "ACME-001", "INV-A", t0.AddDate(0, 0, 10), order.StatusAwaitingPayment,
		&order.InvoiceFact{Number: "INV-A", Open: money.New(4_000, "EUR"), DunningLevel: 2, Escalated: true})
	invoice("ord-b", "GLOBEX-002", "INV-B", t0.AddDate(0, 0, 20), order.StatusAwaitingPayment, nil) // open not recorded
	invoice("ord-c", "ACME-001", "INV-C", t0.AddDate(0, 0, 5), order.StatusCancelled, nil)
	invoice("ord-d", "ACME-001", "INV-D", t0.AddDate(0, 0, 1), order.StatusPaid,
		&order.InvoiceFact{Number: "INV-D", Open: money.New(0, "EUR"), SettledAt: t0})
	invoice("ord-e", "ACME-001", "INV-E", t0.AddDate(0, 0, 45), order.StatusAwaitingPayment, nil) // not due yet
	invoice("ord-f", "ACME-001", "INV-F", t0.AddDate(0, 0, 30), order.StatusAwaitingPayment,
		&order.InvoiceFact{Number: "INV-F", Open: money.New(10_000, "EUR"), DunningLevel: 1, Disputed: true})

	got, err := s.OverdueInvoices(ctx, store.WorklistFilter{At: now})
	require.NoError(t, err)
	require.Empty(t, got.Next)
	require.Equal(t, []store.OverdueInvoice{
		{Number: "INV-A", OrderID: "ord-a", CustomerID: "ACME-001", OrderStatus: order.StatusAwaitingPayment,
			Amount: money.New(10_000, "EUR"), Open: money.New(4_000, "EUR"), DueDate: t0.AddDate(0, 0, 10),
			DaysOverdue: 30, DunningLevel: 2, Escalated: true},
		{Number: "INV-B", OrderID: "ord-b", CustomerID: "GLOBEX-002", OrderStatus: order.StatusAwaitingPayment,
			Amount: money.New(10_000, "EUR"), Open: money.New(10_000, "EUR"), DueDate: t0.AddDate(0, 0, 20),
			DaysOverdue: 20},
		{Number: "INV-F", OrderID: "ord-f", CustomerID: "ACME-001", OrderStatus: order.StatusAwaitingPayment,
			Amount: money.New(10_000, "EUR"), Open: money.New(10_000, "EUR"), DueDate: t0.AddDate(0, 0, 30),
			DaysOverdue: 10, DunningLevel: 1, Disputed: true},
	}, got.Items)

	acme, err := s.OverdueInvoices(ctx, store.WorklistFilter{At: now, CustomerID: "ACME-001"})
	require.NoError(t, err)
	require.Len(t, acme.Items, 2)
	for _, v := range acme.Items {
		require.Equal(t, "ACME-001", v.CustomerID)
	}

	paged := pages(t, func(f store.WorklistFilter) (store.Page[store.OverdueInvoice], error) {
		return s.OverdueInvoices(ctx, f)
	},
		store.WorklistFilter{At: now})
	require.Equal(t, got.Items, paged, "page by page, the same rows")

	later, err := s.OverdueInvoices(ctx, store.WorklistFilter{At: now.AddDate(0, 0, 10)})
	require.NoError(t, err)
	require.Len(t, later.Items, 4, "ten days on, INV-E is overdue too")

	_, err = s.OverdueInvoices(ctx, store.WorklistFilter{At: now, After: "not-a-cursor"})
	requireBadCursor(t, err)
}

// TestCreditHolds: orders in CREDIT_HOLD, since the transition that put
// them there (not their last change), the longest held first.
func TestCreditHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	for i, id := range []string{"ord-1", "ord-2", "ord-3"} {
		customer := "ACME-001"
		if id == "ord-2" {
			customer = "GLOBEX-002"
		}
		createOrder(t, s, id, customer, order.StatusQuoting, money.New(1_000, "EUR"))
		tr := transition(id, 1, order.StatusCreditCheck)
		record(t, s, tr)
		if id == "ord-3" {
			record(t, s, transition(id, 2, order.StatusConfirmed))
			continue
		}
		hold := transition(id, 2, order.StatusCreditHold)
		hold.At = t0.Add(time.Duration(10-i) * time.Hour) // ord-2 went on hold before ord-1
		record(t, s, hold)
		again := transition(id, 3, order.StatusCreditHold)
		again.At, again.Details = t0.Add(20*time.Hour), "finance was reminded"
		record(t, s, again)
	}
	got, err := s.CreditHolds(ctx, store.WorklistFilter{})
	require.NoError(t, err)
	require.Len(t, got.Items, 2)
	require.Equal(t, "ord-2", got.Items[0].OrderID)
	require.True(t, got.Items[0].Since.Equal(t0.Add(9*time.Hour)), "since %s", got.Items[0].Since)
	require.Equal(t, "ord-1", got.Items[1].OrderID)
	require.Equal(t, money.New(1_000, "EUR"), got.Items[1].Total)
	require.Equal(t, "finance was reminded", got.Items[1].Details)

	paged := pages(t, func(f store.WorklistFilter) (store.Page[store.CreditHold], error) { return s.CreditHolds(ctx, f) }, store.WorklistFilter{})
	require.Equal(t, got.Items, paged)
	acme, err := s.CreditHolds(ctx, store.WorklistFilter{CustomerID: "ACME-001"})
	require.NoError(t, err)
	require.Len(t, acme.Items, 1)
	require.Equal(t, "ord-1", acme.Items[0].OrderID)
}

// TestUnmatchedPaymentsPage: the queue UnmatchedPayments returns, a page
// at a time.
func TestUnmatchedPaymentsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	for i, id := range []string{"tx-3", "tx-1", "tx-2"} {
		_, _, err := s.RecordPayment(ctx, store.Payment{BankTransactionID: id, Amount: money.New(100, "EUR"),
			Reference: "?", ReceivedAt: t0.Add(time.Duration(i) * time.Minute)})
		require.NoError(t, err)
	}
	// Same time as tx-1: the id breaks the tie.
	_, _, err := s.RecordPayment(ctx, store.Payment{BankTransactionID: "tx-0", Amount: money.New(100, "EUR"), ReceivedAt: t0.Add(time.Minute)})
	require.NoError(t, err)

	all, err := s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	require.Len(t, all, 4)
	first, err := s.UnmatchedPaymentsPage(ctx, store.WorklistFilter{Limit: 3})
	require.NoError(t, err)
	require.Equal(t, all[:3], first.Items)
	require.NotEmpty(t, first.Next)
	rest, err := s.UnmatchedPaymentsPage(ctx, store.WorklistFilter{Limit: 3, After: first.Next})
	require.NoError(t, err)
	require.Equal(t, all[3:], rest.Items)
	require.Empty(t, rest.Next)
	var ids []string
	for _, p := range all {
		ids = append(ids, p.BankTransactionID)
	}
	require.Equal(t, []string{"tx-3", "tx-0", "tx-1", "tx-2"}, ids)
}

// TestAttentionOrders: orders needing attention with their failed step
// and its stage; the stage filter keeps the orders failed at a step of
// that stage; an order that recovered leaves the list.
func TestAttentionOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	failed := func(id, customer, step string) {
		createOrder(t, s, id, customer, order.StatusQuoting, money.Money{})
		tr := transition(id, 1, order.StatusConfirmed)
		tr.Action, tr.Reason, tr.NeedsAttention = "step.delayed", step+": down", true
		tr.Facts = &order.Facts{AttentionStep: step}
		record(t, s, tr)
	}
	failed("ord-1", "ACME-001", "book shipment from WH-EAST")
	failed("ord-2", "GLOBEX-002", "invoice")
	failed("ord-3", "ACME-001", "book shipment from WH-WEST")
	failed("ord-4", "ACME-001", "credit check")
	tr := transition("ord-4", 2, order.StatusConfirmed) // the step went through
	tr.Facts = &order.Facts{}
	record(t, s, tr)

	got, err := s.AttentionOrders(ctx, store.WorklistFilter{})
	require.NoError(t, err)
	require.Len(t, got.Items, 3)
	require.Equal(t, "ord-1", got.Items[0].OrderID)
	require.Equal(t, "book shipment from WH-EAST", got.Items[0].Step)
	require.Equal(t, order.StageShipping, got.Items[0].Stage)
	require.Equal(t, order.StageInvoicing, got.Items[1].Stage)

	shipping, err := s.AttentionOrders(ctx, store.WorklistFilter{Stage: order.StageShipping})
	require.NoError(t, err)
	require.Len(t, shipping.Items, 2)
	for _, v := range shipping.Items {
		require.Equal(t, order.StageShipping, v.Stage)
	}
	none, err := s.AttentionOrders(ctx, store.WorklistFilter{Stage: order.StagePayment})
	require.NoError(t, err)
	require.Empty(t, none.Items)
	require.NotNil(t, none.Items, "an empty list, not null")

	paged := pages(t, func(f store.WorklistFilter) (store.Page[store.AttentionOrder], error) {
		return s.AttentionOrders(ctx, f)
	},
		store.WorklistFilter{Stage: order.StageShipping, CustomerID: "ACME-001"})
	require.Equal(t, shipping.Items, paged)
	globex, err := s.AttentionOrders(ctx, store.WorklistFilter{CustomerID: "GLOBEX-002"})
	require.NoError(t, err)
	require.Len(t, globex.Items, 1)
}

// TestOverdueDeliveries: shipments not delivered nor replaced past their
// promise plus the grace, or flagged by the workflow, with whole days
// late; delivered, replaced, within-grace and ended orders' shipments are
// left out.
func TestOverdueDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	now := t0.AddDate(0, 0, 10)
	ship := func(id, customer string, status order.Status, shipments ...order.ShipmentFact) {
		createOrder(t, s, id, customer, order.StatusQuoting, money.Money{})
		tr := transition(id, 1, status)
		tr.Facts = &order.Facts{Shipments: shipments}
		record(t, s, tr)
	}
	promised := func(days int) time.Time { return t0.AddDate(0, 0, days) }
	ship("ord-1", "ACME-001", order.StatusShipping,
		order.ShipmentFact{ShipmentID: "S1", Warehouse: "WH-EAST", Carrier: "parcel", SKUs: []string{"A"}, PromisedDate: promised(3)},
		order.ShipmentFact{ShipmentID: "S2", Warehouse: "WH-WEST", Carrier: "freight", PromisedDate: promised(2), DeliveredAt: promised(2)},
		order.ShipmentFact{ShipmentID: "S3", Warehouse: "WH-WEST", Carrier: "freight", PromisedDate: promised(1), Replaced: true},
		order.ShipmentFact{ShipmentID: "S4", Warehouse: "WH-WEST", Carrier: "freight", PromisedDate: promised(9)}, // within grace
	)
	ship("ord-2", "GLOBEX-002", order.StatusShipping,
		order.ShipmentFact{ShipmentID: "S1", Warehouse: "WH-EAST", Carrier: "parcel", PromisedDate: promised(9), Overdue: true, Exception: "damaged"})
	ship("ord-3", "ACME-001", order.StatusCancelled,
		order.ShipmentFact{ShipmentID: "S1", Warehouse: "WH-EAST", Carrier: "parcel", PromisedDate: promised(1)})
	// A carrier exception lists a shipment within its promise: CS decides
	// whether to wait or reship.
	ship("ord-4", "INITECH-003", order.StatusShipping,
		order.ShipmentFact{ShipmentID: "S1", Warehouse: "WH-EAST", Carrier: "parcel", PromisedDate: promised(20), Exception: "parcel lost"})

	f := store.WorklistFilter{At: now, DeliveryGrace: 2 * day}
	got, err := s.OverdueDeliveries(ctx, f)
	require.NoError(t, err)
	require.Len(t, got.Items, 3)
	require.Equal(t, "ord-4", got.Items[2].OrderID)
	require.Equal(t, "parcel lost", got.Items[2].Exception)
	require.Equal(t, 0, got.Items[2].DaysLate, "not late, lost")
	got.Items = got.Items[:2]
	first := got.Items[0]
	require.Equal(t, []string{"ord-1", "S1", "ACME-001", "WH-EAST", "parcel"},
		[]string{first.OrderID, first.ShipmentID, first.CustomerID, first.Warehouse, first.Carrier})
	require.Equal(t, []string{"A"}, first.SKUs)
	require.Equal(t, 7, first.DaysLate)
	require.False(t, first.Flagged)
	second := got.Items[1]
	require.Equal(t, "ord-2", second.OrderID)
	require.True(t, second.Flagged, "flagged by the workflow, within the grace here")
	require.Equal(t, 1, second.DaysLate)
	require.Equal(t, "damaged", second.Exception)

	paged := pages(t, func(f store.WorklistFilter) (store.Page[store.OverdueDelivery], error) {
		return s.OverdueDeliveries(ctx, f)
	}, f)
	require.Len(t, paged, 3)
	require.Equal(t, got.Items, paged[:2])
	f.CustomerID = "GLOBEX-002"
	globex, err := s.OverdueDeliveries(ctx, f)
	require.NoError(t, err)
	require.Len(t, globex.Items, 1)
	require.Equal(t, "ord-2", globex.Items[0].OrderID)

	sizes, err := s.WorklistSizes(ctx, now, 2*day)
	require.NoError(t, err)
	require.Equal(t, 3, sizes[store.WorklistOverdueDeliveries])
	sizes, err = s.WorklistSizes(ctx, now, 0)
	require.NoError(t, err)
	require.Equal(t, 4, sizes[store.WorklistOverdueDeliveries], "without grace, S4 of ord-1 is late too")
}

// TestOpenFollowUps: open follow-ups, by owner (any of a rep's names) and
// customer, oldest first, a page at a time; closed ones leave the list.
func TestOpenFollowUps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	detractor := func(id, customer string) {
		createOrder(t, s, id, customer, order.StatusPaid, money.New(1, "EUR"))
		_, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: id, ShipmentID: "S1", CustomerID: customer,
			Warehouse: "WH-EAST", Carrier: "parcel", Token: "tok-" + id, ExpiresAt: t0.Add(time.Hour)})
		require.NoError(t, err)
		_, _, err = s.AnswerSurvey(ctx, "tok-"+id, 2, "", t0)
		require.NoError(t, err)
	}
	detractor("ord-1", "ACME-001")   // anna.rep@
	detractor("ord-2", "GLOBEX-002") // ben.rep@
	detractor("ord-3", "INITECH-003")
	detractor("ord-4", "ACME-001")

	all, err := s.OpenFollowUps(ctx, store.WorklistFilter{})
	require.NoError(t, err)
	require.Len(t, all.Items, 4)
	_, err = s.CloseFollowUp(ctx, all.Items[3].ID, order.Actor{Subject: "cs-1", Role: order.RoleCS}, "called", t0)
	require.NoError(t, err)

	anna, err := s.OpenFollowUps(ctx, store.WorklistFilter{Owners: []string{"rep-anna", "anna.rep@seller.example"}})
	require.NoError(t, err)
	require.Len(t, anna.Items, 2, "ACME and INITECH, not the closed one")
	require.Equal(t, "ord-1", anna.Items[0].OrderID)
	require.Equal(t, "ord-3", anna.Items[1].OrderID)
	nobody, err := s.OpenFollowUps(ctx, store.WorklistFilter{Owners: []string{}})
	require.NoError(t, err)
	require.Empty(t, nobody.Items, "a rep known by no name owns none")

	paged := pages(t, func(f store.WorklistFilter) (store.Page[store.FollowUp], error) { return s.OpenFollowUps(ctx, f) }, store.WorklistFilter{})
	require.Len(t, paged, 3)
	acme, err := s.OpenFollowUps(ctx, store.WorklistFilter{CustomerID: "ACME-001"})
	require.NoError(t, err)
	require.Len(t, acme.Items, 1)

	sizes, err := s.WorklistSizes(ctx, t0, 0)
	require.NoError(t, err)
	require.Equal(t, map[string]int{store.WorklistOverdueInvoices: 0, store.WorklistCreditHolds: 0,
		store.WorklistUnmatchedPayments: 0, store.WorklistAttention: 0, store.WorklistOverdueDeliveries: 0,
		store.WorklistFollowUps: 3}, sizes)
	_, err = s.OpenFollowUps(ctx, store.WorklistFilter{After: "eA"})
	requireBadCursor(t, err)
}

// TestRecordTransitionOutcome: the first write of a transition says so,
// with the status left and when the order entered it; a replay of the same
// seq (a retried Record activity) says it wrote nothing.
func TestRecordTransitionOutcome(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})

	priced := record(t, s, transition("ord-1", 1, order.StatusAwaitingAcceptance))
	require.True(t, priced.StatusChanged())
	require.Equal(t, order.StatusQuoting, priced.From)
	in, ok := priced.InStatus()
	require.True(t, ok)
	require.Equal(t, time.Minute, in, "from the order's creation (t0) to seq 1")

	reminded := transition("ord-1", 2, order.StatusAwaitingAcceptance)
	reminded.Action = "mail.reminder"
	out := record(t, s, reminded)
	require.True(t, out.Inserted)
	require.False(t, out.StatusChanged(), "no change of status")

	accepted := record(t, s, transition("ord-1", 3, order.StatusAwaitingApproval))
	require.True(t, accepted.StatusChanged())
	require.Equal(t, order.StatusAwaitingAcceptance, accepted.From)
	in, _ = accepted.InStatus()
	require.Equal(t, 2*time.Minute, in, "since seq 1 entered the status, not since seq 2")

	replay := record(t, s, transition("ord-1", 3, order.StatusAwaitingApproval))
	require.False(t, replay.Inserted)
	require.False(t, replay.StatusChanged())
}

// TestNPSByFulfilment: NPS overall, per warehouse and per carrier over
// the answers of a window.
func TestNPSByFulfilment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	empty, err := s.NPSByFulfilment(ctx, t0, t0.Add(day))
	require.NoError(t, err)
	require.Equal(t, []store.NPSGroup{{Dimension: store.NPSAll}}, empty)

	answers := []struct {
		warehouse, carrier string
		score              int
		at                 time.Time
	}{
		{"WH-EAST", "parcel", 10, t0},
		{"WH-EAST", "freight", 3, t0},
		{"WH-WEST", "parcel", 9, t0},
		{"WH-WEST", "parcel", 7, t0},
		{"", "", 0, t0},                            // an order surveyed whole
		{"WH-EAST", "parcel", 0, t0.Add(-2 * day)}, // before the window
	}
	for i, a := range answers {
		id := "ord-" + string(rune('a'+i))
		createOrder(t, s, id, "ACME-001", order.StatusPaid, money.New(1, "EUR"))
		_, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: id, ShipmentID: "S1", CustomerID: "ACME-001",
			Warehouse: a.warehouse, Carrier: a.carrier, Token: "tok-" + id, ExpiresAt: t0.Add(day)})
		require.NoError(t, err)
		_, _, err = s.AnswerSurvey(ctx, "tok-"+id, a.score, "", a.at)
		require.NoError(t, err)
	}
	groups, err := s.NPSByFulfilment(ctx, t0.Add(-day), t0.Add(day))
	require.NoError(t, err)
	got := map[string]store.NPSGroup{}
	for _, g := range groups {
		got[g.Dimension+"/"+g.Value] = g
	}
	require.Len(t, got, 5, "all, two warehouses, two carriers")
	require.Equal(t, store.NPSGroup{Dimension: "all", Answers: 5, Promoters: 2, Detractors: 2}, got["all/"])
	require.Equal(t, store.NPSGroup{Dimension: "warehouse", Value: "WH-EAST", Answers: 2, Promoters: 1, Detractors: 1}, got["warehouse/WH-EAST"])
	require.InDelta(t, 50.0, got["warehouse/WH-WEST"].Score(), 1e-9)
	require.InDelta(t, 100*(2.0-0)/3, got["carrier/parcel"].Score(), 1e-9)
	require.InDelta(t, -100.0, got["carrier/freight"].Score(), 1e-9)
}
