package erpsim

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Invoice statuses.
const (
	InvoiceOpen = "open"
	InvoiceVoid = "void"
)

// invoiceRequest is the body of POST /v1/invoices.
type invoiceRequest struct {
	OrderID      string `json:"order_id"`
	SalesOrderID string `json:"sales_order_id"`
	CustomerID   string `json:"customer_id"`
	// Amount is the gross: what the customer owes.
	Amount money.Money `json:"amount"`
	// PaymentTermsDays: the due date is that many days after the issue day.
	PaymentTermsDays int `json:"payment_terms_days"`
	// Net and Tax split Amount (net + tax = amount, in its currency). Both
	// or neither: without them the invoice is all net and no tax, as every
	// invoice was before the split. Pointers, so that a request without
	// them hashes as it did then and a key stored before still replays.
	Net *money.Money `json:"net,omitempty"`
	Tax *money.Money `json:"tax,omitempty"`
}

// split returns the invoice's net and tax: as given, or all net.
func (r invoiceRequest) split() (net, tax money.Money) {
	if r.Net == nil {
		return r.Amount, money.Zero(r.Amount.Currency)
	}
	return *r.Net, *r.Tax
}

// validateTax names what is wrong with the net and tax of a request.
func (r invoiceRequest) validateTax() *jsonapi.Error {
	bad := func(field, detail string) *jsonapi.Error {
		return &jsonapi.Error{Error: "invalid_request", Field: field, Detail: detail}
	}
	switch {
	case r.Net == nil && r.Tax == nil:
		return nil
	case r.Net == nil:
		return bad("net", "give net and tax together, or neither")
	case r.Tax == nil:
		return bad("tax", "give net and tax together, or neither")
	case r.Net.Currency != r.Amount.Currency || r.Net.Minor <= 0:
		return bad("net", "positive, in the amount's currency")
	case r.Tax.Currency != r.Amount.Currency || r.Tax.Minor < 0:
		return bad("tax", "zero or more, in the amount's currency")
	case r.Net.Minor > r.Amount.Minor || r.Net.Minor+r.Tax.Minor != r.Amount.Minor:
		return bad("amount", "net + tax must equal amount, the gross")
	}
	return nil
}

// maxPaymentTermsDays bounds the payment terms an invoice may carry.
const maxPaymentTermsDays = 365

// invoiceAnswer is the 201 answer of POST /v1/invoices.
type invoiceAnswer struct {
	InvoiceID string      `json:"invoice_id"`
	Number    string      `json:"number"`
	Amount    money.Money `json:"amount"` // the gross
	Net       money.Money `json:"net"`
	Tax       money.Money `json:"tax"`
	IssuedAt  time.Time   `json:"issued_at"`
	DueDate   time.Time   `json:"due_date"`
	Status    string      `json:"status"`
}

func (s *Sim) handleCreateInvoice(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req invoiceRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	switch {
	case req.OrderID == "" || req.SalesOrderID == "" || req.CustomerID == "":
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", "order_id, sales_order_id and customer_id are required")
		return
	case req.Amount.Minor <= 0 || !money.ValidCurrency(req.Amount.Currency):
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", "amount must be positive with an ISO 4217 currency")
		return
	case req.PaymentTermsDays < 0 || req.PaymentTermsDays > maxPaymentTermsDays:
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("payment_terms_days must be 0 to %d", maxPaymentTermsDays))
		return
	}
	if bad := req.validateTax(); bad != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, bad)
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.invoice(ctx, tx, req)
	})
}

