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

// Write-off statuses.
const (
	WriteOffPosted = "posted"
	WriteOffVoid   = "void"
)

// Credit allocation statuses.
const (
	AllocationApplied = "applied"
	AllocationVoid    = "void"
)

// ledgerRequest is the body of POST /v1/write-offs and POST
// /v1/credit-allocations: an amount against one of the customer's invoices.
type ledgerRequest struct {
	InvoiceID  string      `json:"invoice_id"`
	CustomerID string      `json:"customer_id"`
	Amount     money.Money `json:"amount"`
	Reason     string      `json:"reason,omitempty"`
}

// validate names the first field at fault; a write-off must say why.
func (r ledgerRequest) validate(reasonRequired bool) *jsonapi.Error {
	bad := func(field, detail string) *jsonapi.Error {
		return &jsonapi.Error{Error: "invalid_request", Field: field, Detail: detail}
	}
	switch {
	case r.InvoiceID == "":
		return bad("invoice_id", "required")
	case r.CustomerID == "":
		return bad("customer_id", "required")
	case r.Amount.Minor <= 0 || !money.ValidCurrency(r.Amount.Currency):
		return bad("amount", "a positive amount with an ISO 4217 currency")
	case reasonRequired && strings.TrimSpace(r.Reason) == "":
		return bad("reason", "required: a write-off says why")
	case len(r.Reason) > maxReason:
		return bad("reason", fmt.Sprintf("at most %d bytes", maxReason))
	}
	return nil
}

// lockOpenInvoice locks the request's invoice and refuses one that cannot
// take an amount off what is open on it: unknown (404), void (409
// invoice_void), another customer's (422 customer_mismatch), in another
// currency (422 naming amount), or with nothing open (409 invoice_settled).
// refusal is nil when the invoice is usable.
func lockOpenInvoice(ctx context.Context, tx pgx.Tx, req ledgerRequest) (inv lockedInvoice, status int, refusal any, err error) {
	inv, found, err := lockInvoice(ctx, tx, req.InvoiceID)
	switch {
	case err != nil:
		return inv, 0, nil, err
	case !found:
		return inv, http.StatusNotFound, errorAnswer{Error: "invoice_not_found", Detail: "no invoice " + req.InvoiceID}, nil
	case inv.status == InvoiceVoid:
		return inv, http.StatusConflict, errorAnswer{Error: "invoice_void", Detail: inv.number + " is void"}, nil
	case inv.customerID != req.CustomerID:
		return inv, http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
			Detail: fmt.Sprintf("%s belongs to %s, not %s", inv.number, inv.customerID, req.CustomerID)}, nil
	case inv.currency != req.Amount.Currency:
		return inv, http.StatusUnprocessableEntity, jsonapi.Error{Error: "currency_mismatch", Field: "amount",
			Detail: fmt.Sprintf("%s is in %s, the amount in %s", inv.number, inv.currency, req.Amount.Currency)}, nil
	case inv.open() == 0:
		return inv, http.StatusConflict, errorAnswer{Error: "invoice_settled",
			Detail: inv.number + " has nothing open: it is paid, credited, written off or allocated in full"}, nil
	}
	return inv, 0, nil, nil
}

// nextNumber draws the next number of a gapless counter, in tx.
func nextNumber(ctx context.Context, tx pgx.Tx, counter, prefix string) (string, error) {
	var seq int64
	if err := tx.QueryRow(ctx, `
		UPDATE erpsim_counters SET value = value + 1 WHERE name = $1 RETURNING value`, counter).Scan(&seq); err != nil {
		return "", fmt.Errorf("next %s: %w", counter, err)
	}
	return fmt.Sprintf("%s-%06d", prefix, seq), nil
}

// writeOffAnswer is the 201 of POST /v1/write-offs.
type writeOffAnswer struct {
	WriteOffID    string      `json:"write_off_id"`
	InvoiceID     string      `json:"invoice_id"`
	InvoiceNumber string      `json:"invoice_number"`
	Amount        money.Money `json:"amount"`
	// InvoiceOpenAfter is what is still open on the invoice; zero settles it.
	InvoiceOpenAfter money.Money `json:"invoice_open_after"`
	Status           string      `json:"status"`
	CreatedAt        time.Time   `json:"created_at"`
}

func (s *Sim) handleCreateWriteOff(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req ledgerRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if bad := req.validate(true); bad != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, bad)
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.writeOff(ctx, tx, req)
	})
}

