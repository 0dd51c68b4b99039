package store

import (
	"context"
	"fmt"
	"time"
)

// RevokeToken puts a token id on the revocation list; revoking it again
// keeps the first entry. expires (zero when unknown) is when the token
// would have expired anyway.
func (s *Store) RevokeToken(ctx context.Context, tokenID, by, reason string, at, expires time.Time) error {
	if tokenID == "" || by == "" || reason == "" {
		return fmt.Errorf("revoke token: id, who and why are required")
	}
	var exp *time.Time
	if !expires.IsZero() {
		exp = &expires
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO revoked_tokens (token_id, revoked_at, revoked_by, reason, expires_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING`, tokenID, at, by, reason, exp)
	if err != nil {
		return dbError(fmt.Sprintf("revoke token %q", tokenID), err)
	}
	return nil
}

// TokenRevoked reports whether a token id is on the revocation list.
func (s *Store) TokenRevoked(ctx context.Context, tokenID string) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1)`, tokenID).Scan(&revoked)
	if err != nil {
		return false, dbError(fmt.Sprintf("is token %q revoked", tokenID), err)
	}
	return revoked, nil
}
