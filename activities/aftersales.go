package activities

import (
	"context"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/bank"
	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// The after-sales activities: credit notes, refunds, returns and reships.
// Each forward write takes its idempotency key in its input (Key), because
// an order may credit, refund, return or reship several times: the
// workflow numbers them (CreditNoteKey and the like) and keeps the key with
// the step, so every retry of one step sends the same key, and an undo
// registered before the call can name the write by it (ForwardKey).

// CreditNoteKey is the idempotency key of the order's n-th credit note.
func CreditNoteKey(orderID string, n int) string { return Key(orderID, "credit-note", strconv.Itoa(n)) }

// RefundKey is the idempotency key of the order's n-th refund. The ERP's
// refund and the bank's transfer go under keys derived from it.
func RefundKey(orderID string, n int) string { return Key(orderID, "refund", strconv.Itoa(n)) }

// RMAKey is the idempotency key of the order's n-th return authorisation.
func RMAKey(orderID string, n int) string { return Key(orderID, "rma", strconv.Itoa(n)) }

// ReturnPickupKey is the idempotency key of the return pickup of the goods
// an RMA authorised.
func ReturnPickupKey(orderID, rmaID string) string { return Key(orderID, "return-pickup", rmaID) }

// ReplacementOrderKey is the idempotency key of the order's n-th
// replacement sales order.
func ReplacementOrderKey(orderID string, n int) string {
	return Key(orderID, "replacement-order", strconv.Itoa(n))
}

// ReshipKey is the idempotency key BookShipment books the n-th reship from
// warehouse under (BookShipmentInput.Key): a booking of its own, beside the
// first one under ShipmentKey.
func ReshipKey(orderID, warehouse string, n int) string {
	return Key(orderID, "reship", warehouse, strconv.Itoa(n))
}

// requireKey refuses a forward write whose input carries no idempotency
// key: without one a retry could credit, refund or book twice.
func requireKey(what, key string) error {
	if key != "" {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(what+": the input carries no idempotency key", ErrTypeInvalidInput, nil)
}

// Credit note kinds (IssueCreditNoteInput.Kind).
const (
	CreditFull   = erp.CreditFull
	CreditLines  = erp.CreditLines
	CreditAmount = erp.CreditAmount
)

// CreditLine is one line of a credit note by lines: a SKU, how many of it,
// and the gross amount credited for them.
type CreditLine struct {
	SKU      string      `json:"sku"`
	Quantity int64       `json:"quantity"`
	Amount   money.Money `json:"amount"`
}

// IssueCreditNoteInput asks the ERP for a credit note on one of the order's
// invoices: in full, by lines or by an amount.
type IssueCreditNoteInput struct {
	// Key is the credit note's idempotency key, e.g. CreditNoteKey.
	Key        string `json:"key"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	InvoiceID  string `json:"invoice_id"`
	// Kind is CreditFull, CreditLines or CreditAmount.
	Kind string `json:"kind"`
	// Amount is the gross credited, for CreditAmount.
	Amount money.Money `json:"amount,omitzero"`
	// Lines, for CreditLines.
	Lines  []CreditLine `json:"lines,omitempty"`
	Reason string       `json:"reason,omitempty"`
}

// IssueCreditNoteResult is the ERP's credit note. What it credits came off
// what was open on the invoice (AppliedToInvoice; the customer owes that
// much less); what went beyond, because the invoice was paid, is the
// customer's credit balance (ToCreditBalance), for a refund.
type IssueCreditNoteResult struct {
	CreditNoteID     string      `json:"credit_note_id"`
	Number           string      `json:"number"`
	InvoiceNumber    string      `json:"invoice_number"`
	Amount           money.Money `json:"amount"`
	Net              money.Money `json:"net"`
	Tax              money.Money `json:"tax"`
	AppliedToInvoice money.Money `json:"applied_to_invoice"`
	ToCreditBalance  money.Money `json:"to_credit_balance"`
	IssuedAt         time.Time   `json:"issued_at"`
}

// IssueCreditNote issues a credit note in the ERP. A retry never credits
// twice; crediting more than is left on the invoice, or more of a SKU than
// was sold, is non-retryable.
func (a *Activities) IssueCreditNote(ctx context.Context, in IssueCreditNoteInput) (IssueCreditNoteResult, error) {
	const what = "issue ERP credit note"
	if err := requireKey(what, in.Key); err != nil {
		return IssueCreditNoteResult{}, err
	}
	lines := make([]erp.CreditLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = erp.CreditLine(l)
	}
	cn, err := a.ERP.IssueCreditNote(ctx, in.Key, erp.CreditNoteRequest{InvoiceID: in.InvoiceID, CustomerID: in.CustomerID,
		Kind: in.Kind, Amount: in.Amount, Lines: lines, Reason: in.Reason})
	if err != nil {
		return IssueCreditNoteResult{}, classify(ctx, what, err)
	}
	return IssueCreditNoteResult{CreditNoteID: cn.CreditNoteID, Number: cn.Number, InvoiceNumber: cn.InvoiceNumber,
		Amount: cn.Amount, Net: cn.Net, Tax: cn.Tax, AppliedToInvoice: cn.AppliedToInvoice,
		ToCreditBalance: cn.ToCreditBalance, IssuedAt: cn.IssuedAt}, nil
}

// VoidCreditNoteInput undoes IssueCreditNote: by CreditNoteID when its
// answer came back, else by ForwardKey, the key it was issued under.
type VoidCreditNoteInput struct {
	OrderID      string `json:"order_id"`
	CreditNoteID string `json:"credit_note_id,omitempty"`
	// ForwardKey is IssueCreditNoteInput.Key. With CreditNoteID empty the
	// ERP voids the credit note issued under it; when none was, there is
	// nothing to undo, and the ERP refuses a later credit note under it.
	ForwardKey string `json:"forward_key,omitempty"`
}

// VoidCreditNoteResult says what was undone.
type VoidCreditNoteResult struct {
	// CreditNoteID is the voided credit note; empty when NothingToUndo.
	CreditNoteID  string `json:"credit_note_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// VoidCreditNote voids the credit note: the invoice is open again by what
// it credited. One whose credit balance was refunded since cannot be
// voided (non-retryable).
func (a *Activities) VoidCreditNote(ctx context.Context, in VoidCreditNoteInput) (VoidCreditNoteResult, error) {
	switch {
	case in.CreditNoteID != "":
		err := a.ERP.VoidCreditNote(ctx, Key(in.OrderID, "void-credit-note", in.CreditNoteID), in.CreditNoteID)
		if err != nil {
			return VoidCreditNoteResult{}, classify(ctx, "void ERP credit note "+in.CreditNoteID, err)
		}
		return VoidCreditNoteResult{CreditNoteID: in.CreditNoteID}, nil
	case in.ForwardKey != "":
		u, err := a.ERP.VoidCreditNoteByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return VoidCreditNoteResult{}, classify(ctx, "void the ERP credit note issued under "+in.ForwardKey, err)
		}
		return VoidCreditNoteResult{CreditNoteID: u.CreditNoteID, NothingToUndo: !u.Found}, nil
	}
	return VoidCreditNoteResult{}, noUndoTarget("void ERP credit note", "credit_note_id")
}

// RefundInput pays money back to the customer: of one payment
// (BankTransactionID, the id the payment reached the order under, a
// remittance part's included) or, with BankTransactionID empty, of the
// customer's credit balance.
type RefundInput struct {
	// Key is the refund's idempotency key, e.g. RefundKey. The ERP's refund
	// goes under Key+"/erp-refund", the bank's transfer under
	// Key+"/bank-transfer" (RefundKeys).
	Key        string      `json:"key"`
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Amount     money.Money `json:"amount"`
	// BankTransactionID is the payment refunded; the bank pays its payer
	// back, to the account the money came from.
	BankTransactionID string `json:"bank_transaction_id,omitempty"`
	// PayeeName and PayeeAccount say whom to pay: required for a refund of
	// the credit balance, which names no payment; for a refund of a
	// payment they override its payer and account.
	PayeeName    string `json:"payee_name,omitempty"`
	PayeeAccount string `json:"payee_account,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// RefundResult is the refund as the ERP booked it and the bank paid it.
type RefundResult struct {
	RefundID   string      `json:"refund_id"`
	TransferID string      `json:"transfer_id"`
	Amount     money.Money `json:"amount"`
	// Source is "payment" or "credit_balance".
	Source string `json:"source"`
	// PaidTo is the payee the bank paid.
	PaidTo     string    `json:"paid_to"`
	ExecutedAt time.Time `json:"executed_at"`
}

// RefundKeys are the idempotency keys a refund under key books the ERP's
// refund and the bank's transfer under.
func RefundKeys(key string) (erpKey, bankKey string) {
	return key + "/erp-refund", key + "/bank-transfer"
}

// Refund records the refund in the ERP, which refuses more than the
// payment brought in less what was refunded of it, or more than it holds
// for the customer (non-retryable), and then has the bank pay it out. Both
// calls go under keys derived from in.Key, the ERP's first: a retry after
// either answer was lost gets the same refund and the same transfer (its
// reference names the refund, so the retried transfer is the same
// request), and never pays twice. A refund the ERP booked but the bank
// refuses for good (say, the payee's account is invalid) is a
// non-retryable error with the ERP's refund standing: CS pays it by hand.
func (a *Activities) Refund(ctx context.Context, in RefundInput) (RefundResult, error) {
	const what = "refund"
	if err := requireKey(what, in.Key); err != nil {
		return RefundResult{}, err
	}
	if in.BankTransactionID == "" && (in.PayeeName == "" || in.PayeeAccount == "") {
		// Checked before the ERP books anything: the bank would refuse it.
		return RefundResult{}, temporal.NewNonRetryableApplicationError(
			"refund of the credit balance: name the payee and the account to pay", ErrTypeInvalidInput, nil)
	}
	erpKey, bankKey := RefundKeys(in.Key)
	rf, err := a.ERP.Refund(ctx, erpKey, erp.RefundRequest{CustomerID: in.CustomerID, Amount: in.Amount,
		BankTransactionID: in.BankTransactionID, Reason: in.Reason})
	if err != nil {
		return RefundResult{}, classify(ctx, "record the refund in the ERP", err)
	}
	tr, err := a.Bank.Transfer(ctx, bankKey, bank.TransferRequest{
		To:        bank.Payee{Name: in.PayeeName, Account: in.PayeeAccount},
		Amount:    in.Amount,
		Reference: "Refund " + rf.RefundID + " order " + in.OrderID,
		RefundOf:  in.BankTransactionID,
	})
	if err != nil {
		return RefundResult{}, classify(ctx, "pay refund "+rf.RefundID+" through the bank", err)
	}
	return RefundResult{RefundID: rf.RefundID, TransferID: tr.TransferID, Amount: tr.Amount, Source: rf.Source,
		PaidTo: tr.To.Name, ExecutedAt: tr.ExecutedAt}, nil
}

// CreateRMAInput asks the ERP to authorise the return of lines of the
// order's sales order (or of a replacement order), a quantity each.
type CreateRMAInput struct {
	// Key is the RMA's idempotency key, e.g. RMAKey.
	Key          string       `json:"key"`
	OrderID      string       `json:"order_id"`
	CustomerID   string       `json:"customer_id"`
	SalesOrderID string       `json:"sales_order_id"`
	Lines        []order.Line `json:"lines"`
	Reason       string       `json:"reason,omitempty"`
}

// CreateRMAResult is the return authorisation.
type CreateRMAResult struct {
	RMAID string       `json:"rma_id"`
	Lines []order.Line `json:"lines"`
}

// CreateRMA authorises a return. More of a SKU than left the warehouse
// less what other RMAs take back, or goods that never left, is
// non-retryable.
func (a *Activities) CreateRMA(ctx context.Context, in CreateRMAInput) (CreateRMAResult, error) {
	const what = "authorise the return in the ERP"
	if err := requireKey(what, in.Key); err != nil {
		return CreateRMAResult{}, err
	}
	rma, err := a.ERP.CreateRMA(ctx, in.Key, erp.RMARequest{OrderID: in.OrderID, SalesOrderID: in.SalesOrderID,
		CustomerID: in.CustomerID, Lines: in.Lines, Reason: in.Reason})
	if err != nil {
		return CreateRMAResult{}, classify(ctx, what, err)
	}
	return CreateRMAResult{RMAID: rma.RMAID, Lines: rma.Lines}, nil
}

// CancelRMAInput undoes CreateRMA: by RMAID, else by ForwardKey.
type CancelRMAInput struct {
	OrderID string `json:"order_id"`
	RMAID   string `json:"rma_id,omitempty"`
	// ForwardKey is CreateRMAInput.Key; with RMAID empty the ERP cancels
	// the RMA authorised under it, or reports NothingToUndo and refuses a
	// later RMA under it.
	ForwardKey string `json:"forward_key,omitempty"`
}

// CancelRMAResult says what was undone.
type CancelRMAResult struct {
	RMAID         string `json:"rma_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// CancelRMA withdraws a return authorisation whose goods are not back; one
// received cannot be cancelled (non-retryable).
func (a *Activities) CancelRMA(ctx context.Context, in CancelRMAInput) (CancelRMAResult, error) {
	switch {
	case in.RMAID != "":
		if err := a.ERP.CancelRMA(ctx, Key(in.OrderID, "cancel-rma", in.RMAID), in.RMAID); err != nil {
			return CancelRMAResult{}, classify(ctx, "cancel ERP return authorisation "+in.RMAID, err)
		}
		return CancelRMAResult{RMAID: in.RMAID}, nil
	case in.ForwardKey != "":
		u, err := a.ERP.CancelRMAByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return CancelRMAResult{}, classify(ctx, "cancel the ERP return authorised under "+in.ForwardKey, err)
		}
		return CancelRMAResult{RMAID: u.RMAID, NothingToUndo: !u.Found}, nil
	}
	return CancelRMAResult{}, noUndoTarget("cancel ERP return authorisation", "rma_id")
}

// ReceiveRMAInput books the goods of an RMA back in once the carrier
// reports them returned.
type ReceiveRMAInput struct {
	OrderID string `json:"order_id"`
	RMAID   string `json:"rma_id"`
}

// ReceiveRMAResult is the received RMA's lines.
type ReceiveRMAResult struct {
	Lines []order.Line `json:"lines"`
}

// ReceiveRMA has the ERP put the returned goods back on hand; receiving
// twice is harmless, a cancelled RMA cannot be received (non-retryable).
func (a *Activities) ReceiveRMA(ctx context.Context, in ReceiveRMAInput) (ReceiveRMAResult, error) {
	rma, err := a.ERP.ReceiveRMA(ctx, Key(in.OrderID, "receive-rma", in.RMAID), in.RMAID)
	if err != nil {
		return ReceiveRMAResult{}, classify(ctx, "receive the goods of "+in.RMAID+" in the ERP", err)
	}
	return ReceiveRMAResult{Lines: rma.Lines}, nil
}

// BookReturnPickupInput books the carrier to collect an RMA's goods from
// the customer and bring them back to Warehouse.
type BookReturnPickupInput struct {
	// Key is the pickup's idempotency key, e.g. ReturnPickupKey.
	Key       string       `json:"key"`
	OrderID   string       `json:"order_id"`
	RMAID     string       `json:"rma_id"`
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

// BookReturnPickupResult is the carrier's booking. Its "returned" webhook
// names ReturnID as the shipment.
type BookReturnPickupResult struct {
	ReturnID       string    `json:"return_id"`
	TrackingNumber string    `json:"tracking_number"`
	PickupDate     time.Time `json:"pickup_date"`
}

// BookReturnPickup books the return pickup.
func (a *Activities) BookReturnPickup(ctx context.Context, in BookReturnPickupInput) (BookReturnPickupResult, error) {
	const what = "book the return pickup"
	if err := requireKey(what, in.Key); err != nil {
		return BookReturnPickupResult{}, err
	}
	b, err := a.Carrier.BookReturn(ctx, in.Key, carrier.ReturnRequest{Reference: in.OrderID, RMA: in.RMAID,
		Warehouse: in.Warehouse, Lines: in.Lines})
	if err != nil {
		return BookReturnPickupResult{}, classify(ctx, what+" to "+in.Warehouse, err)
	}
	return BookReturnPickupResult{ReturnID: b.ReturnID, TrackingNumber: b.TrackingNumber, PickupDate: b.PickupDate}, nil
}

// CancelReturnPickupInput undoes BookReturnPickup: by ReturnID, else by
// ForwardKey.
type CancelReturnPickupInput struct {
	OrderID  string `json:"order_id"`
	ReturnID string `json:"return_id,omitempty"`
	// ForwardKey is BookReturnPickupInput.Key.
	ForwardKey string `json:"forward_key,omitempty"`
}

// CancelReturnPickupResult says what was undone.
type CancelReturnPickupResult struct {
	ReturnID      string `json:"return_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// CancelReturnPickup cancels a return pickup whose goods are not back; one
// whose goods are back cannot be cancelled (non-retryable).
func (a *Activities) CancelReturnPickup(ctx context.Context, in CancelReturnPickupInput) (CancelReturnPickupResult, error) {
	switch {
	case in.ReturnID != "":
		if err := a.Carrier.CancelReturn(ctx, Key(in.OrderID, "cancel-return-pickup", in.ReturnID), in.ReturnID); err != nil {
			return CancelReturnPickupResult{}, classify(ctx, "cancel return pickup "+in.ReturnID, err)
		}
		return CancelReturnPickupResult{ReturnID: in.ReturnID}, nil
	case in.ForwardKey != "":
		u, err := a.Carrier.CancelReturnByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return CancelReturnPickupResult{}, classify(ctx, "cancel the return pickup booked under "+in.ForwardKey, err)
		}
		return CancelReturnPickupResult{ReturnID: u.ReturnID, NothingToUndo: !u.Found}, nil
	}
	return CancelReturnPickupResult{}, noUndoTarget("cancel return pickup", "return_id")
}

// CreateReplacementOrderInput asks the ERP for a replacement sales order: a
// reship, from stock, of goods lost or damaged, never invoiced.
type CreateReplacementOrderInput struct {
	// Key is the replacement's idempotency key, e.g. ReplacementOrderKey.
	Key        string `json:"key"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	// Replaces is the sales order whose goods are replaced.
	Replaces string       `json:"replaces"`
	Lines    []order.Line `json:"lines"`
	Reason   string       `json:"reason,omitempty"`
}

// CreateReplacementOrderResult is the replacement sales order and one
// planned shipment per warehouse it takes stock from; book each with
// BookShipment under a key of its own (ReshipKey).
type CreateReplacementOrderResult struct {
	SalesOrderID string           `json:"sales_order_id"`
	Shipments    []order.Shipment `json:"shipments"`
}

// CreateReplacementOrder creates the replacement order. Not enough stock
// is non-retryable, like a reservation's.
func (a *Activities) CreateReplacementOrder(ctx context.Context, in CreateReplacementOrderInput) (CreateReplacementOrderResult, error) {
	const what = "create ERP replacement order"
	if err := requireKey(what, in.Key); err != nil {
		return CreateReplacementOrderResult{}, err
	}
	so, err := a.ERP.CreateReplacementOrder(ctx, in.Key, erp.ReplacementOrderRequest{OrderID: in.OrderID,
		CustomerID: in.CustomerID, Replaces: in.Replaces, Lines: in.Lines, Reason: in.Reason})
	if err != nil {
		return CreateReplacementOrderResult{}, classify(ctx, what, err)
	}
	res := CreateReplacementOrderResult{SalesOrderID: so.ID}
	for _, r := range so.Reservations {
		res.Shipments = append(res.Shipments, order.Shipment{Warehouse: r.Warehouse, Lines: r.Lines})
	}
	return res, nil
}

// CancelReplacementOrderInput undoes CreateReplacementOrder: by
// SalesOrderID, else by ForwardKey.
type CancelReplacementOrderInput struct {
	OrderID      string `json:"order_id"`
	SalesOrderID string `json:"sales_order_id,omitempty"`
	// ForwardKey is CreateReplacementOrderInput.Key.
	ForwardKey string `json:"forward_key,omitempty"`
}

// CancelReplacementOrderResult says what was undone.
type CancelReplacementOrderResult struct {
	SalesOrderID  string `json:"sales_order_id,omitempty"`
	NothingToUndo bool   `json:"nothing_to_undo,omitempty"`
}

// CancelReplacementOrder cancels the replacement order like any sales
// order; its goods go back on hand.
func (a *Activities) CancelReplacementOrder(ctx context.Context, in CancelReplacementOrderInput) (CancelReplacementOrderResult, error) {
	switch {
	case in.SalesOrderID != "":
		err := a.ERP.CancelSalesOrder(ctx, Key(in.OrderID, "cancel-replacement-order", in.SalesOrderID), in.SalesOrderID)
		if err != nil {
			return CancelReplacementOrderResult{}, classify(ctx, "cancel ERP replacement order "+in.SalesOrderID, err)
		}
		return CancelReplacementOrderResult{SalesOrderID: in.SalesOrderID}, nil
	case in.ForwardKey != "":
		u, err := a.ERP.CancelSalesOrderByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return CancelReplacementOrderResult{}, classify(ctx, "cancel the ERP replacement order created under "+in.ForwardKey, err)
		}
		return CancelReplacementOrderResult{SalesOrderID: u.SalesOrderID, NothingToUndo: !u.Found}, nil
	}
	return CancelReplacementOrderResult{}, noUndoTarget("cancel ERP replacement order", "sales_order_id")
}
