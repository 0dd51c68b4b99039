package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// CreditCheck asks whether one order fits its customer's credit limit.
type CreditCheck struct {
	OrderID    string
	CustomerID string
	// Amount is the order's total, in the currency of the customer's terms.
	Amount money.Money
	// Receivables are the customer's open receivables in the ERP, read
	// before the check (an HTTP call has no place in the transaction).
	Receivables money.Money
}

// DecideCredit decides one order's credit check: the ERP's open receivables
// plus what this customer's other open orders hold (see the rules below) plus
// this order, against the customer's credit limit. An order within the limit
// gets a credit commitment of its amount, written in the same transaction as
// the decision.
//
// The decision runs under a lock of the customer's row, so the credit checks
// of one customer's orders take turns: each sees the commitments of those
// decided before it. Without the lock, ten orders checked at once would each
// see the others as not yet committed, and all ten would pass.
//
// The other orders count as follows (each by its projection row; an order
// with an invoice number is an open receivable in the ERP and counts there,
// never here):
//   - an order holding a commitment counts while it is in AWAITING_APPROVAL,
//     CREDIT_CHECK, CREDIT_HOLD, CONFIRMED or SHIPPING and not invoiced; its
//     commitment is released when the order is invoiced or ends;
//   - an order without a commitment counts in AWAITING_APPROVAL (accepted,
//     waiting for approvals), CREDIT_HOLD (waiting for finance), CONFIRMED
//     and SHIPPING (passed by a finance override, or checked before
//     commitments existed), at its total;
//   - an order without a commitment in CREDIT_CHECK does not count: its own
//     check is under way, waits for this one, and will count this order's
//     commitment. Counting it here would put concurrent orders on hold for
//     each other.
//
// A retried check of an order that holds a commitment answers the exposure
// it was granted on again (the first decision wins), so a lost answer never
// turns a granted order into a hold while its commitment blocks the credit.
// A retry with another amount or customer is ErrDuplicate. A check over the
// limit writes nothing: a retry decides again.
//
// A limit, receivables or open order in another currency than the order is
// money.ErrCurrencyMismatch; an unknown customer is ErrNotFound.
func (s *Store) DecideCredit(ctx context.Context, c CreditCheck) (order.Exposure, error) {
	what := fmt.Sprintf("decide credit of order %q", c.OrderID)
	switch {
	case c.OrderID == "":
		return order.Exposure{}, fmt.Errorf("%s: no order id", what)
	case c.CustomerID == "":
		return order.Exposure{}, fmt.Errorf("%s: no customer id", what)
	}
	// The credit limit in force: a terms version whose date has come first.
	if err := s.applyDueTerms(ctx, c.CustomerID, s.Now()); err != nil {
		return order.Exposure{}, err
	}
	var e order.Exposure
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		// The lock: a concurrent check of the same customer waits here until
		// this transaction commits its commitment, then sees it. NO KEY
		// UPDATE leaves foreign-key checks against the row alone.
		limit := money.Money{}
		err := tx.QueryRow(ctx, `
			SELECT credit_limit_minor, currency
			FROM customers
			WHERE id = $1
			FOR NO KEY UPDATE`, c.CustomerID).Scan(&limit.Minor, &limit.Currency)
		if err != nil {
			return dbError(fmt.Sprintf("%s: lock customer %q", what, c.CustomerID), err)
		}

		var held struct {
			customerID                    string
			amount, receivables, open, lt money.Money
		}
		err = tx.QueryRow(ctx, `
			SELECT customer_id, currency, amount_minor, receivables_minor, open_orders_minor, limit_minor
			FROM credit_commitments
			WHERE order_id = $1`, c.OrderID).Scan(&held.customerID, &held.amount.Currency,
			&held.amount.Minor, &held.receivables.Minor, &held.open.Minor, &held.lt.Minor)
		switch {
		case err == nil:
			cur := held.amount.Currency
			held.receivables.Currency, held.open.Currency, held.lt.Currency = cur, cur, cur
			if held.customerID != c.CustomerID || held.amount != c.Amount {
				return fmt.Errorf("%s: it holds a commitment of %s for customer %q, checked again for %s of %q: %w",
					what, held.amount, held.customerID, c.Amount, c.CustomerID, ErrDuplicate)
			}
			e, err = order.CheckCredit(held.lt, held.receivables, held.open, held.amount)
			if err != nil {
				return fmt.Errorf("%s: stored commitment: %w", what, err)
			}
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return dbError(what+": read commitment", err)
		}

		open, err := openOrdersExposure(ctx, tx, c.CustomerID, c.OrderID, limit.Currency)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		e, err = order.CheckCredit(limit, c.Receivables, open, c.Amount)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !e.WithinLimit {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO credit_commitments (order_id, customer_id, currency, amount_minor,
				receivables_minor, open_orders_minor, limit_minor)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.OrderID, c.CustomerID, c.Amount.Currency, c.Amount.Minor,
			e.OpenReceivables.Minor, e.OpenOrders.Minor, e.Limit.Minor)
		if err != nil {
			return dbError(what+": commit credit", err)
		}
		return nil
	})
	if err != nil {
		return order.Exposure{}, err
	}
	return e, nil
}

