package erp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// System is the name the ERP goes by in errors, breaker state and metrics.
const System = "erp"

// Client calls the ERP. It is safe for concurrent use.
type Client struct {
	http *downstream.Client
}

// New returns a client of the ERP at baseURL whose calls go through b, the
// ERP's own circuit breaker.
func New(baseURL string, b *downstream.Breaker) *Client {
	return &Client{http: downstream.NewClient(System, baseURL, b)}
}

// SalesOrderRequest asks the ERP to create a sales order and reserve its stock.
type SalesOrderRequest struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	Currency   string       `json:"currency"`
	Lines      []order.Line `json:"lines"`
}

// SalesOrder is a created sales order: its id and where its stock is reserved.
type SalesOrder struct {
	ID           string        `json:"sales_order_id"`
	Reservations []Reservation `json:"reservations"`
}

// Reservation is the stock one warehouse holds for a sales order; it becomes
// one shipment.
type Reservation struct {
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

// InvoiceRequest asks the ERP to invoice a sales order. The ERP dates the
// invoice and sets its due date from PaymentTermsDays (net days from the
// issue day, to the end of that day in UTC), so a retried request is the
// same request whenever it is sent.
type InvoiceRequest struct {
	OrderID      string `json:"order_id"`
	SalesOrderID string `json:"sales_order_id"`
	CustomerID   string `json:"customer_id"`
	// Amount is the gross the customer owes.
	Amount           money.Money `json:"amount"`
	PaymentTermsDays int         `json:"payment_terms_days"`
	// Net and Tax, when set, split Amount (Net + Tax = Amount, same
	// currency); both or neither. Unset, the invoice is all net, and the
	// request is byte for byte what it was before the split existed, so a
	// retry of an invoice asked for then still finds its answer.
	// Pointers: a tax of 0.00 (no VAT, reverse charge) must be sent.
	Net *money.Money `json:"net,omitempty"`
	Tax *money.Money `json:"tax,omitempty"`
}

// Prices returns the ERP's list price of each SKU in currency, in the order
// asked. An unknown SKU, or one without a price in the currency, is a
// permanent error (HTTP 422 naming the SKU).
func (c *Client) Prices(ctx context.Context, customerID, currency string, skus []string) ([]order.ListPrice, error) {
	in := struct {
		CustomerID string   `json:"customer_id"`
		Currency   string   `json:"currency"`
		SKUs       []string `json:"skus"`
	}{customerID, currency, skus}
	var out struct {
		Prices []order.ListPrice `json:"prices"`
	}
	if err := c.http.Call(ctx, "get prices", http.MethodPost, "/v1/prices", "", in, &out); err != nil {
		if refused := asSKURefusal(err); refused != nil {
			return nil, refused
		}
		return nil, err
	}
	return out.Prices, nil
}

// SKURefusedError is the ERP's permanent refusal to price one SKU: it does
// not know it, or it has no price in the asked currency. It wraps the
// *downstream.Error of the call.
type SKURefusedError struct {
	SKU string
	// Code is the ERP's error code: "unknown_sku" or "no_price_in_currency".
	Code string
	Err  error
}

func (e *SKURefusedError) Error() string {
	return fmt.Sprintf("the ERP refuses SKU %s: %s", e.SKU, e.Reason())
}

func (e *SKURefusedError) Unwrap() error { return e.Err }

// Reason says in words why the SKU cannot be quoted.
func (e *SKURefusedError) Reason() string {
	switch e.Code {
	case "unknown_sku":
		return "the ERP does not know this SKU"
	case "no_price_in_currency":
		return "the ERP has no price for this SKU in the customer's currency"
	}
	return "the ERP refuses to price this SKU (" + e.Code + ")"
}

// asSKURefusal recognises the ERP's 422 answer naming a SKU.
func asSKURefusal(err error) *SKURefusedError {
	e, ok := downstream.AsError(err)
	if !ok || e.Status != http.StatusUnprocessableEntity {
		return nil
	}
	var body struct {
		Error string `json:"error"`
		SKU   string `json:"sku"`
	}
	if json.Unmarshal([]byte(e.Detail), &body) != nil || body.SKU == "" {
		return nil
	}
	return &SKURefusedError{SKU: body.SKU, Code: body.Error, Err: err}
}

// OpenReceivables returns what the customer owes in currency on open
// invoices, as the ERP books it. An unknown customer is a permanent error (404).
func (c *Client) OpenReceivables(ctx context.Context, customerID, currency string) (money.Money, error) {
	path := "/v1/customers/" + url.PathEscape(customerID) + "/exposure?currency=" + url.QueryEscape(currency)
	var out struct {
		CustomerID      string      `json:"customer_id"`
		OpenReceivables money.Money `json:"open_receivables"`
	}
	if err := c.http.Call(ctx, "get open receivables", http.MethodGet, path, "", nil, &out); err != nil {
		return money.Money{}, err
	}
	return out.OpenReceivables, nil
}

// CreateSalesOrder creates a sales order and reserves its stock, possibly
// across several warehouses. Retrying with the same idemKey and request
// returns the first answer and never reserves twice. Not enough stock is a
// permanent error (409 insufficient_stock naming the SKU).
func (c *Client) CreateSalesOrder(ctx context.Context, idemKey string, r SalesOrderRequest) (SalesOrder, error) {
	const op = "create sales order"
	if err := requireKey(op, idemKey); err != nil {
		return SalesOrder{}, err
	}
	var out SalesOrder
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/sales-orders", idemKey, r, &out); err != nil {
		return SalesOrder{}, err
	}
	if out.ID == "" {
		return SalesOrder{}, contractBreak(op, "the answer carries no sales_order_id")
	}
	return out, nil
}

