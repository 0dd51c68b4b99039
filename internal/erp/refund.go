package erp

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// RefundRequest asks the ERP to record a refund to a customer: of one
// payment (BankTransactionID, the id the payment was posted under) or,
// with BankTransactionID empty, of the customer's credit balance.
type RefundRequest struct {
	CustomerID        string      `json:"customer_id"`
	Amount            money.Money `json:"amount"`
	BankTransactionID string      `json:"bank_transaction_id,omitempty"`
	Reason            string      `json:"reason,omitempty"`
}

// Refund is a recorded refund. The ERP books it; the money leaves through
// the bank (internal/bank), which the caller instructs.
type Refund struct {
	RefundID string      `json:"refund_id"`
	Amount   money.Money `json:"amount"`
	// Source is "payment" or "credit_balance".
	Source            string    `json:"source"`
	BankTransactionID string    `json:"bank_transaction_id,omitempty"`
	IssuedAt          time.Time `json:"issued_at"`
}

// Refund records a refund. Retrying with the same idemKey and request
// returns the same refund. Refunding more than the payment brought in less
// what was refunded of it (422 refund_exceeds_payment), or more than the
// ERP holds for the customer (422 refund_exceeds_credit_balance: money
// still applied to an open invoice comes back only after a credit note or
// a void), is a permanent error.
func (c *Client) Refund(ctx context.Context, idemKey string, r RefundRequest) (Refund, error) {
	const op = "record refund"
	if err := requireKey(op, idemKey); err != nil {
		return Refund{}, err
	}
	var out Refund
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/refunds", idemKey, r, &out); err != nil {
		return Refund{}, err
	}
	if out.RefundID == "" || out.Amount != r.Amount {
		return Refund{}, contractBreak(op, "the answer carries no refund_id or another amount")
	}
	return out, nil
}

// CreditBalance returns what the ERP holds for the customer in currency
// beyond what it owes: overpayments, credit notes beyond what was open,
// payments on voided invoices, less refunds. An unknown customer is a
// permanent error (404).
func (c *Client) CreditBalance(ctx context.Context, customerID, currency string) (money.Money, error) {
	path := "/v1/customers/" + url.PathEscape(customerID) + "/exposure?currency=" + url.QueryEscape(currency)
	var out struct {
		CreditBalance money.Money `json:"credit_balance"`
	}
	if err := c.http.Call(ctx, "get credit balance", http.MethodGet, path, "", nil, &out); err != nil {
		return money.Money{}, err
	}
	if out.CreditBalance.Currency == "" {
		out.CreditBalance = money.Zero(currency)
	}
	return out.CreditBalance, nil
}
