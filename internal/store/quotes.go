package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// SaveQuote stores one priced revision of an order's quote and returns the
// revision as stored. The first save of a revision wins: saving it again
// returns the stored one, whatever the new contents, so a retried pricing
// activity that priced differently (the ERP's price changed between the
// attempts) answers with the quote the first attempt saved and may already
// have shown, instead of failing the order for good.
func (s *Store) SaveQuote(ctx context.Context, orderID string, q order.Quote) (order.Quote, error) {
	what := fmt.Sprintf("save quote revision %d of order %q", q.Revision, orderID)
	if orderID == "" {
		return order.Quote{}, fmt.Errorf("%s: no order id", what)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return order.Quote{}, fmt.Errorf("%s: encode: %w", what, err)
	}
	var stored order.Quote
	// The no-op update makes RETURNING give the existing row on a conflict.
	err = s.pool.QueryRow(ctx, `
		INSERT INTO quotes (order_id, revision, body, total_minor, currency, valid_until)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (order_id, revision) DO UPDATE SET order_id = quotes.order_id
		RETURNING body`,
		orderID, q.Revision, string(body), q.Total.Minor, q.Total.Currency, q.ValidUntil).Scan(&stored)
	if err != nil {
		return order.Quote{}, dbError(what, err)
	}
	return stored, nil
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
