package erpsim

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// SalesOrder is a sales order as the simulated ERP keeps it, for tests and
// the /sim endpoints.
type SalesOrder struct {
	ID         string `json:"sales_order_id"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	Currency   string `json:"currency"`
	// Status is SalesOrderReserved, SalesOrderInvoiced, SalesOrderCancelled
	// or, for a replacement, SalesOrderIssued.
	Status string `json:"status"`
	// Replaces is the sales order a replacement order replaces.
	Replaces     string        `json:"replaces,omitempty"`
	Lines        []order.Line  `json:"lines"`
	Reservations []Reservation `json:"reservations"`
	CreatedAt    time.Time     `json:"created_at"`
	CancelledAt  time.Time     `json:"cancelled_at,omitzero"`
	// GoodsIssuedAt is when the reserved stock left the warehouse (the
	// first invoice); zero while it is still reserved.
	GoodsIssuedAt time.Time `json:"goods_issued_at,omitzero"`
}

// Invoice is an invoice as the simulated ERP keeps it.
type Invoice struct {
	ID           string `json:"invoice_id"`
	Number       string `json:"number"`
	OrderID      string `json:"order_id"`
	SalesOrderID string `json:"sales_order_id"`
	CustomerID   string `json:"customer_id"`
	// Amount is the gross; Net + Tax = Amount.
	Amount money.Money `json:"amount"`
	Net    money.Money `json:"net"`
	Tax    money.Money `json:"tax"`
	// Paid is what the bank's statement lines applied to it (PostBankPayment).
	Paid money.Money `json:"paid"`
	// Credited is what issued credit notes credit on it.
	Credited money.Money `json:"credited"`
	// WrittenOff is what posted write-offs gave up on it; Allocated what
	// credit allocations applied to it from the customer's credit balance.
	WrittenOff money.Money `json:"written_off"`
	Allocated  money.Money `json:"allocated"`
	// Open is what the customer still owes on it: zero once it is settled
	// (paid, credited, written off or allocated in full), and on a void one.
	// A settled invoice keeps the status open; a later payment naming it
	// goes to the credit balance.
	Open     money.Money `json:"open"`
	IssuedAt time.Time   `json:"issued_at"`
	DueDate  time.Time   `json:"due_date"`
	Status   string      `json:"status"` // InvoiceOpen or InvoiceVoid
	VoidedAt time.Time   `json:"voided_at,omitzero"`
}

// StockLevel is one warehouse's stock of one SKU.
type StockLevel struct {
	Warehouse string `json:"warehouse"`
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	// Available is what a new sales order can still reserve.
	Available int64 `json:"available"`
}

// SalesOrders returns the sales orders raised for orderflow's order orderID
// (every sales order when orderID is empty), oldest first, with their lines
// and reservations.
func (s *Sim) SalesOrders(ctx context.Context, orderID string) ([]SalesOrder, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, customer_id, currency, status, COALESCE(replaces, ''), created_at, cancelled_at, goods_issued_at
		FROM erpsim_sales_orders
		WHERE $1 = '' OR order_id = $1
		ORDER BY created_at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list sales orders: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SalesOrder, error) {
		var so SalesOrder
		var cancelled, issued *time.Time
		err := row.Scan(&so.ID, &so.OrderID, &so.CustomerID, &so.Currency, &so.Status, &so.Replaces, &so.CreatedAt, &cancelled, &issued)
		if cancelled != nil {
			so.CancelledAt = cancelled.UTC()
		}
		if issued != nil {
			so.GoodsIssuedAt = issued.UTC()
		}
		so.CreatedAt = so.CreatedAt.UTC()
		return so, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list sales orders: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	index := make(map[string]int, len(out))
	for i, so := range out {
		ids[i], index[so.ID] = so.ID, i
	}

	rows, err = s.pool.Query(ctx, `
		SELECT sales_order_id, sku, quantity
		FROM erpsim_sales_order_lines
		WHERE sales_order_id = ANY($1)
		ORDER BY sales_order_id, position`, ids)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list sales order lines: %w", err)
	}
	var soID string
	var l order.Line
	if _, err := pgx.ForEachRow(rows, []any{&soID, &l.SKU, &l.Quantity}, func() error {
		so := &out[index[soID]]
		so.Lines = append(so.Lines, l)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("erpsim: list sales order lines: %w", err)
	}

	// Reservations come back per warehouse in name order, lines in the order
	// the sales order listed them: the same shape the create answer had.
	rows, err = s.pool.Query(ctx, `
		SELECT r.sales_order_id, r.warehouse, r.sku, r.quantity
		FROM erpsim_reservations r
		JOIN erpsim_sales_order_lines l ON l.sales_order_id = r.sales_order_id AND l.sku = r.sku
		WHERE r.sales_order_id = ANY($1)
		ORDER BY r.sales_order_id, r.warehouse, l.position`, ids)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list reservations: %w", err)
	}
	var wh string
	if _, err := pgx.ForEachRow(rows, []any{&soID, &wh, &l.SKU, &l.Quantity}, func() error {
		so := &out[index[soID]]
		if n := len(so.Reservations); n == 0 || so.Reservations[n-1].Warehouse != wh {
			so.Reservations = append(so.Reservations, Reservation{Warehouse: wh})
		}
		r := &so.Reservations[len(so.Reservations)-1]
		r.Lines = append(r.Lines, l)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("erpsim: list reservations: %w", err)
	}
	return out, nil
}

// Invoices returns the invoices raised for orderflow's order orderID (every
// invoice when orderID is empty), in number order.
func (s *Sim) Invoices(ctx context.Context, orderID string) ([]Invoice, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, number, order_id, sales_order_id, customer_id, amount_minor, net_minor, tax_minor, paid_minor,
		       credited_minor, written_off_minor, allocated_minor,
		       CASE WHEN status = 'void' THEN 0
		            ELSE amount_minor - paid_minor - credit_applied_minor - written_off_minor - allocated_minor END,
		       currency, issued_at, due_date, status, voided_at
		FROM erpsim_invoices
		WHERE $1 = '' OR order_id = $1
		ORDER BY number`, orderID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list invoices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Invoice, error) {
		var inv Invoice
		var voided *time.Time
		err := row.Scan(&inv.ID, &inv.Number, &inv.OrderID, &inv.SalesOrderID, &inv.CustomerID,
			&inv.Amount.Minor, &inv.Net.Minor, &inv.Tax.Minor, &inv.Paid.Minor, &inv.Credited.Minor,
			&inv.WrittenOff.Minor, &inv.Allocated.Minor, &inv.Open.Minor, &inv.Amount.Currency,
			&inv.IssuedAt, &inv.DueDate, &inv.Status, &voided)
		cur := inv.Amount.Currency
		inv.Net.Currency, inv.Tax.Currency, inv.Paid.Currency, inv.Credited.Currency = cur, cur, cur, cur
		inv.WrittenOff.Currency, inv.Allocated.Currency, inv.Open.Currency = cur, cur, cur
		inv.IssuedAt, inv.DueDate = inv.IssuedAt.UTC(), inv.DueDate.UTC()
		if voided != nil {
			inv.VoidedAt = voided.UTC()
		}
		return inv, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list invoices: %w", err)
	}
	return out, nil
}

