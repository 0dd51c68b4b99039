package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/automation"
)

// The dashboard's figures. Every query reads the facts the order workflow
// writes with its transitions (migration 018: the milestones on orders,
// shipments, invoices, order_exceptions, surveys); docs/design.md
// ("Dashboard") defines each figure, and docs/benchmarks.md times the
// queries at a million orders. Times are compared in UTC: a day or a week
// is a UTC day or an ISO week starting Monday 00:00 UTC.
//
// Three kinds of period apply, each the natural one for its figure:
//   - orders created in [From, To): lead times, automation, exceptions,
//     quote conversion, orders per day. An order is counted once, in the
//     period it began, whatever happens to it later; QUOTE_REFUSED orders
//     (the ERP refused to price the first quote: no order for the buyer)
//     are left out everywhere.
//   - shipments delivered in [From, To): on-time delivery.
//   - surveys answered in [From, To): NPS.
//   - invoices issued in [From, To), and receivables open at To: DSO.

// KPIFilter chooses the period and, optionally, one customer.
type KPIFilter struct {
	// From and To bound the period: From included, To excluded.
	From, To time.Time
	// CustomerID, when set, limits every figure to that customer.
	CustomerID string
}

// Days is the length of the period in days.
func (f KPIFilter) Days() float64 { return f.To.Sub(f.From).Hours() / 24 }

// KPIReport is every section of the dashboard for one filter.
type KPIReport struct {
	Filter       KPIFilter
	LeadTimes    LeadTimes
	OnTime       OnTime
	Automation   Automation
	Exceptions   Exceptions
	Conversion   Conversion
	NPS          NPS
	Receivables  []Receivables
	OrdersPerDay OrdersPerDay
	// Straight is the automation report (internal/automation) of the
	// period's orders and of the payments received in it: STP, auto-match,
	// exceptions by cause with their wait, delivery to cash, staff actions
	// per 100 orders and the targets, as a scenario run reports them; the
	// decisions the orders asked for, and the orders still in flight that
	// nobody touched, leave the STP denominator (ExcludeRealTraffic).
	// It reads every order of the period one by one: nil for a period
	// longer than MaxAutomationReportPeriod.
	Straight *automation.Report
	// OpenFollowUps counts the detractor follow-ups not closed yet (now,
	// not in the period): the one worklist figure the dashboard shows.
	OpenFollowUps int
}

// Rate is a share: Num of Den. Its percentage is undefined when Den is 0.
type Rate struct{ Num, Den int }

// Valid reports whether the rate has a denominator.
func (r Rate) Valid() bool { return r.Den > 0 }

// Percent is 100·Num/Den; 0 when the rate is not Valid.
func (r Rate) Percent() float64 {
	if r.Den == 0 {
		return 0
	}
	return 100 * float64(r.Num) / float64(r.Den)
}

// Percentiles of a duration, in days (fractional). N is how many values
// they come from; P50 and P90 are 0 when N is 0.
type Percentiles struct {
	N        int
	P50, P90 float64
}

// LeadTimes are the three phases of an order, over the orders created in
// the period that reached both ends of the phase: quote sent → accepted,
// accepted → every shipment delivered, delivered → the invoices
// reconciled (orders paid before delivery, on prepayment, are left out of
// the last phase). Percentiles are percentile_cont (interpolated).
type LeadTimes struct {
	QuoteToAccepted     Percentiles
	AcceptedToDelivered Percentiles
	DeliveredToPaid     Percentiles
	// Weeks is the trend: the median of each phase per ISO week of the
	// orders' creation, the weeks with orders only.
	Weeks []LeadTimeWeek
}

// LeadTimeWeek is one week of the lead-time trend; a nil median has no
// order that reached both ends of the phase.
type LeadTimeWeek struct {
	Week                                 time.Time // Monday 00:00 UTC
	Orders                               int
	QuoteToAccepted, AcceptedToDelivered *float64
	DeliveredToPaid                      *float64
}

// OnTime is delivery punctuality over the shipments delivered in the
// period. Against the carrier: delivered before the end (24:00 UTC) of the
// promised day, over the shipments with a promised date. Against the
// terms: delivered no later than the order's acceptance plus the lead time
// its quote stated, over the shipments of orders with both.
type OnTime struct {
	Promise  Rate
	LeadTime Rate
	// ByCarrier is the same per carrier, by carrier name.
	ByCarrier []CarrierOnTime
}

