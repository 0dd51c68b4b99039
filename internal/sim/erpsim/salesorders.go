package erpsim

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Sales order statuses.
const (
	SalesOrderReserved  = "reserved"
	SalesOrderInvoiced  = "invoiced"
	SalesOrderCancelled = "cancelled"
)

// Reservation is the stock one warehouse holds for a sales order; each
// becomes one shipment.
type Reservation struct {
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

// salesOrderRequest is the body of POST /v1/sales-orders.
type salesOrderRequest struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	Currency   string       `json:"currency"`
	Lines      []order.Line `json:"lines"`
}

// salesOrderAnswer is the 201 answer of POST /v1/sales-orders.
type salesOrderAnswer struct {
	SalesOrderID string        `json:"sales_order_id"`
	Status       string        `json:"status"`
	Reservations []Reservation `json:"reservations"`
}

// statusAnswer is the answer of cancel and void.
type statusAnswer struct {
	SalesOrderID string `json:"sales_order_id,omitempty"`
	InvoiceID    string `json:"invoice_id,omitempty"`
	Status       string `json:"status"`
}

func (s *Sim) handleCreateSalesOrder(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req salesOrderRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	switch {
	case req.OrderID == "" || req.CustomerID == "":
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", "order_id and customer_id are required")
		return
	case !money.ValidCurrency(req.Currency):
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("currency %q is not an ISO 4217 code", req.Currency))
		return
	}
	if fe := order.ValidateLines(req.Lines); fe != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fe.Error())
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.reserve(ctx, tx, req)
	})
}

// take is the part of one line one warehouse gives.
type take struct {
	warehouse, sku string
	quantity       int64
}

// reserve creates a sales order and reserves its stock, filling each line
// from the warehouses in name order. It reserves all or nothing: a shortage on
// any line answers 409 before a single unit is touched.
func (s *Sim) reserve(ctx context.Context, tx pgx.Tx, req salesOrderRequest) (int, any, error) {
	var customerKnown bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erpsim_customers WHERE id = $1)`,
		req.CustomerID).Scan(&customerKnown); err != nil {
		return 0, nil, fmt.Errorf("look up customer %s: %w", req.CustomerID, err)
	}
	if !customerKnown {
		return http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_customer", Detail: "no customer " + req.CustomerID}, nil
	}
	skus := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		skus[i] = l.SKU
	}
	products, err := s.knownProducts(ctx, tx, skus)
	if err != nil {
		return 0, nil, err
	}
	for _, sku := range skus {
		if !products[sku] {
			return http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_sku", SKU: sku}, nil
		}
	}

	// Lock the stock rows in one fixed order (warehouse, sku) so concurrent
	// reservations queue up instead of deadlocking.
	rows, err := tx.Query(ctx, `
		SELECT warehouse, sku, on_hand - reserved
		FROM erpsim_stock
		WHERE sku = ANY($1)
		ORDER BY warehouse, sku
		FOR UPDATE`, skus)
	if err != nil {
		return 0, nil, fmt.Errorf("lock stock: %w", err)
	}
	type available struct {
		warehouse string
		units     int64
	}
	stock := make(map[string][]available) // per sku, warehouses in name order
	for rows.Next() {
		var wh, sku string
		var units int64
		if err := rows.Scan(&wh, &sku, &units); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("lock stock: %w", err)
		}
		stock[sku] = append(stock[sku], available{wh, units})
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("lock stock: %w", err)
	}
	for sku, whs := range stock {
		for i, a := range whs {
			if whs[i].units, err = s.restockLow(ctx, tx, a.warehouse, sku, a.units); err != nil {
				return 0, nil, err
			}
		}
	}

	var takes []take
	for _, l := range req.Lines {
		need := l.Quantity
		for _, a := range stock[l.SKU] {
			if need == 0 {
				break
			}
			if n := min(need, a.units); n > 0 {
				takes = append(takes, take{a.warehouse, l.SKU, n})
				need -= n
			}
		}
		if need > 0 {
			return http.StatusConflict, errorAnswer{Error: "insufficient_stock", SKU: l.SKU,
				Detail: fmt.Sprintf("%d of %s short", need, l.SKU)}, nil
		}
	}

	var id string
	if err := tx.QueryRow(ctx, `
		INSERT INTO erpsim_sales_orders (id, order_id, customer_id, currency, status, created_at)
		VALUES ('SO-' || lpad(nextval('erpsim_sales_order_seq')::text, 6, '0'), $1, $2, $3, 'reserved', $4)
		RETURNING id`, req.OrderID, req.CustomerID, req.Currency, s.now()).Scan(&id); err != nil {
		return 0, nil, fmt.Errorf("insert sales order: %w", err)
	}
	b := &pgx.Batch{}
	for i, l := range req.Lines {
		b.Queue(`
			INSERT INTO erpsim_sales_order_lines (sales_order_id, position, sku, quantity)
			VALUES ($1, $2, $3, $4)`, id, i, l.SKU, l.Quantity)
	}
	for _, t := range takes {
		b.Queue(`UPDATE erpsim_stock SET reserved = reserved + $3 WHERE warehouse = $1 AND sku = $2`,
			t.warehouse, t.sku, t.quantity)
		b.Queue(`
			INSERT INTO erpsim_reservations (sales_order_id, warehouse, sku, quantity)
			VALUES ($1, $2, $3, $4)`, id, t.warehouse, t.sku, t.quantity)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("reserve stock for %s: %w", id, err)
	}
	return http.StatusCreated, salesOrderAnswer{
		SalesOrderID: id,
		Status:       SalesOrderReserved,
		Reservations: groupByWarehouse(takes),
	}, nil
}

// groupByWarehouse turns takes (in request-line order) into one reservation
// per warehouse, warehouses in name order, lines in request order.
func groupByWarehouse(takes []take) []Reservation {
	var out []Reservation
	for _, t := range takes {
		i := slices.IndexFunc(out, func(r Reservation) bool { return r.Warehouse == t.warehouse })
		if i < 0 {
			out = append(out, Reservation{Warehouse: t.warehouse})
			i = len(out) - 1
		}
		out[i].Lines = append(out[i].Lines, order.Line{SKU: t.sku, Quantity: t.quantity})
	}
	slices.SortFunc(out, func(a, b Reservation) int {
		switch {
		case a.Warehouse < b.Warehouse:
			return -1
		case a.Warehouse > b.Warehouse:
			return 1
		}
		return 0
	})
	return out
}

// knownProducts reports which of skus the ERP sells.
func (s *Sim) knownProducts(ctx context.Context, tx pgx.Tx, skus []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT sku FROM erpsim_products WHERE sku = ANY($1)`, skus)
	if err != nil {
		return nil, fmt.Errorf("look up products: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up products: %w", err)
	}
	known := make(map[string]bool, len(found))
	for _, sku := range found {
		known[sku] = true
	}
	return known, nil
}

