package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// TermsVersion is one change of a customer's terms.
type TermsVersion struct {
	CustomerID    string      `json:"customer_id"`
	Version       int         `json:"version"`
	EffectiveFrom time.Time   `json:"effective_from"`
	Terms         order.Terms `json:"terms"`
	Hash          string      `json:"hash"`
	ChangedBy     string      `json:"changed_by"`
	Reason        string      `json:"reason"`
	CreatedAt     time.Time   `json:"created_at"`
}

// TermsHash is the SHA-256 of the terms' content (not their version,
// dates or contacts), as an order pins it.
func TermsHash(t order.Terms) string {
	t.Version, t.Hash, t.EffectiveFrom, t.Contacts = 0, "", time.Time{}, nil
	b, _ := json.Marshal(t) // maps marshal in key order: the same terms, the same bytes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChangeTerms records a new version of a customer's terms, in force from
// effectiveFrom (now at the latest, for a customer's first terms). A
// version in force now is applied at once; a later one when it comes.
// The version's hash identifies its content: terms the same as the latest
// version's are no change, and that version is answered (a retried
// request records nothing twice).
func (s *Store) ChangeTerms(ctx context.Context, t order.Terms, effectiveFrom time.Time, by, reason string, now time.Time) (TermsVersion, error) {
	what := fmt.Sprintf("change terms of customer %q", t.CustomerID)
	if err := validateTerms(t); err != nil {
		return TermsVersion{}, fmt.Errorf("%s: %w", what, err)
	}
	if by == "" || reason == "" {
		return TermsVersion{}, fmt.Errorf("%s: who and why are required", what)
	}
	t.Contacts = nil
	v := TermsVersion{CustomerID: t.CustomerID, EffectiveFrom: effectiveFrom.UTC(), Hash: TermsHash(t), ChangedBy: by, Reason: reason,
		CreatedAt: now.UTC()}
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		var current int
		err := tx.QueryRow(ctx, `SELECT terms_version FROM customers WHERE id = $1 FOR UPDATE`, t.CustomerID).Scan(&current)
		isNew := errors.Is(err, pgx.ErrNoRows)
		switch {
		case isNew:
			// A new customer: its first terms are in force at once.
			if v.EffectiveFrom.After(v.CreatedAt) {
				v.EffectiveFrom = v.CreatedAt
			}
		case err != nil:
			return dbError(what, err)
		}
		// The same terms as the latest version (a retried request) are no
		// change: that version stands.
		var latest TermsVersion
		var stored []byte
		err = tx.QueryRow(ctx, `
			SELECT version, effective_from, terms, hash, changed_by, reason, created_at
			FROM terms_versions WHERE customer_id = $1 ORDER BY version DESC LIMIT 1`, t.CustomerID).Scan(
			&latest.Version, &latest.EffectiveFrom, &stored, &latest.Hash, &latest.ChangedBy, &latest.Reason, &latest.CreatedAt)
		switch {
		case err == nil && latest.Hash == v.Hash:
			latest.CustomerID = t.CustomerID
			latest.EffectiveFrom, latest.CreatedAt = latest.EffectiveFrom.UTC(), latest.CreatedAt.UTC()
			if err := json.Unmarshal(stored, &latest.Terms); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			v = latest
			return nil
		case err == nil:
			v.Version = latest.Version + 1
		case errors.Is(err, pgx.ErrNoRows):
			v.Version = 1
		default:
			return dbError(what, err)
		}
		t.Version, t.EffectiveFrom, t.Hash = v.Version, v.EffectiveFrom, v.Hash
		v.Terms = t
		if isNew || !v.EffectiveFrom.After(v.CreatedAt) {
			if err := applyTerms(ctx, tx, t); err != nil {
				return err
			}
		}
		body, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO terms_versions (customer_id, version, effective_from, terms, hash, changed_by, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			t.CustomerID, v.Version, v.EffectiveFrom, body, v.Hash, by, reason, v.CreatedAt)
		if err != nil {
			return dbError(what, err)
		}
		return nil
	})
	if err != nil {
		return TermsVersion{}, err
	}
	return v, nil
}

// applyTerms makes t (a version) the customer's terms in force.
func applyTerms(ctx context.Context, tx pgx.Tx, t order.Terms) error {
	if err := writeTerms(ctx, tx, t); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE customers SET terms_version = $2, terms_effective_from = $3 WHERE id = $1`,
		t.CustomerID, t.Version, t.EffectiveFrom)
	if err != nil {
		return dbError(fmt.Sprintf("apply terms version %d of %q", t.Version, t.CustomerID), err)
	}
	return nil
}

// applyDueTerms puts in force the newest version of a customer's terms
// whose time has come, if it is not in force yet.
func (s *Store) applyDueTerms(ctx context.Context, customerID string, now time.Time) error {
	what := fmt.Sprintf("apply due terms of customer %q", customerID)
	var due bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM terms_versions v JOIN customers c ON c.id = v.customer_id
			WHERE v.customer_id = $1 AND v.effective_from <= $2 AND v.version > c.terms_version)`, customerID, now).Scan(&due)
	if err != nil || !due {
		if err != nil {
			return dbError(what, err)
		}
		return nil
	}
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		var body []byte
		err := tx.QueryRow(ctx, `
			SELECT v.terms FROM terms_versions v JOIN customers c ON c.id = v.customer_id
			WHERE v.customer_id = $1 AND v.effective_from <= $2 AND v.version > c.terms_version
			ORDER BY v.version DESC LIMIT 1
			FOR UPDATE OF c`, customerID, now).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // another reader applied it
		}
		if err != nil {
			return dbError(what, err)
		}
		var t order.Terms
		if err := json.Unmarshal(body, &t); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return applyTerms(ctx, tx, t)
	})
}

// TermsVersions lists a customer's terms versions, newest first.
func (s *Store) TermsVersions(ctx context.Context, customerID string) ([]TermsVersion, error) {
	what := fmt.Sprintf("terms versions of customer %q", customerID)
	rows, err := s.pool.Query(ctx, `
		SELECT customer_id, version, effective_from, terms, hash, changed_by, reason, created_at
		FROM terms_versions WHERE customer_id = $1 ORDER BY version DESC`, customerID)
	if err != nil {
		return nil, dbError(what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TermsVersion, error) {
		var v TermsVersion
		var body []byte
		if err := row.Scan(&v.CustomerID, &v.Version, &v.EffectiveFrom, &body, &v.Hash, &v.ChangedBy, &v.Reason, &v.CreatedAt); err != nil {
			return v, err
		}
		v.EffectiveFrom, v.CreatedAt = v.EffectiveFrom.UTC(), v.CreatedAt.UTC()
		return v, json.Unmarshal(body, &v.Terms)
	})
	if err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}