// CarrierOnTime is OnTime for one carrier.
type CarrierOnTime struct {
	Carrier   string
	Delivered int
	Promise   Rate
	LeadTime  Rate
}

// Automation is the share of the orders created in the period that reached
// COMPLETED without a CS or finance person acting on them (staff_touched).
type Automation struct {
	Completed Rate // Num: COMPLETED untouched; Den: COMPLETED
	// Touched counts every order of the period (any status) CS or finance acted on.
	Touched int
	Orders  int
}

// Exceptions are the exceptions the orders created in the period met, per
// stage (order.Stage*): a failed or delayed step, a carrier exception, an
// overdue delivery, a payment not applied. The rate is per 100 orders.
type Exceptions struct {
	Orders int
	Total  int
	Stages []StageExceptions // most exceptions first
}

// PerHundred is Total per 100 orders of the period.
func (e Exceptions) PerHundred() float64 { return perHundred(e.Total, e.Orders) }

// StageExceptions is one stage's exceptions.
type StageExceptions struct {
	Stage      string
	Exceptions int
	// Orders counts the distinct orders that met one.
	Orders int
	// PerHundred is Exceptions per 100 orders of the period.
	PerHundred float64
}

// Conversion is what became of the quotes of the orders created in the
// period. Each rate's denominator is the quoted orders (a quote was sent).
// Accepted counts every order past acceptance, whatever happened later;
// Open are quotes still waiting for the buyer; Revised had more than one
// revision (whatever the outcome).
type Conversion struct {
	Quoted   int
	Accepted Rate
	Rejected Rate
	Expired  Rate
	// Withdrawn were cancelled before the buyer accepted.
	Withdrawn Rate
	Open      Rate
	Revised   Rate
}

// NPS is the net promoter score over the surveys answered in the period:
// overall and per fulfilment scenario. A survey about several products
// counts once for each.
type NPS struct {
	Overall     NPSScore
	ByWarehouse []NPSScore
	ByCarrier   []NPSScore
	ByCustomer  []NPSScore
	ByProduct   []NPSScore
}

// NPSScore counts the answers of one group (Key: a warehouse, carrier,
// customer or SKU; "" overall): promoters score 9–10, detractors 0–6.
type NPSScore struct {
	Key                            string
	Answers, Promoters, Detractors int
}

// Valid reports whether anybody answered.
func (n NPSScore) Valid() bool { return n.Answers > 0 }

// Score is %promoters − %detractors, from −100 to 100; 0 without answers.
func (n NPSScore) Score() float64 {
	if n.Answers == 0 {
		return 0
	}
	return 100 * float64(n.Promoters-n.Detractors) / float64(n.Answers)
}

// Receivables are one currency's invoices (amounts never mix currencies).
//
// Open is what was open at the end of the period: invoices issued before
// To and not settled by then. An invoice settled later counts in full (the
// store keeps when an invoice was settled, not every part payment); one
// still open counts what is open on it now (its whole amount until the
// order records the open amount). For a period ending today both are exact.
//
// DSO = Open ÷ Invoiced × days in the period: the days of sales the open
// receivables represent, the standard formula. It needs nothing but the
// invoices, and over a period of 30 days or more it follows what finance
// watches; the count-back method would follow seasonal swings better but
// needs a sales history per month that the dashboard does not show.
type Receivables struct {
	Currency string
	// Invoiced is the amount invoiced in the period, in minor units.
	Invoiced int64
	Open     int64
	// Overdue is the part of Open past its due date at the end of the period,
	// and Aging splits it by days past due: 1–30, 31–60, 61–90, over 90.
	Overdue         int64
	OverdueInvoices int
	Aging           [4]int64
	// DSO in days; nil when nothing was invoiced in the period.
	DSO *float64
}

// AgingBuckets names Receivables.Aging's buckets.
var AgingBuckets = [4]string{"1–30 days", "31–60 days", "61–90 days", "over 90 days"}