func (s *Sim) handleCancelSalesOrder(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.cancel(ctx, tx, id)
	})
}

// handleCancelSalesOrderByKey cancels the sales order created under
// forward_key, for a caller that lost the create's answer and so its id.
// When nothing was created under the key, there is nothing to cancel: 200
// with found false, and the key is fenced so a create under it that comes
// later is refused (see idempotency.Store.Fence).
func (s *Sim) handleCancelSalesOrderByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "sales_order_id", MadeNone: "created no sales order",
		WrongKey: "not_a_sales_order_key", Undone: SalesOrderCancelled, Undo: s.cancel})
}

// cancel releases a sales order's stock, or returns it to on_hand when the
// goods were issued already. Cancelling twice is fine; cancelling an invoiced
// order is not (void the invoice first).
func (s *Sim) cancel(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var status string
	var issued bool
	err := tx.QueryRow(ctx, `
		SELECT status, goods_issued_at IS NOT NULL FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`, id).
		Scan(&status, &issued)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "sales_order_not_found", Detail: "no sales order " + id}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock sales order %s: %w", id, err)
	}
	done := statusAnswer{SalesOrderID: id, Status: SalesOrderCancelled}
	switch status {
	case SalesOrderCancelled:
		return http.StatusOK, done, nil
	case SalesOrderInvoiced:
		return http.StatusConflict, errorAnswer{Error: "sales_order_invoiced",
			Detail: "void the open invoices of " + id + " before cancelling it"}, nil
	}
	// Goods authorised to come back (or back already) would return to the
	// shelf twice: once with the RMA, once with the cancel.
	var returns bool
	if err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM erpsim_rmas WHERE sales_order_id = $1 AND status <> 'cancelled')`, id).Scan(&returns); err != nil {
		return 0, nil, fmt.Errorf("look up the returns of %s: %w", id, err)
	}
	if returns {
		return http.StatusConflict, errorAnswer{Error: "sales_order_returned",
			Detail: id + " has return authorisations: cancel those not received; one received cannot be undone by a cancel"}, nil
	}
	// Same lock order as reserve: (warehouse, sku).
	if _, err := tx.Exec(ctx, `
		SELECT 1 FROM erpsim_stock s
		JOIN erpsim_reservations r ON r.warehouse = s.warehouse AND r.sku = s.sku
		WHERE r.sales_order_id = $1
		ORDER BY s.warehouse, s.sku
		FOR UPDATE OF s`, id); err != nil {
		return 0, nil, fmt.Errorf("lock stock of %s: %w", id, err)
	}
	// Before the goods issue the reservation is released; after it (the
	// invoice was voided) the goods go back on the shelf.
	release := `
		UPDATE erpsim_stock s SET reserved = s.reserved - r.quantity
		FROM erpsim_reservations r
		WHERE r.sales_order_id = $1 AND s.warehouse = r.warehouse AND s.sku = r.sku`
	if issued {
		release = `
		UPDATE erpsim_stock s SET on_hand = s.on_hand + r.quantity
		FROM erpsim_reservations r
		WHERE r.sales_order_id = $1 AND s.warehouse = r.warehouse AND s.sku = r.sku`
	}
	if _, err := tx.Exec(ctx, release, id); err != nil {
		return 0, nil, fmt.Errorf("release stock of %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE erpsim_sales_orders SET status = 'cancelled', cancelled_at = $2 WHERE id = $1`,
		id, s.now()); err != nil {
		return 0, nil, fmt.Errorf("cancel sales order %s: %w", id, err)
	}
	return http.StatusOK, done, nil
}
