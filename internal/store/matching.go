package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/matching"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// Bounds of what InvoicesForMatching reads: the oldest due open invoices
// of a currency, and the most recently paid ones.
const (
	MatchingOpenLimit = 5000
	MatchingPaidLimit = 1000
)

// MatchingInvoice is an invoice the matcher may choose, with its order.
type MatchingInvoice struct {
	OrderID string
	matching.Invoice
}

// InvoicesForMatching reads the invoices a payment in currency may pay:
// the open ones (of orders not cancelled), oldest due first, at most
// MatchingOpenLimit; and those paid since paidSince, at most
// MatchingPaidLimit, so that a reference naming a paid invoice is
// recognised. Each carries its customer, the customer's name and the
// accounts on file for the customer. An open amount is what the order
// last recorded, less the payments the matcher applied to it that the
// order has not recorded yet.
func (s *Store) InvoicesForMatching(ctx context.Context, currency string, paidSince time.Time) ([]MatchingInvoice, error) {
	const what = "invoices for matching"
	rows, err := s.pool.Query(ctx, `
		WITH inv AS (
			(SELECT i.number, i.order_id, COALESCE(NULLIF(i.customer_id, ''), o.customer_id, '') AS customer_id,
				COALESCE(i.open_minor, i.amount_minor) - COALESCE((
					SELECT sum(p.amount_minor) FROM payments p
					WHERE p.order_id = i.order_id AND p.invoice_number = i.number
					  AND p.match_kind IS NULL AND p.match_rule <> ''), 0) AS open_minor,
				i.issued_at, i.due_date
			FROM invoices i LEFT JOIN orders o ON o.id = i.order_id
			WHERE i.currency = @currency AND (i.open_minor IS NULL OR i.open_minor > 0)
			  AND o.status IS DISTINCT FROM 'CANCELLED'
			ORDER BY i.due_date, i.number
			LIMIT @open_limit)
			UNION ALL
			(SELECT i.number, i.order_id, COALESCE(NULLIF(i.customer_id, ''), o.customer_id, ''),
				i.open_minor, i.issued_at, i.due_date
			FROM invoices i LEFT JOIN orders o ON o.id = i.order_id
			WHERE i.currency = @currency AND i.open_minor <= 0
			  AND COALESCE(i.settled_at, i.issued_at) >= @since
			ORDER BY COALESCE(i.settled_at, i.issued_at) DESC, i.number
			LIMIT @paid_limit)
		)
		SELECT inv.number, inv.order_id, inv.customer_id, COALESCE(c.name, ''), inv.open_minor,
			inv.issued_at, inv.due_date,
			ARRAY(SELECT a.account FROM customer_payer_accounts a WHERE a.customer_id = inv.customer_id ORDER BY a.account)
		FROM inv LEFT JOIN customers c ON c.id = inv.customer_id
		ORDER BY inv.number`,
		pgx.NamedArgs{"currency": currency, "since": paidSince, "open_limit": MatchingOpenLimit, "paid_limit": MatchingPaidLimit})
	if err != nil {
		return nil, dbError(what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MatchingInvoice, error) {
		var m MatchingInvoice
		var open int64
		err := row.Scan(&m.Number, &m.OrderID, &m.CustomerID, &m.CustomerName, &open, &m.IssuedAt, &m.DueDate, &m.PayerAccounts)
		m.Open = money.New(open, currency)
		m.IssuedAt, m.DueDate = m.IssuedAt.UTC(), m.DueDate.UTC()
		m.CreditorRef = order.CreditorReferenceOf(m.Number)
		return m, err
	})
	if err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}

// PaymentDecision is what the matcher decided for a payment: applied in
// Parts (with Confidence), or left for finance with Candidates.
type PaymentDecision struct {
	BankTransactionID string
	Rule              string
	Confidence        float64
	Evidence          []string
	// Parts: one with the payment's own id, or one per invoice of a split,
	// each with its own id.
	Parts      []PaymentPart
	Candidates []matching.Candidate
	// Audit is written with a decision that applies the payment.
	Audit []AuditEntry
}

