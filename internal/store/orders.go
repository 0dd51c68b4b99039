package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// CreateOrder records a new order from POST /v1/quotes: its idempotency key,
// its projection row and its "order.created" audit entry (seq 0), in one
// transaction.
//
// The same scope and key with the same request hash return the order created
// the first time, with created=false, whatever n.Order holds; with another
// hash the error is ErrIdempotencyConflict. Two concurrent calls with one key
// cannot both create: the second INSERT of the key waits for the first
// transaction and then finds its row.
func (s *Store) CreateOrder(ctx context.Context, n NewOrder) (rec OrderRecord, created bool, err error) {
	o := n.Order
	what := fmt.Sprintf("create order %q", o.ID)
	switch {
	case n.IdempotencyKey == "":
		return OrderRecord{}, false, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "idempotency_key", Reason: "required"})
	case n.RequestHash == "":
		return OrderRecord{}, false, fmt.Errorf("%s: no request hash to compare replays with", what)
	case o.ID == "":
		return OrderRecord{}, false, fmt.Errorf("%s: no order id", what)
	case o.CustomerID == "":
		return OrderRecord{}, false, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "customer_id", Reason: "required"})
	}
	if o.Status == "" {
		o.Status = order.StatusQuoting
	}
	if !o.Status.Valid() {
		return OrderRecord{}, false, fmt.Errorf("%s: unknown status %q", what, o.Status)
	}
	actor := n.Actor
	if actor == (order.Actor{}) {
		actor = order.System
	}
	at := orNow(o.CreatedAt)

	err = s.inTx(ctx, what, func(tx pgx.Tx) error {
		// Claim the key first: a concurrent claim of the same key blocks here
		// until this transaction ends, and then does nothing.
		tag, err := tx.Exec(ctx, `
			INSERT INTO idempotency_keys (scope, key, request_hash, order_id, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (scope, key) DO NOTHING`,
			n.IdempotencyScope, n.IdempotencyKey, n.RequestHash, o.ID, at)
		if err != nil {
			return dbError(what+": claim idempotency key", err)
		}
		if tag.RowsAffected() == 0 {
			var hash, existingID string
			err := tx.QueryRow(ctx, `
				SELECT request_hash, order_id
				FROM idempotency_keys
				WHERE scope = $1 AND key = $2`,
				n.IdempotencyScope, n.IdempotencyKey).Scan(&hash, &existingID)
			if err != nil {
				return dbError(what+": read idempotency key", err)
			}
			if hash != n.RequestHash {
				return fmt.Errorf("%s: key %q belongs to order %s: %w", what, n.IdempotencyKey, existingID, ErrIdempotencyConflict)
			}
			rec, err = scanOrder(tx.QueryRow(ctx, `
				SELECT id, customer_id, po_number, status, needs_attention, total_minor, currency,
					quote_revision, details, invoice_number, last_seq, created_at, updated_at
				FROM orders
				WHERE id = $1`, existingID))
			if err != nil {
				return dbError(fmt.Sprintf("%s: order %s of key %q", what, existingID, n.IdempotencyKey), err)
			}
			return nil
		}

		rec, err = scanOrder(tx.QueryRow(ctx, `
			INSERT INTO orders (id, customer_id, po_number, status, needs_attention, total_minor,
				currency, quote_revision, details, invoice_number, last_seq, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11)
			RETURNING id, customer_id, po_number, status, needs_attention, total_minor, currency,
				quote_revision, details, invoice_number, last_seq, created_at, updated_at`,
			o.ID, o.CustomerID, o.PONumber, o.Status, o.NeedsAttention, o.Total.Minor,
			o.Total.Currency, o.QuoteRevision, o.Details, o.InvoiceNumber, at))
		if err != nil {
			return dbError(what+": insert projection", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO audit_log (order_id, seq, at, actor_subject, actor_role, actor_customer_id,
				action, to_status)
			VALUES ($1, 0, $2, $3, $4, $5, $6, $7)`,
			o.ID, at, actor.Subject, actor.Role, actor.CustomerID, order.ActionOrderCreated, o.Status)
		if err != nil {
			return dbError(what+": audit", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return OrderRecord{}, false, err
	}
	return rec, created, nil
}

// RecordTransition writes one workflow transition: its audit entry and, when
// it is newer than what the projection shows, the projection. A replay of a
// (fence, seq) changes nothing, and a transition that arrives after a later
// one is audited but does not roll the projection back. Newer is a higher
// fence, or the same fence and a higher seq (Transition.Fence): the records
// of a workflow task that was lost give way to those of its retry.
//
// The transition carries the order's whole current state, except that a zero
// Total (no currency), a zero QuoteRevision and an empty InvoiceNumber keep the
// stored values: an order never loses them once it has them, and SaveInvoice
// sets the invoice number on its own. The audit entry's from_status is the
// to_status of the order's previous seq, so entries chain even when they
// arrive out of order.
//
// Workflow seqs start at 1; seq 0 is the order's creation. When the order has
// no projection row yet (started outside the API), tr.CustomerID and
// tr.PONumber create it; without a customer the error is ErrNotFound.
// A zero Actor is order.System; a zero At is now.
func (s *Store) RecordTransition(ctx context.Context, tr Transition) error {
	_, err := s.RecordTransitionOutcome(ctx, tr)
	return err
}

// RecordOutcome says what RecordTransitionOutcome wrote, for the
// transition metrics.
type RecordOutcome struct {
	// Inserted: this call wrote the audit entry; false for a replay of a
	// seq recorded before (a retried activity), which counts nothing.
	Inserted bool
	// From is the status before the transition (the to_status of the
	// order's previous seq; "" when there is none), To the status after.
	From, To order.Status
	// FromSince is when the order entered From: the entry of the latest
	// earlier seq that moved it there (zero when unknown). At is the
	// transition's time.
	FromSince, At time.Time
}

// StatusChanged reports whether a newly written transition moved the
// order from one status to another.
func (o RecordOutcome) StatusChanged() bool {
	return o.Inserted && o.From != "" && o.From != o.To
}

// InStatus is how long the order spent in From, when known.
func (o RecordOutcome) InStatus() (time.Duration, bool) {
	if o.FromSince.IsZero() || o.At.Before(o.FromSince) {
		return 0, false
	}
	return o.At.Sub(o.FromSince), true
}

// RecordTransitionOutcome is RecordTransition, also saying whether it
// wrote the transition and from which status.
func (s *Store) RecordTransitionOutcome(ctx context.Context, tr Transition) (RecordOutcome, error) {
	what := fmt.Sprintf("record transition %d of order %q", tr.Seq, tr.OrderID)
	switch {
	case tr.OrderID == "":
		return RecordOutcome{}, fmt.Errorf("%s: no order id", what)
	case tr.Seq < 1:
		return RecordOutcome{}, fmt.Errorf("%s: seqs start at 1 (0 is the order's creation)", what)
	case !tr.Status.Valid():
		return RecordOutcome{}, fmt.Errorf("%s: unknown status %q", what, tr.Status)
	case tr.Action == "":
		return RecordOutcome{}, fmt.Errorf("%s: no audit action", what)
	}
	actor := tr.Actor
	if actor == (order.Actor{}) {
		actor = order.System
	}
	at := orNow(tr.At)

	var out RecordOutcome
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		out = RecordOutcome{To: tr.Status, At: at}
		// Lock the projection row: transitions of one order are applied one
		// at a time, so from_status and last_seq are read consistently.
		var lastSeq, lastFence int64
		err := tx.QueryRow(ctx, `SELECT last_seq, last_fence FROM orders WHERE id = $1 FOR UPDATE`, tr.OrderID).Scan(&lastSeq, &lastFence)
		if errors.Is(err, pgx.ErrNoRows) {
			if tr.CustomerID == "" {
				return fmt.Errorf("%s: the order has no projection row and the transition names no customer: %w", what, ErrNotFound)
			}
			// A concurrent first transition may insert the row too: the loser
			// waits for it and then does nothing.
			_, err = tx.Exec(ctx, `
				INSERT INTO orders (id, customer_id, po_number, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5)
				ON CONFLICT (id) DO NOTHING`,
				tr.OrderID, tr.CustomerID, tr.PONumber, tr.Status, at)
			if err != nil {
				return dbError(what+": create projection", err)
			}
			err = tx.QueryRow(ctx, `SELECT last_seq, last_fence FROM orders WHERE id = $1 FOR UPDATE`, tr.OrderID).Scan(&lastSeq, &lastFence)
		}
		if err != nil {
			return dbError(what+": lock projection", err)
		}

		// RETURNING gives a row only when this call inserted the entry.
		var from *string
		err = tx.QueryRow(ctx, `
			INSERT INTO audit_log (order_id, seq, fence, at, actor_subject, actor_role, actor_customer_id,
				action, from_status, to_status, reason, data)
			VALUES ($1, $2, $11, $3, $4, $5, $6, $7,
				(SELECT prev.to_status FROM audit_log prev
				 WHERE prev.order_id = $1 AND prev.seq < $2 AND prev.fence <= $11
				 ORDER BY prev.seq DESC, prev.fence DESC LIMIT 1),
				$8, $9, $10)
			ON CONFLICT (order_id, seq, fence) DO NOTHING
			RETURNING from_status`,
			tr.OrderID, tr.Seq, at, actor.Subject, actor.Role, actor.CustomerID,
			tr.Action, tr.Status, tr.Reason, jsonOrNull(tr.Data), tr.Fence).Scan(&from)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return dbError(what+": audit", err)
		default:
			out.Inserted = true
			if from != nil {
				out.From = order.Status(*from)
			}
		}
		if out.Inserted && out.From != "" && out.From != tr.Status {
			// When the order entered the status it leaves: the latest
			// earlier entry that moved it there.
			err := tx.QueryRow(ctx, `
				SELECT at FROM audit_log
				WHERE order_id = $1 AND seq < $2 AND to_status = $3
				  AND from_status IS DISTINCT FROM $3
				ORDER BY seq DESC LIMIT 1`, tr.OrderID, tr.Seq, out.From).Scan(&out.FromSince)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return dbError(what+": time in status", err)
			}
		}

		newest := tr.Fence > lastFence || (tr.Fence == lastFence && tr.Seq > lastSeq)
		if !newest && tr.Fence < lastFence {
			// A record of a lost task whose retry wrote first: it tells
			// nothing of the order (Transition.Fence).
			var superseded bool
			err := tx.QueryRow(ctx, `
				SELECT EXISTS (SELECT 1 FROM audit_log
					WHERE order_id = $1 AND fence > $2 AND seq <= $3)`,
				tr.OrderID, tr.Fence, tr.Seq).Scan(&superseded)
			if err != nil {
				return dbError(what+": superseded", err)
			}
			if superseded {
				out.Inserted = false // nothing to count either
				return nil
			}
		}
		if err := recordFacts(ctx, tx, tr, at, newest); err != nil {
			return dbError(what, err)
		}
		if !newest {
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE orders SET
				status = $2,
				needs_attention = $3,
				total_minor = CASE WHEN $5 = '' THEN total_minor ELSE $4 END,
				currency = CASE WHEN $5 = '' THEN currency ELSE $5 END,
				quote_revision = CASE WHEN $6 = 0 THEN quote_revision ELSE $6 END,
				details = $7,
				invoice_number = CASE WHEN $8 = '' THEN invoice_number ELSE $8 END,
				po_number = CASE WHEN po_number = '' THEN $9 ELSE po_number END,
				last_seq = $10,
				last_fence = $12,
				updated_at = $11
			WHERE id = $1`,
			tr.OrderID, tr.Status, tr.NeedsAttention, tr.Total.Minor, tr.Total.Currency,
			tr.QuoteRevision, tr.Details, tr.InvoiceNumber, tr.PONumber, tr.Seq, at, tr.Fence)
		if err != nil {
			return dbError(what+": update projection", err)
		}
		return nil
	})
	if err != nil {
		return RecordOutcome{}, err
	}
	return out, nil
}

