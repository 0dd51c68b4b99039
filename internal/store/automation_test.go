package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/store/storetest"
)

// autoOrder writes an order's transitions as the workflow would.
type autoOrder struct {
	t   *testing.T
	s   *store.Store
	id  string
	seq int64
	at  time.Time
}

var autoT0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func newAutoOrder(t *testing.T, s *store.Store, id string) *autoOrder {
	o := &autoOrder{t: t, s: s, id: id, at: autoT0}
	o.rec(order.StatusAwaitingAcceptance, "quote.sent", "", nil)
	return o
}

// rec records a transition an hour after the previous one.
func (o *autoOrder) rec(status order.Status, action, reason string, f func(*store.Transition)) *autoOrder {
	o.t.Helper()
	o.seq++
	tr := store.Transition{OrderID: o.id, CustomerID: "ACME-001", PONumber: "PO-" + o.id, Seq: o.seq, Status: status,
		Action: action, Reason: reason, Details: string(status), At: o.at, Actor: order.System, Facts: &order.Facts{}}
	if f != nil {
		f(&tr)
	}
	require.NoError(o.t, o.s.RecordTransition(context.Background(), tr))
	o.at = o.at.Add(time.Hour)
	return o
}

func (o *autoOrder) by(role order.Role, status order.Status, action, reason string) *autoOrder {
	return o.rec(status, action, reason, func(tr *store.Transition) {
		tr.Actor = order.Actor{Subject: string(role) + "@seller", Role: role}
	})
}

func (o *autoOrder) complete() *autoOrder {
	return o.rec(order.StatusShipping, "order.delivered", "", nil).
		rec(order.StatusPaid, "payment.reconciled", "", nil).
		rec(order.StatusCompleted, "status.changed", "", nil)
}

func TestAutomationFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))

	newAutoOrder(t, s, "a-straight").rec(order.StatusCreditCheck, "quote.accepted", "", nil).complete()
	// A step fails; CS retries it an hour later.
	newAutoOrder(t, s, "a-failed").rec(order.StatusCreditCheck, "quote.accepted", "", nil).
		rec(order.StatusConfirmed, "step.failed", "reserve stock: ERP said no", func(tr *store.Transition) {
			tr.NeedsAttention = true
			tr.Facts.AttentionStep = "reserve stock"
		}).
		by(order.RoleCS, order.StatusConfirmed, "action.retry", "reserve stock: fixed in the ERP").complete()
	// A step retries past its budget and recovers two hours later.
	newAutoOrder(t, s, "a-delayed").rec(order.StatusCreditCheck, "quote.accepted", "", nil).
		rec(order.StatusShipping, "step.delayed", "book shipment: no success for 1h", func(tr *store.Transition) {
			tr.NeedsAttention = true
			tr.Facts.AttentionStep = "book shipment"
		}).
		rec(order.StatusShipping, "order.shipping", "", nil).
		rec(order.StatusShipping, "step.recovered", "book shipment", nil).complete()
	// The carrier reports damage: no worklist shows it; the order still waits.
	shp := order.ShipmentFact{ShipmentID: "SHP-1", Warehouse: "WH-EAST", Carrier: "parcel", PromisedDate: autoT0.Add(72 * time.Hour)}
	newAutoOrder(t, s, "a-carrier").rec(order.StatusCreditCheck, "quote.accepted", "", nil).
		rec(order.StatusShipping, "order.shipping", "", func(tr *store.Transition) { tr.Facts.Shipments = []order.ShipmentFact{shp} }).
		rec(order.StatusShipping, "shipment.exception", "SHP-1: damaged (event e1)", func(tr *store.Transition) {
			tr.Facts.Shipments = []order.ShipmentFact{shp}
		})
	// A late delivery: flagged overdue (the overdue-deliveries list), delivered a day later.
	late := order.ShipmentFact{ShipmentID: "SHP-2", Warehouse: "WH-EAST", Carrier: "parcel", PromisedDate: autoT0}
	lo := newAutoOrder(t, s, "a-late").rec(order.StatusCreditCheck, "quote.accepted", "", nil).
		rec(order.StatusShipping, "order.shipping", "", func(tr *store.Transition) { tr.Facts.Shipments = []order.ShipmentFact{late} })
	late.Overdue = true
	lo.rec(order.StatusShipping, "delivery.overdue", "shipment SHP-2 promised 2026-06-01", func(tr *store.Transition) {
		tr.Facts.Shipments = []order.ShipmentFact{late}
	})
	late.DeliveredAt = lo.at.Add(23 * time.Hour)
	lo.at = late.DeliveredAt
	lo.rec(order.StatusShipping, "order.delivered", "", func(tr *store.Transition) { tr.Facts.Shipments = []order.ShipmentFact{late} }).
		rec(order.StatusPaid, "payment.reconciled", "", nil).rec(order.StatusCompleted, "status.changed", "", nil)
	// Approval and credit hold, finance overrides: decisions.
	newAutoOrder(t, s, "a-decided").rec(order.StatusAwaitingApproval, "quote.accepted", "", nil).
		by(order.RoleSalesManager, order.StatusCreditCheck, "approval.approved", "ok").
		rec(order.StatusCreditHold, "credit.hold", "", nil).
		by(order.RoleFinance, order.StatusConfirmed, "credit.override", "good customer").complete()
	// Still in flight, untouched.
	newAutoOrder(t, s, "a-flight")

	// Payments: one the matcher applied, one finance allocated, one nobody could place.
	for _, p := range []store.Payment{
		{BankTransactionID: "BTX-1", Amount: money.New(10_000, "EUR"), Reference: "RF18INV1", ReceivedAt: autoT0.Add(time.Hour)},
		{BankTransactionID: "BTX-2", Amount: money.New(10_000, "EUR"), ReceivedAt: autoT0.Add(2 * time.Hour)},
		{BankTransactionID: "BTX-3", Amount: money.New(5_000, "EUR"), ReceivedAt: autoT0.Add(3 * time.Hour)},
		{BankTransactionID: "BTX-old", Amount: money.New(5_000, "EUR"), ReceivedAt: autoT0.AddDate(0, -1, 0)},
	} {
		_, _, err := s.RecordPayment(ctx, p)
		require.NoError(t, err)
	}
	require.NoError(t, s.SaveInvoice(ctx, "a-straight", order.Invoice{InvoiceID: "erp-1", Number: "INV-1", Amount: money.New(10_000, "EUR"), IssuedAt: autoT0, DueDate: autoT0.AddDate(0, 0, 30)}))
	require.NoError(t, s.SaveInvoice(ctx, "a-decided", order.Invoice{InvoiceID: "erp-2", Number: "INV-2", Amount: money.New(10_000, "EUR"), IssuedAt: autoT0, DueDate: autoT0.AddDate(0, 0, 30)}))
	require.NoError(t, s.MatchPayment(ctx, "BTX-1", "a-straight", "INV-1", order.MatchExact, store.MatcherActor))
	require.NoError(t, s.AllocatePayment(ctx, "BTX-2", "INV-2", order.MatchExact, store.AuditEntry{OrderID: "a-decided",
		Actor: order.Actor{Subject: "fin@seller", Role: order.RoleFinance}, Action: "payment.allocated", At: autoT0.Add(30 * time.Hour)}))
	// A payment the workflow could not apply.
	newAutoOrder(t, s, "a-notapplied").rec(order.StatusAwaitingPayment, "payment.not-applied", "BTX-3: 50.00 EUR: store down", nil)

	at := autoT0.Add(100 * time.Hour)
	f, err := s.AutomationFacts(ctx, store.AutomationFilter{From: autoT0, To: autoT0.Add(24 * time.Hour), At: at})
	require.NoError(t, err)
	byID := map[string]automation.OrderFacts{}
	for _, o := range f.Orders {
		byID[o.OrderID] = o
	}
	require.Len(t, byID, 8)
	require.Equal(t, "PO-a-straight", byID["a-straight"].PONumber)
	require.True(t, byID["a-straight"].Straight())
	require.Empty(t, byID["a-straight"].Decisions)
	require.False(t, byID["a-straight"].DeliveredAt.IsZero())

	failed := byID["a-failed"]
	require.False(t, failed.Straight())
	require.Equal(t, []automation.StaffAction{{Role: order.RoleCS, Action: "action.retry", At: autoT0.Add(3 * time.Hour)}}, failed.StaffActions)
	require.Len(t, failed.Exceptions, 1)
	e := failed.Exceptions[0]
	require.Equal(t, "step failed: reserve stock", e.Cause)
	require.Equal(t, time.Hour, e.Waited())
	require.Equal(t, store.WorklistAttention, e.Worklist)
	require.True(t, e.InWorklist)
	require.False(t, e.Open)

	delayed := byID["a-delayed"]
	require.True(t, delayed.Straight(), "a delay nobody acted on keeps the order straight")
	require.Len(t, delayed.Exceptions, 1)
	require.Equal(t, "step delayed: book shipment", delayed.Exceptions[0].Cause)
	require.Equal(t, 2*time.Hour, delayed.Exceptions[0].Waited())

	lateX := byID["a-late"].Exceptions
	require.Len(t, lateX, 1)
	require.Equal(t, automation.Exception{Cause: "delivery overdue", Kind: "delivery.overdue", OpenedAt: autoT0.Add(3 * time.Hour),
		ClosedAt: autoT0.Add(27 * time.Hour), Worklist: store.WorklistOverdueDeliveries, InWorklist: true}, lateX[0])
	require.True(t, byID["a-late"].Straight(), "late, but nobody acted on it")

	carrier := byID["a-carrier"]
	require.Equal(t, []automation.Decision{automation.DecisionCarrier}, carrier.Decisions)
	require.Len(t, carrier.Exceptions, 1)
	require.Equal(t, automation.Exception{Cause: "carrier exception", Kind: "shipment.exception", OpenedAt: autoT0.Add(3 * time.Hour),
		ClosedAt: at, Open: true, Worklist: store.WorklistOverdueDeliveries, InWorklist: true}, carrier.Exceptions[0],
		"open, in CS's overdue-deliveries list while the shipment is not delivered")

	decided := byID["a-decided"]
	require.Equal(t, []automation.Decision{automation.DecisionApproval, automation.DecisionCreditHold}, decided.Decisions)
	require.Equal(t, map[order.Role]int{order.RoleSalesManager: 1, order.RoleFinance: 2}, decided.ActionsBy(), "the override and the allocation")

	na := byID["a-notapplied"].Exceptions
	require.Len(t, na, 1)
	require.Equal(t, "payment not applied", na[0].Cause)
	require.True(t, na[0].InWorklist, "BTX-3 waits in the unmatched payments")
	require.True(t, na[0].Open)

	pays := map[string]automation.PaymentFacts{}
	for _, p := range f.Payments {
		pays[p.ID] = p
	}
	require.Len(t, pays, 3, "received in the period")
	require.True(t, pays["BTX-1"].AutoMatched())
	require.True(t, pays["BTX-2"].ByFinance)
	require.False(t, pays["BTX-2"].AutoMatched())
	require.False(t, pays["BTX-3"].Applied)
	require.True(t, pays["BTX-3"].InWorklist)

	r := automation.Summarize(f.Orders, f.Payments, automation.ExcludeRealTraffic)
	// In the denominator: straight, failed, delayed, late; the rest asked
	// for a decision or are in flight untouched.
	require.Equal(t, automation.Rate{Num: 3, Den: 4}, r.STP, "%+v", r.ExclusionsBy)
	require.Equal(t, automation.Rate{Num: 1, Den: 3}, r.AutoMatch)
	require.Empty(t, r.Orphans, "every exception reached a worklist")

	// By order ids (the scenario player's way): the payments of those orders come along.
	f, err = s.AutomationFacts(ctx, store.AutomationFilter{OrderIDs: []string{"a-straight", "a-nothing"}, At: at})
	require.NoError(t, err)
	require.Len(t, f.Orders, 1)
	require.Len(t, f.Payments, 1)
	require.Equal(t, "BTX-1", f.Payments[0].ID)
	// With the run's window for payments, the ones nobody placed come too.
	f, err = s.AutomationFacts(ctx, store.AutomationFilter{OrderIDs: []string{"a-straight"},
		PaymentsFrom: autoT0, PaymentsTo: autoT0.Add(24 * time.Hour), At: at})
	require.NoError(t, err)
	require.Len(t, f.Orders, 1)
	require.Len(t, f.Payments, 3)

	_, err = s.AutomationFacts(ctx, store.AutomationFilter{})
	require.Error(t, err)
}

