package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// MaxFollowUpNote bounds the note a follow-up is closed with, in characters.
const MaxFollowUpNote = 2000

// ErrFollowUpClosed: the follow-up was closed already, by someone else or
// with another note.
var ErrFollowUpClosed = errors.New("follow-up closed already")

// FollowUp is work for a person that the system opened: today a
// detractor's survey answer, for CS and the customer's rep (its owner).
type FollowUp struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	OrderID    string     `json:"order_id"`
	CustomerID string     `json:"customer_id"`
	ShipmentID string     `json:"shipment_id,omitempty"`
	Score      *int       `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	Owner      string     `json:"owner"`
	OpenedAt   time.Time  `json:"opened_at"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	ClosedBy   string     `json:"closed_by,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// FollowUpKindDetractor is a follow-up of a detractor's survey answer.
const FollowUpKindDetractor = "detractor"

// openDetractorFollowUp opens the follow-up of a detractor's answer, owned
// by the customer's rep, in the transaction that stores the answer. One
// per survey: a repeat does nothing.
func openDetractorFollowUp(ctx context.Context, tx pgx.Tx, sv Survey, at time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO followups (kind, order_id, customer_id, shipment_id, survey_token, score, comment, owner, opened_at)
		SELECT $1, $2, COALESCE(NULLIF($3, ''), o.customer_id, ''), $4, $5, $6, $7, COALESCE(c.rep_email, ''), $8
		FROM (SELECT 1) one
		LEFT JOIN orders o ON o.id = $2
		LEFT JOIN customers c ON c.id = COALESCE(NULLIF($3, ''), o.customer_id)
		ON CONFLICT (survey_token) DO NOTHING`,
		FollowUpKindDetractor, sv.OrderID, sv.CustomerID, sv.ShipmentID, sv.Token, sv.Score, sv.Comment, at)
	if err != nil {
		return fmt.Errorf("open follow-up: %w", err)
	}
	return nil
}

// FollowUpFilter narrows FollowUps; zero fields do not filter.
type FollowUpFilter struct {
	// Open: only follow-ups not closed yet.
	Open  bool
	Owner string
	// Owners keeps the follow-ups owned by any of these (a rep is known by
	// their token's subject and by their e-mail); nil does not filter,
	// an empty slice keeps none.
	Owners     []string
	CustomerID string
	// After is the id of the last follow-up of the previous page.
	After int64
	Limit int
}

// FollowUps lists follow-ups, oldest first.
func (s *Store) FollowUps(ctx context.Context, f FollowUpFilter) ([]FollowUp, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	return s.followUps(ctx, f, limit)
}

// followUps is FollowUps with the limit as given.
func (s *Store) followUps(ctx context.Context, f FollowUpFilter, limit int) ([]FollowUp, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+followUpColumns+`
		FROM followups
		WHERE ($1 = false OR closed_at IS NULL)
		  AND ($2 = '' OR owner = $2)
		  AND ($3 = '' OR customer_id = $3)
		  AND ($6::text[] IS NULL OR owner = ANY($6))
		  AND id > $4
		ORDER BY id
		LIMIT $5`, f.Open, f.Owner, f.CustomerID, f.After, limit, f.Owners)
	if err != nil {
		return nil, dbError("list follow-ups", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FollowUp, error) { return scanFollowUp(row) })
	if err != nil {
		return nil, dbError("list follow-ups", err)
	}
	return out, nil
}

// FollowUp returns one follow-up; ErrNotFound when unknown.
func (s *Store) FollowUp(ctx context.Context, id int64) (FollowUp, error) {
	fu, err := scanFollowUp(s.pool.QueryRow(ctx, `SELECT `+followUpColumns+` FROM followups WHERE id = $1`, id))
	if err != nil {
		return FollowUp{}, dbError(fmt.Sprintf("follow-up %d", id), err)
	}
	return fu, nil
}

// CloseFollowUp closes a follow-up with the note of who closed it, and
// audits it on its order. Closing again by the same person with the same
// note returns the follow-up unchanged (a retried request); any other
// second close is ErrFollowUpClosed. A blank or overlong note is an
// *order.FieldError.
func (s *Store) CloseFollowUp(ctx context.Context, id int64, by order.Actor, note string, at time.Time) (FollowUp, error) {
	what := fmt.Sprintf("close follow-up %d", id)
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return FollowUp{}, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "note", Reason: "say what was done"})
	case utf8.RuneCountInString(note) > MaxFollowUpNote:
		return FollowUp{}, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "note", Reason: fmt.Sprintf("at most %d characters", MaxFollowUpNote)})
	case by.Subject == "":
		return FollowUp{}, fmt.Errorf("%s: no actor", what)
	}
	at = orNow(at)
	var fu FollowUp
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		var err error
		fu, err = scanFollowUp(tx.QueryRow(ctx, `
			UPDATE followups SET closed_at = $2, closed_by = $3, note = $4
			WHERE id = $1 AND closed_at IS NULL
			RETURNING `+followUpColumns, id, at, by.Subject, note))
		if errors.Is(err, pgx.ErrNoRows) {
			fu, err = scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM followups WHERE id = $1`, id))
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("%s: %w", what, ErrNotFound)
			case err != nil:
				return dbError(what, err)
			case fu.ClosedBy == by.Subject && fu.Note == note:
				return nil
			default:
				return fmt.Errorf("%s: closed by %s at %s: %w", what, fu.ClosedBy, fu.ClosedAt.Format(time.RFC3339), ErrFollowUpClosed)
			}
		}
		if err != nil {
			return dbError(what, err)
		}
		return appendAudit(ctx, tx, AuditEntry{OrderID: fu.OrderID, At: at, Actor: by, Action: "followup.closed",
			Reason: fmt.Sprintf("%s follow-up %d: %s", fu.Kind, fu.ID, note)})
	})
	if err != nil {
		return FollowUp{}, err
	}
	return fu, nil
}

const followUpColumns = `id, kind, order_id, customer_id, shipment_id, score, comment, owner, opened_at,
	closed_at, closed_by, note`

func scanFollowUp(row pgx.Row) (FollowUp, error) {
	var fu FollowUp
	var score *int16
	err := row.Scan(&fu.ID, &fu.Kind, &fu.OrderID, &fu.CustomerID, &fu.ShipmentID, &score, &fu.Comment, &fu.Owner,
		&fu.OpenedAt, &fu.ClosedAt, &fu.ClosedBy, &fu.Note)
	if score != nil {
		v := int(*score)
		fu.Score = &v
	}
	fu.OpenedAt = fu.OpenedAt.UTC()
	if fu.ClosedAt != nil {
		t := fu.ClosedAt.UTC()
		fu.ClosedAt = &t
	}
	return fu, err
}