// writeOff gives up part or all of what is open on an invoice: it comes off
// the invoice and the customer's receivables, and no money moves. Never
// more than is open (422 write_off_exceeds_open, naming amount); an invoice
// with nothing open left is settled, as one paid in full is.
func (s *Sim) writeOff(ctx context.Context, tx pgx.Tx, req ledgerRequest) (int, any, error) {
	inv, status, refusal, err := lockOpenInvoice(ctx, tx, req)
	if err != nil || refusal != nil {
		return status, refusal, err
	}
	cur := inv.currency
	if req.Amount.Minor > inv.open() {
		return http.StatusUnprocessableEntity, jsonapi.Error{Error: "write_off_exceeds_open", Field: "amount",
			Detail: fmt.Sprintf("%s has %s open; %s cannot be written off", inv.number, money.New(inv.open(), cur), req.Amount)}, nil
	}
	id, err := nextNumber(ctx, tx, "write_off_number", "WO")
	if err != nil {
		return 0, nil, err
	}
	ans := writeOffAnswer{WriteOffID: id, InvoiceID: inv.id, InvoiceNumber: inv.number, Amount: req.Amount,
		InvoiceOpenAfter: money.New(inv.open()-req.Amount.Minor, cur), Status: WriteOffPosted,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	b := &pgx.Batch{}
	b.Queue(`
		INSERT INTO erpsim_write_offs (id, invoice_id, order_id, customer_id, currency, amount_minor, reason, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'posted', $8)`,
		id, inv.id, inv.orderID, inv.customerID, cur, req.Amount.Minor, strings.TrimSpace(req.Reason), ans.CreatedAt)
	b.Queue(`UPDATE erpsim_invoices SET written_off_minor = written_off_minor + $2 WHERE id = $1`, inv.id, req.Amount.Minor)
	b.Queue(`
		UPDATE erpsim_receivables SET open_minor = open_minor - $3
		WHERE customer_id = $1 AND currency = $2`, inv.customerID, cur, req.Amount.Minor)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("book write-off %s: %w", id, err)
	}
	return http.StatusCreated, ans, nil
}

// handleVoidWriteOffByKey voids the write-off posted under forward_key; like
// the other undos by key, nothing posted under it is 200 with found false,
// and the key is fenced.
func (s *Sim) handleVoidWriteOffByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "write_off_id", MadeNone: "posted no write-off",
		WrongKey: "not_a_write_off_key", Undone: WriteOffVoid, Undo: s.voidWriteOff})
}

