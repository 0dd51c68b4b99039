package erpsim

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Credit note kinds: what a credit note credits.
const (
	// CreditFull credits what is left to credit on the invoice.
	CreditFull = "full"
	// CreditLines credits lines of the sales order, a quantity and an
	// amount each, no more of a SKU than the sales order holds.
	CreditLines = "lines"
	// CreditAmount credits an amount.
	CreditAmount = "amount"
)

// Credit note statuses.
const (
	CreditNoteIssued = "issued"
	CreditNoteVoid   = "void"
)

// maxReason bounds a credit note's, refund's or RMA's reason.
const maxReason = 500

// CreditLine is one line of a credit note by lines: the SKU, how many of
// it, and the gross amount credited for them.
type CreditLine struct {
	SKU      string      `json:"sku"`
	Quantity int64       `json:"quantity"`
	Amount   money.Money `json:"amount"`
}

// creditNoteRequest is the body of POST /v1/credit-notes.
type creditNoteRequest struct {
	InvoiceID  string       `json:"invoice_id"`
	CustomerID string       `json:"customer_id"`
	Kind       string       `json:"kind"`
	Amount     *money.Money `json:"amount,omitempty"` // CreditAmount: the gross
	Lines      []CreditLine `json:"lines,omitempty"`  // CreditLines
	Reason     string       `json:"reason,omitempty"`
}

// validate names the first field at fault.
func (r creditNoteRequest) validate() *jsonapi.Error {
	bad := func(field, detail string) *jsonapi.Error {
		return &jsonapi.Error{Error: "invalid_request", Field: field, Detail: detail}
	}
	switch {
	case r.InvoiceID == "":
		return bad("invoice_id", "required")
	case r.CustomerID == "":
		return bad("customer_id", "required")
	case len(r.Reason) > maxReason:
		return bad("reason", fmt.Sprintf("at most %d bytes", maxReason))
	}
	switch r.Kind {
	case CreditFull:
		if r.Amount != nil || len(r.Lines) > 0 {
			return bad("kind", "a full credit note takes neither amount nor lines")
		}
	case CreditAmount:
		switch {
		case r.Amount == nil || r.Amount.Minor <= 0 || !money.ValidCurrency(r.Amount.Currency):
			return bad("amount", "a positive amount with an ISO 4217 currency")
		case len(r.Lines) > 0:
			return bad("lines", "a credit note by amount takes no lines")
		}
	case CreditLines:
		if r.Amount != nil {
			return bad("amount", "a credit note by lines is the sum of its lines")
		}
		if len(r.Lines) == 0 || len(r.Lines) > 200 {
			return bad("lines", "1 to 200 lines")
		}
		seen := map[string]bool{}
		for i, l := range r.Lines {
			field := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
			switch {
			case l.SKU == "" || len(l.SKU) > 64:
				return bad(field("sku"), "1 to 64 characters")
			case seen[l.SKU]:
				return bad(field("sku"), "appears twice; merge the lines")
			case l.Quantity <= 0 || l.Quantity > 1_000_000:
				return bad(field("quantity"), "between 1 and 1000000")
			case l.Amount.Minor <= 0 || l.Amount.Minor > 1_000_000_000_000 || l.Amount.Currency != r.Lines[0].Amount.Currency ||
				!money.ValidCurrency(l.Amount.Currency):
				return bad(field("amount"), "a positive amount, every line in one ISO 4217 currency")
			}
			seen[l.SKU] = true
		}
	default:
		return bad("kind", "one of full, lines, amount")
	}
	return nil
}

