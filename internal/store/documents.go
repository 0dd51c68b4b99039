package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/document"
)

// DocumentTokenBytes is the size of a document token's secret: 128 bits,
// 22 characters of URL-safe base64.
const DocumentTokenBytes = 16

// Document is an issued invoice or credit note as stored: the snapshot and
// the token of its link.
type Document struct {
	// Token is the secret of the buyer's link, /documents/{token}.
	Token      string            `json:"-"`
	OrderID    string            `json:"order_id"`
	CustomerID string            `json:"customer_id"`
	Kind       document.Kind     `json:"kind"`
	Number     string            `json:"number"`
	IssuedAt   time.Time         `json:"issued_at"`
	Body       document.Document `json:"-"`
	CreatedAt  time.Time         `json:"created_at"`
}

// newDocumentToken is a fresh random token.
func newDocumentToken() (string, error) {
	b := make([]byte, DocumentTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make document token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SaveDocument stores an issued document under a new random token and
// returns what is stored. An issued document is immutable: when the order
// holds a document of the same kind and number already, that one is
// returned, token and body unchanged, so a retried mail activity links the
// same document.
func (s *Store) SaveDocument(ctx context.Context, orderID, customerID string, d document.Document) (Document, error) {
	what := fmt.Sprintf("save %s %q of order %q", d.Kind, d.Number, orderID)
	switch {
	case orderID == "":
		return Document{}, fmt.Errorf("%s: no order id", what)
	case !d.Kind.Valid() || d.Number == "" || d.IssueDate.IsZero():
		return Document{}, fmt.Errorf("%s: kind, number and issue date are required", what)
	}
	body, err := json.Marshal(d)
	if err != nil {
		return Document{}, fmt.Errorf("%s: %w", what, err)
	}
	token, err := newDocumentToken()
	if err != nil {
		return Document{}, err
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO documents (token, order_id, customer_id, kind, number, issued_at, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (order_id, kind, number) DO NOTHING`,
		token, orderID, customerID, string(d.Kind), d.Number, d.IssueDate, body)
	if err != nil {
		return Document{}, dbError(what, err)
	}
	doc, err := s.DocumentByNumber(ctx, orderID, d.Kind, d.Number)
	if err != nil {
		return Document{}, fmt.Errorf("%s: read back: %w", what, err)
	}
	return doc, nil
}

// documentColumns are the columns scanDocument reads, in its order.
const documentColumns = `token, order_id, customer_id, kind, number, issued_at, body, created_at`

// DocumentByToken returns the document a link points to; ErrNotFound for
// an unknown token.
func (s *Store) DocumentByToken(ctx context.Context, token string) (Document, error) {
	d, err := scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE token = $1`, token))
	if err != nil {
		return Document{}, dbError("document by token", err)
	}
	return d, nil
}

// DocumentByNumber returns the order's document of a kind and number;
// ErrNotFound when it was never stored.
func (s *Store) DocumentByNumber(ctx context.Context, orderID string, kind document.Kind, number string) (Document, error) {
	d, err := scanDocument(s.pool.QueryRow(ctx, `
		SELECT `+documentColumns+` FROM documents
		WHERE order_id = $1 AND kind = $2 AND number = $3`, orderID, string(kind), number))
	if err != nil {
		return Document{}, dbError(fmt.Sprintf("%s %q of order %q", kind, number, orderID), err)
	}
	return d, nil
}

// Documents lists an order's documents in the order they were issued.
func (s *Store) Documents(ctx context.Context, orderID string) ([]Document, error) {
	what := fmt.Sprintf("documents of order %q", orderID)
	rows, err := s.pool.Query(ctx, `
		SELECT `+documentColumns+` FROM documents
		WHERE order_id = $1
		ORDER BY issued_at, id`, orderID)
	if err != nil {
		return nil, dbError(what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Document, error) { return scanDocument(r) })
	if err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}

func scanDocument(row pgx.Row) (Document, error) {
	var d Document
	var kind string
	var body []byte
	if err := row.Scan(&d.Token, &d.OrderID, &d.CustomerID, &kind, &d.Number, &d.IssuedAt, &body, &d.CreatedAt); err != nil {
		return Document{}, err
	}
	d.Kind = document.Kind(kind)
	d.IssuedAt, d.CreatedAt = d.IssuedAt.UTC(), d.CreatedAt.UTC()
	if err := json.Unmarshal(body, &d.Body); err != nil {
		return Document{}, fmt.Errorf("decode the body of %s %q: %w", kind, d.Number, err)
	}
	return d, nil
}