// voidWriteOff takes a write-off back: the invoice is open again by its
// amount, and so are the receivables. Voiding a void write-off (or one
// voided with its invoice) is fine.
func (s *Sim) voidWriteOff(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var invoiceID string
	err := tx.QueryRow(ctx, `SELECT invoice_id FROM erpsim_write_offs WHERE id = $1`, id).Scan(&invoiceID)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "write_off_not_found", Detail: "no write-off " + id}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read write-off %s: %w", id, err)
	}
	// Lock order as in writeOff(): the invoice first.
	if _, _, err := lockInvoice(ctx, tx, invoiceID); err != nil {
		return 0, nil, err
	}
	var customerID, currency, status string
	var amount int64
	if err := tx.QueryRow(ctx, `
		SELECT customer_id, currency, status, amount_minor FROM erpsim_write_offs WHERE id = $1 FOR UPDATE`, id).
		Scan(&customerID, &currency, &status, &amount); err != nil {
		return 0, nil, fmt.Errorf("lock write-off %s: %w", id, err)
	}
	done := map[string]string{"write_off_id": id, "status": WriteOffVoid}
	if status == WriteOffVoid {
		return http.StatusOK, done, nil
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE erpsim_write_offs SET status = 'void', voided_at = $2 WHERE id = $1`, id, s.now())
	b.Queue(`UPDATE erpsim_invoices SET written_off_minor = written_off_minor - $2 WHERE id = $1`, invoiceID, amount)
	b.Queue(`
		UPDATE erpsim_receivables SET open_minor = open_minor + $3
		WHERE customer_id = $1 AND currency = $2`, customerID, currency, amount)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("void write-off %s: %w", id, err)
	}
	return http.StatusOK, done, nil
}

// allocationAnswer is the 201 of POST /v1/credit-allocations.
type allocationAnswer struct {
	AllocationID  string `json:"allocation_id"`
	InvoiceID     string `json:"invoice_id"`
	InvoiceNumber string `json:"invoice_number"`
	// Applied is what came off the credit balance and the invoice: the
	// amount asked.
	Applied            money.Money `json:"applied"`
	CreditBalanceAfter money.Money `json:"credit_balance_after"`
	InvoiceOpenAfter   money.Money `json:"invoice_open_after"`
	Status             string      `json:"status"`
	CreatedAt          time.Time   `json:"created_at"`
}

func (s *Sim) handleCreateAllocation(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req ledgerRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if bad := req.validate(false); bad != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, bad)
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.allocate(ctx, tx, req)
	})
}

// allocate applies part of the customer's credit balance to one of its open
// invoices in the same currency: the amount comes off the balance, the
// invoice and the receivables. Never more than is open on the invoice (422
// allocation_exceeds_open) nor more than the balance (422
// allocation_exceeds_credit_balance), both naming amount.
func (s *Sim) allocate(ctx context.Context, tx pgx.Tx, req ledgerRequest) (int, any, error) {
	inv, status, refusal, err := lockOpenInvoice(ctx, tx, req)
	if err != nil || refusal != nil {
		return status, refusal, err
	}
	cur := inv.currency
	if req.Amount.Minor > inv.open() {
		return http.StatusUnprocessableEntity, jsonapi.Error{Error: "allocation_exceeds_open", Field: "amount",
			Detail: fmt.Sprintf("%s has %s open; %s cannot be applied to it", inv.number, money.New(inv.open(), cur), req.Amount)}, nil
	}
	// Balances are locked after receivables, everywhere: take the amount
	// off the receivables first; a refusal below rolls it back.
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_receivables SET open_minor = open_minor - $3
		WHERE customer_id = $1 AND currency = $2`, inv.customerID, cur, req.Amount.Minor); err != nil {
		return 0, nil, fmt.Errorf("take allocation off receivables of %s: %w", inv.customerID, err)
	}
	balance, err := lockCreditBalance(ctx, tx, inv.customerID, cur)
	if err != nil {
		return 0, nil, err
	}
	if req.Amount.Minor > balance {
		return http.StatusUnprocessableEntity, jsonapi.Error{Error: "allocation_exceeds_credit_balance", Field: "amount",
			Detail: fmt.Sprintf("the ERP holds %s for %s; %s cannot be applied", money.New(balance, cur), inv.customerID, req.Amount)}, nil
	}
	id, err := nextNumber(ctx, tx, "credit_allocation_number", "CA")
	if err != nil {
		return 0, nil, err
	}
	ans := allocationAnswer{AllocationID: id, InvoiceID: inv.id, InvoiceNumber: inv.number, Applied: req.Amount,
		CreditBalanceAfter: money.New(balance-req.Amount.Minor, cur),
		InvoiceOpenAfter:   money.New(inv.open()-req.Amount.Minor, cur),
		Status:             AllocationApplied, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	b := &pgx.Batch{}
	b.Queue(`
		INSERT INTO erpsim_credit_allocations (id, invoice_id, order_id, customer_id, currency, amount_minor, reason, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'applied', $8)`,
		id, inv.id, inv.orderID, inv.customerID, cur, req.Amount.Minor, strings.TrimSpace(req.Reason), ans.CreatedAt)
	b.Queue(`UPDATE erpsim_invoices SET allocated_minor = allocated_minor + $2 WHERE id = $1`, inv.id, req.Amount.Minor)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("book credit allocation %s: %w", id, err)
	}
	if err := addCreditBalance(ctx, tx, inv.customerID, cur, -req.Amount.Minor); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ans, nil
}

// handleVoidAllocationByKey voids the credit allocation made under
// forward_key; like the other undos by key, nothing made under it is 200
// with found false, and the key is fenced.
func (s *Sim) handleVoidAllocationByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "allocation_id", MadeNone: "made no credit allocation",
		WrongKey: "not_a_credit_allocation_key", Undone: AllocationVoid, Undo: s.voidAllocation})
}

