package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderflow/orderflow/internal/order"
)

// AuditLog returns an order's audit entries in the order they happened: by
// time, then by the workflow's sequence number (a workflow writes several
// entries at the same workflow time, and concurrently, so their rows may be
// inserted out of order), then by insertion.
// An order without entries (or an unknown one) gives an empty list.
// Entries written outside the workflow have Seq 0, like the creation entry;
// their Action tells them apart. Entries of a lost workflow task are
// listed too, marked Superseded (see Transition.Fence).
func (s *Store) AuditLog(ctx context.Context, orderID string) ([]AuditEntry, error) {
	what := fmt.Sprintf("audit log of order %q", orderID)
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, COALESCE(seq, 0), at, actor_subject, actor_role, actor_customer_id,
			action, COALESCE(from_status, ''), COALESCE(to_status, ''), reason, data,
			seq IS NOT NULL AND EXISTS (
				SELECT 1 FROM audit_log later
				WHERE later.order_id = a.order_id AND later.fence > a.fence AND later.seq <= a.seq)
		FROM audit_log a
		WHERE order_id = $1
		ORDER BY at, seq NULLS LAST, fence, id`, orderID)
	if err != nil {
		return nil, dbError(what, err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var data []byte
		err := row.Scan(&e.ID, &e.OrderID, &e.Seq, &e.At, &e.Actor.Subject, &e.Actor.Role,
			&e.Actor.CustomerID, &e.Action, &e.FromStatus, &e.ToStatus, &e.Reason, &data, &e.Superseded)
		e.At = e.At.UTC()
		if len(data) > 0 {
			e.Data = data
		}
		return e, err
	})
	if err != nil {
		return nil, dbError(what, err)
	}
	return entries, nil
}

// AppendAudit writes an entry that happened outside the workflow, such as a
// payment allocated by finance; it has no seq (workflow transitions go through
// RecordTransition). A zero At is now; a zero Actor is refused, because every
// such entry must say who acted.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	return appendAudit(ctx, s.pool, e)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// appendAudit inserts the entry; the chain trigger (migration 018) takes the
// order's advisory lock and holds it to commit. In a transaction that also
// locks the order's projection row, lock the row first, as RecordTransition
// does: taking them the other way round deadlocks against it.
func appendAudit(ctx context.Context, db execer, e AuditEntry) error {
	what := fmt.Sprintf("append audit %q to order %q", e.Action, e.OrderID)
	switch {
	case e.OrderID == "":
		return fmt.Errorf("%s: no order id", what)
	case e.Action == "":
		return fmt.Errorf("%s: no action", what)
	case e.Seq != 0:
		return fmt.Errorf("%s: entries outside the workflow carry no seq (got %d); use RecordTransition", what, e.Seq)
	case e.Actor == (order.Actor{}):
		return fmt.Errorf("%s: no actor", what)
	}
	// The order's row before its audit entry, as RecordTransition takes
	// them: one lock order, so writers of one order never deadlock.
	if err := markHandled(ctx, db, e.OrderID, e.Actor.Role); err != nil {
		return dbError(what+": mark handled", err)
	}
	_, err := db.Exec(ctx, `
		INSERT INTO audit_log (order_id, seq, at, actor_subject, actor_role, actor_customer_id,
			action, from_status, to_status, reason, data)
		VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.OrderID, orNow(e.At), e.Actor.Subject, e.Actor.Role, e.Actor.CustomerID, e.Action,
		nullIfEmpty(string(e.FromStatus)), nullIfEmpty(string(e.ToStatus)), e.Reason, jsonOrNull(e.Data))
	if err != nil {
		return dbError(what, err)
	}
	return nil
}