// invoice raises an invoice on a sales order that is not cancelled and adds
// its amount to the customer's open receivables. A sales order may carry
// several invoices (invoicing per shipment).
func (s *Sim) invoice(ctx context.Context, tx pgx.Tx, req invoiceRequest) (int, any, error) {
	var orderID, customerID, currency, status string
	var replacement bool
	err := tx.QueryRow(ctx, `
		SELECT order_id, customer_id, currency, status, replaces IS NOT NULL
		FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`, req.SalesOrderID).
		Scan(&orderID, &customerID, &currency, &status, &replacement)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "sales_order_not_found", Detail: "no sales order " + req.SalesOrderID}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock sales order %s: %w", req.SalesOrderID, err)
	}
	switch {
	case status == SalesOrderCancelled:
		return http.StatusConflict, errorAnswer{Error: "sales_order_cancelled", Detail: req.SalesOrderID + " is cancelled"}, nil
	case replacement:
		return http.StatusConflict, errorAnswer{Error: "replacement_not_invoiced",
			Detail: req.SalesOrderID + " replaces goods lost or damaged: the customer is not invoiced for it"}, nil
	case customerID != req.CustomerID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
			Detail: fmt.Sprintf("%s belongs to %s, not %s", req.SalesOrderID, customerID, req.CustomerID)}, nil
	case orderID != req.OrderID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "order_mismatch",
			Detail: fmt.Sprintf("%s was raised for order %s, not %s", req.SalesOrderID, orderID, req.OrderID)}, nil
	case currency != req.Amount.Currency:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "currency_mismatch",
			Detail: fmt.Sprintf("%s is in %s, the amount in %s", req.SalesOrderID, currency, req.Amount.Currency)}, nil
	}

	var seq int64
	if err := tx.QueryRow(ctx, `
		UPDATE erpsim_counters SET value = value + 1 WHERE name = 'invoice_number' RETURNING value`).Scan(&seq); err != nil {
		return 0, nil, fmt.Errorf("next invoice number: %w", err)
	}
	issued := s.now().UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	net, tax := req.split()
	ans := invoiceAnswer{
		Number:   fmt.Sprintf("INV-%06d", seq),
		Amount:   req.Amount,
		Net:      net,
		Tax:      tax,
		IssuedAt: issued,
		DueDate:  order.DueDate(issued, req.PaymentTermsDays),
		Status:   InvoiceOpen,
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO erpsim_invoices (number, order_id, sales_order_id, customer_id, amount_minor, net_minor, tax_minor,
			currency, issued_at, due_date, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open')
		RETURNING id`,
		ans.Number, req.OrderID, req.SalesOrderID, req.CustomerID, req.Amount.Minor, net.Minor, tax.Minor,
		req.Amount.Currency, ans.IssuedAt, ans.DueDate).Scan(&ans.InvoiceID); err != nil {
		return 0, nil, fmt.Errorf("insert invoice: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO erpsim_receivables (customer_id, currency, open_minor) VALUES ($1, $2, $3)
		ON CONFLICT (customer_id, currency) DO UPDATE SET open_minor = erpsim_receivables.open_minor + EXCLUDED.open_minor`,
		req.CustomerID, req.Amount.Currency, req.Amount.Minor); err != nil {
		return 0, nil, fmt.Errorf("add invoice to receivables of %s: %w", req.CustomerID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE erpsim_sales_orders SET status = 'invoiced' WHERE id = $1`, req.SalesOrderID); err != nil {
		return 0, nil, fmt.Errorf("mark %s invoiced: %w", req.SalesOrderID, err)
	}
	if err := s.issueGoods(ctx, tx, req.SalesOrderID); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ans, nil
}

// issueGoods takes a sales order's reserved stock out of the warehouse: the
// goods have left, so on_hand and reserved both drop by the reservation. The
// simulated ERP hears nothing from the carrier, and orderflow invoices a
// sales order once its shipments are delivered, so the first invoice is the
// goods issue (with prepayment the invoice comes before shipping; the goods
// are spoken for by then all the same). A sales order is issued once: a
// second invoice, or an invoice after a void, changes no stock. The caller
// holds the sales order's lock.
func (s *Sim) issueGoods(ctx context.Context, tx pgx.Tx, salesOrderID string) error {
	tag, err := tx.Exec(ctx, `
		UPDATE erpsim_sales_orders SET goods_issued_at = $2
		WHERE id = $1 AND goods_issued_at IS NULL`, salesOrderID, s.now())
	if err != nil {
		return fmt.Errorf("issue goods of %s: %w", salesOrderID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil // issued before
	}
	// Lock order as everywhere: sales order, then stock by (warehouse, sku).
	if _, err := tx.Exec(ctx, `
		SELECT 1 FROM erpsim_stock s
		JOIN erpsim_reservations r ON r.warehouse = s.warehouse AND r.sku = s.sku
		WHERE r.sales_order_id = $1
		ORDER BY s.warehouse, s.sku
		FOR UPDATE OF s`, salesOrderID); err != nil {
		return fmt.Errorf("lock stock of %s: %w", salesOrderID, err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_stock s SET on_hand = s.on_hand - r.quantity, reserved = s.reserved - r.quantity
		FROM erpsim_reservations r
		WHERE r.sales_order_id = $1 AND s.warehouse = r.warehouse AND s.sku = r.sku`, salesOrderID); err != nil {
		return fmt.Errorf("issue goods of %s: %w", salesOrderID, err)
	}
	return nil
}

func (s *Sim) handleVoidInvoice(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.void(ctx, tx, id)
	})
}

