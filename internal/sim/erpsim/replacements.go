package erpsim

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// SalesOrderIssued is the status of a replacement order: its goods left the
// warehouse at once, and there is nothing to invoice.
const SalesOrderIssued = "issued"

// replacementRequest is the body of POST /v1/replacement-orders.
type replacementRequest struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	// Replaces is the sales order whose goods were lost or damaged.
	Replaces string       `json:"replaces"`
	Lines    []order.Line `json:"lines"`
	Reason   string       `json:"reason,omitempty"`
}

// replacementAnswer is the 201 of POST /v1/replacement-orders.
type replacementAnswer struct {
	SalesOrderID string        `json:"sales_order_id"`
	Status       string        `json:"status"`
	Replaces     string        `json:"replaces"`
	Reservations []Reservation `json:"reservations"`
}

func (s *Sim) handleCreateReplacement(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req replacementRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	switch {
	case req.OrderID == "" || req.CustomerID == "" || req.Replaces == "":
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", "order_id, customer_id and replaces are required")
		return
	case len(req.Reason) > maxReason:
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: "reason",
			Detail: fmt.Sprintf("at most %d bytes", maxReason)})
		return
	}
	if fe := order.ValidateLines(req.Lines); fe != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, jsonapi.Error{Error: "invalid_request", Field: fe.Field, Detail: fe.Reason})
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.replace(ctx, tx, req)
	})
}

// replace creates a replacement sales order: the lines again, from stock
// (reserved as any sales order, all or nothing, then issued at once), for
// the same order and customer as the sales order it replaces, no SKU that
// one does not hold and no more of one than it held. It is cancelled like
// any sales order (by id or by key), which puts its goods back on hand, and
// it is never invoiced.
func (s *Sim) replace(ctx context.Context, tx pgx.Tx, req replacementRequest) (int, any, error) {
	var orderID, customerID, currency, status string
	err := tx.QueryRow(ctx, `
		SELECT order_id, customer_id, currency, status FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`,
		req.Replaces).Scan(&orderID, &customerID, &currency, &status)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "sales_order_not_found", Detail: "no sales order " + req.Replaces}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock sales order %s: %w", req.Replaces, err)
	}
	switch {
	case customerID != req.CustomerID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
			Detail: fmt.Sprintf("%s belongs to %s, not %s", req.Replaces, customerID, req.CustomerID)}, nil
	case orderID != req.OrderID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "order_mismatch",
			Detail: fmt.Sprintf("%s was raised for order %s, not %s", req.Replaces, orderID, req.OrderID)}, nil
	case status == SalesOrderCancelled:
		return http.StatusConflict, errorAnswer{Error: "sales_order_cancelled", Detail: req.Replaces + " is cancelled"}, nil
	}
	rows, err := tx.Query(ctx, `SELECT sku, quantity FROM erpsim_sales_order_lines WHERE sales_order_id = $1`, req.Replaces)
	if err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", req.Replaces, err)
	}
	held := map[string]int64{}
	var sku string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &n}, func() error { held[sku] = n; return nil }); err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", req.Replaces, err)
	}
	for _, l := range req.Lines {
		q, ok := held[l.SKU]
		switch {
		case !ok:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "sku_not_on_sales_order", SKU: l.SKU,
				Detail: fmt.Sprintf("%s holds no %s to replace", req.Replaces, l.SKU)}, nil
		case l.Quantity > q:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "replacement_exceeds_sales_order", SKU: l.SKU,
				Detail: fmt.Sprintf("%s holds %d of %s, %d asked", req.Replaces, q, l.SKU, l.Quantity)}, nil
		}
	}

	status2, body, err := s.reserve(ctx, tx, salesOrderRequest{OrderID: req.OrderID, CustomerID: req.CustomerID,
		Currency: currency, Lines: req.Lines})
	if err != nil || status2 != http.StatusCreated {
		return status2, body, err
	}
	so := body.(salesOrderAnswer)
	if _, err := tx.Exec(ctx, `UPDATE erpsim_sales_orders SET replaces = $2, status = 'issued' WHERE id = $1`,
		so.SalesOrderID, req.Replaces); err != nil {
		return 0, nil, fmt.Errorf("link %s to %s: %w", so.SalesOrderID, req.Replaces, err)
	}
	if err := s.issueGoods(ctx, tx, so.SalesOrderID); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, replacementAnswer{SalesOrderID: so.SalesOrderID, Status: SalesOrderIssued,
		Replaces: req.Replaces, Reservations: so.Reservations}, nil
}
