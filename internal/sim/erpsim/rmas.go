package erpsim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// RMA statuses.
const (
	RMAAuthorised = "authorised"
	RMAReceived   = "received"
	RMACancelled  = "cancelled"
)

// rmaRequest is the body of POST /v1/rmas.
type rmaRequest struct {
	OrderID      string       `json:"order_id"`
	SalesOrderID string       `json:"sales_order_id"`
	CustomerID   string       `json:"customer_id"`
	Lines        []order.Line `json:"lines"`
	Reason       string       `json:"reason,omitempty"`
}

// rmaAnswer is the answer of POST /v1/rmas (201) and of receive (200).
type rmaAnswer struct {
	RMAID        string       `json:"rma_id"`
	SalesOrderID string       `json:"sales_order_id"`
	Status       string       `json:"status"`
	Lines        []order.Line `json:"lines"`
	CreatedAt    time.Time    `json:"created_at"`
}

// rmaStatus is the answer of an RMA's cancel.
type rmaStatus struct {
	RMAID  string `json:"rma_id"`
	Status string `json:"status"`
}

func (s *Sim) handleCreateRMA(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req rmaRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	switch {
	case req.OrderID == "" || req.SalesOrderID == "" || req.CustomerID == "":
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", "order_id, sales_order_id and customer_id are required")
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
		return s.authoriseReturn(ctx, tx, req)
	})
}

