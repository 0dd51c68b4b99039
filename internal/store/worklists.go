package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// Worklist names: the {name} of GET /v1/worklists/{name}, the keys of
// WorklistSizes and the list label of orderflow_worklist_items.
const (
	WorklistOverdueInvoices   = "overdue-invoices"
	WorklistCreditHolds       = "credit-holds"
	WorklistUnmatchedPayments = "unmatched-payments"
	WorklistAttention         = "attention"
	WorklistOverdueDeliveries = "overdue-deliveries"
	WorklistFollowUps         = "followups"
)

// Worklists names every worklist, in the order the docs list them.
var Worklists = []string{WorklistOverdueInvoices, WorklistCreditHolds, WorklistUnmatchedPayments,
	WorklistAttention, WorklistOverdueDeliveries, WorklistFollowUps}

// WorklistFilter narrows and pages a worklist. Zero fields do not filter;
// each list says which fields it reads.
type WorklistFilter struct {
	CustomerID string
	// Stage keeps the orders whose failed step is of this stage
	// (order.StageOfStep); attention only.
	Stage string
	// Owners keeps the follow-ups owned by any of these; followups only.
	Owners []string
	// At is "now" for what is overdue; zero is time.Now.
	At time.Time
	// DeliveryGrace is how long past its promised date a shipment may be
	// before it is overdue (the workflow's DeliveryGrace); overdue
	// deliveries only.
	DeliveryGrace time.Duration
	// After is the Next of the previous page; "" is the first page.
	After string
	// Limit defaults to DefaultListLimit and is capped at MaxListLimit.
	Limit int
}

func (f WorklistFilter) limit() int {
	if f.Limit <= 0 {
		return DefaultListLimit
	}
	return min(f.Limit, MaxListLimit)
}

// Page is one page of a worklist. Next is the cursor of the next page
// (WorklistFilter.After), "" when this page is the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// page cuts rows fetched with limit+1 to limit and makes the cursor of
// the next page from the last row kept.
func page[T any](rows []T, limit int, key func(T) []string) Page[T] {
	if rows == nil {
		rows = []T{}
	}
	if len(rows) <= limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:limit]
	return Page[T]{Items: rows, Next: encodeCursor(key(rows[len(rows)-1])...)}
}

// ErrBadCursor: the After of a worklist filter is not a cursor this list
// gave out. It comes wrapped in an *order.FieldError naming "after".
var ErrBadCursor = errors.New("not a cursor of this list")

// encodeCursor makes an opaque cursor of a row's sort key.
func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
}

// decodeCursor reads a cursor of n parts.
func decodeCursor(cursor string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != n {
		return nil, badCursor()
	}
	return parts, nil
}

func badCursor() error {
	return fmt.Errorf("%w: %w", &order.FieldError{Field: "after", Reason: "not a cursor this list gave out; start again without it"}, ErrBadCursor)
}

func cursorTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badCursor()
	}
	return t, nil
}

func formatCursorTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// daysBetween counts whole days from since to at, 0 when at is not later.
func daysBetween(since, at time.Time) int {
	if !at.After(since) {
		return 0
	}
	return int(at.Sub(since) / (24 * time.Hour))
}

// terminalStatuses lists the statuses an order ends in.
func terminalStatuses() []string {
	var out []string
	for _, st := range order.Statuses {
		if st.Terminal() {
			out = append(out, string(st))
		}
	}
	return out
}

// The rows of each worklist, as FROM and WHERE clauses over named
// arguments, shared by the list and by WorklistSizes so the two cannot
// disagree. Each WHERE matches a partial index of migrations 001 and 018:
// invoices_open_due_idx, orders_status_idx, payments_unmatched_idx,
// orders_needs_attention_idx, shipments_open_idx, followups_open_idx.
const (
	// @at: now. An invoice whose open amount the order has not recorded
	// yet (NULL) is open for its whole amount.
	overdueInvoicesFrom = `
		FROM invoices i JOIN orders o ON o.id = i.order_id
		WHERE (i.open_minor IS NULL OR i.open_minor > 0)
		  AND i.due_date < @at
		  AND o.status <> 'CANCELLED'`
	creditHoldsWhere = `o.status = 'CREDIT_HOLD'`
	creditHoldsFrom  = `
		FROM orders o
		WHERE ` + creditHoldsWhere
	unmatchedPaymentsFrom = `
		FROM payments
		WHERE (match_kind IS NULL OR match_kind = 'unmatched')`
	attentionFrom = `
		FROM orders o
		WHERE o.needs_attention`
	// @late: now less the grace; @ended: the terminal statuses. A shipment
	// the workflow flagged overdue counts even if its promise moved.
	overdueDeliveriesFrom = `
		FROM shipments s JOIN orders o ON o.id = s.order_id
		WHERE s.delivered_at IS NULL AND NOT s.replaced
		  AND (s.promised_date < @late OR s.overdue OR s.exception <> '')
		  AND o.status <> ALL(@ended)`
	openFollowUpsFrom = `
		FROM followups
		WHERE closed_at IS NULL`
)