// creditNoteAnswer is the 201 of POST /v1/credit-notes.
type creditNoteAnswer struct {
	CreditNoteID  string `json:"credit_note_id"`
	Number        string `json:"number"`
	InvoiceID     string `json:"invoice_id"`
	InvoiceNumber string `json:"invoice_number"`
	Kind          string `json:"kind"`
	// Amount is the gross credited; Net + Tax = Amount, split as the
	// invoice splits its gross.
	Amount money.Money `json:"amount"`
	Net    money.Money `json:"net"`
	Tax    money.Money `json:"tax"`
	// AppliedToInvoice came off what was open on the invoice (and off the
	// receivables); ToCreditBalance, the rest, is kept for the customer.
	AppliedToInvoice money.Money  `json:"applied_to_invoice"`
	ToCreditBalance  money.Money  `json:"to_credit_balance"`
	Lines            []CreditLine `json:"lines,omitempty"`
	Status           string       `json:"status"`
	IssuedAt         time.Time    `json:"issued_at"`
}

func (s *Sim) handleCreateCreditNote(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req creditNoteRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if bad := req.validate(); bad != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, bad)
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.credit(ctx, tx, req)
	})
}

// lockedInvoice is an invoice read under its row lock.
type lockedInvoice struct {
	id, number, orderID, salesOrderID, customerID, currency, status   string
	amount, tax, paid, credited, creditApplied, writtenOff, allocated int64
}

// open is what the customer still owes on the invoice.
func (inv lockedInvoice) open() int64 {
	return inv.amount - inv.paid - inv.creditApplied - inv.writtenOff - inv.allocated
}

// lockInvoice reads invoice id FOR UPDATE; found is false when there is none.
func lockInvoice(ctx context.Context, tx pgx.Tx, id string) (inv lockedInvoice, found bool, err error) {
	err = tx.QueryRow(ctx, `
		SELECT id, number, order_id, sales_order_id, customer_id, currency, status,
		       amount_minor, tax_minor, paid_minor, credited_minor, credit_applied_minor, written_off_minor, allocated_minor
		FROM erpsim_invoices WHERE id = $1 FOR UPDATE`, id).
		Scan(&inv.id, &inv.number, &inv.orderID, &inv.salesOrderID, &inv.customerID, &inv.currency, &inv.status,
			&inv.amount, &inv.tax, &inv.paid, &inv.credited, &inv.creditApplied, &inv.writtenOff, &inv.allocated)
	if isNoRows(err) {
		return inv, false, nil
	}
	if err != nil {
		return inv, false, fmt.Errorf("lock invoice %s: %w", id, err)
	}
	return inv, true, nil
}

