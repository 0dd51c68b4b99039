package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// UseLink records that a single-use link was used; ErrDuplicate when it
// was used before.
func (s *Store) UseLink(ctx context.Context, nonce, orderID, purpose string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO used_links (nonce, order_id, purpose, used_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (nonce) DO NOTHING`, nonce, orderID, purpose, at)
	if err != nil {
		return dbError(fmt.Sprintf("use link of order %q", orderID), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("link of order %q: %w", orderID, ErrDuplicate)
	}
	return nil
}

// LinkUsed says when a single-use link was used; zero when it was not.
func (s *Store) LinkUsed(ctx context.Context, nonce string) (time.Time, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT used_at FROM used_links WHERE nonce = $1`, nonce).Scan(&at)
	if err != nil {
		err = dbError("link", err)
		if isNotFound(err) {
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	return at.UTC(), nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
