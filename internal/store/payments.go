package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// RecordPayment stores an incoming bank payment once per bank transaction id.
// A redelivery returns the stored payment (with any match made since) and
// fresh=false. A zero ReceivedAt is now.
func (s *Store) RecordPayment(ctx context.Context, p Payment) (stored Payment, fresh bool, err error) {
	what := fmt.Sprintf("record payment %q", p.BankTransactionID)
	switch {
	case p.BankTransactionID == "":
		return Payment{}, false, fmt.Errorf("%s: no bank transaction id", what)
	case !money.ValidCurrency(p.Amount.Currency):
		return Payment{}, false, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "currency", Reason: fmt.Sprintf("%q is not an ISO 4217 code", p.Amount.Currency)})
	}
	var kind *string
	if p.MatchKind != "" {
		k := string(p.MatchKind)
		kind = &k
	}
	stored, err = scanPayment(s.pool.QueryRow(ctx, `
		INSERT INTO payments (bank_transaction_id, amount_minor, currency, reference, received_at,
			order_id, invoice_number, match_kind, allocated_by, payer, payer_account)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (bank_transaction_id) DO NOTHING
		RETURNING `+paymentColumns,
		p.BankTransactionID, p.Amount.Minor, p.Amount.Currency, p.Reference, orNow(p.ReceivedAt),
		nullIfEmpty(p.OrderID), p.InvoiceNumber, kind, p.AllocatedBy, p.Payer, p.PayerAccount))
	if err == nil {
		return stored, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, false, dbError(what, err)
	}
	stored, err = s.Payment(ctx, p.BankTransactionID)
	if err != nil {
		return Payment{}, false, fmt.Errorf("%s: read the stored payment: %w", what, err)
	}
	return stored, false, nil
}

// MatchPayment applies a payment to an order's invoice (kind exact, partial
// or overpayment), or marks it unmatched for finance's queue. allocatedBy
// names who decided: the matcher ("orderflow") or a finance user.
//
// A payment that is unapplied or unmatched may be matched; repeating the
// match of an applied payment to the same order and invoice changes nothing.
// Applying it elsewhere is ErrPaymentMatched; an unknown payment is ErrNotFound.
func (s *Store) MatchPayment(ctx context.Context, bankTransactionID, orderID, invoiceNumber string, kind order.MatchKind, allocatedBy string) error {
	what := fmt.Sprintf("match payment %q to invoice %q of order %q", bankTransactionID, invoiceNumber, orderID)
	switch kind {
	case order.MatchExact, order.MatchPartial, order.MatchOver:
		if orderID == "" || invoiceNumber == "" {
			return fmt.Errorf("%s: a %s match needs an order and an invoice", what, kind)
		}
	case order.MatchUnmatched:
	default:
		return fmt.Errorf("%s: unknown match kind %q", what, kind)
	}
	if allocatedBy == "" {
		return fmt.Errorf("%s: no allocating actor", what)
	}
	return s.match(ctx, what, bankTransactionID, orderID, invoiceNumber, kind, allocatedBy, nil)
}

// AllocatePayment is MatchPayment done by a person (finance): the match and
// its audit entry land together or not at all. A replay (the same payment to
// the same order and invoice) changes nothing and writes no second entry; a
// payment already applied elsewhere is ErrPaymentMatched, with no entry.
func (s *Store) AllocatePayment(ctx context.Context, bankTransactionID, invoiceNumber string, kind order.MatchKind, audit AuditEntry) error {
	what := fmt.Sprintf("allocate payment %q to invoice %q of order %q", bankTransactionID, invoiceNumber, audit.OrderID)
	switch kind {
	case order.MatchExact, order.MatchPartial, order.MatchOver:
	default:
		return fmt.Errorf("%s: an allocation is an exact, partial or over match, not %q", what, kind)
	}
	if audit.OrderID == "" || invoiceNumber == "" || audit.Actor.Subject == "" {
		return fmt.Errorf("%s: needs an order, an invoice and the allocating actor", what)
	}
	return s.match(ctx, what, bankTransactionID, audit.OrderID, invoiceNumber, kind, audit.Actor.Subject, &audit)
}

