package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// ErrNotQuoteLost: only a quote-lost follow-up re-opens as a new quote.
var ErrNotQuoteLost = errors.New("not a quote-lost follow-up")

// ReopenedFollowUp is a quote-lost follow-up closed because the rep
// re-opened the lost quote as a new order.
type ReopenedFollowUp struct {
	FollowUpID int64
	NewOrderID string
	// Reason is why the rep re-opened it; it goes into the note.
	Reason string
	By     order.Actor
	At     time.Time
}

// ReopenNote is the note a re-opened follow-up is closed with.
func ReopenNote(newOrderID, reason string) string {
	return fmt.Sprintf("re-opened as order %s: %s", newOrderID, strings.TrimSpace(reason))
}

// CloseFollowUpReopened closes a quote-lost follow-up with a note naming
// the new order, and audits followup.reopened on the lost order (data:
// followup_id, new_order_id), in one transaction. A repeat for the same
// new order returns the follow-up as it is; a follow-up closed otherwise
// is ErrFollowUpClosed.
func (s *Store) CloseFollowUpReopened(ctx context.Context, r ReopenedFollowUp) (FollowUp, error) {
	what := fmt.Sprintf("close follow-up %d as re-opened", r.FollowUpID)
	note := ReopenNote(r.NewOrderID, r.Reason)
	switch {
	case r.NewOrderID == "" || r.By.Subject == "":
		return FollowUp{}, fmt.Errorf("%s: new order and actor are required", what)
	case utf8.RuneCountInString(note) > MaxFollowUpNote:
		return FollowUp{}, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "reason", Reason: fmt.Sprintf("at most %d characters with the new order's id", MaxFollowUpNote)})
	}
	at := orNow(r.At)
	var fu FollowUp
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		var err error
		fu, err = scanFollowUp(tx.QueryRow(ctx, `
			UPDATE followups SET closed_at = $2, closed_by = $3, note = $4
			WHERE id = $1 AND closed_at IS NULL AND kind = $5
			RETURNING `+followUpColumns, r.FollowUpID, at, r.By.Subject, note, FollowUpKindQuoteLost))
		if errors.Is(err, pgx.ErrNoRows) {
			fu, err = scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM followups WHERE id = $1`, r.FollowUpID))
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("%s: %w", what, ErrNotFound)
			case err != nil:
				return dbError(what, err)
			case fu.Kind != FollowUpKindQuoteLost:
				return fmt.Errorf("%s: a %s follow-up: %w", what, fu.Kind, ErrNotQuoteLost)
			case fu.Note == note:
				return nil
			default:
				return fmt.Errorf("%s: closed by %s at %s: %w", what, fu.ClosedBy, fu.ClosedAt.Format(time.RFC3339), ErrFollowUpClosed)
			}
		}
		if err != nil {
			return dbError(what, err)
		}
		data, err := json.Marshal(map[string]string{"followup_id": strconv.FormatInt(fu.ID, 10), "new_order_id": r.NewOrderID})
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, AuditEntry{OrderID: fu.OrderID, At: at, Actor: r.By, Action: "followup.reopened",
			Reason: fmt.Sprintf("quote-lost follow-up %d %s", fu.ID, note), Data: data})
	})
	if err != nil {
		return FollowUp{}, err
	}
	return fu, nil
}

// FollowUpReopenedAs returns the order a follow-up was re-opened as
// (CloseFollowUpReopened); ErrNotFound when it was not re-opened.
func (s *Store) FollowUpReopenedAs(ctx context.Context, fu FollowUp) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
		SELECT data->>'new_order_id' FROM audit_log
		WHERE order_id = $1 AND action = 'followup.reopened' AND data->>'followup_id' = $2
		ORDER BY id LIMIT 1`, fu.OrderID, strconv.FormatInt(fu.ID, 10)).Scan(&id)
	if err != nil {
		return "", dbError(fmt.Sprintf("order follow-up %d was re-opened as", fu.ID), err)
	}
	return id, nil
}