// DecidePayment records the matcher's decision on a payment not applied
// yet, with its audit entries, in one transaction.
//
// A decision with Parts applies the payment: it is marked with the order
// and invoice (one part under the payment's own id), or split (a payment
// per part, stored under the part's id, match kind MatchSplit on the
// payment); the order then records the match as for any payment. Once
// a payment is applied, or applied by the matcher, another decision
// changes nothing and writes no audit entry: applied is false. A
// decision without Parts stores the rule, evidence and candidates for
// finance, replacing the ones stored before.
func (s *Store) DecidePayment(ctx context.Context, d PaymentDecision) (applied bool, err error) {
	what := fmt.Sprintf("record the match of payment %q", d.BankTransactionID)
	if d.Rule == "" {
		return false, fmt.Errorf("%s: no rule", what)
	}
	for _, p := range d.Parts {
		if p.BankTransactionID == "" || p.OrderID == "" || p.InvoiceNumber == "" {
			return false, fmt.Errorf("%s: a part needs an id, an order and an invoice", what)
		}
	}
	split := len(d.Parts) > 1 || (len(d.Parts) == 1 && d.Parts[0].BankTransactionID != d.BankTransactionID)
	evidence, err := jsonArray(d.Evidence)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	candidates, err := jsonArray(d.Candidates)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	parts, err := jsonArray(d.Parts)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	err = s.inTx(ctx, what, func(tx pgx.Tx) error {
		stored, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+`
			FROM payments WHERE bank_transaction_id = $1 FOR UPDATE`, d.BankTransactionID))
		if err != nil {
			return dbError(what, err)
		}
		if stored.OrderID != "" || (stored.MatchKind != "" && stored.MatchKind != order.MatchUnmatched) {
			return nil // applied, or applied by the matcher before
		}
		if len(d.Parts) == 0 {
			_, err := tx.Exec(ctx, `
				UPDATE payments SET match_rule = $2, match_confidence = NULL, match_evidence = $3,
					candidates = $4, updated_at = now()
				WHERE bank_transaction_id = $1`, d.BankTransactionID, d.Rule, evidence, candidates)
			if err != nil {
				return dbError(what, err)
			}
			return nil
		}
		confidence := d.Confidence
		if !split {
			p := d.Parts[0]
			_, err = tx.Exec(ctx, `
				UPDATE payments SET order_id = $2, invoice_number = $3, match_kind = NULL,
					match_rule = $4, match_confidence = $5, match_evidence = $6, candidates = '[]',
					match_parts = $7, updated_at = now()
				WHERE bank_transaction_id = $1`,
				d.BankTransactionID, p.OrderID, p.InvoiceNumber, d.Rule, confidence, evidence, parts)
		} else {
			_, err = tx.Exec(ctx, `
				UPDATE payments SET order_id = NULL, invoice_number = '', match_kind = $2,
					match_rule = $3, match_confidence = $4, match_evidence = $5, candidates = '[]',
					match_parts = $6, updated_at = now()
				WHERE bank_transaction_id = $1`,
				d.BankTransactionID, MatchSplit, d.Rule, confidence, evidence, parts)
		}
		if err != nil {
			return dbError(what, err)
		}
		if split {
			for _, p := range d.Parts {
				_, err := tx.Exec(ctx, `
					INSERT INTO payments (bank_transaction_id, amount_minor, currency, reference, received_at,
						order_id, invoice_number, payer, payer_account, match_rule, match_confidence, match_evidence,
						match_parts)
					VALUES ($1, $2, $3, $4, $5, $6, $4, $7, $8, $9, $10, $11, $12)
					ON CONFLICT (bank_transaction_id) DO NOTHING`,
					p.BankTransactionID, p.Amount.Minor, p.Amount.Currency, p.InvoiceNumber, stored.ReceivedAt,
					p.OrderID, stored.Payer, stored.PayerAccount, d.Rule, confidence, evidence, mustJSONArray([]PaymentPart{p}))
				if err != nil {
					return dbError(what+": part "+p.BankTransactionID, err)
				}
			}
		}
		for _, e := range d.Audit {
			if err := appendAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		applied = true
		return nil
	})
	return applied, err
}

// jsonArray encodes a slice as a JSON array, [] for none.
func jsonArray[T any](v []T) ([]byte, error) {
	if v == nil {
		v = []T{}
	}
	return json.Marshal(v)
}

