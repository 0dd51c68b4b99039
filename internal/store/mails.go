package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Mail is what one mail of an order said and to whom, kept by its
// idempotency key so CS can have it sent again.
type Mail struct {
	Key        string
	OrderID    string
	CustomerID string
	Kind       string
	Audience   string
	// Data is the mail template's data, as JSON.
	Data json.RawMessage
	// SentAt is when the mail system took the mail; nil until then.
	SentAt *time.Time
}

// SaveMail keeps a mail before it is sent. A mail saved before under the
// same key keeps its first data: a retried send is the same mail.
func (s *Store) SaveMail(ctx context.Context, m Mail) error {
	what := fmt.Sprintf("save mail %q", m.Key)
	switch {
	case m.Key == "" || m.OrderID == "" || m.Kind == "" || m.Audience == "":
		return fmt.Errorf("%s: key, order id, kind and audience are required", what)
	case !json.Valid(m.Data):
		return fmt.Errorf("%s: data is not JSON", what)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO mails (key, order_id, customer_id, kind, audience, data)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO NOTHING`,
		m.Key, m.OrderID, m.CustomerID, m.Kind, m.Audience, []byte(m.Data))
	if err != nil {
		return dbError(what, err)
	}
	return nil
}

// Mail returns the mail kept under key; ErrNotFound when there is none.
func (s *Store) Mail(ctx context.Context, key string) (Mail, error) {
	what := fmt.Sprintf("read mail %q", key)
	var m Mail
	var data []byte
	err := s.pool.QueryRow(ctx, `
		SELECT key, order_id, customer_id, kind, audience, data, sent_at FROM mails WHERE key = $1`, key).
		Scan(&m.Key, &m.OrderID, &m.CustomerID, &m.Kind, &m.Audience, &data, &m.SentAt)
	if err != nil {
		return Mail{}, dbError(what, err)
	}
	m.Data = data
	return m, nil
}

// MarkMailSent records that the mail system took the mail kept under key,
// at the first time it was told so; ErrNotFound when no mail is kept under
// key.
func (s *Store) MarkMailSent(ctx context.Context, key string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mails SET sent_at = COALESCE(sent_at, $2) WHERE key = $1`, key, at)
	if err != nil {
		return dbError(fmt.Sprintf("mark mail %q sent", key), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mark mail %q sent: %w", key, ErrNotFound)
	}
	return nil
}
