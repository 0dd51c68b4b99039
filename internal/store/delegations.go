package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// Delegation hands an approver's decisions (From) to a colleague (To) from
// StartsAt until EndsAt: the approver is out of office.
type Delegation struct {
	ID        string      `json:"id"`
	From      order.Actor `json:"from"`
	To        string      `json:"to"`
	StartsAt  time.Time   `json:"starts_at"`
	EndsAt    time.Time   `json:"ends_at"`
	Reason    string      `json:"reason"`
	CreatedAt time.Time   `json:"created_at"`
	RevokedAt *time.Time  `json:"revoked_at,omitempty"`
}

// InForce reports whether the delegation lets its delegate decide at t.
func (d Delegation) InForce(t time.Time) bool {
	return d.RevokedAt == nil && !t.Before(d.StartsAt) && t.Before(d.EndsAt)
}

// CreateDelegation stores a new delegation. The same id again with the
// same approver, colleague, end and reason changes nothing and answers
// the stored one (a retried request); with others it is ErrDuplicate.
func (s *Store) CreateDelegation(ctx context.Context, d Delegation) (Delegation, error) {
	what := fmt.Sprintf("create delegation %q", d.ID)
	if d.ID == "" || d.From.Subject == "" || d.To == "" {
		return Delegation{}, fmt.Errorf("%s: id, from and to are required", what)
	}
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO approval_delegations (id, from_subject, from_role, from_customer, to_subject,
				starts_at, ends_at, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO NOTHING`,
			d.ID, d.From.Subject, d.From.Role, d.From.CustomerID, d.To, d.StartsAt, d.EndsAt, d.Reason, d.CreatedAt)
		if err != nil {
			return dbError(what, err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		stored, err := scanDelegation(tx.QueryRow(ctx, delegationSelect+` WHERE id = $1`, d.ID))
		if err != nil {
			return dbError(what+": read the stored one", err)
		}
		// A retry may default its start to a later now: who, to whom,
		// until when and why make it the same delegation.
		if stored.From != d.From || stored.To != d.To || !stored.EndsAt.Equal(d.EndsAt) || stored.Reason != d.Reason {
			return fmt.Errorf("%s: %w", what, ErrDuplicate)
		}
		d = stored
		return nil
	})
	if err != nil {
		return Delegation{}, err
	}
	return s.Delegation(ctx, d.ID)
}

// Delegation reads one delegation; ErrNotFound when there is none.
func (s *Store) Delegation(ctx context.Context, id string) (Delegation, error) {
	d, err := scanDelegation(s.pool.QueryRow(ctx, delegationSelect+` WHERE id = $1`, id))
	if err != nil {
		return Delegation{}, dbError(fmt.Sprintf("delegation %q", id), err)
	}
	return d, nil
}

// Delegations lists the delegations subject gave or was given, newest
// first.
func (s *Store) Delegations(ctx context.Context, subject string) ([]Delegation, error) {
	return s.delegations(ctx, fmt.Sprintf("delegations of %q", subject),
		delegationSelect+` WHERE from_subject = $1 OR to_subject = $1 ORDER BY created_at DESC, id DESC LIMIT 500`, subject)
}

// DelegationsTo lists the delegations in force at t that let subject
// decide for someone else, oldest first.
func (s *Store) DelegationsTo(ctx context.Context, subject string, t time.Time) ([]Delegation, error) {
	return s.delegations(ctx, fmt.Sprintf("delegations to %q", subject),
		delegationSelect+` WHERE to_subject = $1 AND revoked_at IS NULL AND starts_at <= $2 AND ends_at > $2
			ORDER BY starts_at, id`, subject, t)
}

// RevokeDelegation ends a delegation its approver (by) gave; revoking it
// again changes nothing. ErrNotFound when by gave no such delegation.
func (s *Store) RevokeDelegation(ctx context.Context, id, by string, at time.Time) (Delegation, error) {
	what := fmt.Sprintf("revoke delegation %q", id)
	tag, err := s.pool.Exec(ctx, `
		UPDATE approval_delegations SET revoked_at = COALESCE(revoked_at, $3)
		WHERE id = $1 AND from_subject = $2`, id, by, at)
	if err != nil {
		return Delegation{}, dbError(what, err)
	}
	if tag.RowsAffected() == 0 {
		return Delegation{}, fmt.Errorf("%s by %q: %w", what, by, ErrNotFound)
	}
	return s.Delegation(ctx, id)
}

const delegationSelect = `
	SELECT id, from_subject, from_role, from_customer, to_subject, starts_at, ends_at, reason, created_at, revoked_at
	FROM approval_delegations`

func (s *Store) delegations(ctx context.Context, what, query string, args ...any) ([]Delegation, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError(what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delegation, error) { return scanDelegation(row) })
	if err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}

func scanDelegation(row pgx.Row) (Delegation, error) {
	var d Delegation
	var role string
	err := row.Scan(&d.ID, &d.From.Subject, &role, &d.From.CustomerID, &d.To, &d.StartsAt, &d.EndsAt, &d.Reason, &d.CreatedAt, &d.RevokedAt)
	d.From.Role = order.Role(role)
	d.StartsAt, d.EndsAt, d.CreatedAt = d.StartsAt.UTC(), d.EndsAt.UTC(), d.CreatedAt.UTC()
	if d.RevokedAt != nil {
		r := d.RevokedAt.UTC()
		d.RevokedAt = &r
	}
	return d, err
}