// Order returns the projection row of one order; ErrNotFound when unknown.
func (s *Store) Order(ctx context.Context, id string) (OrderRecord, error) {
	rec, err := scanOrder(s.pool.QueryRow(ctx, `
		SELECT id, customer_id, po_number, status, needs_attention, total_minor, currency,
			quote_revision, details, invoice_number, last_seq, created_at, updated_at
		FROM orders
		WHERE id = $1`, id))
	if err != nil {
		return OrderRecord{}, dbError(fmt.Sprintf("order %q", id), err)
	}
	return rec, nil
}

// QuoteRefusal returns the lines the ERP refused for an order that ended
// QUOTE_REFUSED, from its audit entry; ErrNotFound when it has none.
func (s *Store) QuoteRefusal(ctx context.Context, orderID string) ([]order.FieldError, error) {
	what := fmt.Sprintf("quote refusal of order %q", orderID)
	var fields []order.FieldError
	err := s.pool.QueryRow(ctx, `
		SELECT data FROM audit_log
		WHERE order_id = $1 AND action = $2 AND data IS NOT NULL
		ORDER BY seq DESC LIMIT 1`, orderID, order.ActionQuoteRefused).Scan(&fields)
	if err != nil {
		return nil, dbError(what, err)
	}
	return fields, nil
}