// OrdersPerDay counts the orders created on each UTC day of the period,
// days without orders included.
type OrdersPerDay struct {
	Days  []DayCount
	Total int
}

// Average is the mean per day.
func (o OrdersPerDay) Average() float64 {
	if len(o.Days) == 0 {
		return 0
	}
	return float64(o.Total) / float64(len(o.Days))
}

// DayCount is one day's orders.
type DayCount struct {
	Day    time.Time
	Orders int
}

// MaxAutomationReportPeriod bounds the period of the dashboard's
// automation report: it reads each order of the period (0.2–0.6 s for 30
// days at a million orders, 7–8 s for a year; docs/benchmarks.md).
const MaxAutomationReportPeriod = 93 * 24 * time.Hour

// MaxKPIPeriod bounds a report's period: the queries are measured up to a year.
const MaxKPIPeriod = 3 * 366 * 24 * time.Hour

// KPIs computes every section of the dashboard.
func (s *Store) KPIs(ctx context.Context, f KPIFilter) (KPIReport, error) {
	if !f.From.Before(f.To) {
		return KPIReport{}, fmt.Errorf("kpis: the period [%s, %s) is empty", f.From, f.To)
	}
	r := KPIReport{Filter: f}
	err := s.kpiTx(ctx, func(q querier) error {
		var err error
		if r.LeadTimes, err = kpiLeadTimes(ctx, q, f); err != nil {
			return err
		}
		if r.OnTime, err = kpiOnTime(ctx, q, f); err != nil {
			return err
		}
		if r.Automation, err = kpiAutomation(ctx, q, f); err != nil {
			return err
		}
		if r.Exceptions, err = kpiExceptions(ctx, q, f); err != nil {
			return err
		}
		if r.Conversion, err = kpiConversion(ctx, q, f); err != nil {
			return err
		}
		if r.NPS, err = kpiNPS(ctx, q, f); err != nil {
			return err
		}
		if r.Receivables, err = kpiReceivables(ctx, q, f); err != nil {
			return err
		}
		if r.OrdersPerDay, err = kpiOrdersPerDay(ctx, q, f); err != nil {
			return err
		}
		if f.To.Sub(f.From) <= MaxAutomationReportPeriod {
			facts, err := automationFacts(ctx, q, AutomationFilter{From: f.From, To: f.To, CustomerID: f.CustomerID})
			if err != nil {
				return err
			}
			rep := automation.Summarize(facts.Orders, facts.Payments, automation.ExcludeRealTraffic)
			r.Straight = &rep
		}
		if err := q.QueryRow(ctx, openFollowUps, f.CustomerID).Scan(&r.OpenFollowUps); err != nil {
			return fmt.Errorf("count open follow-ups: %w", err)
		}
		return nil
	})
	return r, err
}

// KPILeadTimes computes the LeadTimes section alone.
func (s *Store) KPILeadTimes(ctx context.Context, f KPIFilter) (r LeadTimes, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiLeadTimes(ctx, q, f)
		return err
	})
	return r, err
}

// KPIOnTime computes the OnTime section alone.
func (s *Store) KPIOnTime(ctx context.Context, f KPIFilter) (r OnTime, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiOnTime(ctx, q, f)
		return err
	})
	return r, err
}

// KPIAutomation computes the Automation section alone.
func (s *Store) KPIAutomation(ctx context.Context, f KPIFilter) (r Automation, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiAutomation(ctx, q, f)
		return err
	})
	return r, err
}

// KPIExceptions computes the Exceptions section alone.
func (s *Store) KPIExceptions(ctx context.Context, f KPIFilter) (r Exceptions, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiExceptions(ctx, q, f)
		return err
	})
	return r, err
}

// KPIConversion computes the Conversion section alone.
func (s *Store) KPIConversion(ctx context.Context, f KPIFilter) (r Conversion, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiConversion(ctx, q, f)
		return err
	})
	return r, err
}

// KPINPS computes the NPS section alone.
func (s *Store) KPINPS(ctx context.Context, f KPIFilter) (r NPS, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiNPS(ctx, q, f)
		return err
	})
	return r, err
}

// KPIReceivables computes the Receivables section alone.
func (s *Store) KPIReceivables(ctx context.Context, f KPIFilter) (r []Receivables, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiReceivables(ctx, q, f)
		return err
	})
	return r, err
}