// voidAllocation takes a credit allocation back: the invoice and the
// receivables are open again by its amount, and the credit balance gets it
// back. Voiding a void allocation (or one voided with its invoice) is fine.
// One whose money a credit note has since moved on to the credit balance
// (the invoice was credited beyond what was open) cannot be voided (409
// allocation_credited): the balance would get it twice. Void the credit
// note first.
func (s *Sim) voidAllocation(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var invoiceID string
	err := tx.QueryRow(ctx, `SELECT invoice_id FROM erpsim_credit_allocations WHERE id = $1`, id).Scan(&invoiceID)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "credit_allocation_not_found", Detail: "no credit allocation " + id}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read credit allocation %s: %w", id, err)
	}
	// Lock order as in allocate(): the invoice first.
	inv, _, err := lockInvoice(ctx, tx, invoiceID)
	if err != nil {
		return 0, nil, err
	}
	var customerID, currency, status string
	var amount int64
	if err := tx.QueryRow(ctx, `
		SELECT customer_id, currency, status, amount_minor FROM erpsim_credit_allocations WHERE id = $1 FOR UPDATE`, id).
		Scan(&customerID, &currency, &status, &amount); err != nil {
		return 0, nil, fmt.Errorf("lock credit allocation %s: %w", id, err)
	}
	done := map[string]string{"allocation_id": id, "status": AllocationVoid}
	if status == AllocationVoid {
		return http.StatusOK, done, nil
	}
	if inv.credited-inv.creditApplied > inv.paid+inv.allocated-amount {
		return http.StatusConflict, errorAnswer{Error: "allocation_credited",
			Detail: fmt.Sprintf("credit notes on %s moved %s to the credit balance of %s, part of it this allocation's; void them first",
				inv.number, money.New(inv.credited-inv.creditApplied, currency), customerID)}, nil
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE erpsim_credit_allocations SET status = 'void', voided_at = $2 WHERE id = $1`, id, s.now())
	b.Queue(`UPDATE erpsim_invoices SET allocated_minor = allocated_minor - $2 WHERE id = $1`, invoiceID, amount)
	b.Queue(`
		UPDATE erpsim_receivables SET open_minor = open_minor + $3
		WHERE customer_id = $1 AND currency = $2`, customerID, currency, amount)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("void credit allocation %s: %w", id, err)
	}
	if err := addCreditBalance(ctx, tx, customerID, currency, amount); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, done, nil
}

// WriteOff is a write-off as the simulated ERP keeps it.
type WriteOff struct {
	ID            string      `json:"write_off_id"`
	InvoiceID     string      `json:"invoice_id"`
	InvoiceNumber string      `json:"invoice_number"`
	OrderID       string      `json:"order_id"`
	CustomerID    string      `json:"customer_id"`
	Amount        money.Money `json:"amount"`
	Reason        string      `json:"reason"`
	Status        string      `json:"status"` // WriteOffPosted or WriteOffVoid
	CreatedAt     time.Time   `json:"created_at"`
	VoidedAt      time.Time   `json:"voided_at,omitzero"`
}

// WriteOffs returns the write-offs on customerID's invoices (every
// write-off when it is empty), in number order.
func (s *Sim) WriteOffs(ctx context.Context, customerID string) ([]WriteOff, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT w.id, w.invoice_id, i.number, w.order_id, w.customer_id, w.amount_minor, w.currency, w.reason,
		       w.status, w.created_at, w.voided_at
		FROM erpsim_write_offs w JOIN erpsim_invoices i ON i.id = w.invoice_id
		WHERE $1 = '' OR w.customer_id = $1
		ORDER BY w.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list write-offs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WriteOff, error) {
		var wo WriteOff
		var voided *time.Time
		err := row.Scan(&wo.ID, &wo.InvoiceID, &wo.InvoiceNumber, &wo.OrderID, &wo.CustomerID, &wo.Amount.Minor,
			&wo.Amount.Currency, &wo.Reason, &wo.Status, &wo.CreatedAt, &voided)
		wo.CreatedAt = wo.CreatedAt.UTC()
		if voided != nil {
			wo.VoidedAt = voided.UTC()
		}
		return wo, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list write-offs: %w", err)
	}
	return out, nil
}

// CreditAllocation is a credit allocation as the simulated ERP keeps it.
type CreditAllocation struct {
	ID            string      `json:"allocation_id"`
	InvoiceID     string      `json:"invoice_id"`
	InvoiceNumber string      `json:"invoice_number"`
	OrderID       string      `json:"order_id"`
	CustomerID    string      `json:"customer_id"`
	Amount        money.Money `json:"amount"`
	Reason        string      `json:"reason,omitempty"`
	Status        string      `json:"status"` // AllocationApplied or AllocationVoid
	CreatedAt     time.Time   `json:"created_at"`
	VoidedAt      time.Time   `json:"voided_at,omitzero"`
}

// CreditAllocations returns the credit allocations of customerID (every
// allocation when it is empty), in number order.
func (s *Sim) CreditAllocations(ctx context.Context, customerID string) ([]CreditAllocation, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.id, a.invoice_id, i.number, a.order_id, a.customer_id, a.amount_minor, a.currency, a.reason,
		       a.status, a.created_at, a.voided_at
		FROM erpsim_credit_allocations a JOIN erpsim_invoices i ON i.id = a.invoice_id
		WHERE $1 = '' OR a.customer_id = $1
		ORDER BY a.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit allocations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CreditAllocation, error) {
		var a CreditAllocation
		var voided *time.Time
		err := row.Scan(&a.ID, &a.InvoiceID, &a.InvoiceNumber, &a.OrderID, &a.CustomerID, &a.Amount.Minor,
			&a.Amount.Currency, &a.Reason, &a.Status, &a.CreatedAt, &voided)
		a.CreatedAt = a.CreatedAt.UTC()
		if voided != nil {
			a.VoidedAt = voided.UTC()
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit allocations: %w", err)
	}
	return out, nil
}