// openOrdersExposure sums what the customer's orders other than
// excludeOrderID add to its exposure, by the rules of DecideCredit, in
// currency. An order in another currency is money.ErrCurrencyMismatch, not
// silently left out of the sum.
func openOrdersExposure(ctx context.Context, tx pgx.Tx, customerID, excludeOrderID, currency string) (money.Money, error) {
	what := fmt.Sprintf("open orders of customer %q", customerID)
	rows, err := tx.Query(ctx, `
		SELECT currency, sum(amount_minor)::bigint
		FROM (
			-- Granted credit, until the order is invoiced or ends. An order
			-- invoiced per shipment counts what is not invoiced yet: its
			-- invoices are the ERP's receivables. An invoice number without
			-- a stored invoice (a projection written before the invoice) is
			-- invoiced in full.
			SELECT c.currency,
				CASE WHEN inv.n > 0 THEN c.amount_minor - inv.total
					WHEN o.invoice_number = '' THEN c.amount_minor ELSE 0 END AS amount_minor
			FROM credit_commitments c
			JOIN orders o ON o.id = c.order_id
			CROSS JOIN LATERAL (SELECT count(*) AS n, COALESCE(sum(i.amount_minor), 0) AS total
				FROM invoices i WHERE i.order_id = o.id) inv
			WHERE c.customer_id = $1
				AND c.order_id <> $2
				AND o.status IN ('AWAITING_APPROVAL', 'CREDIT_CHECK', 'CREDIT_HOLD', 'CONFIRMED', 'SHIPPING')
			UNION ALL
			-- Accepted orders without a commitment, except those whose own
			-- check is under way (CREDIT_CHECK): they wait for this one.
			SELECT o.currency,
				CASE WHEN inv.n > 0 THEN o.total_minor - inv.total
					WHEN o.invoice_number = '' THEN o.total_minor ELSE 0 END
			FROM orders o
			CROSS JOIN LATERAL (SELECT count(*) AS n, COALESCE(sum(i.amount_minor), 0) AS total
				FROM invoices i WHERE i.order_id = o.id) inv
			WHERE o.customer_id = $1
				AND o.id <> $2
				AND o.status IN ('AWAITING_APPROVAL', 'CREDIT_HOLD', 'CONFIRMED', 'SHIPPING')
				AND NOT EXISTS (SELECT 1 FROM credit_commitments c WHERE c.order_id = o.id)
		) AS open_orders
		WHERE amount_minor > 0
		GROUP BY currency`,
		customerID, excludeOrderID)
	if err != nil {
		return money.Money{}, dbError(what, err)
	}
	total := money.Zero(currency)
	var cur string
	var sum int64
	_, err = pgx.ForEachRow(rows, []any{&cur, &sum}, func() error {
		if cur != currency {
			return fmt.Errorf("%s: %s of open orders in %s, the limit in %s: %w",
				what, money.New(sum, cur), cur, currency, money.ErrCurrencyMismatch)
		}
		total.Minor += sum
		return nil
	})
	if err != nil {
		if errors.Is(err, money.ErrCurrencyMismatch) {
			return money.Money{}, err
		}
		return money.Money{}, dbError(what, err)
	}
	return total, nil
}