// CreditNote is a credit note as the simulated ERP keeps it.
type CreditNote struct {
	ID            string       `json:"credit_note_id"`
	Number        string       `json:"number"`
	InvoiceID     string       `json:"invoice_id"`
	OrderID       string       `json:"order_id"`
	CustomerID    string       `json:"customer_id"`
	Kind          string       `json:"kind"`
	Amount        money.Money  `json:"amount"`
	Net           money.Money  `json:"net"`
	Tax           money.Money  `json:"tax"`
	Applied       money.Money  `json:"applied_to_invoice"`
	ToBalance     money.Money  `json:"to_credit_balance"`
	Lines         []CreditLine `json:"lines,omitempty"`
	Reason        string       `json:"reason,omitempty"`
	Status        string       `json:"status"` // CreditNoteIssued or CreditNoteVoid
	IssuedAt      time.Time    `json:"issued_at"`
	VoidedAt      time.Time    `json:"voided_at,omitzero"`
	InvoiceNumber string       `json:"invoice_number"`
}

// CreditNotes returns the credit notes issued for orderflow's order orderID
// (every credit note when orderID is empty), in number order.
func (s *Sim) CreditNotes(ctx context.Context, orderID string) ([]CreditNote, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT cn.id, cn.number, cn.invoice_id, i.number, cn.order_id, cn.customer_id, cn.kind, cn.currency,
		       cn.amount_minor, cn.net_minor, cn.tax_minor, cn.applied_minor, cn.to_balance_minor, cn.reason,
		       cn.status, cn.issued_at, cn.voided_at
		FROM erpsim_credit_notes cn JOIN erpsim_invoices i ON i.id = cn.invoice_id
		WHERE $1 = '' OR cn.order_id = $1
		ORDER BY cn.number`, orderID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit notes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CreditNote, error) {
		var cn CreditNote
		var cur string
		var voided *time.Time
		err := row.Scan(&cn.ID, &cn.Number, &cn.InvoiceID, &cn.InvoiceNumber, &cn.OrderID, &cn.CustomerID, &cn.Kind, &cur,
			&cn.Amount.Minor, &cn.Net.Minor, &cn.Tax.Minor, &cn.Applied.Minor, &cn.ToBalance.Minor, &cn.Reason,
			&cn.Status, &cn.IssuedAt, &voided)
		cn.Amount.Currency, cn.Net.Currency, cn.Tax.Currency, cn.Applied.Currency, cn.ToBalance.Currency = cur, cur, cur, cur, cur
		cn.IssuedAt = cn.IssuedAt.UTC()
		if voided != nil {
			cn.VoidedAt = voided.UTC()
		}
		return cn, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit notes: %w", err)
	}
	index := make(map[string]int, len(out))
	ids := make([]string, len(out))
	for i, cn := range out {
		index[cn.ID], ids[i] = i, cn.ID
	}
	rows, err = s.pool.Query(ctx, `
		SELECT l.credit_note_id, l.sku, l.quantity, l.amount_minor, cn.currency
		FROM erpsim_credit_note_lines l JOIN erpsim_credit_notes cn ON cn.id = l.credit_note_id
		WHERE l.credit_note_id = ANY($1)
		ORDER BY l.credit_note_id, l.position`, ids)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit note lines: %w", err)
	}
	var id string
	var l CreditLine
	if _, err := pgx.ForEachRow(rows, []any{&id, &l.SKU, &l.Quantity, &l.Amount.Minor, &l.Amount.Currency}, func() error {
		cn := &out[index[id]]
		cn.Lines = append(cn.Lines, l)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("erpsim: list credit note lines: %w", err)
	}
	return out, nil
}

// CreditBalance is money the ERP holds for a customer in one currency
// beyond what the customer owes.
type CreditBalance struct {
	CustomerID string      `json:"customer_id"`
	Balance    money.Money `json:"balance"`
}

// CreditBalances returns the customers' credit balances (customerID's
// only, when not empty), by customer and currency; a zero balance is listed
// once the customer has had one.
func (s *Sim) CreditBalances(ctx context.Context, customerID string) ([]CreditBalance, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT customer_id, balance_minor, currency FROM erpsim_credit_balances
		WHERE $1 = '' OR customer_id = $1
		ORDER BY customer_id, currency`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit balances: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CreditBalance, error) {
		var b CreditBalance
		return b, row.Scan(&b.CustomerID, &b.Balance.Minor, &b.Balance.Currency)
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list credit balances: %w", err)
	}
	return out, nil
}