// credit issues a credit note on an open invoice: it takes what it credits
// off what is open on the invoice and off the customer's receivables, and
// keeps what goes beyond that as the customer's credit balance. Never more
// is credited on an invoice than its gross, nor more of a SKU than the
// sales order holds, nor what was written off on it: a credit beyond what
// is open goes to the credit balance, and written-off money was never paid.
func (s *Sim) credit(ctx context.Context, tx pgx.Tx, req creditNoteRequest) (int, any, error) {
	inv, found, err := lockInvoice(ctx, tx, req.InvoiceID)
	if err != nil {
		return 0, nil, err
	}
	if !found {
		return http.StatusNotFound, errorAnswer{Error: "invoice_not_found", Detail: "no invoice " + req.InvoiceID}, nil
	}
	creditable := inv.amount - inv.credited - inv.writtenOff
	switch {
	case inv.status == InvoiceVoid:
		return http.StatusConflict, errorAnswer{Error: "invoice_void", Detail: inv.number + " is void: there is nothing to credit"}, nil
	case inv.customerID != req.CustomerID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
			Detail: fmt.Sprintf("%s belongs to %s, not %s", inv.number, inv.customerID, req.CustomerID)}, nil
	case creditable == 0:
		return http.StatusConflict, errorAnswer{Error: "nothing_to_credit", Detail: inv.number + " is credited (or written off) in full"}, nil
	}

	amount := creditable // CreditFull
	switch req.Kind {
	case CreditAmount:
		if req.Amount.Currency != inv.currency {
			return http.StatusUnprocessableEntity, errorAnswer{Error: "currency_mismatch",
				Detail: fmt.Sprintf("%s is in %s, the credit in %s", inv.number, inv.currency, req.Amount.Currency)}, nil
		}
		amount = req.Amount.Minor
	case CreditLines:
		if req.Lines[0].Amount.Currency != inv.currency {
			return http.StatusUnprocessableEntity, errorAnswer{Error: "currency_mismatch",
				Detail: fmt.Sprintf("%s is in %s, the lines in %s", inv.number, inv.currency, req.Lines[0].Amount.Currency)}, nil
		}
		if status, refusal, err := s.checkCreditLines(ctx, tx, inv, req.Lines); err != nil || refusal != nil {
			return status, refusal, err
		}
		amount = 0
		for _, l := range req.Lines {
			amount += l.Amount.Minor // each at most 10^12, at most 200 of them
		}
	}
	if amount > creditable {
		return http.StatusUnprocessableEntity, errorAnswer{Error: "credit_exceeds_invoice",
			Detail: fmt.Sprintf("%s has %s left to credit, the credit note is %s", inv.number,
				money.New(creditable, inv.currency), money.New(amount, inv.currency))}, nil
	}

	// The tax of the credit is the invoice's share of it; the credit note
	// that completes the invoice's credit takes the rest of the tax, so a
	// fully credited invoice's credit notes add up to its tax exactly. (Not
	// the one that only reaches a write-off: the written-off part keeps its
	// share of the tax.)
	var tax int64
	if amount == inv.amount-inv.credited {
		var taxed int64
		if err := tx.QueryRow(ctx, `
			SELECT COALESCE(sum(tax_minor), 0) FROM erpsim_credit_notes WHERE invoice_id = $1 AND status = 'issued'`,
			inv.id).Scan(&taxed); err != nil {
			return 0, nil, fmt.Errorf("sum the tax credited on %s: %w", inv.number, err)
		}
		tax = max(inv.tax-taxed, 0)
	} else {
		tax = share(amount, inv.tax, inv.amount)
	}
	applied := min(inv.open(), amount)
	toBalance := amount - applied

	var seq int64
	if err := tx.QueryRow(ctx, `
		UPDATE erpsim_counters SET value = value + 1 WHERE name = 'credit_note_number' RETURNING value`).Scan(&seq); err != nil {
		return 0, nil, fmt.Errorf("next credit note number: %w", err)
	}
	cur := inv.currency
	ans := creditNoteAnswer{
		Number:           fmt.Sprintf("CN-%06d", seq),
		InvoiceID:        inv.id,
		InvoiceNumber:    inv.number,
		Kind:             req.Kind,
		Amount:           money.New(amount, cur),
		Net:              money.New(amount-tax, cur),
		Tax:              money.New(tax, cur),
		AppliedToInvoice: money.New(applied, cur),
		ToCreditBalance:  money.New(toBalance, cur),
		Lines:            req.Lines,
		Status:           CreditNoteIssued,
		IssuedAt:         s.now().UTC().Truncate(time.Microsecond),
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO erpsim_credit_notes (number, invoice_id, order_id, customer_id, kind, currency, amount_minor,
			net_minor, tax_minor, applied_minor, to_balance_minor, reason, status, issued_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'issued', $13)
		RETURNING id`,
		ans.Number, inv.id, inv.orderID, inv.customerID, req.Kind, cur, amount, amount-tax, tax, applied, toBalance,
		strings.TrimSpace(req.Reason), ans.IssuedAt).Scan(&ans.CreditNoteID); err != nil {
		return 0, nil, fmt.Errorf("insert credit note: %w", err)
	}
	b := &pgx.Batch{}
	for i, l := range req.Lines {
		b.Queue(`
			INSERT INTO erpsim_credit_note_lines (credit_note_id, position, sku, quantity, amount_minor)
			VALUES ($1, $2, $3, $4, $5)`, ans.CreditNoteID, i, l.SKU, l.Quantity, l.Amount.Minor)
	}
	b.Queue(`
		UPDATE erpsim_invoices SET credited_minor = credited_minor + $2, credit_applied_minor = credit_applied_minor + $3
		WHERE id = $1`, inv.id, amount, applied)
	b.Queue(`
		UPDATE erpsim_receivables SET open_minor = open_minor - $3
		WHERE customer_id = $1 AND currency = $2`, inv.customerID, cur, applied)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("book credit note %s: %w", ans.Number, err)
	}
	if err := addCreditBalance(ctx, tx, inv.customerID, cur, toBalance); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ans, nil
}

// checkCreditLines refuses lines that name a SKU the invoice's sales order
// does not hold, or credit more of a SKU than the sales order holds less
// what issued credit notes on any of its invoices credited already.
func (s *Sim) checkCreditLines(ctx context.Context, tx pgx.Tx, inv lockedInvoice, lines []CreditLine) (int, any, error) {
	rows, err := tx.Query(ctx, `
		SELECT l.sku, l.quantity - COALESCE((
			SELECT sum(cl.quantity) FROM erpsim_credit_note_lines cl
			JOIN erpsim_credit_notes cn ON cn.id = cl.credit_note_id
			JOIN erpsim_invoices i ON i.id = cn.invoice_id
			WHERE i.sales_order_id = l.sales_order_id AND cn.status = 'issued' AND cl.sku = l.sku), 0)
		FROM erpsim_sales_order_lines l
		WHERE l.sales_order_id = $1`, inv.salesOrderID)
	if err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", inv.salesOrderID, err)
	}
	left := map[string]int64{}
	var sku string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &n}, func() error { left[sku] = n; return nil }); err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", inv.salesOrderID, err)
	}
	for _, l := range lines {
		rest, ok := left[l.SKU]
		switch {
		case !ok:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "sku_not_invoiced", SKU: l.SKU,
				Detail: fmt.Sprintf("%s holds no %s", inv.number, l.SKU)}, nil
		case l.Quantity > rest:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "credit_exceeds_quantity", SKU: l.SKU,
				Detail: fmt.Sprintf("%d of %s left to credit, %d asked", rest, l.SKU, l.Quantity)}, nil
		}
	}
	return 0, nil, nil
}

// share is part/whole of amount, rounded half up to the minor unit; the
// product is taken in big integers, as amounts up to 10^12 overflow int64
// when multiplied.
func share(part, amount, whole int64) int64 {
	if whole == 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(part), big.NewInt(amount))
	n.Mul(n, big.NewInt(2))
	n.Add(n, big.NewInt(whole))
	n.Quo(n, new(big.Int).Mul(big.NewInt(whole), big.NewInt(2)))
	return n.Int64()
}

// addCreditBalance adds minor (which may be negative) to the customer's
// credit balance in currency. A balance that would go below zero is
// refused by the table's check; callers check first.
func addCreditBalance(ctx context.Context, tx pgx.Tx, customerID, currency string, minor int64) error {
	switch {
	case minor == 0:
		return nil
	case minor < 0:
		// Only a balance that exists can go down; an INSERT of a negative
		// row would fail the check before ON CONFLICT is looked at.
		if _, err := tx.Exec(ctx, `
			UPDATE erpsim_credit_balances SET balance_minor = balance_minor + $3
			WHERE customer_id = $1 AND currency = $2`, customerID, currency, minor); err != nil {
			return fmt.Errorf("credit balance of %s in %s: %w", customerID, currency, err)
		}
		return nil
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO erpsim_credit_balances (customer_id, currency, balance_minor) VALUES ($1, $2, $3)
		ON CONFLICT (customer_id, currency) DO UPDATE SET balance_minor = erpsim_credit_balances.balance_minor + EXCLUDED.balance_minor`,
		customerID, currency, minor); err != nil {
		return fmt.Errorf("credit balance of %s in %s: %w", customerID, currency, err)
	}
	return nil
}

