package erp

import (
	"context"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// WriteOffRequest asks the ERP to give up part or all of what is open on
// one of the customer's invoices, say a short payment within the
// customer's tolerance. Reason is required: a write-off is recorded.
type WriteOffRequest struct {
	InvoiceID  string      `json:"invoice_id"`
	CustomerID string      `json:"customer_id"`
	Amount     money.Money `json:"amount"`
	Reason     string      `json:"reason"`
}

// WriteOff is a posted write-off. InvoiceOpenAfter is what is still open
// on the invoice; zero settles it.
type WriteOff struct {
	WriteOffID       string      `json:"write_off_id"`
	InvoiceID        string      `json:"invoice_id"`
	InvoiceNumber    string      `json:"invoice_number"`
	Amount           money.Money `json:"amount"`
	InvoiceOpenAfter money.Money `json:"invoice_open_after"`
	CreatedAt        time.Time   `json:"created_at"`
}

// WriteOff posts a write-off: the amount comes off the invoice and the
// customer's open receivables, and no money moves. Retrying with the same
// idemKey and request returns the same write-off. More than is open on the
// invoice (422 write_off_exceeds_open), a void invoice (409 invoice_void)
// or one with nothing open (409 invoice_settled) are permanent errors.
func (c *Client) WriteOff(ctx context.Context, idemKey string, r WriteOffRequest) (WriteOff, error) {
	const op = "write off"
	if err := requireKey(op, idemKey); err != nil {
		return WriteOff{}, err
	}
	var out WriteOff
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/write-offs", idemKey, r, &out); err != nil {
		return WriteOff{}, err
	}
	if out.WriteOffID == "" || out.Amount != r.Amount || out.InvoiceOpenAfter.Currency != r.Amount.Currency {
		return WriteOff{}, contractBreak(op, "the answer carries no write_off_id, another amount or no open amount")
	}
	return out, nil
}

// VoidWriteOff voids the write-off posted under forwardKey (the key
// WriteOff was called with); idemKey is the void's own key. The invoice and
// the receivables are open again by its amount. Undo.Found is false when
// no write-off was ever posted under forwardKey; voiding one twice, or one
// voided with its invoice, succeeds.
func (c *Client) VoidWriteOff(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "void write-off by key"
	return c.undoByKey(ctx, op, "/v1/write-offs/void-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.WriteOffID != "" })
}

// CreditAllocationRequest asks the ERP to apply part of the customer's
// credit balance (in the invoice's currency) to one of its open invoices.
type CreditAllocationRequest struct {
	CustomerID string      `json:"customer_id"`
	InvoiceID  string      `json:"invoice_id"`
	Amount     money.Money `json:"amount"`
	Reason     string      `json:"reason,omitempty"`
}

// CreditAllocation is an applied credit allocation: Applied came off the
// credit balance, the invoice and the receivables.
type CreditAllocation struct {
	AllocationID       string      `json:"allocation_id"`
	InvoiceID          string      `json:"invoice_id"`
	InvoiceNumber      string      `json:"invoice_number"`
	Applied            money.Money `json:"applied"`
	CreditBalanceAfter money.Money `json:"credit_balance_after"`
	InvoiceOpenAfter   money.Money `json:"invoice_open_after"`
	CreatedAt          time.Time   `json:"created_at"`
}

// AllocateCredit applies credit balance to an invoice. Retrying with the
// same idemKey and request returns the same allocation. More than the
// balance (422 allocation_exceeds_credit_balance) or than is open on the
// invoice (422 allocation_exceeds_open), a void invoice (409 invoice_void)
// or one with nothing open (409 invoice_settled) are permanent errors.
func (c *Client) AllocateCredit(ctx context.Context, idemKey string, r CreditAllocationRequest) (CreditAllocation, error) {
	const op = "allocate credit balance"
	if err := requireKey(op, idemKey); err != nil {
		return CreditAllocation{}, err
	}
	var out CreditAllocation
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/credit-allocations", idemKey, r, &out); err != nil {
		return CreditAllocation{}, err
	}
	if out.AllocationID == "" || out.Applied != r.Amount {
		return CreditAllocation{}, contractBreak(op, "the answer carries no allocation_id or another amount")
	}
	return out, nil
}

// VoidCreditAllocation voids the credit allocation made under forwardKey
// (the key AllocateCredit was called with); idemKey is the void's own key.
// The balance gets the amount back and the invoice is open again by it.
// Undo.Found is false when no allocation was ever made under forwardKey.
// One whose money a credit note has since moved back to the balance is a
// permanent error (409 allocation_credited).
func (c *Client) VoidCreditAllocation(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "void credit allocation by key"
	return c.undoByKey(ctx, op, "/v1/credit-allocations/void-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.AllocationID != "" })
}