// match marks a payment matched, and appends audit (if any) in the same
// transaction, unless the same match stands already.
func (s *Store) match(ctx context.Context, what, bankTransactionID, orderID, invoiceNumber string, kind order.MatchKind, allocatedBy string, audit *AuditEntry) error {
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		var storedOrder, storedInvoice, storedKind string
		err := tx.QueryRow(ctx, `
			SELECT COALESCE(order_id, ''), invoice_number, COALESCE(match_kind, '')
			FROM payments
			WHERE bank_transaction_id = $1
			FOR UPDATE`, bankTransactionID).Scan(&storedOrder, &storedInvoice, &storedKind)
		if err != nil {
			return dbError(what, err)
		}
		if storedKind != "" && storedKind != string(order.MatchUnmatched) {
			if storedOrder == orderID && storedInvoice == invoiceNumber {
				return nil // a replay: the first match stands
			}
			return fmt.Errorf("%s: applied to invoice %q of order %q: %w", what, storedInvoice, storedOrder, ErrPaymentMatched)
		}
		_, err = tx.Exec(ctx, `
			UPDATE payments SET order_id = $2, invoice_number = $3, match_kind = $4,
				allocated_by = $5, updated_at = now()
			WHERE bank_transaction_id = $1`,
			bankTransactionID, nullIfEmpty(orderID), invoiceNumber, kind, allocatedBy)
		if err != nil {
			return dbError(what, err)
		}
		if audit != nil {
			return appendAudit(ctx, tx, *audit)
		}
		return nil
	})
}

// Payment returns one payment; ErrNotFound when unknown.
func (s *Store) Payment(ctx context.Context, bankTransactionID string) (Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `
		SELECT `+paymentColumns+`
		FROM payments
		WHERE bank_transaction_id = $1`, bankTransactionID))
	if err != nil {
		return Payment{}, dbError(fmt.Sprintf("payment %q", bankTransactionID), err)
	}
	return p, nil
}

// UnmatchedPayments is finance's queue: payments not applied to an invoice
// (never matched, or marked unmatched), oldest first. UnmatchedPaymentsPage
// reads it a page at a time.
func (s *Store) UnmatchedPayments(ctx context.Context) ([]Payment, error) {
	return s.unmatchedPayments(ctx, nil, nil)
}

// paymentKey is where a page of unmatched payments starts after.
type paymentKey struct {
	receivedAt time.Time
	id         string
}

// unmatchedPayments reads the queue after a key (nil: from the start), at
// most limit rows (nil: all of them; LIMIT NULL is no limit).
func (s *Store) unmatchedPayments(ctx context.Context, after *paymentKey, limit *int) ([]Payment, error) {
	args := pgx.NamedArgs{"limit": limit}
	query := `
		SELECT ` + paymentColumns + unmatchedPaymentsFrom
	if after != nil {
		query += ` AND (received_at, bank_transaction_id) > (@after_received, @after_id)`
		args["after_received"], args["after_id"] = after.receivedAt, after.id
	}
	query += ` ORDER BY received_at, bank_transaction_id LIMIT @limit`
	rows, err := s.pool.Query(ctx, query, args)
	if err != nil {
		return nil, dbError("unmatched payments", err)
	}
	payments, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Payment, error) { return scanPayment(row) })
	if err != nil {
		return nil, dbError("unmatched payments", err)
	}
	return payments, nil
}

// paymentColumns are the columns every payment query selects, in
// scanPayment's order.
const paymentColumns = `bank_transaction_id, amount_minor, currency, reference, received_at,
	order_id, invoice_number, match_kind, allocated_by, payer, payer_account,
	match_rule, match_confidence, match_evidence, candidates, match_parts`

// scanPayment reads paymentColumns.
func scanPayment(row pgx.Row) (Payment, error) {
	var p Payment
	var orderID, kind *string
	err := row.Scan(&p.BankTransactionID, &p.Amount.Minor, &p.Amount.Currency, &p.Reference,
		&p.ReceivedAt, &orderID, &p.InvoiceNumber, &kind, &p.AllocatedBy, &p.Payer, &p.PayerAccount,
		&p.MatchRule, &p.MatchConfidence, &p.MatchEvidence, &p.Candidates, &p.MatchParts)
	if len(p.MatchEvidence) == 0 {
		p.MatchEvidence = nil
	}
	if len(p.Candidates) == 0 {
		p.Candidates = nil
	}
	if len(p.MatchParts) == 0 {
		p.MatchParts = nil
	}
	if orderID != nil {
		p.OrderID = *orderID
	}
	if kind != nil {
		p.MatchKind = order.MatchKind(*kind)
	}
	p.ReceivedAt = p.ReceivedAt.UTC()
	return p, err
}

// CurrencyTraded reports whether orderflow trades in currency: some
// customer's terms are in it, or some invoice is. Invoices count because a
// customer's terms may move to another currency while an invoice in the old
// one is still open, and its payment must still land.
func (s *Store) CurrencyTraded(ctx context.Context, currency string) (bool, error) {
	var traded bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM customers WHERE currency = $1)
			OR EXISTS (SELECT 1 FROM invoices WHERE currency = $1)`, currency).Scan(&traded)
	if err != nil {
		return false, dbError(fmt.Sprintf("is %q traded", currency), err)
	}
	return traded, nil
}