// authoriseReturn authorises the return of lines of a sales order whose
// goods left the warehouse: no SKU the sales order does not hold, and no
// more of one than it holds less what other RMAs (not cancelled) take back.
func (s *Sim) authoriseReturn(ctx context.Context, tx pgx.Tx, req rmaRequest) (int, any, error) {
	var orderID, customerID, status string
	var issued bool
	err := tx.QueryRow(ctx, `
		SELECT order_id, customer_id, status, goods_issued_at IS NOT NULL
		FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`, req.SalesOrderID).
		Scan(&orderID, &customerID, &status, &issued)
	if isNoRows(err) {
		return http.StatusNotFound, errorAnswer{Error: "sales_order_not_found", Detail: "no sales order " + req.SalesOrderID}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock sales order %s: %w", req.SalesOrderID, err)
	}
	switch {
	case customerID != req.CustomerID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "customer_mismatch",
			Detail: fmt.Sprintf("%s belongs to %s, not %s", req.SalesOrderID, customerID, req.CustomerID)}, nil
	case orderID != req.OrderID:
		return http.StatusUnprocessableEntity, errorAnswer{Error: "order_mismatch",
			Detail: fmt.Sprintf("%s was raised for order %s, not %s", req.SalesOrderID, orderID, req.OrderID)}, nil
	case status == SalesOrderCancelled:
		return http.StatusConflict, errorAnswer{Error: "sales_order_cancelled", Detail: req.SalesOrderID + " is cancelled"}, nil
	case !issued:
		return http.StatusConflict, errorAnswer{Error: "not_delivered",
			Detail: "the goods of " + req.SalesOrderID + " have not left the warehouse: there is nothing to return"}, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT l.sku, l.quantity - COALESCE((
			SELECT sum(rl.quantity) FROM erpsim_rma_lines rl JOIN erpsim_rmas r ON r.id = rl.rma_id
			WHERE r.sales_order_id = l.sales_order_id AND r.status <> 'cancelled' AND rl.sku = l.sku), 0)
		FROM erpsim_sales_order_lines l WHERE l.sales_order_id = $1`, req.SalesOrderID)
	if err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", req.SalesOrderID, err)
	}
	left := map[string]int64{}
	var sku string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &n}, func() error { left[sku] = n; return nil }); err != nil {
		return 0, nil, fmt.Errorf("read the lines of %s: %w", req.SalesOrderID, err)
	}
	for _, l := range req.Lines {
		rest, ok := left[l.SKU]
		switch {
		case !ok:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "sku_not_on_sales_order", SKU: l.SKU,
				Detail: fmt.Sprintf("%s holds no %s", req.SalesOrderID, l.SKU)}, nil
		case l.Quantity > rest:
			return http.StatusUnprocessableEntity, errorAnswer{Error: "return_exceeds_delivered", SKU: l.SKU,
				Detail: fmt.Sprintf("%d of %s left to return on %s, %d asked", rest, l.SKU, req.SalesOrderID, l.Quantity)}, nil
		}
	}

	ans := rmaAnswer{SalesOrderID: req.SalesOrderID, Status: RMAAuthorised, Lines: req.Lines,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	if err := tx.QueryRow(ctx, `
		INSERT INTO erpsim_rmas (id, sales_order_id, order_id, customer_id, status, reason, created_at)
		VALUES ('RMA-' || lpad(nextval('erpsim_rma_seq')::text, 6, '0'), $1, $2, $3, 'authorised', $4, $5)
		RETURNING id`, req.SalesOrderID, req.OrderID, req.CustomerID, strings.TrimSpace(req.Reason), ans.CreatedAt).
		Scan(&ans.RMAID); err != nil {
		return 0, nil, fmt.Errorf("insert RMA: %w", err)
	}
	b := &pgx.Batch{}
	for i, l := range req.Lines {
		b.Queue(`INSERT INTO erpsim_rma_lines (rma_id, position, sku, quantity) VALUES ($1, $2, $3, $4)`,
			ans.RMAID, i, l.SKU, l.Quantity)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, fmt.Errorf("insert the lines of %s: %w", ans.RMAID, err)
	}
	return http.StatusCreated, ans, nil
}

func (s *Sim) handleCancelRMA(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.cancelRMA(ctx, tx, id)
	})
}

// handleCancelRMAByKey cancels the RMA authorised under forward_key; like
// the other undos by key, nothing under it is 200 with found false, and the
// key is fenced.
func (s *Sim) handleCancelRMAByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "rma_id", MadeNone: "authorised no return",
		WrongKey: "not_an_rma_key", Undone: RMACancelled, Undo: s.cancelRMA})
}

// lockRMA locks an RMA after its sales order (the lock order of every
// write on a sales order) and returns its status.
func lockRMA(ctx context.Context, tx pgx.Tx, id string) (salesOrderID, status string, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT sales_order_id FROM erpsim_rmas WHERE id = $1`, id).Scan(&salesOrderID)
	if isNoRows(err) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("read RMA %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM erpsim_sales_orders WHERE id = $1 FOR UPDATE`, salesOrderID); err != nil {
		return "", "", false, fmt.Errorf("lock sales order %s: %w", salesOrderID, err)
	}
	if err := tx.QueryRow(ctx, `SELECT status FROM erpsim_rmas WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
		return "", "", false, fmt.Errorf("lock RMA %s: %w", id, err)
	}
	return salesOrderID, status, true, nil
}

// cancelRMA withdraws an authorisation whose goods have not come back.
// Cancelling twice is fine; a received RMA cannot be cancelled (409).
func (s *Sim) cancelRMA(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	_, status, found, err := lockRMA(ctx, tx, id)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case !found:
		return http.StatusNotFound, errorAnswer{Error: "rma_not_found", Detail: "no RMA " + id}, nil
	case status == RMAReceived:
		return http.StatusConflict, errorAnswer{Error: "rma_received", Detail: "the goods of " + id + " are back: it cannot be cancelled"}, nil
	case status == RMAAuthorised:
		if _, err := tx.Exec(ctx, `UPDATE erpsim_rmas SET status = 'cancelled', cancelled_at = $2 WHERE id = $1`, id, s.now()); err != nil {
			return 0, nil, fmt.Errorf("cancel RMA %s: %w", id, err)
		}
	}
	return http.StatusOK, rmaStatus{RMAID: id, Status: RMACancelled}, nil
}

func (s *Sim) handleReceiveRMA(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.receiveRMA(ctx, tx, id)
	})
}

// receiveRMA books the goods of an RMA back in: each line goes back on hand
// in the first warehouse (by name) that the sales order took the SKU from.
// Receiving twice is fine; a cancelled RMA cannot be received (409).
func (s *Sim) receiveRMA(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	salesOrderID, status, found, err := lockRMA(ctx, tx, id)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case !found:
		return http.StatusNotFound, errorAnswer{Error: "rma_not_found", Detail: "no RMA " + id}, nil
	case status == RMACancelled:
		return http.StatusConflict, errorAnswer{Error: "rma_cancelled", Detail: id + " is cancelled"}, nil
	}
	if status == RMAAuthorised {
		// Each SKU goes back to the first warehouse (by name) that gave it.
		const back = `
			SELECT DISTINCT ON (l.sku) r.warehouse, l.sku, l.quantity
			FROM erpsim_rma_lines l
			JOIN erpsim_reservations r ON r.sales_order_id = $2 AND r.sku = l.sku
			WHERE l.rma_id = $1
			ORDER BY l.sku, r.warehouse`
		// Lock order as everywhere: sales order, then stock by (warehouse, sku).
		if _, err := tx.Exec(ctx, `
			SELECT 1 FROM erpsim_stock s JOIN (`+back+`) b USING (warehouse, sku)
			ORDER BY s.warehouse, s.sku FOR UPDATE OF s`, id, salesOrderID); err != nil {
			return 0, nil, fmt.Errorf("lock the stock %s returns to: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE erpsim_stock s SET on_hand = s.on_hand + b.quantity
			FROM (`+back+`) b
			WHERE s.warehouse = b.warehouse AND s.sku = b.sku`, id, salesOrderID); err != nil {
			return 0, nil, fmt.Errorf("receive the goods of %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE erpsim_rmas SET status = 'received', received_at = $2 WHERE id = $1`, id, s.now()); err != nil {
			return 0, nil, fmt.Errorf("receive RMA %s: %w", id, err)
		}
	}
	list, err := s.rmas(ctx, tx, "", id)
	if err != nil {
		return 0, nil, err
	}
	rma := list[0]
	return http.StatusOK, rmaAnswer{RMAID: id, SalesOrderID: salesOrderID, Status: RMAReceived, Lines: rma.Lines, CreatedAt: rma.CreatedAt}, nil
}