// KPIOrdersPerDay computes the OrdersPerDay section alone.
func (s *Store) KPIOrdersPerDay(ctx context.Context, f KPIFilter) (r OrdersPerDay, err error) {
	err = s.kpiTx(ctx, func(q querier) error {
		r, err = kpiOrdersPerDay(ctx, q, f)
		return err
	})
	return r, err
}

// querier is a pool or a transaction, for reads: the dashboard's sections
// run in the read-only transaction kpiTx opens, the audit seals in either.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// kpiTx runs the dashboard's queries in one read-only snapshot, so the
// sections of a page agree with each other, and with room to sort: a
// year's lead times are half a million values per percentile, which the
// default work_mem (4 MB) would sort on disk.
func (s *Store) kpiTx(ctx context.Context, fn func(querier) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return err
		}
		// The period's rows are recent and cached: an index lookup costs
		// about what a sequential read does. With the default (4) the
		// planner hashes all of orders to join a month of shipments.
		if _, err := tx.Exec(ctx, `SET LOCAL random_page_cost = 1.1`); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		return fmt.Errorf("kpis: %w", err)
	}
	return nil
}

// The orders of a period: created in [$1, $2), of customer $3 when set,
// QUOTE_REFUSED left out. Served by orders_created_idx, or by
// orders_customer_created_idx for one customer.
const periodOrders = `o.created_at >= $1 AND o.created_at < $2 AND ($3 = '' OR o.customer_id = $3)
	AND o.status <> 'QUOTE_REFUSED'`

// kpiLeadTimes computes LeadTimes.
func kpiLeadTimes(ctx context.Context, q querier, f KPIFilter) (LeadTimes, error) {
	const what = "kpi lead times"
	var lt LeadTimes
	// One sort per phase: percentile_cont takes both fractions at once.
	var qa, a, d []*float64
	err := q.QueryRow(ctx, `
		SELECT count(o.accepted_at - o.quoted_at),
			percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM o.accepted_at - o.quoted_at) / 86400),
			count(o.delivered_at - o.accepted_at),
			percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM o.delivered_at - o.accepted_at) / 86400),
			count(o.paid_at - o.delivered_at) FILTER (WHERE o.paid_at >= o.delivered_at),
			percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM o.paid_at - o.delivered_at) / 86400)
				FILTER (WHERE o.paid_at >= o.delivered_at)
		FROM orders o
		WHERE `+periodOrders, f.From, f.To, f.CustomerID).Scan(
		&lt.QuoteToAccepted.N, &qa, &lt.AcceptedToDelivered.N, &a, &lt.DeliveredToPaid.N, &d)
	if err != nil {
		return lt, dbError(what, err)
	}
	lt.QuoteToAccepted.P50, lt.QuoteToAccepted.P90 = pair(qa)
	lt.AcceptedToDelivered.P50, lt.AcceptedToDelivered.P90 = pair(a)
	lt.DeliveredToPaid.P50, lt.DeliveredToPaid.P90 = pair(d)

	rows, err := q.Query(ctx, `
		SELECT date_trunc('week', o.created_at AT TIME ZONE 'UTC') AS week, count(*),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.accepted_at - o.quoted_at)) / 86400,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.delivered_at - o.accepted_at)) / 86400,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.paid_at - o.delivered_at))
				FILTER (WHERE o.paid_at >= o.delivered_at) / 86400
		FROM orders o
		WHERE `+periodOrders+`
		GROUP BY week ORDER BY week`, f.From, f.To, f.CustomerID)
	if err != nil {
		return lt, dbError(what+" by week", err)
	}
	lt.Weeks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LeadTimeWeek, error) {
		var w LeadTimeWeek
		err := row.Scan(&w.Week, &w.Orders, &w.QuoteToAccepted, &w.AcceptedToDelivered, &w.DeliveredToPaid)
		w.Week = time.Date(w.Week.Year(), w.Week.Month(), w.Week.Day(), 0, 0, 0, 0, time.UTC)
		return w, err
	})
	if err != nil {
		return lt, dbError(what+" by week", err)
	}
	return lt, nil
}

