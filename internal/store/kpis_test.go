package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/store/storetest"
)

func seedScenario(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	for _, st := range storetest.Scenario() {
		require.NoError(t, storetest.Seed(ctx, s, st))
	}
	return s
}

func ptr(f float64) *float64 { return &f }

// dso is open ÷ invoiced × days, computed at run time as the store does
// (a constant expression would round differently).
func dso(open, invoiced, days float64) *float64 { return ptr(open / invoiced * days) }

// TestKPIs: the scenario's orders (storetest.Scenario, March 2026) give
// figures worked out by hand, section by section. In the period: o1–o6
// created (o8 is QUOTE_REFUSED, o7 and o10 before, o9 after); shipments of
// o1, o2, o5 and o7 delivered; surveys of o1, o2, o5, o7 answered.
func TestKPIs(t *testing.T) {
	t.Parallel()
	s := seedScenario(t)
	r, err := s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioFrom, To: storetest.ScenarioTo})
	require.NoError(t, err)

	t.Run("lead times", func(t *testing.T) {
		lt := r.LeadTimes
		// quote → accepted: o1 1 d, o2 3 d, o5 2 d; percentile_cont(0.9) of
		// 1, 2, 3 interpolates 2 + 0.8.
		require.Equal(t, 3, lt.QuoteToAccepted.N)
		require.InDelta(t, 2, lt.QuoteToAccepted.P50, 1e-9)
		require.InDelta(t, 2.8, lt.QuoteToAccepted.P90, 1e-9)
		// accepted → delivered: o1 4 d, o2 2 d, o5 3 d.
		require.Equal(t, 3, lt.AcceptedToDelivered.N)
		require.InDelta(t, 3, lt.AcceptedToDelivered.P50, 1e-9)
		require.InDelta(t, 3.8, lt.AcceptedToDelivered.P90, 1e-9)
		// delivered → paid: o1 10 d, o2 20 d.
		require.Equal(t, 2, lt.DeliveredToPaid.N)
		require.InDelta(t, 15, lt.DeliveredToPaid.P50, 1e-9)
		require.InDelta(t, 19, lt.DeliveredToPaid.P90, 1e-9)
		// Weeks of creation: 2 March (o1, o2), 9 March (o3, o4, o5 on
		// Sunday 15), 16 March (o6).
		week := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
		require.Equal(t, []store.LeadTimeWeek{
			{Week: week(2), Orders: 2, QuoteToAccepted: ptr(2), AcceptedToDelivered: ptr(3), DeliveredToPaid: ptr(15)},
			{Week: week(9), Orders: 3, QuoteToAccepted: ptr(2), AcceptedToDelivered: ptr(3)},
			{Week: week(16), Orders: 1},
		}, lt.Weeks)
	})

	t.Run("on time", func(t *testing.T) {
		// Promise: o1 late (7th, promised 6th), o2 on the promised day, o5
		// a day early, o7 late. Lead time: o1 on time, o2 a day late, o5
		// on time, o7 exactly at acceptance + 10 days (on time).
		require.Equal(t, store.OnTime{
			Promise: store.Rate{Num: 2, Den: 4}, LeadTime: store.Rate{Num: 3, Den: 4},
			ByCarrier: []store.CarrierOnTime{
				{Carrier: "freight", Delivered: 2, Promise: store.Rate{Num: 1, Den: 2}, LeadTime: store.Rate{Num: 2, Den: 2}},
				{Carrier: "parcel", Delivered: 2, Promise: store.Rate{Num: 1, Den: 2}, LeadTime: store.Rate{Num: 1, Den: 2}},
			},
		}, r.OnTime)
		require.InDelta(t, 50, r.OnTime.Promise.Percent(), 1e-9)
		require.InDelta(t, 75, r.OnTime.LeadTime.Percent(), 1e-9)
	})

	t.Run("automation", func(t *testing.T) {
		// o1 and o2 completed; finance acted on o2.
		require.Equal(t, store.Automation{Completed: store.Rate{Num: 1, Den: 2}, Touched: 1, Orders: 6}, r.Automation)
	})

	t.Run("exceptions", func(t *testing.T) {
		require.Equal(t, 6, r.Exceptions.Orders)
		require.Equal(t, 3, r.Exceptions.Total)
		require.InDelta(t, 50, r.Exceptions.PerHundred(), 1e-9)
		third := 100.0 / 6
		require.Equal(t, []store.StageExceptions{
			{Stage: order.StageCredit, Exceptions: 1, Orders: 1, PerHundred: third},
			{Stage: order.StageDelivery, Exceptions: 1, Orders: 1, PerHundred: third},
			{Stage: order.StageShipping, Exceptions: 1, Orders: 1, PerHundred: third},
		}, r.Exceptions.Stages)
	})

	t.Run("conversion", func(t *testing.T) {
		q := 6
		require.Equal(t, store.Conversion{Quoted: q,
			Accepted: store.Rate{Num: 3, Den: q}, Rejected: store.Rate{Num: 1, Den: q}, Expired: store.Rate{Num: 1, Den: q},
			Withdrawn: store.Rate{Num: 0, Den: q}, Open: store.Rate{Num: 1, Den: q}, Revised: store.Rate{Num: 1, Den: q},
		}, r.Conversion)
	})

	t.Run("nps", func(t *testing.T) {
		// o1 10 (EAST, parcel, ACME, BOLT+NUT), o2 3 (EAST, parcel, ACME,
		// BOLT), o5 8 (WEST, freight, INITECH, PUMP), o7 9 (WEST, freight,
		// ACME, VALVE).
		n := r.NPS
		require.Equal(t, store.NPSScore{Answers: 4, Promoters: 2, Detractors: 1}, n.Overall)
		require.InDelta(t, 25, n.Overall.Score(), 1e-9)
		require.Equal(t, []store.NPSScore{{Key: "WH-EAST", Answers: 2, Promoters: 1, Detractors: 1}, {Key: "WH-WEST", Answers: 2, Promoters: 1}}, n.ByWarehouse)
		require.Equal(t, []store.NPSScore{{Key: "freight", Answers: 2, Promoters: 1}, {Key: "parcel", Answers: 2, Promoters: 1, Detractors: 1}}, n.ByCarrier)
		require.Equal(t, []store.NPSScore{{Key: "ACME-001", Answers: 3, Promoters: 2, Detractors: 1}, {Key: "INITECH-003", Answers: 1}}, n.ByCustomer)
		require.InDelta(t, 100.0/3, n.ByCustomer[0].Score(), 1e-9)
		require.Equal(t, []store.NPSScore{
			{Key: "BOLT-M8", Answers: 2, Promoters: 1, Detractors: 1}, {Key: "NUT-M8", Answers: 1, Promoters: 1},
			{Key: "PUMP-200", Answers: 1}, {Key: "VALVE-50", Answers: 1, Promoters: 1},
		}, n.ByProduct)
		require.Equal(t, 1, r.OpenFollowUps, "o2's detractor")
	})

	t.Run("receivables", func(t *testing.T) {
		// EUR invoiced in March: o1 100, o2 200, o7 400. Open on 31 March:
		// o7 400 (due 2 April) and o10 500 (issued in January, due 3
		// March, settled only on 5 April: 28 days overdue).
		// USD: o5 300, due 25 March, open.
		require.Equal(t, []store.Receivables{
			{Currency: "EUR", Invoiced: 70_000, Open: 90_000, Overdue: 50_000, OverdueInvoices: 1, Aging: [4]int64{50_000}, DSO: dso(90_000, 70_000, 30)},
			{Currency: "USD", Invoiced: 30_000, Open: 30_000, Overdue: 30_000, OverdueInvoices: 1, Aging: [4]int64{30_000}, DSO: ptr(30)},
		}, r.Receivables)
	})

	t.Run("orders per day", func(t *testing.T) {
		require.Len(t, r.OrdersPerDay.Days, 30)
		require.Equal(t, 6, r.OrdersPerDay.Total)
		require.InDelta(t, 0.2, r.OrdersPerDay.Average(), 1e-9)
		got := map[int]int{}
		for _, d := range r.OrdersPerDay.Days {
			if d.Orders > 0 {
				got[d.Day.Day()] = d.Orders
			}
		}
		require.Equal(t, map[int]int{2: 1, 5: 1, 10: 1, 12: 1, 15: 1, 20: 1}, got)
		require.Equal(t, storetest.ScenarioFrom, r.OrdersPerDay.Days[0].Day)
	})
}