// RMA is a return authorisation as the simulated ERP keeps it.
type RMA struct {
	ID           string       `json:"rma_id"`
	SalesOrderID string       `json:"sales_order_id"`
	OrderID      string       `json:"order_id"`
	CustomerID   string       `json:"customer_id"`
	Status       string       `json:"status"` // RMAAuthorised, RMAReceived or RMACancelled
	Reason       string       `json:"reason,omitempty"`
	Lines        []order.Line `json:"lines"`
	CreatedAt    time.Time    `json:"created_at"`
	CancelledAt  time.Time    `json:"cancelled_at,omitzero"`
	ReceivedAt   time.Time    `json:"received_at,omitzero"`
}

// RMAs returns the return authorisations of orderflow's order orderID
// (every one when orderID is empty), oldest first, with their lines.
func (s *Sim) RMAs(ctx context.Context, orderID string) ([]RMA, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list RMAs: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	return s.rmas(ctx, tx, orderID, "")
}

// rmas lists RMAs by order id or by id ("" for any).
func (s *Sim) rmas(ctx context.Context, tx pgx.Tx, orderID, id string) ([]RMA, error) {
	rows, err := tx.Query(ctx, `
		SELECT id, sales_order_id, order_id, customer_id, status, reason, created_at, cancelled_at, received_at
		FROM erpsim_rmas
		WHERE ($1 = '' OR order_id = $1) AND ($2 = '' OR id = $2)
		ORDER BY id`, orderID, id)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list RMAs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RMA, error) {
		var m RMA
		var cancelled, received *time.Time
		err := row.Scan(&m.ID, &m.SalesOrderID, &m.OrderID, &m.CustomerID, &m.Status, &m.Reason, &m.CreatedAt, &cancelled, &received)
		m.CreatedAt = m.CreatedAt.UTC()
		if cancelled != nil {
			m.CancelledAt = cancelled.UTC()
		}
		if received != nil {
			m.ReceivedAt = received.UTC()
		}
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("erpsim: list RMAs: %w", err)
	}
	index := make(map[string]int, len(out))
	ids := make([]string, len(out))
	for i, m := range out {
		index[m.ID], ids[i] = i, m.ID
	}
	rows, err = tx.Query(ctx, `
		SELECT rma_id, sku, quantity FROM erpsim_rma_lines WHERE rma_id = ANY($1) ORDER BY rma_id, position`, ids)
	if err != nil {
		return nil, fmt.Errorf("erpsim: list RMA lines: %w", err)
	}
	var rmaID string
	var l order.Line
	if _, err := pgx.ForEachRow(rows, []any{&rmaID, &l.SKU, &l.Quantity}, func() error {
		m := &out[index[rmaID]]
		m.Lines = append(m.Lines, l)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("erpsim: list RMA lines: %w", err)
	}
	return out, nil
}