// OverdueInvoice is a row of the overdue-invoices worklist (finance).
type OverdueInvoice struct {
	Number      string       `json:"number"`
	OrderID     string       `json:"order_id"`
	CustomerID  string       `json:"customer_id"`
	OrderStatus order.Status `json:"order_status"`
	Amount      money.Money  `json:"amount"`
	// Open is what is still to pay: the whole amount until the order
	// records a payment against it.
	Open         money.Money `json:"open"`
	DueDate      time.Time   `json:"due_date"`
	DaysOverdue  int         `json:"days_overdue"`
	DunningLevel int         `json:"dunning_level"`
	Escalated    bool        `json:"escalated"`
	Disputed     bool        `json:"disputed"`
}

// OverdueInvoices lists invoices with money open past their due date
// (f.At), of orders not cancelled, the longest overdue first. Reads
// CustomerID, At, After and Limit.
func (s *Store) OverdueInvoices(ctx context.Context, f WorklistFilter) (Page[OverdueInvoice], error) {
	const what = "overdue invoices"
	at := orNow(f.At)
	args := pgx.NamedArgs{"at": at, "limit": f.limit() + 1}
	query := `
		SELECT i.number, i.order_id, o.customer_id, o.status, i.amount_minor,
			COALESCE(i.open_minor, i.amount_minor), i.currency, i.due_date,
			i.dunning_level, i.escalated, i.disputed` + overdueInvoicesFrom
	if f.CustomerID != "" {
		query += ` AND o.customer_id = @customer`
		args["customer"] = f.CustomerID
	}
	if f.After != "" {
		key, err := decodeCursor(f.After, 2)
		if err != nil {
			return Page[OverdueInvoice]{}, fmt.Errorf("%s: %w", what, err)
		}
		if args["after_due"], err = cursorTime(key[0]); err != nil {
			return Page[OverdueInvoice]{}, fmt.Errorf("%s: %w", what, err)
		}
		query += ` AND (i.due_date, i.number) > (@after_due, @after_number)`
		args["after_number"] = key[1]
	}
	query += ` ORDER BY i.due_date, i.number LIMIT @limit`
	rows, err := s.pool.Query(ctx, query, args)
	if err != nil {
		return Page[OverdueInvoice]{}, dbError(what, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OverdueInvoice, error) {
		var v OverdueInvoice
		var currency string
		err := row.Scan(&v.Number, &v.OrderID, &v.CustomerID, &v.OrderStatus, &v.Amount.Minor, &v.Open.Minor,
			&currency, &v.DueDate, &v.DunningLevel, &v.Escalated, &v.Disputed)
		v.Amount.Currency, v.Open.Currency = currency, currency
		v.DueDate = v.DueDate.UTC()
		v.DaysOverdue = daysBetween(v.DueDate, at)
		return v, err
	})
	if err != nil {
		return Page[OverdueInvoice]{}, dbError(what, err)
	}
	return page(items, f.limit(), func(v OverdueInvoice) []string {
		return []string{formatCursorTime(v.DueDate), v.Number}
	}), nil
}

// CreditHold is a row of the credit-holds worklist (finance).
type CreditHold struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	PONumber   string      `json:"po_number,omitempty"`
	Total      money.Money `json:"total"`
	// Since is when the order went on hold: the audit entry that moved
	// it to CREDIT_HOLD (the row's last change when that is missing).
	Since   time.Time `json:"since"`
	Details string    `json:"details"`
}