// CancelSalesOrder cancels a sales order and releases its stock. Cancelling a
// cancelled order succeeds; an invoiced one is a permanent error (409) until
// its invoices are voided.
func (c *Client) CancelSalesOrder(ctx context.Context, idemKey, salesOrderID string) error {
	const op = "cancel sales order"
	if err := requireKey(op, idemKey); err != nil {
		return err
	}
	path := "/v1/sales-orders/" + url.PathEscape(salesOrderID) + "/cancel"
	return c.http.Call(ctx, op, http.MethodPost, path, idemKey, nil, nil)
}

// Undo is the ERP's answer to an undo named by the idempotency key of the
// write it takes back, for a caller that lost that write's answer.
type Undo struct {
	// Found is false when nothing was ever created under the key: there was
	// nothing to undo, which is a success. The ERP then refuses any later
	// write under that key (409 undone_by_key), so nothing appears behind
	// the undo's back.
	Found bool `json:"found"`
	// SalesOrderID, InvoiceID, CreditNoteID, RMAID, WriteOffID or
	// AllocationID names what was undone when Found.
	SalesOrderID string `json:"sales_order_id,omitempty"`
	InvoiceID    string `json:"invoice_id,omitempty"`
	CreditNoteID string `json:"credit_note_id,omitempty"`
	RMAID        string `json:"rma_id,omitempty"`
	WriteOffID   string `json:"write_off_id,omitempty"`
	AllocationID string `json:"allocation_id,omitempty"`
}

// undoByKey is the body of the undo-by-key calls.
type undoByKey struct {
	ForwardKey string `json:"forward_key"`
}

// CancelSalesOrderByKey cancels the sales order created under forwardKey
// (the idempotency key CreateSalesOrder was called with) and releases its
// stock; idemKey is the cancel's own key. Undo.Found is false when no sales
// order was ever created under forwardKey. Like CancelSalesOrder, an
// invoiced sales order is a permanent error (409) until its invoices are voided.
func (c *Client) CancelSalesOrderByKey(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "cancel sales order by key"
	return c.undoByKey(ctx, op, "/v1/sales-orders/cancel-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.SalesOrderID != "" })
}

// VoidInvoiceByKey voids the invoice raised under forwardKey (the key
// CreateInvoice was called with); idemKey is the void's own key.
// Undo.Found is false when no invoice was ever raised under forwardKey.
func (c *Client) VoidInvoiceByKey(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "void invoice by key"
	return c.undoByKey(ctx, op, "/v1/invoices/void-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.InvoiceID != "" })
}

// undoByKey posts an undo of the write made under forwardKey; named reports
// whether a found undo names what it undid, as the contract promises.
func (c *Client) undoByKey(ctx context.Context, op, path, idemKey, forwardKey string, named func(Undo) bool) (Undo, error) {
	if err := requireKey(op, idemKey); err != nil {
		return Undo{}, err
	}
	if forwardKey == "" || forwardKey == idemKey {
		return Undo{}, &downstream.Error{System: System, Op: op, Permanent: true,
			Detail: "the undo needs the forward write's idempotency key, and one of its own"}
	}
	var out Undo
	if err := c.http.Call(ctx, op, http.MethodPost, path, idemKey, undoByKey{ForwardKey: forwardKey}, &out); err != nil {
		return Undo{}, err
	}
	if out.Found && !named(out) {
		return Undo{}, contractBreak(op, "the answer says found but names nothing undone")
	}
	return out, nil
}

// CreateInvoice invoices a sales order; the ERP adds the amount (the
// gross) to the customer's open receivables and answers net, tax and gross. Retrying with the same idemKey and request
// returns the same invoice. A cancelled sales order is a permanent error (409).
func (c *Client) CreateInvoice(ctx context.Context, idemKey string, r InvoiceRequest) (order.Invoice, error) {
	const op = "create invoice"
	if err := requireKey(op, idemKey); err != nil {
		return order.Invoice{}, err
	}
	var out order.Invoice
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/invoices", idemKey, r, &out); err != nil {
		return order.Invoice{}, err
	}
	if out.InvoiceID == "" || out.Number == "" {
		return order.Invoice{}, contractBreak(op, "the answer carries no invoice_id or number")
	}
	if out.Net.Currency == "" && out.Tax.Currency == "" {
		// An answer stored before the ERP split tax out: it was all net.
		out.Net, out.Tax = out.Amount, money.Zero(out.Amount.Currency)
	}
	return out, nil
}

// VoidInvoice voids an invoice and takes it off the customer's open
// receivables. Voiding a void invoice succeeds.
func (c *Client) VoidInvoice(ctx context.Context, idemKey, invoiceID string) error {
	const op = "void invoice"
	if err := requireKey(op, idemKey); err != nil {
		return err
	}
	path := "/v1/invoices/" + url.PathEscape(invoiceID) + "/void"
	return c.http.Call(ctx, op, http.MethodPost, path, idemKey, nil, nil)
}

// requireKey refuses a write without an idempotency key before it leaves:
// without one a retry could reserve or invoice twice, and no retry fixes
// the caller's omission.
func requireKey(op, idemKey string) error {
	if idemKey != "" {
		return nil
	}
	return &downstream.Error{System: System, Op: op, Permanent: true,
		Detail: "no idempotency key: every ERP write needs one"}
}

// contractBreak is a 2xx answer that lacks what the contract promises;
// retrying the same call would only get the same answer.
func contractBreak(op, detail string) error {
	return &downstream.Error{System: System, Op: op, Permanent: true, Detail: "contract break: " + detail}
}
