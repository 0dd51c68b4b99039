package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rep is a sales rep's record: who they are and the discount, in basis
// points, they may grant without a sales manager.
type Rep struct {
	Subject             string    `json:"subject"`
	Name                string    `json:"name"`
	Email               string    `json:"email"`
	DiscountAuthorityBP int64     `json:"discount_authority_bp"`
	UpdatedAt           time.Time `json:"updated_at"`
	UpdatedBy           string    `json:"updated_by"`
}

// UpsertRep writes a rep's record.
func (s *Store) UpsertRep(ctx context.Context, r Rep) (Rep, error) {
	what := fmt.Sprintf("upsert rep %q", r.Subject)
	if r.DiscountAuthorityBP < 0 || r.DiscountAuthorityBP > 10000 {
		return Rep{}, fmt.Errorf("%s: discount authority %d bp is not 0 to 10000", what, r.DiscountAuthorityBP)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO sales_reps (subject, name, email, discount_authority_bp, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (subject) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
			discount_authority_bp = EXCLUDED.discount_authority_bp,
			updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		r.Subject, r.Name, r.Email, r.DiscountAuthorityBP, r.UpdatedAt, r.UpdatedBy)
	if err != nil {
		return Rep{}, dbError(what, err)
	}
	return s.Rep(ctx, r.Subject)
}

// Rep reads a rep's record; ErrNotFound when they have none.
func (s *Store) Rep(ctx context.Context, subject string) (Rep, error) {
	r, err := scanRep(s.pool.QueryRow(ctx, repSelect+` WHERE subject = $1`, subject))
	if err != nil {
		return Rep{}, dbError(fmt.Sprintf("rep %q", subject), err)
	}
	return r, nil
}

// Reps lists every rep's record by subject.
func (s *Store) Reps(ctx context.Context) ([]Rep, error) {
	rows, err := s.pool.Query(ctx, repSelect+` ORDER BY subject`)
	if err != nil {
		return nil, dbError("reps", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rep, error) { return scanRep(row) })
	if err != nil {
		return nil, dbError("reps", err)
	}
	return out, nil
}

const repSelect = `SELECT subject, name, email, discount_authority_bp, updated_at, updated_by FROM sales_reps`

func scanRep(row pgx.Row) (Rep, error) {
	var r Rep
	err := row.Scan(&r.Subject, &r.Name, &r.Email, &r.DiscountAuthorityBP, &r.UpdatedAt, &r.UpdatedBy)
	r.UpdatedAt = r.UpdatedAt.UTC()
	return r, err
}