// Page sizes of ListOrders.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// ListOrders returns the orders matching f, by id ascending (ids sort by
// creation). The next page starts after the last id of this one (f.After);
// Limit defaults to DefaultListLimit and is capped at MaxListLimit.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter) ([]OrderRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	return s.listOrders(ctx, f, min(limit, MaxListLimit), false)
}

// MaxOpenOrdersLimit caps a page of OpenOrders.
const MaxOpenOrdersLimit = 1000

// OpenOrders returns the orders matching f that are not finished (no
// terminal status), by id ascending, for bulk CS actions: a finished order
// takes no action. Pages like ListOrders; Limit defaults to DefaultListLimit
// and is capped at MaxOpenOrdersLimit.
func (s *Store) OpenOrders(ctx context.Context, f OrderFilter) ([]OrderRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	return s.listOrders(ctx, f, min(limit, MaxOpenOrdersLimit), true)
}

// listOrders is ListOrders and OpenOrders: open leaves out every terminal status.
func (s *Store) listOrders(ctx context.Context, f OrderFilter, limit int, open bool) ([]OrderRecord, error) {
	// Only the filters in use reach the query, so the planner can use the
	// matching index instead of a generic plan over "$1 = '' OR ...".
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	} else {
		// A refused quote request never became an order for anyone but
		// the audit log; it is listed only when asked for by status.
		add("status <> ?", order.StatusQuoteRefused)
	}
	if open {
		var finished []string
		for _, st := range order.Statuses {
			if st.Terminal() {
				finished = append(finished, string(st))
			}
		}
		add("status <> ALL(?)", finished)
	}
	if f.NeedsAttention != nil {
		if *f.NeedsAttention {
			where = append(where, "needs_attention") // matches the partial index
		} else {
			where = append(where, "NOT needs_attention")
		}
	}
	if f.After != "" {
		add("id > ?", f.After)
	}
	query := `
		SELECT id, customer_id, po_number, status, needs_attention, total_minor, currency,
			quote_revision, details, invoice_number, last_seq, created_at, updated_at
		FROM orders`
	if len(where) > 0 {
		query += "\n\t\tWHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += "\n\t\tORDER BY id\n\t\tLIMIT $" + strconv.Itoa(len(args))

	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError("list orders", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderRecord, error) { return scanOrder(row) })
	if err != nil {
		return nil, dbError("list orders", err)
	}
	return recs, nil
}

// scanOrder reads the columns every order query selects, in their order.
func scanOrder(row pgx.Row) (OrderRecord, error) {
	var r OrderRecord
	err := row.Scan(&r.ID, &r.CustomerID, &r.PONumber, &r.Status, &r.NeedsAttention, &r.Total.Minor,
		&r.Total.Currency, &r.QuoteRevision, &r.Details, &r.InvoiceNumber, &r.LastSeq,
		&r.CreatedAt, &r.UpdatedAt)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, err
}

// CountByStatus counts orders per status, for the orderflow_orders metric.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
		status string
		n      int
	}, error) {
		var v struct {
			status string
			n      int
		}
		err := r.Scan(&v.status, &v.n)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}
