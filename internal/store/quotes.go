package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// SaveQuote stores one priced revision of an order's quote. Saving the same
// revision again with the same contents changes nothing, so a retried activity
// is harmless; the same revision with other contents is ErrDuplicate, because
// the buyer was sent the first one.
func (s *Store) SaveQuote(ctx context.Context, orderID string, q order.Quote) error {
	what := fmt.Sprintf("save quote revision %d of order %q", q.Revision, orderID)
	if orderID == "" {
		return fmt.Errorf("%s: no order id", what)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", what, err)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO quotes (order_id, revision, body, total_minor, currency, valid_until)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (order_id, revision) DO NOTHING`,
		orderID, q.Revision, string(body), q.Total.Minor, q.Total.Currency, q.ValidUntil)
	if err != nil {
		return dbError(what, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// jsonb equality ignores key order and spacing: only contents count.
	var same bool
	err = s.pool.QueryRow(ctx, `
		SELECT body = $3::jsonb
		FROM quotes
		WHERE order_id = $1 AND revision = $2`,
		orderID, q.Revision, string(body)).Scan(&same)
	if err != nil {
		return dbError(what+": compare with the stored revision", err)
	}
	if !same {
		return fmt.Errorf("%s: the revision is stored with other contents: %w", what, ErrDuplicate)
	}
	return nil
}

// Quotes returns every saved revision of an order's quote, oldest first.
func (s *Store) Quotes(ctx context.Context, orderID string) ([]order.Quote, error) {
	what := fmt.Sprintf("quotes of order %q", orderID)
	rows, err := s.pool.Query(ctx, `
		SELECT body
		FROM quotes
		WHERE order_id = $1
		ORDER BY revision`, orderID)
	if err != nil {
		return nil, dbError(what, err)
	}
	quotes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (order.Quote, error) {
		var body []byte
		if err := row.Scan(&body); err != nil {
			return order.Quote{}, err
		}
		var q order.Quote
		if err := json.Unmarshal(body, &q); err != nil {
			return order.Quote{}, fmt.Errorf("decode stored quote: %w", err)
		}
		return q, nil
	})
	if err != nil {
		return nil, dbError(what, err)
	}
	return quotes, nil
}