// kpiOnTime computes OnTime.
func kpiOnTime(ctx context.Context, q querier, f KPIFilter) (OnTime, error) {
	const what = "kpi on-time delivery"
	rows, err := q.Query(ctx, `
		SELECT s.carrier, count(*),
			count(*) FILTER (WHERE s.delivered_at <
				(date_trunc('day', s.promised_date AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC'),
			count(s.promised_date),
			count(*) FILTER (WHERE s.delivered_at <= o.accepted_at + o.lead_time_days * interval '1 day'),
			count(*) FILTER (WHERE o.accepted_at IS NOT NULL AND o.lead_time_days IS NOT NULL)
		FROM shipments s JOIN orders o ON o.id = s.order_id
		WHERE s.delivered_at >= $1 AND s.delivered_at < $2 AND ($3 = '' OR s.customer_id = $3)
		GROUP BY s.carrier ORDER BY s.carrier`, f.From, f.To, f.CustomerID)
	if err != nil {
		return OnTime{}, dbError(what, err)
	}
	var ot OnTime
	ot.ByCarrier, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CarrierOnTime, error) {
		var c CarrierOnTime
		err := row.Scan(&c.Carrier, &c.Delivered, &c.Promise.Num, &c.Promise.Den, &c.LeadTime.Num, &c.LeadTime.Den)
		return c, err
	})
	if err != nil {
		return OnTime{}, dbError(what, err)
	}
	for _, c := range ot.ByCarrier {
		ot.Promise.Num += c.Promise.Num
		ot.Promise.Den += c.Promise.Den
		ot.LeadTime.Num += c.LeadTime.Num
		ot.LeadTime.Den += c.LeadTime.Den
	}
	return ot, nil
}

