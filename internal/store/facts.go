package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// Audit actions the facts are derived from.
const (
	actionDelivered  = "order.delivered"
	actionReconciled = "payment.reconciled"
)

// exceptionStage says under which stage an audit action counts as an
// exception, "" when it is none.
func exceptionStage(tr Transition) string {
	switch tr.Action {
	case "step.failed", "step.delayed":
		step := tr.Reason
		if tr.Facts != nil && tr.Facts.AttentionStep != "" {
			step = tr.Facts.AttentionStep
		} else if i := strings.Index(step, ": "); i >= 0 {
			step = step[:i]
		}
		return order.StageOfStep(step)
	case "shipment.exception", "delivery.overdue":
		return order.StageDelivery
	case "payment.not-applied":
		return order.StagePayment
	}
	return ""
}

// recordFacts writes what a transition tells about the order, in the
// transaction that audits it. Milestones and exceptions are written for
// every transition, late ones too (a milestone keeps its earliest time, an
// exception is keyed by seq and gives way to a later task's record at or
// before its seq); the facts that describe the order as it is now
// only when the transition is the newest (newest).
func recordFacts(ctx context.Context, tx pgx.Tx, tr Transition, at time.Time, newest bool) error {
	if _, err := tx.Exec(ctx, `
		UPDATE orders SET
			quoted_at    = CASE WHEN $2 THEN LEAST(quoted_at, $6) ELSE quoted_at END,
			accepted_at  = CASE WHEN $3 THEN LEAST(accepted_at, $6) ELSE accepted_at END,
			delivered_at = CASE WHEN $4 = $7 THEN LEAST(delivered_at, $6) ELSE delivered_at END,
			paid_at      = CASE WHEN $4 = $8 THEN LEAST(paid_at, $6) ELSE paid_at END,
			ended_at     = CASE WHEN $5 THEN LEAST(ended_at, $6) ELSE ended_at END,
			staff_touched = staff_touched OR $9
		WHERE id = $1`,
		tr.OrderID, tr.Status == order.StatusAwaitingAcceptance, tr.Status.Accepted(), tr.Action,
		tr.Status.Terminal(), at, actionDelivered, actionReconciled, tr.Actor.Role.Handles()); err != nil {
		return fmt.Errorf("milestones: %w", err)
	}
	// The exceptions a lost workflow task raised at this seq or after it
	// were decided again by this later task (Transition.Fence).
	if _, err := tx.Exec(ctx, `
		DELETE FROM order_exceptions WHERE order_id = $1 AND seq >= $2 AND fence < $3`,
		tr.OrderID, tr.Seq, tr.Fence); err != nil {
		return fmt.Errorf("superseded exceptions: %w", err)
	}
	if stage := exceptionStage(tr); stage != "" {
		if _, err := tx.Exec(ctx, `
			INSERT INTO order_exceptions (order_id, seq, fence, customer_id, step, kind, at)
			SELECT $1, $2, $6, customer_id, $3, $4, $5 FROM orders WHERE id = $1
			ON CONFLICT (order_id, seq) DO NOTHING`,
			tr.OrderID, tr.Seq, stage, tr.Action, at, tr.Fence); err != nil {
			return fmt.Errorf("exception: %w", err)
		}
	}
	if !newest || tr.Facts == nil {
		return nil
	}
	f := tr.Facts
	step := ""
	if tr.NeedsAttention {
		step = f.AttentionStep
	}
	if _, err := tx.Exec(ctx, `
		UPDATE orders SET attention_step = $2, lead_time_days = COALESCE($3, lead_time_days)
		WHERE id = $1`, tr.OrderID, step, f.LeadTimeDays); err != nil {
		return fmt.Errorf("order facts: %w", err)
	}
	for _, s := range f.Shipments {
		if s.ShipmentID == "" {
			continue // not booked yet
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO shipments (order_id, shipment_id, customer_id, warehouse, carrier, skus, booked_at,
				promised_date, delivered_at, overdue, exception, replaced, updated_at)
			SELECT $1, $2, customer_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $6 FROM orders WHERE id = $1
			ON CONFLICT (order_id, shipment_id) DO UPDATE SET
				carrier = EXCLUDED.carrier, promised_date = EXCLUDED.promised_date,
				delivered_at = EXCLUDED.delivered_at, overdue = EXCLUDED.overdue,
				exception = EXCLUDED.exception, replaced = EXCLUDED.replaced, updated_at = EXCLUDED.updated_at`,
			tr.OrderID, s.ShipmentID, s.Warehouse, s.Carrier, nonNil(s.SKUs), at,
			nullTime(s.PromisedDate), nullTime(s.DeliveredAt), s.Overdue, s.Exception, s.Replaced); err != nil {
			return fmt.Errorf("shipment %s: %w", s.ShipmentID, err)
		}
	}
	for _, inv := range f.Invoices {
		// The invoice row is SaveInvoice's; a record that beats it to the
		// table changes nothing, and the next record fills it in.
		if _, err := tx.Exec(ctx, `
			UPDATE invoices SET customer_id = o.customer_id, open_minor = $3, dunning_level = $4,
				escalated = $5, disputed = $6,
				settled_at = CASE WHEN $7::timestamptz IS NULL THEN NULL ELSE COALESCE(invoices.settled_at, $7) END
			FROM orders o
			WHERE invoices.number = $2 AND invoices.order_id = $1 AND o.id = $1`,
			tr.OrderID, inv.Number, inv.Open.Minor, inv.DunningLevel, inv.Escalated, inv.Disputed,
			nullTime(inv.SettledAt)); err != nil {
			return fmt.Errorf("invoice %s: %w", inv.Number, err)
		}
	}
	return nil
}

// markHandled notes that a CS or finance person acted on an order outside
// the workflow (allocating a payment, say).
func markHandled(ctx context.Context, db execer, orderID string, role order.Role) error {
	if !role.Handles() {
		return nil
	}
	_, err := db.Exec(ctx, `UPDATE orders SET staff_touched = true WHERE id = $1 AND NOT staff_touched`, orderID)
	return err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
