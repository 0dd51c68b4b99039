package store

import (
	"context"
	"fmt"
	"time"
)

// GeneratedPrefix starts the id of every order GenerateDashboardData writes.
const GeneratedPrefix = "gen-"

// DashboardData says what GenerateDashboardData writes.
type DashboardData struct {
	// Orders is how many orders to create, spread evenly over the two
	// years before End.
	Orders int
	// End is the generated history's "now": no milestone lies after it.
	End time.Time
	// Customers is how many customers share the orders (a few big ones,
	// many small ones); 0 means 500.
	Customers int
}

// GenerateDashboardData fills the dashboard's tables with synthetic orders,
// straight in SQL (generate_series), for measuring the dashboard's queries
// at scale (`orderflow bench -dashboard`). The distributions are rough but
// shaped like a B2B seller's: a quarter of the quotes are not accepted
// (expired, rejected, withdrawn), an order in seven ships from two
// warehouses, payment takes 5–55 days, four surveys in ten are answered
// (half promoters, a fifth detractors), one order in twelve meets an
// exception, CS or finance touch 15 %. Rows are written in the order they
// would have been (orders by creation, shipments by booking, invoices by
// issue), as a live system lays them out on disk. Orders whose next milestone falls
// after End are still open at that step. The random numbers are seeded, so
// the same arguments give the same data. It writes no audit log and no
// workflow exists for these orders: use a throw-away database.
func (s *Store) GenerateDashboardData(ctx context.Context, d DashboardData) error {
	if d.Orders <= 0 {
		return fmt.Errorf("generate dashboard data: %d orders", d.Orders)
	}
	customers := d.Customers
	if customers <= 0 {
		customers = 500
	}
	end := d.End.UTC()
	steps := []struct{ what, sql string }{
		{"seed", `SELECT setseed(0.42)`},
		{"orders", `
			WITH g AS (
				SELECT i, $2::timestamptz - (random() * 730) * interval '1 day' AS created,
					random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
					-- Customers by size: the square skews toward the first ones.
					1 + floor(random() ^ 2 * $3)::int AS cust
				FROM generate_series(1, $1::int) AS i
			), m AS (
				SELECT g.*, 3 + i % 8 AS lead,
					CASE WHEN r1 >= 0.25 THEN created + (0.05 + r2 ^ 2 * 6) * interval '1 day' END AS acc
				FROM g
			), m2 AS (
				SELECT m.*, acc + (lead - 1.5 + r3 * 3.5) * interval '1 day' AS dlv FROM m
			), m3 AS (
				SELECT m2.*, dlv + (5 + r4 * 50) * interval '1 day' AS pay FROM m2
			), t AS (
				SELECT i, cust, created, lead, r1, r5, r6,
					CASE WHEN acc <= $2 THEN acc END AS acc,
					CASE WHEN dlv <= $2 THEN dlv END AS dlv,
					CASE WHEN pay <= $2 THEN pay END AS pay
				FROM m3
			)
			INSERT INTO orders (id, customer_id, status, total_minor, currency, quote_revision, details, last_seq,
				created_at, updated_at, quoted_at, accepted_at, delivered_at, paid_at, ended_at, staff_touched, lead_time_days)
			-- Ids sort by creation, as the API's do.
			SELECT '` + GeneratedPrefix + `' || lpad((row_number() OVER (ORDER BY created))::text, 9, '0'),
				'CUST-' || lpad(cust::text, 4, '0'),
				CASE WHEN acc IS NULL AND created > $2 - interval '10 days' THEN 'AWAITING_ACCEPTANCE'
					WHEN acc IS NULL AND r1 < 0.13 THEN 'QUOTE_EXPIRED'
					WHEN acc IS NULL AND r1 < 0.21 THEN 'QUOTE_REJECTED'
					WHEN acc IS NULL THEN 'CANCELLED'
					WHEN dlv IS NULL THEN 'SHIPPING'
					WHEN pay IS NULL THEN 'AWAITING_PAYMENT'
					ELSE 'COMPLETED' END,
				(50000 + (r6 * 2000000)::bigint), CASE WHEN cust % 5 = 0 THEN 'USD' ELSE 'EUR' END,
				1 + (r6 < 0.1)::int + (r6 < 0.02)::int, 'generated', 10,
				created, COALESCE(pay, dlv, acc, created), created, acc, dlv, pay,
				CASE WHEN pay IS NOT NULL THEN pay
					WHEN acc IS NULL AND created <= $2 - interval '10 days' THEN created + interval '10 days' END,
				r5 < 0.15, lead
			FROM t
			ORDER BY created`},
		{"shipments", `
			INSERT INTO shipments (order_id, shipment_id, customer_id, warehouse, carrier, skus, booked_at,
				promised_date, delivered_at, overdue, updated_at)
			SELECT o.id, 'SHP-' || o.id || '-' || n, o.customer_id,
				(ARRAY['WH-EAST', 'WH-WEST', 'WH-NORTH', 'WH-SOUTH'])[1 + (h + n) % 4],
				(ARRAY['parcel', 'freight', 'express'])[1 + (h / 4 + n) % 3],
				ARRAY['SKU-' || lpad(((h / 16 + n) % 200)::text, 3, '0')]
					|| CASE WHEN h % 3 = 0 THEN ARRAY['SKU-' || lpad(((h / 7) % 200)::text, 3, '0')] ELSE '{}' END,
				o.accepted_at + interval '3 hours',
				date_trunc('day', o.accepted_at + (o.lead_time_days - 1 + h % 3) * interval '1 day'),
				o.delivered_at - (n - 1) * interval '5 hours',
				o.delivered_at IS NULL AND date_trunc('day', o.accepted_at + (o.lead_time_days + 1 + h % 3) * interval '1 day') < $1,
				COALESCE(o.delivered_at, o.accepted_at)
			FROM (SELECT o.*, abs(hashtext(o.id)) AS h FROM orders o
				WHERE o.id LIKE '` + GeneratedPrefix + `%' AND o.accepted_at IS NOT NULL) o,
				generate_series(1, CASE WHEN o.h % 7 = 0 THEN 2 ELSE 1 END) AS n
			ORDER BY o.accepted_at`},
		{"invoices", `
			INSERT INTO invoices (invoice_id, order_id, number, amount_minor, currency, issued_at, due_date,
				customer_id, open_minor, settled_at, dunning_level)
			SELECT 'erp-' || o.id, o.id, 'INV-' || o.id, o.total_minor, o.currency,
				o.delivered_at + interval '2 hours', o.delivered_at + interval '2 hours' + interval '30 days',
				o.customer_id,
				CASE WHEN o.paid_at IS NOT NULL THEN 0 ELSE o.total_minor END, o.paid_at,
				CASE WHEN o.paid_at IS NULL AND o.delivered_at + interval '44 days' < $1 THEN 1 ELSE 0 END
			FROM orders o
			WHERE o.id LIKE '` + GeneratedPrefix + `%' AND o.delivered_at IS NOT NULL
			ORDER BY o.delivered_at`},
		{"surveys", `
			INSERT INTO surveys (token, order_id, shipment_id, customer_id, warehouse, carrier, skus,
				created_at, expires_at, score, comment, answered_at, closed)
			SELECT 'tok-' || s.shipment_id, s.order_id, s.shipment_id, s.customer_id, s.warehouse, s.carrier, s.skus,
				s.delivered_at, s.delivered_at + interval '14 days',
				(ARRAY[0, 2, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 10])[1 + (abs(hashtext(s.shipment_id)) / 10) % 20],
				'', s.delivered_at + (abs(hashtext(s.shipment_id)) % 96) * interval '1 hour', true
			FROM shipments s
			WHERE s.order_id LIKE '` + GeneratedPrefix + `%' AND s.delivered_at IS NOT NULL
			  AND abs(hashtext(s.shipment_id)) % 10 < 4
			  AND s.delivered_at + (abs(hashtext(s.shipment_id)) % 96) * interval '1 hour' <= $1
			ORDER BY s.delivered_at`},
		{"exceptions", `
			INSERT INTO order_exceptions (order_id, seq, customer_id, step, kind, at)
			SELECT o.id, 5, o.customer_id,
				(ARRAY['quote', 'credit', 'reservation', 'shipping', 'delivery', 'delivery', 'invoicing', 'payment', 'payment'])[1 + (h / 12) % 9],
				(ARRAY['step.failed', 'step.delayed', 'shipment.exception'])[1 + (h / 100) % 3],
				COALESCE(o.accepted_at, o.created_at) + interval '1 hour'
			FROM (SELECT o.*, abs(hashtext(o.id || 'x')) AS h FROM orders o WHERE o.id LIKE '` + GeneratedPrefix + `%') o
			WHERE o.h % 12 = 0
			ORDER BY 6`},
		// Vacuumed as autovacuum would have long done for old rows: the
		// visibility map lets the planner scan indexes only.
		{"analyze", `VACUUM ANALYZE orders, shipments, invoices, surveys, order_exceptions`},
	}
	// One connection: setseed applies to the session.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return dbError("generate dashboard data", err)
	}
	defer conn.Release()
	for _, st := range steps {
		var args []any
		switch st.what {
		case "orders":
			args = []any{d.Orders, end, customers}
		case "seed", "analyze", "exceptions":
		default:
			args = []any{end}
		}
		if _, err := conn.Exec(ctx, st.sql, args...); err != nil {
			return dbError("generate dashboard data: "+st.what, err)
		}
	}
	return nil
}
