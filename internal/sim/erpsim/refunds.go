package erpsim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Refund sources.
const (
	// RefundOfPayment pays back (part of) one payment.
	RefundOfPayment = "payment"
	// RefundOfCreditBalance pays out the customer's credit balance.
	RefundOfCreditBalance = "credit_balance"
)

// refundRequest is the body of POST /v1/refunds.
type refundRequest struct {
	CustomerID string      `json:"customer_id"`
	Amount     money.Money `json:"amount"`
	// BankTransactionID names the payment refunded (the statement line's
	// id); empty refunds the customer's credit balance.
	BankTransactionID string `json:"bank_transaction_id,omitempty"`
	Reason            string `json:"reason,omitempty"`
}

// refundAnswer is the 201 of POST /v1/refunds.
type refundAnswer struct {
	RefundID          string      `json:"refund_id"`
	CustomerID        string      `json:"customer_id"`
	Amount            money.Money `json:"amount"`
	Source            string      `json:"source"` // RefundOfPayment or RefundOfCreditBalance
	BankTransactionID string      `json:"bank_transaction_id,omitempty"`
	Status            string      `json:"status"`
	IssuedAt          time.Time   `json:"issued_at"`
}

// RefundIssued is the status of every refund: the ERP records the refund;
// the money leaves through the bank.
const RefundIssued = "issued"

func (s *Sim) handleCreateRefund(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req refundRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	bad := func(field, detail string) {
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: field, Detail: detail})
	}
	switch {
	case req.CustomerID == "":
		bad("customer_id", "required")
		return
	case req.Amount.Minor <= 0 || !money.ValidCurrency(req.Amount.Currency):
		bad("amount", "a positive amount with an ISO 4217 currency")
		return
	case len(req.Reason) > maxReason:
		bad("reason", fmt.Sprintf("at most %d bytes", maxReason))
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.refund(ctx, tx, req)
	})
}