// handleVoidInvoiceByKey voids the invoice raised under forward_key, for a
// caller that lost the invoice's answer; like cancel-by-key, nothing raised
// under the key is 200 with found false, and the key is fenced.
func (s *Sim) handleVoidInvoiceByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "invoice_id", MadeNone: "raised no invoice",
		WrongKey: "not_an_invoice_key", Undone: InvoiceVoid, Undo: s.void})
}

// void cancels an open invoice and takes what is still open on it off the
// receivables; what was paid on it is kept for the customer as a credit
// balance, to be refunded or applied, and so is what credit allocations
// applied to it from that balance (they are void with it). Its write-offs
// are void with it too: there is no debt left to give up. Voiding a void
// invoice is fine; an invoice with issued credit notes cannot be voided
// until they are (409).
// When the sales order has no open invoice left it can be cancelled again,
// which is how compensation runs: void, then cancel.
func (s *Sim) void(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	inv, found, err := lockInvoice(ctx, tx, id)
	if err != nil {
		return 0, nil, err
	}
	if !found {
		return http.StatusNotFound, errorAnswer{Error: "invoice_not_found", Detail: "no invoice " + id}, nil
	}
	done := statusAnswer{InvoiceID: id, Status: InvoiceVoid}
	switch {
	case inv.status == InvoiceVoid:
		return http.StatusOK, done, nil
	case inv.credited > 0:
		return http.StatusConflict, errorAnswer{Error: "invoice_credited",
			Detail: "void the credit notes of " + inv.number + " before voiding it"}, nil
	}
	// Lock order as in invoice(): sales order, then receivables.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`, inv.salesOrderID); err != nil {
		return 0, nil, fmt.Errorf("lock sales order %s: %w", inv.salesOrderID, err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_invoices SET status = 'void', voided_at = $2 WHERE id = $1`, id, s.now()); err != nil {
		return 0, nil, fmt.Errorf("void invoice %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_receivables SET open_minor = open_minor - $3
		WHERE customer_id = $1 AND currency = $2`, inv.customerID, inv.currency, inv.open()); err != nil {
		return 0, nil, fmt.Errorf("take invoice %s off receivables of %s: %w", id, inv.customerID, err)
	}
	if err := addCreditBalance(ctx, tx, inv.customerID, inv.currency, inv.paid+inv.allocated); err != nil {
		return 0, nil, err
	}
	if inv.writtenOff > 0 || inv.allocated > 0 {
		b := &pgx.Batch{}
		b.Queue(`UPDATE erpsim_write_offs SET status = 'void', voided_at = $2 WHERE invoice_id = $1 AND status = 'posted'`,
			id, s.now())
		b.Queue(`UPDATE erpsim_credit_allocations SET status = 'void', voided_at = $2 WHERE invoice_id = $1 AND status = 'applied'`,
			id, s.now())
		b.Queue(`UPDATE erpsim_invoices SET written_off_minor = 0, allocated_minor = 0 WHERE id = $1`, id)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return 0, nil, fmt.Errorf("void the write-offs and allocations of invoice %s: %w", id, err)
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_sales_orders SET status = 'reserved'
		WHERE id = $1 AND status = 'invoiced'
		  AND NOT EXISTS (SELECT 1 FROM erpsim_invoices WHERE sales_order_id = $1 AND status = 'open')`,
		inv.salesOrderID); err != nil {
		return 0, nil, fmt.Errorf("reopen sales order %s: %w", inv.salesOrderID, err)
	}
	return http.StatusOK, done, nil
}
