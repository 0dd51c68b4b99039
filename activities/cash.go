package activities

import (
	"context"
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
)

// The ledger activities finance runs on an order's invoice: a write-off of
// what is left open (a short payment within the customer's tolerance) and
// an allocation of the customer's credit balance (an overpayment kept for
// it) to the invoice. Like the after-sales writes they happen more than
// once per order, so each takes its idempotency key in the input
// (WriteOffKey, CreditAllocationKey number them), and each is undone by
// that key alone: the ERP finds what was made under it.

// WriteOffKey is the idempotency key of the order's n-th write-off.
func WriteOffKey(orderID string, n int) string { return Key(orderID, "write-off", strconv.Itoa(n)) }

// CreditAllocationKey is the idempotency key of the order's n-th
// allocation of credit balance to its invoice.
func CreditAllocationKey(orderID string, n int) string {
	return Key(orderID, "credit-allocation", strconv.Itoa(n))
}

// WriteOffInput asks the ERP to give up Amount of what is open on one of
// the order's invoices. Whether the amount is within the customer's
// tolerance is the caller's decision; the ERP only refuses more than is open.
type WriteOffInput struct {
	// Key is the write-off's idempotency key, e.g. WriteOffKey.
	Key        string      `json:"key"`
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	InvoiceID  string      `json:"invoice_id"`
	Amount     money.Money `json:"amount"`
	// Reason is required: the ERP records why the money was given up.
	Reason string `json:"reason"`
}

// WriteOffResult is the posted write-off. InvoiceOpenAfter is what is still
// open on the invoice; zero means the write-off settled it.
type WriteOffResult struct {
	WriteOffID       string      `json:"write_off_id"`
	Amount           money.Money `json:"amount"`
	InvoiceOpenAfter money.Money `json:"invoice_open_after"`
}

// WriteOff posts a write-off in the ERP: the amount comes off the invoice
// and the customer's receivables. A retry never writes off twice; more
// than is open, a void invoice or one with nothing open is non-retryable.
func (a *Activities) WriteOff(ctx context.Context, in WriteOffInput) (WriteOffResult, error) {
	const what = "write off in the ERP"
	if err := requireKey(what, in.Key); err != nil {
		return WriteOffResult{}, err
	}
	if in.Reason == "" {
		return WriteOffResult{}, temporal.NewNonRetryableApplicationError(what+": a write-off needs a reason", ErrTypeInvalidInput, nil)
	}
	wo, err := a.ERP.WriteOff(ctx, in.Key, erp.WriteOffRequest{InvoiceID: in.InvoiceID, CustomerID: in.CustomerID,
		Amount: in.Amount, Reason: in.Reason})
	if err != nil {
		return WriteOffResult{}, classify(ctx, what, err)
	}
	return WriteOffResult{WriteOffID: wo.WriteOffID, Amount: wo.Amount, InvoiceOpenAfter: wo.InvoiceOpenAfter}, nil
}

// VoidWriteOffInput undoes WriteOff by its key.
type VoidWriteOffInput struct {
	// Key is WriteOffInput.Key: the ERP voids the write-off posted under it;
	// when none was, there is nothing to undo, and the ERP refuses a later
	// write-off under it. The void goes under a key derived from it.
	Key     string `json:"key"`
	OrderID string `json:"order_id"`
}

// VoidWriteOffResult says what was undone.
type VoidWriteOffResult struct {
	// WriteOffID is the voided write-off; empty when NothingToUndo.
	WriteOffID    string `json:"write_off_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// VoidWriteOff voids the write-off: the invoice and the receivables are
// open again by its amount. Voiding it twice succeeds.
func (a *Activities) VoidWriteOff(ctx context.Context, in VoidWriteOffInput) (VoidWriteOffResult, error) {
	if err := requireKey("void ERP write-off", in.Key); err != nil {
		return VoidWriteOffResult{}, err
	}
	u, err := a.ERP.VoidWriteOff(ctx, undoKey(in.Key), in.Key)
	if err != nil {
		return VoidWriteOffResult{}, classify(ctx, "void the ERP write-off posted under "+in.Key, err)
	}
	return VoidWriteOffResult{WriteOffID: u.WriteOffID, NothingToUndo: !u.Found}, nil
}

// AllocateCreditInput asks the ERP to apply Amount of the customer's credit
// balance (overpayments, credit notes beyond what was open) to one of the
// order's invoices, in the invoice's currency.
type AllocateCreditInput struct {
	// Key is the allocation's idempotency key, e.g. CreditAllocationKey.
	Key        string      `json:"key"`
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	InvoiceID  string      `json:"invoice_id"`
	Amount     money.Money `json:"amount"`
	Reason     string      `json:"reason,omitempty"`
}

// AllocateCreditResult is the applied allocation: Applied came off the
// credit balance (CreditBalanceAfter is what is left) and off the invoice
// (InvoiceOpenAfter is what is still open; zero settles it).
type AllocateCreditResult struct {
	AllocationID       string      `json:"allocation_id"`
	Applied            money.Money `json:"applied"`
	CreditBalanceAfter money.Money `json:"credit_balance_after"`
	InvoiceOpenAfter   money.Money `json:"invoice_open_after"`
}

// AllocateCredit applies credit balance to the invoice in the ERP. A retry
// never applies twice; more than the balance or than is open on the
// invoice is non-retryable.
func (a *Activities) AllocateCredit(ctx context.Context, in AllocateCreditInput) (AllocateCreditResult, error) {
	const what = "apply credit balance in the ERP"
	if err := requireKey(what, in.Key); err != nil {
		return AllocateCreditResult{}, err
	}
	al, err := a.ERP.AllocateCredit(ctx, in.Key, erp.CreditAllocationRequest{CustomerID: in.CustomerID,
		InvoiceID: in.InvoiceID, Amount: in.Amount, Reason: in.Reason})
	if err != nil {
		return AllocateCreditResult{}, classify(ctx, what, err)
	}
	return AllocateCreditResult{AllocationID: al.AllocationID, Applied: al.Applied,
		CreditBalanceAfter: al.CreditBalanceAfter, InvoiceOpenAfter: al.InvoiceOpenAfter}, nil
}

// VoidCreditAllocationInput undoes AllocateCredit by its key.
type VoidCreditAllocationInput struct {
	// Key is AllocateCreditInput.Key: the ERP voids the allocation made
	// under it; when none was, there is nothing to undo, and the ERP
	// refuses a later allocation under it.
	Key     string `json:"key"`
	OrderID string `json:"order_id"`
}

// VoidCreditAllocationResult says what was undone.
type VoidCreditAllocationResult struct {
	// AllocationID is the voided allocation; empty when NothingToUndo.
	AllocationID  string `json:"allocation_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// VoidCreditAllocation voids the allocation: the credit balance gets the
// amount back and the invoice is open again by it. Voiding it twice
// succeeds; one whose money a credit note has since moved back to the
// balance is non-retryable (void the credit note first).
func (a *Activities) VoidCreditAllocation(ctx context.Context, in VoidCreditAllocationInput) (VoidCreditAllocationResult, error) {
	if err := requireKey("void ERP credit allocation", in.Key); err != nil {
		return VoidCreditAllocationResult{}, err
	}
	u, err := a.ERP.VoidCreditAllocation(ctx, undoKey(in.Key), in.Key)
	if err != nil {
		return VoidCreditAllocationResult{}, classify(ctx, "void the ERP credit allocation made under "+in.Key, err)
	}
	return VoidCreditAllocationResult{AllocationID: u.AllocationID, NothingToUndo: !u.Found}, nil
}