// lockCreditBalance reads the customer's credit balance in currency FOR
// UPDATE; none is zero.
func lockCreditBalance(ctx context.Context, tx pgx.Tx, customerID, currency string) (int64, error) {
	var balance int64
	err := tx.QueryRow(ctx, `
		SELECT balance_minor FROM erpsim_credit_balances WHERE customer_id = $1 AND currency = $2 FOR UPDATE`,
		customerID, currency).Scan(&balance)
	if err != nil && !isNoRows(err) {
		return 0, fmt.Errorf("lock credit balance of %s in %s: %w", customerID, currency, err)
	}
	return balance, nil
}

func (s *Sim) handleVoidCreditNote(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.voidCreditNote(ctx, tx, id)
	})
}

// handleVoidCreditNoteByKey voids the credit note issued under forward_key;
// like the other undos by key, nothing issued under it is 200 with found
// false, and the key is fenced.
func (s *Sim) handleVoidCreditNoteByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "credit_note_id", MadeNone: "issued no credit note",
		WrongKey: "not_a_credit_note_key", Undone: CreditNoteVoid, Undo: s.voidCreditNote})
}

// creditNoteStatus is the answer of a credit note's void.
type creditNoteStatus struct {
	CreditNoteID string `json:"credit_note_id"`
	Status       string `json:"status"`
}