// CreditHolds lists the orders waiting in CREDIT_HOLD for finance's
// decision, the longest held first. Reads CustomerID, After and Limit.
func (s *Store) CreditHolds(ctx context.Context, f WorklistFilter) (Page[CreditHold], error) {
	const what = "credit holds"
	args := pgx.NamedArgs{"limit": f.limit() + 1}
	// Since is the latest entry that moved the order into CREDIT_HOLD
	// (by seq: the workflow's order, whatever order the records arrived in).
	inner := `
		SELECT o.id, o.customer_id, o.po_number, o.total_minor, o.currency, o.details,
			COALESCE(h.at, o.updated_at) AS since
		FROM orders o
		LEFT JOIN LATERAL (
			SELECT a.at FROM audit_log a
			WHERE a.order_id = o.id AND a.to_status = 'CREDIT_HOLD'
			  AND a.from_status IS DISTINCT FROM 'CREDIT_HOLD'
			ORDER BY a.seq DESC LIMIT 1) h ON true
		WHERE ` + creditHoldsWhere
	if f.CustomerID != "" {
		inner += ` AND o.customer_id = @customer`
		args["customer"] = f.CustomerID
	}
	query := `
		SELECT id, customer_id, po_number, total_minor, currency, details, since
		FROM (` + inner + `) holds`
	if f.After != "" {
		key, err := decodeCursor(f.After, 2)
		if err != nil {
			return Page[CreditHold]{}, fmt.Errorf("%s: %w", what, err)
		}
		if args["after_since"], err = cursorTime(key[0]); err != nil {
			return Page[CreditHold]{}, fmt.Errorf("%s: %w", what, err)
		}
		query += ` WHERE (since, id) > (@after_since, @after_id)`
		args["after_id"] = key[1]
	}
	query += ` ORDER BY since, id LIMIT @limit`
	rows, err := s.pool.Query(ctx, query, args)
	if err != nil {
		return Page[CreditHold]{}, dbError(what, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CreditHold, error) {
		var v CreditHold
		err := row.Scan(&v.OrderID, &v.CustomerID, &v.PONumber, &v.Total.Minor, &v.Total.Currency, &v.Details, &v.Since)
		v.Since = v.Since.UTC()
		return v, err
	})
	if err != nil {
		return Page[CreditHold]{}, dbError(what, err)
	}
	return page(items, f.limit(), func(v CreditHold) []string {
		return []string{formatCursorTime(v.Since), v.OrderID}
	}), nil
}

// UnmatchedPaymentsPage is UnmatchedPayments a page at a time, for the
// unmatched-payments worklist (finance). Reads After and Limit: a payment
// not applied has no customer to filter by.
func (s *Store) UnmatchedPaymentsPage(ctx context.Context, f WorklistFilter) (Page[Payment], error) {
	var after *paymentKey
	if f.After != "" {
		key, err := decodeCursor(f.After, 2)
		if err != nil {
			return Page[Payment]{}, fmt.Errorf("unmatched payments: %w", err)
		}
		t, err := cursorTime(key[0])
		if err != nil {
			return Page[Payment]{}, fmt.Errorf("unmatched payments: %w", err)
		}
		after = &paymentKey{receivedAt: t, id: key[1]}
	}
	limit := f.limit() + 1
	items, err := s.unmatchedPayments(ctx, after, &limit)
	if err != nil {
		return Page[Payment]{}, err
	}
	return page(items, f.limit(), func(p Payment) []string {
		return []string{formatCursorTime(p.ReceivedAt), p.BankTransactionID}
	}), nil
}