// kpiAutomation computes Automation.
func kpiAutomation(ctx context.Context, q querier, f KPIFilter) (Automation, error) {
	var a Automation
	err := q.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE o.status = 'COMPLETED' AND NOT o.staff_touched),
			count(*) FILTER (WHERE o.status = 'COMPLETED'),
			count(*) FILTER (WHERE o.staff_touched),
			count(*)
		FROM orders o
		WHERE `+periodOrders, f.From, f.To, f.CustomerID).Scan(&a.Completed.Num, &a.Completed.Den, &a.Touched, &a.Orders)
	if err != nil {
		return a, dbError("kpi automation", err)
	}
	return a, nil
}

// kpiExceptions computes Exceptions.
func kpiExceptions(ctx context.Context, q querier, f KPIFilter) (Exceptions, error) {
	const what = "kpi exceptions"
	var e Exceptions
	if err := q.QueryRow(ctx, `SELECT count(*) FROM orders o WHERE `+periodOrders,
		f.From, f.To, f.CustomerID).Scan(&e.Orders); err != nil {
		return e, dbError(what, err)
	}
	rows, err := q.Query(ctx, `
		SELECT x.step, count(*), count(DISTINCT x.order_id)
		FROM orders o JOIN order_exceptions x ON x.order_id = o.id
		WHERE `+periodOrders+`
		GROUP BY x.step ORDER BY count(*) DESC, x.step`, f.From, f.To, f.CustomerID)
	if err != nil {
		return e, dbError(what, err)
	}
	e.Stages, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StageExceptions, error) {
		var st StageExceptions
		err := row.Scan(&st.Stage, &st.Exceptions, &st.Orders)
		st.PerHundred = perHundred(st.Exceptions, e.Orders)
		e.Total += st.Exceptions
		return st, err
	})
	if err != nil {
		return e, dbError(what, err)
	}
	return e, nil
}

// kpiConversion computes Conversion.
func kpiConversion(ctx context.Context, q querier, f KPIFilter) (Conversion, error) {
	var c Conversion
	err := q.QueryRow(ctx, `
		SELECT count(o.quoted_at),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.accepted_at IS NOT NULL),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.status = 'QUOTE_REJECTED'),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.status = 'QUOTE_EXPIRED'),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.status = 'CANCELLED' AND o.accepted_at IS NULL),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.accepted_at IS NULL
				AND o.status IN ('QUOTING', 'AWAITING_ACCEPTANCE')),
			count(*) FILTER (WHERE o.quoted_at IS NOT NULL AND o.quote_revision > 1)
		FROM orders o
		WHERE `+periodOrders, f.From, f.To, f.CustomerID).Scan(
		&c.Quoted, &c.Accepted.Num, &c.Rejected.Num, &c.Expired.Num, &c.Withdrawn.Num, &c.Open.Num, &c.Revised.Num)
	if err != nil {
		return c, dbError("kpi conversion", err)
	}
	for _, r := range []*Rate{&c.Accepted, &c.Rejected, &c.Expired, &c.Withdrawn, &c.Open, &c.Revised} {
		r.Den = c.Quoted
	}
	return c, nil
}

// kpiNPS computes NPS.
func kpiNPS(ctx context.Context, q querier, f KPIFilter) (NPS, error) {
	const what = "kpi nps"
	var n NPS
	rows, err := q.Query(ctx, `
		SELECT GROUPING(warehouse, carrier, customer_id),
			COALESCE(warehouse, carrier, customer_id, ''),
			count(*), count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score <= 6)
		FROM surveys
		WHERE answered_at >= $1 AND answered_at < $2 AND ($3 = '' OR customer_id = $3)
		GROUP BY GROUPING SETS ((), (warehouse), (carrier), (customer_id))
		ORDER BY 1, 2`, f.From, f.To, f.CustomerID)
	if err != nil {
		return n, dbError(what, err)
	}
	var grouping int
	var sc NPSScore
	_, err = pgx.ForEachRow(rows, []any{&grouping, &sc.Key, &sc.Answers, &sc.Promoters, &sc.Detractors}, func() error {
		// GROUPING's bits: warehouse 4, carrier 2, customer 1; a set bit is
		// a column not grouped by.
		switch grouping {
		case 7:
			n.Overall = sc
		case 3:
			n.ByWarehouse = append(n.ByWarehouse, sc)
		case 5:
			n.ByCarrier = append(n.ByCarrier, sc)
		case 6:
			n.ByCustomer = append(n.ByCustomer, sc)
		}
		return nil
	})
	if err != nil {
		return n, dbError(what, err)
	}
	rows, err = q.Query(ctx, `
		SELECT sku, count(*), count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score <= 6)
		FROM surveys, unnest(skus) AS sku
		WHERE answered_at >= $1 AND answered_at < $2 AND ($3 = '' OR customer_id = $3)
		GROUP BY sku ORDER BY sku`, f.From, f.To, f.CustomerID)
	if err != nil {
		return n, dbError(what+" by product", err)
	}
	n.ByProduct, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (NPSScore, error) {
		var sc NPSScore
		err := row.Scan(&sc.Key, &sc.Answers, &sc.Promoters, &sc.Detractors)
		return sc, err
	})
	if err != nil {
		return n, dbError(what+" by product", err)
	}
	return n, nil
}

// kpiReceivables computes Receivables, one per currency, by currency.
func kpiReceivables(ctx context.Context, q querier, f KPIFilter) ([]Receivables, error) {
	const what = "kpi receivables"
	byCur := map[string]*Receivables{}
	var order []string
	get := func(cur string) *Receivables {
		r, ok := byCur[cur]
		if !ok {
			r = &Receivables{Currency: cur}
			byCur[cur] = r
			order = append(order, cur)
		}
		return r
	}
	rows, err := q.Query(ctx, `
		SELECT currency, sum(amount_minor)
		FROM invoices
		WHERE issued_at >= $1 AND issued_at < $2 AND ($3 = '' OR customer_id = $3)
		GROUP BY currency ORDER BY currency`, f.From, f.To, f.CustomerID)
	if err != nil {
		return nil, dbError(what, err)
	}
	var cur string
	var invoiced int64
	if _, err := pgx.ForEachRow(rows, []any{&cur, &invoiced}, func() error {
		get(cur).Invoiced = invoiced
		return nil
	}); err != nil {
		return nil, dbError(what, err)
	}

	// Open at the end of the period: still unsettled, or settled after it;
	// each half has its index (migration 020), where one OR would read
	// every invoice issued before the end.
	rows, err = q.Query(ctx, `
		SELECT currency, sum(open),
			COALESCE(sum(open) FILTER (WHERE due_date < $1), 0),
			count(*) FILTER (WHERE due_date < $1),
			COALESCE(sum(open) FILTER (WHERE due_date < $1 AND due_date >= $1 - interval '30 days'), 0),
			COALESCE(sum(open) FILTER (WHERE due_date < $1 - interval '30 days' AND due_date >= $1 - interval '60 days'), 0),
			COALESCE(sum(open) FILTER (WHERE due_date < $1 - interval '60 days' AND due_date >= $1 - interval '90 days'), 0),
			COALESCE(sum(open) FILTER (WHERE due_date < $1 - interval '90 days'), 0)
		FROM (
			SELECT currency, due_date, COALESCE(open_minor, amount_minor) AS open
			FROM invoices
			WHERE settled_at IS NULL AND issued_at < $1 AND ($2 = '' OR customer_id = $2)
			UNION ALL
			SELECT currency, due_date, amount_minor
			FROM invoices
			WHERE settled_at >= $1 AND issued_at < $1 AND ($2 = '' OR customer_id = $2)
		) inv
		WHERE open > 0
		GROUP BY currency ORDER BY currency`, f.To, f.CustomerID)
	if err != nil {
		return nil, dbError(what+" open", err)
	}
	var open, overdue int64
	var overdueN int
	var aging [4]int64
	if _, err := pgx.ForEachRow(rows, []any{&cur, &open, &overdue, &overdueN, &aging[0], &aging[1], &aging[2], &aging[3]}, func() error {
		r := get(cur)
		r.Open, r.Overdue, r.OverdueInvoices, r.Aging = open, overdue, overdueN, aging
		return nil
	}); err != nil {
		return nil, dbError(what+" open", err)
	}
	out := make([]Receivables, 0, len(order))
	for _, c := range order {
		r := byCur[c]
		if r.Invoiced > 0 {
			dso := float64(r.Open) / float64(r.Invoiced) * f.Days()
			r.DSO = &dso
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Receivables) int { return strings.Compare(a.Currency, b.Currency) })
	return out, nil
}

// kpiOrdersPerDay computes OrdersPerDay.
func kpiOrdersPerDay(ctx context.Context, q querier, f KPIFilter) (OrdersPerDay, error) {
	rows, err := q.Query(ctx, `
		SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, count(*)
		FROM orders o
		WHERE `+periodOrders+`
		GROUP BY day`, f.From, f.To, f.CustomerID)
	if err != nil {
		return OrdersPerDay{}, dbError("kpi orders per day", err)
	}
	counts := map[time.Time]int{}
	var day time.Time
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&day, &n}, func() error {
		counts[utcDay(day)] = n
		return nil
	}); err != nil {
		return OrdersPerDay{}, dbError("kpi orders per day", err)
	}
	var o OrdersPerDay
	for d := utcDay(f.From.UTC()); d.Before(f.To); d = d.AddDate(0, 0, 1) {
		o.Days = append(o.Days, DayCount{Day: d, Orders: counts[d]})
		o.Total += counts[d]
	}
	return o, nil
}

const openFollowUps = `
	SELECT count(*) FROM followups
	WHERE closed_at IS NULL AND kind = 'detractor' AND ($1 = '' OR customer_id = $1)`

// OpenFollowUpCount counts the detractor follow-ups not closed yet, of one
// customer when customerID is set.
func (s *Store) OpenFollowUpCount(ctx context.Context, customerID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, openFollowUps, customerID).Scan(&n)
	if err != nil {
		return 0, dbError("count open follow-ups", err)
	}
	return n, nil
}

func perHundred(n, orders int) float64 {
	if orders == 0 {
		return 0
	}
	return 100 * float64(n) / float64(orders)
}

// pair is the p50 and p90 of percentile_cont(ARRAY[0.5, 0.9]): zeros
// when there were no values (NULL).
func pair(ps []*float64) (p50, p90 float64) {
	if len(ps) != 2 {
		return 0, 0
	}
	return deref(ps[0]), deref(ps[1])
}

func deref(p *float64) float64 {
	if p == nil || math.IsNaN(*p) {
		return 0
	}
	return *p
}

func utcDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