// TestKPIsOfOneCustomer: the customer filter applies to every section.
func TestKPIsOfOneCustomer(t *testing.T) {
	t.Parallel()
	s := seedScenario(t)
	r, err := s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioFrom, To: storetest.ScenarioTo, CustomerID: "ACME-001"})
	require.NoError(t, err)
	// o1, o2, o6; shipments of o1, o2, o7; surveys of o1, o2, o7.
	require.Equal(t, 3, r.Automation.Orders)
	require.Equal(t, store.Rate{Num: 1, Den: 2}, r.Automation.Completed)
	require.Equal(t, 3, r.Conversion.Quoted)
	require.Equal(t, 2, r.Conversion.Accepted.Num)
	require.Equal(t, store.Rate{Num: 1, Den: 3}, r.OnTime.Promise)
	require.Equal(t, store.Rate{Num: 2, Den: 3}, r.OnTime.LeadTime)
	require.Equal(t, store.NPSScore{Answers: 3, Promoters: 2, Detractors: 1}, r.NPS.Overall)
	require.Equal(t, 1, r.Exceptions.Total)
	require.Equal(t, 3, r.OrdersPerDay.Total)
	// o10 is Globex's: Acme's open EUR is o7's 400 only, none overdue.
	require.Equal(t, []store.Receivables{{Currency: "EUR", Invoiced: 70_000, Open: 40_000, DSO: dso(40_000, 70_000, 30)}}, r.Receivables)
	require.Equal(t, 1, r.OpenFollowUps)

	r, err = s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioFrom, To: storetest.ScenarioTo, CustomerID: "NOBODY"})
	require.NoError(t, err)
	require.Zero(t, r.Automation.Orders)
	require.False(t, r.NPS.Overall.Valid())
	require.Empty(t, r.Receivables)
	require.Zero(t, r.LeadTimes.QuoteToAccepted.P50, "no values: zero, not NaN")
}