// AttentionOrder is a row of the attention worklist (CS): an order whose
// step has failed past its budget or stopped for a CS action.
type AttentionOrder struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	PONumber   string       `json:"po_number,omitempty"`
	Status     order.Status `json:"status"`
	// Step is the step that failed ("" when the order recorded none);
	// Stage is its stage (order.StageOfStep).
	Step      string      `json:"step"`
	Stage     string      `json:"stage"`
	Total     money.Money `json:"total"`
	Details   string      `json:"details"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// AttentionOrders lists the orders that need attention, by id (ids sort
// by creation). Reads CustomerID, Stage, After and Limit.
//
// The stage of a step is Go's (order.StageOfStep), so a Stage filter first
// reads which failed steps there are (few: one per step name) and keeps
// the orders failed at one of that stage's steps.
func (s *Store) AttentionOrders(ctx context.Context, f WorklistFilter) (Page[AttentionOrder], error) {
	const what = "orders needing attention"
	args := pgx.NamedArgs{"limit": f.limit() + 1}
	query := `
		SELECT o.id, o.customer_id, o.po_number, o.status, o.attention_step, o.total_minor, o.currency,
			o.details, o.updated_at` + attentionFrom
	if f.CustomerID != "" {
		query += ` AND o.customer_id = @customer`
		args["customer"] = f.CustomerID
	}
	if f.Stage != "" {
		rows, err := s.pool.Query(ctx, `SELECT DISTINCT o.attention_step`+attentionFrom)
		if err != nil {
			return Page[AttentionOrder]{}, dbError(what+": failed steps", err)
		}
		steps, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return Page[AttentionOrder]{}, dbError(what+": failed steps", err)
		}
		var of []string
		for _, step := range steps {
			if order.StageOfStep(step) == f.Stage {
				of = append(of, step)
			}
		}
		if len(of) == 0 {
			return Page[AttentionOrder]{Items: []AttentionOrder{}}, nil
		}
		query += ` AND o.attention_step = ANY(@steps)`
		args["steps"] = of
	}
	if f.After != "" {
		key, err := decodeCursor(f.After, 1)
		if err != nil {
			return Page[AttentionOrder]{}, fmt.Errorf("%s: %w", what, err)
		}
		query += ` AND o.id > @after_id`
		args["after_id"] = key[0]
	}
	query += ` ORDER BY o.id LIMIT @limit`
	rows, err := s.pool.Query(ctx, query, args)
	if err != nil {
		return Page[AttentionOrder]{}, dbError(what, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AttentionOrder, error) {
		var v AttentionOrder
		err := row.Scan(&v.OrderID, &v.CustomerID, &v.PONumber, &v.Status, &v.Step, &v.Total.Minor, &v.Total.Currency,
			&v.Details, &v.UpdatedAt)
		v.Stage = order.StageOfStep(v.Step)
		v.UpdatedAt = v.UpdatedAt.UTC()
		return v, err
	})
	if err != nil {
		return Page[AttentionOrder]{}, dbError(what, err)
	}
	return page(items, f.limit(), func(v AttentionOrder) []string { return []string{v.OrderID} }), nil
}

// OverdueDelivery is a row of the overdue-deliveries worklist (CS).
type OverdueDelivery struct {
	OrderID    string    `json:"order_id"`
	ShipmentID string    `json:"shipment_id"`
	CustomerID string    `json:"customer_id"`
	Warehouse  string    `json:"warehouse"`
	Carrier    string    `json:"carrier,omitempty"`
	SKUs       []string  `json:"skus"`
	BookedAt   time.Time `json:"booked_at"`
	// PromisedDate is the carrier's promise; DaysLate counts whole days
	// past it (0 without a promise).
	PromisedDate *time.Time `json:"promised_date,omitempty"`
	DaysLate     int        `json:"days_late"`
	// Flagged: the workflow has alerted CS (DELIVERY_OVERDUE).
	Flagged   bool   `json:"flagged"`
	Exception string `json:"exception,omitempty"`
}

// OverdueDeliveries lists shipments neither delivered nor replaced whose
// promised date plus f.DeliveryGrace has passed at f.At, that the
// workflow flagged overdue, or that the carrier reported an exception on
// (a failed attempt, a lost parcel: CS decides whether to wait or
// reship), of orders not ended; the earliest promise first. Reads CustomerID, At, DeliveryGrace, After and Limit.
func (s *Store) OverdueDeliveries(ctx context.Context, f WorklistFilter) (Page[OverdueDelivery], error) {
	const what = "overdue deliveries"
	at := orNow(f.At)
	args := pgx.NamedArgs{"late": at.Add(-f.DeliveryGrace), "ended": terminalStatuses(), "limit": f.limit() + 1}
	query := `
		SELECT s.order_id, s.shipment_id, s.customer_id, s.warehouse, s.carrier, s.skus, s.booked_at,
			s.promised_date, s.overdue, s.exception` + overdueDeliveriesFrom
	if f.CustomerID != "" {
		query += ` AND s.customer_id = @customer`
		args["customer"] = f.CustomerID
	}
	if f.After != "" {
		key, err := decodeCursor(f.After, 3)
		if err != nil {
			return Page[OverdueDelivery]{}, fmt.Errorf("%s: %w", what, err)
		}
		if args["after_promised"], err = cursorTime(key[0]); err != nil {
			return Page[OverdueDelivery]{}, fmt.Errorf("%s: %w", what, err)
		}
		query += ` AND (COALESCE(s.promised_date, s.booked_at), s.order_id, s.shipment_id) > (@after_promised, @after_order, @after_shipment)`
		args["after_order"], args["after_shipment"] = key[1], key[2]
	}
	query += ` ORDER BY COALESCE(s.promised_date, s.booked_at), s.order_id, s.shipment_id LIMIT @limit`
	rows, err := s.pool.Query(ctx, query, args)
	if err != nil {
		return Page[OverdueDelivery]{}, dbError(what, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OverdueDelivery, error) {
		var v OverdueDelivery
		err := row.Scan(&v.OrderID, &v.ShipmentID, &v.CustomerID, &v.Warehouse, &v.Carrier, &v.SKUs, &v.BookedAt,
			&v.PromisedDate, &v.Flagged, &v.Exception)
		v.BookedAt = v.BookedAt.UTC()
		if v.PromisedDate != nil {
			p := v.PromisedDate.UTC()
			v.PromisedDate = &p
			v.DaysLate = daysBetween(p, at)
		}
		return v, err
	})
	if err != nil {
		return Page[OverdueDelivery]{}, dbError(what, err)
	}
	return page(items, f.limit(), func(v OverdueDelivery) []string {
		sortAt := v.BookedAt
		if v.PromisedDate != nil {
			sortAt = *v.PromisedDate
		}
		return []string{formatCursorTime(sortAt), v.OrderID, v.ShipmentID}
	}), nil
}

// OpenFollowUps lists the follow-ups not closed yet, oldest first, for the
// followups worklist (CS, and a rep their own). Reads CustomerID, Owners,
// After and Limit.
func (s *Store) OpenFollowUps(ctx context.Context, f WorklistFilter) (Page[FollowUp], error) {
	var after int64
	if f.After != "" {
		key, err := decodeCursor(f.After, 1)
		if err != nil {
			return Page[FollowUp]{}, fmt.Errorf("open follow-ups: %w", err)
		}
		if after, err = strconv.ParseInt(key[0], 10, 64); err != nil {
			return Page[FollowUp]{}, fmt.Errorf("open follow-ups: %w", badCursor())
		}
	}
	items, err := s.followUps(ctx, FollowUpFilter{Open: true, Owners: f.Owners, CustomerID: f.CustomerID,
		After: after}, f.limit()+1)
	if err != nil {
		return Page[FollowUp]{}, err
	}
	return page(items, f.limit(), func(v FollowUp) []string { return []string{strconv.FormatInt(v.ID, 10)} }), nil
}

// WorklistSizes counts the items of every worklist, unfiltered, keyed by
// worklist name, in one query: for orderflow_worklist_items and the
// dashboard. at is now (zero: time.Now); deliveryGrace as in
// WorklistFilter.
func (s *Store) WorklistSizes(ctx context.Context, at time.Time, deliveryGrace time.Duration) (map[string]int, error) {
	at = orNow(at)
	var inv, holds, pays, attn, late, fus int
	err := s.pool.QueryRow(ctx, `
		SELECT
			(SELECT count(*)`+overdueInvoicesFrom+`),
			(SELECT count(*)`+creditHoldsFrom+`),
			(SELECT count(*)`+unmatchedPaymentsFrom+`),
			(SELECT count(*)`+attentionFrom+`),
			(SELECT count(*)`+overdueDeliveriesFrom+`),
			(SELECT count(*)`+openFollowUpsFrom+`)`,
		pgx.NamedArgs{"at": at, "late": at.Add(-deliveryGrace), "ended": terminalStatuses()},
	).Scan(&inv, &holds, &pays, &attn, &late, &fus)
	if err != nil {
		return nil, dbError("worklist sizes", err)
	}
	return map[string]int{
		WorklistOverdueInvoices:   inv,
		WorklistCreditHolds:       holds,
		WorklistUnmatchedPayments: pays,
		WorklistAttention:         attn,
		WorklistOverdueDeliveries: late,
		WorklistFollowUps:         fus,
	}, nil
}
