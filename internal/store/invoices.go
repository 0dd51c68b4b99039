package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// SaveInvoice stores the ERP invoice of an order and puts its number on the
// order's projection row, in one transaction. Saving the same invoice id again
// changes nothing; an invoice id stored for another order or number, or a
// number already used by another invoice, is ErrDuplicate.
func (s *Store) SaveInvoice(ctx context.Context, orderID string, inv order.Invoice) error {
	what := fmt.Sprintf("save invoice %q of order %q", inv.Number, orderID)
	switch {
	case orderID == "":
		return fmt.Errorf("%s: no order id", what)
	case inv.InvoiceID == "" || inv.Number == "":
		return fmt.Errorf("%s: invoice id and number are required", what)
	}
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO invoices (invoice_id, order_id, number, amount_minor, currency, issued_at, due_date)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (invoice_id) DO NOTHING`,
			inv.InvoiceID, orderID, inv.Number, inv.Amount.Minor, inv.Amount.Currency, inv.IssuedAt, inv.DueDate)
		if err != nil {
			return dbError(what, err)
		}
		if tag.RowsAffected() == 0 {
			var storedOrder, storedNumber string
			err := tx.QueryRow(ctx, `
				SELECT order_id, number
				FROM invoices
				WHERE invoice_id = $1`, inv.InvoiceID).Scan(&storedOrder, &storedNumber)
			if err != nil {
				return dbError(what+": read stored invoice", err)
			}
			if storedOrder != orderID || storedNumber != inv.Number {
				return fmt.Errorf("%s: invoice id %q is stored as %q of order %q: %w",
					what, inv.InvoiceID, storedNumber, storedOrder, ErrDuplicate)
			}
		}
		// The projection may not exist yet (its row comes with the order's
		// first transition); that transition then carries the number.
		_, err = tx.Exec(ctx, `
			UPDATE orders SET invoice_number = $2, updated_at = now()
			WHERE id = $1 AND invoice_number <> $2`, orderID, inv.Number)
		if err != nil {
			return dbError(what+": set the order's invoice number", err)
		}
		return nil
	})
}

// InvoiceByNumber finds an invoice by its number, as payment references carry
// it; ErrNotFound when no invoice has that number.
func (s *Store) InvoiceByNumber(ctx context.Context, number string) (orderID string, inv order.Invoice, err error) {
	return s.invoiceWhere(ctx, fmt.Sprintf("invoice number %q", number), `number = $1`, number)
}

// InvoiceByReferenceBody finds the invoice whose number, without
// anything but its letters and digits and upper-cased
// (order.ReferenceBody), is body: the invoice a creditor reference (RF…)
// names. ErrNotFound when none does.
func (s *Store) InvoiceByReferenceBody(ctx context.Context, body string) (orderID string, inv order.Invoice, err error) {
	return s.invoiceWhere(ctx, fmt.Sprintf("invoice of reference body %q", body),
		`upper(regexp_replace(number, '[^A-Za-z0-9]', '', 'g')) = $1`, body)
}

// invoiceWhere is the one invoice the condition (on $1) selects.
func (s *Store) invoiceWhere(ctx context.Context, what, cond string, arg string) (orderID string, inv order.Invoice, err error) {
	var amount int64
	var currency string
	err = s.pool.QueryRow(ctx, `
		SELECT order_id, invoice_id, number, amount_minor, currency, issued_at, due_date
		FROM invoices
		WHERE `+cond+`
		ORDER BY issued_at, number
		LIMIT 1`, arg).Scan(
		&orderID, &inv.InvoiceID, &inv.Number, &amount, &currency, &inv.IssuedAt, &inv.DueDate)
	if err != nil {
		return "", order.Invoice{}, dbError(what, err)
	}
	inv.Amount = money.New(amount, currency)
	inv.IssuedAt, inv.DueDate = inv.IssuedAt.UTC(), inv.DueDate.UTC()
	return orderID, inv, nil
}

// OrderInvoices returns an order's invoices, oldest first, as the
// projection holds them: what the ERP issued, and what the order last
// recorded as open on each (Open nil until it has).
func (s *Store) OrderInvoices(ctx context.Context, orderID string) ([]InvoiceState, error) {
	what := fmt.Sprintf("invoices of order %q", orderID)
	rows, err := s.pool.Query(ctx, `
		SELECT number, amount_minor, currency, issued_at, due_date, open_minor, disputed
		FROM invoices
		WHERE order_id = $1
		ORDER BY issued_at, number`, orderID)
	if err != nil {
		return nil, dbError(what, err)
	}
	defer rows.Close()
	var out []InvoiceState
	for rows.Next() {
		var inv InvoiceState
		var amount int64
		var open *int64
		if err := rows.Scan(&inv.Number, &amount, &inv.Amount.Currency, &inv.IssuedAt, &inv.DueDate, &open, &inv.Disputed); err != nil {
			return nil, dbError(what, err)
		}
		inv.Amount = money.New(amount, inv.Amount.Currency)
		inv.IssuedAt, inv.DueDate = inv.IssuedAt.UTC(), inv.DueDate.UTC()
		if open != nil {
			o := money.New(*open, inv.Amount.Currency)
			inv.Open = &o
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(what, err)
	}
	return out, nil
}