func mustJSONArray[T any](v []T) []byte {
	b, err := jsonArray(v)
	if err != nil {
		panic(err)
	}
	return b
}

// NormalizeAccount is an account as accounts on file are kept and compared:
// its letters and digits, upper case ("de89 3704-0044" → "DE8937040044").
func NormalizeAccount(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Sources of a payer account on file.
const (
	PayerAccountLearned = "learned"
	PayerAccountAPI     = "api"
	PayerAccountSeed    = "seed"
)

// PayerAccount is an account on file as paying for a customer.
type PayerAccount struct {
	Account           string    `json:"account"`
	Source            string    `json:"source"`
	BankTransactionID string    `json:"bank_transaction_id,omitempty"`
	AddedBy           string    `json:"added_by,omitempty"`
	AddedAt           time.Time `json:"added_at"`
}

// LearnPayerAccount puts account on file for the customer of the order, as
// learned from the payment: once, whatever the repeats. An account with no
// letters or digits, or an unknown order, learns nothing (false).
func (s *Store) LearnPayerAccount(ctx context.Context, orderID, account, bankTransactionID string) (bool, error) {
	acct := NormalizeAccount(account)
	if acct == "" || orderID == "" {
		return false, nil
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO customer_payer_accounts (customer_id, account, source, bank_transaction_id)
		SELECT o.customer_id, $2, 'learned', $3 FROM orders o WHERE o.id = $1 AND o.customer_id <> ''
		ON CONFLICT (customer_id, account) DO NOTHING`, orderID, acct, bankTransactionID)
	if err != nil {
		return false, dbError(fmt.Sprintf("learn payer account of order %q", orderID), err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddPayerAccount puts account on file for the customer (source api or
// seed), with the audit entry (if any) in the same transaction; an
// account on file already stays as it is, with no entry (false). An
// account with no letters or digits is an *order.FieldError.
func (s *Store) AddPayerAccount(ctx context.Context, customerID, account, source, by string, audit *AuditEntry) (bool, error) {
	acct := NormalizeAccount(account)
	if acct == "" {
		return false, &order.FieldError{Field: "account", Reason: "an IBAN or account number: letters and digits"}
	}
	return s.changePayerAccount(ctx, fmt.Sprintf("add payer account of customer %q", customerID), audit, `
		INSERT INTO customer_payer_accounts (customer_id, account, source, added_by)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (customer_id, account) DO NOTHING`, customerID, acct, source, by)
}

// RemovePayerAccount takes account off the customer's file, with the
// audit entry (if any) in the same transaction; false, and no entry, when
// it was not on it.
func (s *Store) RemovePayerAccount(ctx context.Context, customerID, account string, audit *AuditEntry) (bool, error) {
	return s.changePayerAccount(ctx, fmt.Sprintf("remove payer account of customer %q", customerID), audit, `
		DELETE FROM customer_payer_accounts WHERE customer_id = $1 AND account = $2`,
		customerID, NormalizeAccount(account))
}

func (s *Store) changePayerAccount(ctx context.Context, what string, audit *AuditEntry, sql string, args ...any) (changed bool, err error) {
	err = s.inTx(ctx, what, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return dbError(what, err)
		}
		if changed = tag.RowsAffected() == 1; changed && audit != nil {
			return appendAudit(ctx, tx, *audit)
		}
		return nil
	})
	return changed, err
}

// PayerAccounts lists the accounts on file for the customer, by account.
func (s *Store) PayerAccounts(ctx context.Context, customerID string) ([]PayerAccount, error) {
	what := fmt.Sprintf("payer accounts of customer %q", customerID)
	rows, err := s.pool.Query(ctx, `
		SELECT account, source, bank_transaction_id, added_by, added_at
		FROM customer_payer_accounts WHERE customer_id = $1 ORDER BY account`, customerID)
	if err != nil {
		return nil, dbError(what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PayerAccount, error) {
		var a PayerAccount
		err := row.Scan(&a.Account, &a.Source, &a.BankTransactionID, &a.AddedBy, &a.AddedAt)
		a.AddedAt = a.AddedAt.UTC()
		return a, err
	})
	if err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}
