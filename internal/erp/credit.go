package erp

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// Credit note kinds.
const (
	// CreditFull credits what is left to credit on the invoice.
	CreditFull = "full"
	// CreditLines credits lines: a SKU, a quantity and a gross amount each.
	CreditLines = "lines"
	// CreditAmount credits a gross amount.
	CreditAmount = "amount"
)

// CreditLine is one line of a credit note by lines. The ERP refuses more of
// a SKU than the invoice's sales order holds, less what was credited on it
// before.
type CreditLine struct {
	SKU      string      `json:"sku"`
	Quantity int64       `json:"quantity"`
	Amount   money.Money `json:"amount"` // gross
}

// CreditNoteRequest asks the ERP for a credit note on an invoice: in full,
// by lines or by an amount (Kind), never more than is left to credit on it.
type CreditNoteRequest struct {
	InvoiceID  string `json:"invoice_id"`
	CustomerID string `json:"customer_id"`
	Kind       string `json:"kind"`
	// Amount is the gross credited, for CreditAmount only.
	Amount money.Money `json:"amount,omitzero"`
	// Lines, for CreditLines only.
	Lines  []CreditLine `json:"lines,omitempty"`
	Reason string       `json:"reason,omitempty"`
}

// CreditNote is an issued credit note. Its tax is the invoice's share of
// the credit. What it credits came off what was open on the invoice (and
// the customer's receivables), AppliedToInvoice; what went beyond, because
// the invoice was paid, is the customer's credit balance, ToCreditBalance,
// for a refund.
type CreditNote struct {
	CreditNoteID     string       `json:"credit_note_id"`
	Number           string       `json:"number"`
	InvoiceID        string       `json:"invoice_id"`
	InvoiceNumber    string       `json:"invoice_number"`
	Kind             string       `json:"kind"`
	Amount           money.Money  `json:"amount"`
	Net              money.Money  `json:"net"`
	Tax              money.Money  `json:"tax"`
	AppliedToInvoice money.Money  `json:"applied_to_invoice"`
	ToCreditBalance  money.Money  `json:"to_credit_balance"`
	Lines            []CreditLine `json:"lines,omitempty"`
	IssuedAt         time.Time    `json:"issued_at"`
}

// IssueCreditNote issues a credit note. Retrying with the same idemKey and
// request returns the same credit note. Crediting more than is left on the
// invoice (422 credit_exceeds_invoice), more of a SKU than was sold (422
// credit_exceeds_quantity), a void invoice (409 invoice_void) or one
// credited in full (409 nothing_to_credit) are permanent errors.
func (c *Client) IssueCreditNote(ctx context.Context, idemKey string, r CreditNoteRequest) (CreditNote, error) {
	const op = "issue credit note"
	if err := requireKey(op, idemKey); err != nil {
		return CreditNote{}, err
	}
	var out CreditNote
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/credit-notes", idemKey, r, &out); err != nil {
		return CreditNote{}, err
	}
	if out.CreditNoteID == "" || out.Number == "" || out.Amount.Minor <= 0 {
		return CreditNote{}, contractBreak(op, "the answer carries no credit_note_id, number or amount")
	}
	return out, nil
}

// VoidCreditNote takes a credit note back: the invoice is open again by
// what it took off, the credit balance loses what it added. Voiding a void
// credit note succeeds; one whose credit balance was refunded since is a
// permanent error (409 credit_note_refunded).
func (c *Client) VoidCreditNote(ctx context.Context, idemKey, creditNoteID string) error {
	const op = "void credit note"
	if err := requireKey(op, idemKey); err != nil {
		return err
	}
	path := "/v1/credit-notes/" + url.PathEscape(creditNoteID) + "/void"
	return c.http.Call(ctx, op, http.MethodPost, path, idemKey, nil, nil)
}

// VoidCreditNoteByKey voids the credit note issued under forwardKey (the
// key IssueCreditNote was called with); idemKey is the void's own key.
// Undo.Found is false when no credit note was ever issued under forwardKey.
func (c *Client) VoidCreditNoteByKey(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "void credit note by key"
	return c.undoByKey(ctx, op, "/v1/credit-notes/void-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.CreditNoteID != "" })
}