// Stock returns the stock of every warehouse and SKU, by warehouse then SKU.
func (s *Sim) Stock(ctx context.Context) ([]StockLevel, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT warehouse, sku, on_hand, reserved, on_hand - reserved
		FROM erpsim_stock
		ORDER BY warehouse, sku`)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list stock: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StockLevel, error) {
		var st StockLevel
		err := row.Scan(&st.Warehouse, &st.SKU, &st.OnHand, &st.Reserved, &st.Available)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list stock: %w", err)
	}
	return out, nil
}

// Calls returns how many calls each ERP route has received, faulted ones
// included; routes never called are absent.
func (s *Sim) Calls(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT route, calls FROM erpsim_calls`)
	if err != nil {
		return nil, fmt.Errorf("erpsim: read call counts: %w", err)
	}
	out := make(map[string]int64)
	var route string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&route, &n}, func() error {
		out[route] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("erpsim: read call counts: %w", err)
	}
	return out, nil
}

func (s *Sim) handleListStock(w http.ResponseWriter, r *http.Request) {
	list, err := s.Stock(r.Context())
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, struct {
		Stock []StockLevel `json:"stock"`
	}{jsonapi.NonNil(list)})
}

func (s *Sim) handleListCalls(w http.ResponseWriter, r *http.Request) {
	calls, err := s.Calls(r.Context())
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, calls)
}
