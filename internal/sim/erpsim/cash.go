package erpsim

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
)

// PostBankPayment is the ERP's cash application: it imports one line of the
// bank's statement (a payment with its remittance reference) and applies it
// to the open invoice whose number is the reference, up to what is still
// open on it, taking that off the customer's receivables; what it pays
// beyond that is kept as the customer's credit balance. A line that names
// no open invoice in its currency is kept unapplied (applied 0). Importing
// the same line again changes nothing. The bank simulator calls it for
// every payment it books; orderflow's own matching is separate, as in a
// real ERP.
func (s *Sim) PostBankPayment(ctx context.Context, bankTxnID, reference string, amount money.Money) (applied money.Money, err error) {
	applied = money.Zero(amount.Currency)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var invoiceID, customerID *string
		var open int64
		err := tx.QueryRow(ctx, `
			SELECT id, customer_id, amount_minor - paid_minor - credit_applied_minor - written_off_minor - allocated_minor
			FROM erpsim_invoices
			WHERE number = $1 AND currency = $2 AND status = 'open'
			FOR UPDATE`, reference, amount.Currency).Scan(&invoiceID, &customerID, &open)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("find invoice %q: %w", reference, err)
		}
		applied.Minor = min(max(open, 0), amount.Minor)
		tag, err := tx.Exec(ctx, `
			INSERT INTO erpsim_bank_postings (bank_transaction_id, invoice_id, customer_id, amount_minor, currency,
				applied_minor, posted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (bank_transaction_id) DO NOTHING`,
			bankTxnID, invoiceID, customerID, amount.Minor, amount.Currency, applied.Minor, s.now())
		if err != nil {
			return fmt.Errorf("record posting %s: %w", bankTxnID, err)
		}
		if tag.RowsAffected() == 0 { // imported before
			applied.Minor = 0
			return nil
		}
		if customerID == nil {
			return nil // names no open invoice: unapplied
		}
		if _, err := tx.Exec(ctx, `UPDATE erpsim_invoices SET paid_minor = paid_minor + $2 WHERE id = $1`,
			*invoiceID, applied.Minor); err != nil {
			return fmt.Errorf("apply %s to invoice %s: %w", applied, reference, err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE erpsim_receivables SET open_minor = open_minor - $3
			WHERE customer_id = $1 AND currency = $2`, *customerID, amount.Currency, applied.Minor); err != nil {
			return fmt.Errorf("take %s off receivables of %s: %w", applied, *customerID, err)
		}
		// An overpayment: the rest is the customer's. Balances are locked
		// after receivables, everywhere.
		return addCreditBalance(ctx, tx, *customerID, amount.Currency, amount.Minor-applied.Minor)
	})
	if err != nil {
		return money.Money{}, fmt.Errorf("erpsim: post bank payment %s: %w", bankTxnID, err)
	}
	return applied, nil
}
