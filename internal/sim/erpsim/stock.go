package erpsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// Restock is a delivery of goods into a warehouse, the body of POST
// /sim/stock: either Add units to what is on hand, or bring what is
// Available (on hand less reserved) to a level. Exactly one of the two.
type Restock struct {
	Warehouse string `json:"warehouse"`
	SKU       string `json:"sku"`
	Add       *int64 `json:"add,omitempty"`
	Available *int64 `json:"available,omitempty"`
}

func (r Restock) validate() error {
	switch {
	case r.Warehouse == "" || r.SKU == "":
		return errors.New("erpsim: restock: warehouse and sku are required")
	case (r.Add == nil) == (r.Available == nil):
		return errors.New("erpsim: restock: give either add or available")
	case r.Add != nil && *r.Add < 0, r.Available != nil && *r.Available < 0:
		return errors.New("erpsim: restock: add and available cannot be negative")
	}
	return nil
}

// ErrUnknownSKU is Restock's answer for a SKU the ERP does not sell.
var ErrUnknownSKU = errors.New("erpsim: unknown sku")

// Restock receives goods: a warehouse the SKU was never kept in gets a stock
// row. Bringing Available below what is reserved is impossible (reserved
// stock is promised), so a level lower than today's takes units off the
// shelf only down to the reservations.
func (s *Sim) Restock(ctx context.Context, r Restock) (StockLevel, error) {
	if err := r.validate(); err != nil {
		return StockLevel{}, err
	}
	var st StockLevel
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erpsim_products WHERE sku = $1)`, r.SKU).Scan(&known); err != nil {
			return fmt.Errorf("look up %s: %w", r.SKU, err)
		}
		if !known {
			return fmt.Errorf("%w %s", ErrUnknownSKU, r.SKU)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO erpsim_stock (warehouse, sku, on_hand) VALUES ($1, $2, 0)
			ON CONFLICT (warehouse, sku) DO NOTHING`, r.Warehouse, r.SKU); err != nil {
			return fmt.Errorf("stock row %s/%s: %w", r.Warehouse, r.SKU, err)
		}
		q := `UPDATE erpsim_stock SET on_hand = on_hand + $3 WHERE warehouse = $1 AND sku = $2
			RETURNING warehouse, sku, on_hand, reserved, on_hand - reserved`
		n := r.Add
		if r.Available != nil {
			q = `UPDATE erpsim_stock SET on_hand = reserved + $3 WHERE warehouse = $1 AND sku = $2
			RETURNING warehouse, sku, on_hand, reserved, on_hand - reserved`
			n = r.Available
		}
		return tx.QueryRow(ctx, q, r.Warehouse, r.SKU, *n).Scan(&st.Warehouse, &st.SKU, &st.OnHand, &st.Reserved, &st.Available)
	})
	if err != nil {
		return StockLevel{}, fmt.Errorf("erpsim: restock %s/%s: %w", r.Warehouse, r.SKU, err)
	}
	s.log.Info().Str("warehouse", st.Warehouse).Str("sku", st.SKU).Int64("on_hand", st.OnHand).
		Int64("available", st.Available).Msg("stock received")
	return st, nil
}

func (s *Sim) handleRestock(w http.ResponseWriter, r *http.Request) {
	var req Restock
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if err := req.validate(); err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request",
			`want {"warehouse","sku"} and either "add" (units received) or "available" (the level to bring it to), not negative`)
		return
	}
	st, err := s.Restock(r.Context(), req)
	switch {
	case errors.Is(err, ErrUnknownSKU):
		jsonapi.WriteJSON(w, http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_sku", SKU: req.SKU})
	case err != nil:
		jsonapi.InternalError(w, r, s.log, err)
	default:
		jsonapi.WriteJSON(w, http.StatusOK, st)
	}
}

// SetAutoRestock switches the dev default that keeps the shelves stocked:
// when a sales order finds a seeded SKU in a warehouse with less than half
// its seed level available, the ERP first receives goods up to the seed
// level (available = seed level). Off unless switched on, so tests can run
// stock out; `orderflow dev` and `orderflow sim` switch it on
// (ORDERFLOW_SIM_AUTO_RESTOCK). A sales order larger than the seed level
// is still refused with 409 insufficient_stock.
func (s *Sim) SetAutoRestock(on bool) { s.autoRestock.Store(on) }

// seedLevel is the seeded stock of sku in warehouse, 0 when it is not seeded.
func seedLevel(warehouse, sku string) int64 {
	for _, st := range seedStock {
		if st.warehouse == warehouse && st.sku == sku {
			return st.onHand
		}
	}
	return 0
}

// restockLow refills, inside a reservation's transaction and under its
// lock, one warehouse's stock of sku when auto-restock is on and less than
// half its seed level is available, and answers what is then available.
func (s *Sim) restockLow(ctx context.Context, tx pgx.Tx, warehouse, sku string, available int64) (int64, error) {
	level := seedLevel(warehouse, sku)
	if !s.autoRestock.Load() || level == 0 || 2*available >= level {
		return available, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE erpsim_stock SET on_hand = reserved + $3 WHERE warehouse = $1 AND sku = $2`,
		warehouse, sku, level); err != nil {
		return 0, fmt.Errorf("restock %s/%s: %w", warehouse, sku, err)
	}
	s.log.Info().Str("warehouse", warehouse).Str("sku", sku).Int64("available", level).Msg("stock low: restocked to the seed level")
	return level, nil
}