// refund records a refund to the customer. Money the seller holds for a
// customer is its credit balance (overpayments, credit notes beyond what
// was open, payments on a voided invoice), and a refund pays it out: never
// more than the balance (422 refund_exceeds_credit_balance). A refund of a
// payment pays back what that payment brought in: never more than it paid
// less what was refunded of it already (422 refund_exceeds_payment), and,
// when the payment named one of the customer's invoices, also out of the
// credit balance, so money still applied to an open invoice is not paid
// back (credit or void the invoice first). A payment that named no invoice
// is unapplied cash of nobody's balance: its refund is bounded by the
// payment alone. The receivables do not change.
func (s *Sim) refund(ctx context.Context, tx pgx.Tx, req refundRequest) (int, any, error) {
	var known bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erpsim_customers WHERE id = $1)`,
		req.CustomerID).Scan(&known); err != nil {
		return 0, nil, fmt.Errorf("look up customer %s: %w", req.CustomerID, err)
	}
	if !known {
		return http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_customer", Detail: "no customer " + req.CustomerID}, nil
	}
	cur := req.Amount.Currency
	ans := refundAnswer{CustomerID: req.CustomerID, Amount: req.Amount, Source: RefundOfCreditBalance, Status: RefundIssued}
	fromBalance := true
	if req.BankTransactionID != "" {
		ans.Source, ans.BankTransactionID = RefundOfPayment, req.BankTransactionID
		var amount, refunded int64
		var currency string
		var customerID *string
		err := tx.QueryRow(ctx, `
			SELECT amount_minor, refunded_minor, currency, customer_id
			FROM erpsim_bank_postings WHERE bank_transaction_id = $1 FOR UPDATE`, req.BankTransactionID).
			Scan(&amount, &refunded, &currency, &customerID)
		if isNoRows(err) {
			return http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_payment",
				Detail: "no payment " + req.BankTransactionID + " on the bank statement"}, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("lock payment %s: %w", req.BankTransactionID, err)
		}
		switch {
		case currency != cur:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "currency_mismatch",
				Detail: fmt.Sprintf("%s was paid in %s, the refund is in %s", req.BankTransactionID, currency, cur)}, nil
		case customerID != nil && *customerID != req.CustomerID:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
				Detail: fmt.Sprintf("%s paid an invoice of %s, not %s", req.BankTransactionID, *customerID, req.CustomerID)}, nil
		case req.Amount.Minor > amount-refunded:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "refund_exceeds_payment",
				Detail: fmt.Sprintf("%s paid %s, %s of it refunded already; %s cannot be refunded", req.BankTransactionID,
					money.New(amount, cur), money.New(refunded, cur), req.Amount)}, nil
		}
		if _, err := tx.Exec(ctx, `
			UPDATE erpsim_bank_postings SET refunded_minor = refunded_minor + $2 WHERE bank_transaction_id = $1`,
			req.BankTransactionID, req.Amount.Minor); err != nil {
			return 0, nil, fmt.Errorf("refund payment %s: %w", req.BankTransactionID, err)
		}
		fromBalance = customerID != nil
	}
	if fromBalance {
		balance, err := lockCreditBalance(ctx, tx, req.CustomerID, cur)
		if err != nil {
			return 0, nil, err
		}
		if req.Amount.Minor > balance {
			return http.StatusUnprocessableEntity, errorAnswer{Error: "refund_exceeds_credit_balance",
				Detail: fmt.Sprintf("the ERP holds %s for %s; %s cannot be refunded (money applied to open invoices comes back with a credit note or a void)",
					money.New(balance, cur), req.CustomerID, req.Amount)}, nil
		}
		if err := addCreditBalance(ctx, tx, req.CustomerID, cur, -req.Amount.Minor); err != nil {
			return 0, nil, err
		}
	}

	var seq int64
	if err := tx.QueryRow(ctx, `
		UPDATE erpsim_counters SET value = value + 1 WHERE name = 'refund_number' RETURNING value`).Scan(&seq); err != nil {
		return 0, nil, fmt.Errorf("next refund number: %w", err)
	}
	ans.RefundID = fmt.Sprintf("RF-%06d", seq)
	ans.IssuedAt = s.now().UTC().Truncate(time.Microsecond)
	var txn *string
	if req.BankTransactionID != "" {
		txn = &req.BankTransactionID
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO erpsim_refunds (id, customer_id, currency, amount_minor, bank_transaction_id, reason, issued_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ans.RefundID, req.CustomerID, cur, req.Amount.Minor, txn, strings.TrimSpace(req.Reason), ans.IssuedAt); err != nil {
		return 0, nil, fmt.Errorf("insert refund: %w", err)
	}
	return http.StatusCreated, ans, nil
}

// Refund is a refund as the simulated ERP keeps it.
type Refund struct {
	ID                string      `json:"refund_id"`
	CustomerID        string      `json:"customer_id"`
	Amount            money.Money `json:"amount"`
	Source            string      `json:"source"`
	BankTransactionID string      `json:"bank_transaction_id,omitempty"`
	Reason            string      `json:"reason,omitempty"`
	IssuedAt          time.Time   `json:"issued_at"`
}

// Refunds returns the refunds to customerID (every refund when it is
// empty), in number order.
func (s *Sim) Refunds(ctx context.Context, customerID string) ([]Refund, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, customer_id, amount_minor, currency, COALESCE(bank_transaction_id, ''), reason, issued_at
		FROM erpsim_refunds
		WHERE $1 = '' OR customer_id = $1
		ORDER BY id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list refunds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Refund, error) {
		var rf Refund
		err := row.Scan(&rf.ID, &rf.CustomerID, &rf.Amount.Minor, &rf.Amount.Currency, &rf.BankTransactionID, &rf.Reason, &rf.IssuedAt)
		rf.Source = RefundOfCreditBalance
		if rf.BankTransactionID != "" {
			rf.Source = RefundOfPayment
		}
		rf.IssuedAt = rf.IssuedAt.UTC()
		return rf, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list refunds: %w", err)
	}
	return out, nil
}