func TestKPIsRefuseAnEmptyPeriod(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	_, err := s.KPIs(context.Background(), store.KPIFilter{From: storetest.ScenarioTo, To: storetest.ScenarioTo})
	require.Error(t, err)
}

// TestGenerateDashboardData: the generator's orders give every section
// figures, and plausible ones.
func TestGenerateDashboardData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.GenerateDashboardData(ctx, store.DashboardData{Orders: 3000, End: end, Customers: 20}))
	var orders, shipments, invoices, surveys, exceptions int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM shipments),
		(SELECT count(*) FROM invoices), (SELECT count(*) FROM surveys), (SELECT count(*) FROM order_exceptions)`).
		Scan(&orders, &shipments, &invoices, &surveys, &exceptions))
	require.Equal(t, 3000, orders)
	require.InDelta(t, 3000*0.75*8/7, shipments, 250)
	require.InDelta(t, 3000*0.75*0.98, invoices, 250)
	require.InDelta(t, float64(shipments)*0.4, surveys, 200)
	require.InDelta(t, 3000/12, exceptions, 80)

	r, err := s.KPIs(ctx, store.KPIFilter{From: end.AddDate(-1, 0, 0), To: end})
	require.NoError(t, err)
	require.InDelta(t, 1500, r.OrdersPerDay.Total, 150, "half the orders in the last year")
	require.InDelta(t, 75, r.Conversion.Accepted.Percent(), 5)
	require.InDelta(t, 85, r.Automation.Completed.Percent(), 5)
	require.Greater(t, r.LeadTimes.AcceptedToDelivered.P50, 2.0)
	require.Less(t, r.LeadTimes.AcceptedToDelivered.P50, 10.0)
	require.Greater(t, r.OnTime.Promise.Percent(), 20.0)
	require.Less(t, r.OnTime.Promise.Percent(), 95.0)
	require.True(t, r.NPS.Overall.Valid())
	require.Len(t, r.NPS.ByWarehouse, 4)
	require.Len(t, r.NPS.ByCarrier, 3)
	require.Len(t, r.Receivables, 2, "EUR and USD")
	require.NotNil(t, r.Receivables[0].DSO)
	require.InDelta(t, 100.0/12, r.Exceptions.PerHundred(), 3)
	require.Len(t, r.LeadTimes.Weeks, 53)
}