// TestAutomationFactsOfTheScenario: the dashboard's scenario orders give
// the facts their stories tell.
func TestAutomationFactsOfTheScenario(t *testing.T) {
	t.Parallel()
	s := seedScenario(t)
	f, err := s.AutomationFacts(context.Background(), store.AutomationFilter{From: storetest.ScenarioFrom, To: storetest.ScenarioTo})
	require.NoError(t, err)
	byID := map[string]automation.OrderFacts{}
	for _, o := range f.Orders {
		byID[o.OrderID] = o
	}
	require.Len(t, byID, 6, "o1–o6")
	require.True(t, byID["kpi-o1"].Straight())
	require.False(t, byID["kpi-o2"].Straight(), "finance acted")
	require.Contains(t, byID["kpi-o2"].Decisions, automation.DecisionDetractor, "o2 scored 3")
	require.Equal(t, []automation.Decision{automation.DecisionQuoteRejected}, byID["kpi-o3"].Decisions)
	require.Equal(t, []automation.Decision{automation.DecisionQuoteExpired}, byID["kpi-o4"].Decisions)
	require.Contains(t, byID["kpi-o5"].Decisions, automation.DecisionCarrier)
	var causes []string
	for _, e := range byID["kpi-o5"].Exceptions {
		causes = append(causes, e.Cause)
	}
	require.ElementsMatch(t, []string{"carrier exception", "step delayed: book shipment from WH-WEST"}, causes)

	// The dashboard's report is the same facts summarised, up to 93 days.
	r, err := s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioFrom, To: storetest.ScenarioTo})
	require.NoError(t, err)
	require.NotNil(t, r.Straight)
	require.Equal(t, automation.Summarize(f.Orders, f.Payments, automation.ExcludeRealTraffic).STP, r.Straight.STP)
	require.Equal(t, automation.Rate{Num: 1, Den: 1}, r.Straight.STP, "o1; the others asked for decisions or are in flight")
	r, err = s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioTo.AddDate(-1, 0, 0), To: storetest.ScenarioTo})
	require.NoError(t, err)
	require.Nil(t, r.Straight, "a year is past MaxAutomationReportPeriod")
}
