package bank

import (
	"context"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/money"
)

// System names the bank in errors, logs and breaker metrics.
const System = "bank"

// Client calls the bank. It is safe for concurrent use.
type Client struct {
	http *downstream.Client
}

// New returns a client of the bank at baseURL whose calls go through b,
// the bank's own circuit breaker.
func New(baseURL string, b *downstream.Breaker) *Client {
	return &Client{http: downstream.NewClient(System, baseURL, b)}
}

// Payee is who a transfer pays: a name and an account (IBAN).
type Payee struct {
	Name    string `json:"name,omitempty"`
	Account string `json:"account,omitempty"`
}

// TransferRequest instructs a transfer. A refund names the incoming payment
// it pays back in RefundOf (the bank transaction id, or a remittance part's
// id); the bank then pays that payment's payer, back to the account the
// money came from, unless To says otherwise, and never more than the
// payment brought in less what was paid back of it. A transfer that pays
// back no payment names To in full.
type TransferRequest struct {
	To        Payee       `json:"to,omitzero"`
	Amount    money.Money `json:"amount"`
	Reference string      `json:"reference,omitempty"`
	RefundOf  string      `json:"refund_of,omitempty"`
}

// Transfer is an executed transfer.
type Transfer struct {
	TransferID string      `json:"transfer_id"`
	Status     string      `json:"status"`
	To         Payee       `json:"to"`
	Amount     money.Money `json:"amount"`
	Reference  string      `json:"reference,omitempty"`
	RefundOf   string      `json:"refund_of,omitempty"`
	ExecutedAt time.Time   `json:"executed_at"`
}

// Transfer pays out. The same idemKey with the same request returns the
// first transfer and never pays twice; the key must be stable across
// retries of one step.
func (c *Client) Transfer(ctx context.Context, idemKey string, r TransferRequest) (Transfer, error) {
	const op = "transfer"
	if idemKey == "" {
		return Transfer{}, &downstream.Error{System: System, Op: op, Permanent: true,
			Detail: "no idempotency key: a transfer without one could pay twice"}
	}
	var out Transfer
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/transfers", idemKey, r, &out); err != nil {
		return Transfer{}, err
	}
	if out.TransferID == "" || out.Amount != r.Amount {
		return Transfer{}, &downstream.Error{System: System, Op: op, Permanent: true,
			Detail: "contract break: the answer carries no transfer_id or another amount"}
	}
	return out, nil
}