// voidCreditNote takes a credit note back: what it took off the invoice is
// open again (and owed in the receivables), what it put on the customer's
// credit balance comes off it. Voiding a void credit note is fine; one
// whose credit balance was refunded meanwhile cannot be voided (409).
func (s *Sim) voidCreditNote(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var invoiceID string
	err := tx.QueryRow(ctx, `SELECT invoice_id FROM erpsim_credit_notes WHERE id = $1`, id).Scan(&invoiceID)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "credit_note_not_found", Detail: "no credit note " + id}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read credit note %s: %w", id, err)
	}
	// Lock order as in credit(): the invoice first.
	if _, _, err := lockInvoice(ctx, tx, invoiceID); err != nil {
		return 0, nil, err
	}
	var number, customerID, currency, status string
	var amount, applied, toBalance int64
	if err := tx.QueryRow(ctx, `
		SELECT number, customer_id, currency, status, amount_minor, applied_minor, to_balance_minor
		FROM erpsim_credit_notes WHERE id = $1 FOR UPDATE`, id).
		Scan(&number, &customerID, &currency, &status, &amount, &applied, &toBalance); err != nil {
		return 0, nil, fmt.Errorf("lock credit note %s: %w", id, err)
	}
	done := creditNoteStatus{CreditNoteID: id, Status: CreditNoteVoid}
	if status == CreditNoteVoid {
		return http.StatusOK, done, nil
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE erpsim_credit_notes SET status = 'void', voided_at = $2 WHERE id = $1`, id, s.now())
	b.Queue(`
		UPDATE erpsim_invoices SET credited_minor = credited_minor - $2, credit_applied_minor = credit_applied_minor - $3
		WHERE id = $1`, invoiceID, amount, applied)
	b.Queue(`
		UPDATE erpsim_receivables SET open_minor = open_minor + $3
		WHERE customer_id = $1 AND currency = $2`, customerID, currency, applied)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("void credit note %s: %w", number, err)
	}
	// Balances are locked after receivables, everywhere; a refusal here
	// rolls the updates above back.
	balance, err := lockCreditBalance(ctx, tx, customerID, currency)
	if err != nil {
		return 0, nil, err
	}
	if balance < toBalance {
		return http.StatusConflict, errorAnswer{Error: "credit_note_refunded",
			Detail: fmt.Sprintf("%s put %s on the credit balance of %s, which holds %s now: it was refunded or applied",
				number, money.New(toBalance, currency), customerID, money.New(balance, currency))}, nil
	}
	if err := addCreditBalance(ctx, tx, customerID, currency, -toBalance); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, done, nil
}
