package erpsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// ErrUnknownCustomer: the ERP has no customer by that id.
var ErrUnknownCustomer = errors.New("erpsim: unknown customer")

// ReceivablesAdjustment moves a customer's open receivables in one
// currency by Amount, as receivables booked outside orderflow do (an
// invoice of the old shop, a manual booking). A scenario uses it to put a
// customer over its credit limit for one order and to take it back.
type ReceivablesAdjustment struct {
	CustomerID string `json:"customer_id"`
	// Amount is added to what is open; negative takes off, never below zero.
	Amount money.Money `json:"amount"`
}

// AdjustReceivables applies a and returns what is open afterwards.
func (s *Sim) AdjustReceivables(ctx context.Context, a ReceivablesAdjustment) (money.Money, error) {
	var open int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erpsim_customers WHERE id = $1)`, a.CustomerID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return ErrUnknownCustomer
		}
		return tx.QueryRow(ctx, `
			INSERT INTO erpsim_receivables (customer_id, currency, open_minor) VALUES ($1, $2, GREATEST($3, 0))
			ON CONFLICT (customer_id, currency) DO UPDATE SET open_minor = GREATEST(erpsim_receivables.open_minor + $3, 0)
			RETURNING open_minor`, a.CustomerID, a.Amount.Currency, a.Amount.Minor).Scan(&open)
	})
	if errors.Is(err, ErrUnknownCustomer) {
		return money.Money{}, err
	}
	if err != nil {
		return money.Money{}, fmt.Errorf("adjust receivables of %s: %w", a.CustomerID, err)
	}
	s.log.Info().Str("customer_id", a.CustomerID).Str("amount", a.Amount.String()).Int64("open_minor", open).Msg("receivables adjusted by hand")
	return money.New(open, a.Amount.Currency), nil
}

// handleAdjustReceivables is POST /sim/receivables.
func (s *Sim) handleAdjustReceivables(w http.ResponseWriter, r *http.Request) {
	var req ReceivablesAdjustment
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if req.CustomerID == "" || !money.ValidCurrency(req.Amount.Currency) {
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request",
			`want {"customer_id", "amount": {"minor", "currency"}}: the amount to add to what the customer owes (negative takes off)`)
		return
	}
	open, err := s.AdjustReceivables(r.Context(), req)
	switch {
	case errors.Is(err, ErrUnknownCustomer):
		jsonapi.WriteError(w, http.StatusNotFound, "customer_not_found", "no customer "+req.CustomerID)
	case err != nil:
		jsonapi.InternalError(w, r, s.log, err)
	default:
		jsonapi.WriteJSON(w, http.StatusOK, struct {
			CustomerID      string      `json:"customer_id"`
			OpenReceivables money.Money `json:"open_receivables"`
		}{req.CustomerID, open})
	}
}
