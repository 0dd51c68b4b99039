package erpsim

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// pricesRequest is the body of POST /v1/prices.
type pricesRequest struct {
	CustomerID string   `json:"customer_id"`
	Currency   string   `json:"currency"`
	SKUs       []string `json:"skus"`
}

// pricesAnswer is the 200 answer of POST /v1/prices.
type pricesAnswer struct {
	Prices []order.ListPrice `json:"prices"`
}

// maxPriceSKUs bounds one price request; quotes have at most order.MaxLines lines.
const maxPriceSKUs = 1000

func (s *Sim) handlePrices(w http.ResponseWriter, r *http.Request) {
	var req pricesRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	switch {
	case !money.ValidCurrency(req.Currency):
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("currency %q is not an ISO 4217 code", req.Currency))
		return
	case len(req.SKUs) == 0 || len(req.SKUs) > maxPriceSKUs:
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("skus: 1 to %d wanted", maxPriceSKUs))
		return
	}
	// The list price does not depend on the customer: contract prices are
	// orderflow's business, kept in its own terms.
	rows, err := s.pool.Query(r.Context(), `
		SELECT p.sku, pr.unit_minor
		FROM erpsim_products p
		LEFT JOIN erpsim_prices pr ON pr.sku = p.sku AND pr.currency = $2
		WHERE p.sku = ANY($1)`, req.SKUs, req.Currency)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("read prices: %w", err))
		return
	}
	known := make(map[string]*int64, len(req.SKUs))
	for rows.Next() {
		var sku string
		var unit *int64
		if err := rows.Scan(&sku, &unit); err != nil {
			rows.Close()
			jsonapi.InternalError(w, r, s.log, fmt.Errorf("read prices: %w", err))
			return
		}
		known[sku] = unit
	}
	if err := rows.Err(); err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("read prices: %w", err))
		return
	}
	ans := pricesAnswer{Prices: make([]order.ListPrice, 0, len(req.SKUs))}
	for _, sku := range req.SKUs {
		unit, ok := known[sku]
		switch {
		case !ok:
			jsonapi.WriteJSON(w, http.StatusUnprocessableEntity, errorAnswer{Error: "unknown_sku", SKU: sku})
			return
		case unit == nil:
			jsonapi.WriteJSON(w, http.StatusUnprocessableEntity, errorAnswer{Error: "no_price_in_currency", SKU: sku,
				Detail: sku + " has no list price in " + req.Currency})
			return
		}
		ans.Prices = append(ans.Prices, order.ListPrice{SKU: sku, UnitPrice: money.New(*unit, req.Currency)})
	}
	jsonapi.WriteJSON(w, http.StatusOK, ans)
}

// exposureAnswer is the 200 answer of GET /v1/customers/{id}/exposure.
type exposureAnswer struct {
	CustomerID      string      `json:"customer_id"`
	OpenReceivables money.Money `json:"open_receivables"`
	// CreditBalance is what the ERP holds for the customer beyond what it
	// owes (overpayments, credit notes beyond what was open), not netted
	// against the receivables.
	CreditBalance money.Money `json:"credit_balance"`
}

func (s *Sim) handleExposure(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	currency := r.URL.Query().Get("currency")
	if !money.ValidCurrency(currency) {
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("currency %q is not an ISO 4217 code", currency))
		return
	}
	var exists bool
	var open, credit int64
	// A known customer with nothing open in the currency owes zero in it.
	err := s.pool.QueryRow(r.Context(), `
		SELECT EXISTS (SELECT 1 FROM erpsim_customers WHERE id = $1),
		       COALESCE((SELECT open_minor FROM erpsim_receivables WHERE customer_id = $1 AND currency = $2), 0),
		       COALESCE((SELECT balance_minor FROM erpsim_credit_balances WHERE customer_id = $1 AND currency = $2), 0)`,
		id, currency).Scan(&exists, &open, &credit)
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("read receivables of %s: %w", id, err))
		return
	}
	if !exists {
		jsonapi.WriteError(w, http.StatusNotFound, "customer_not_found", "no customer "+id)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, exposureAnswer{CustomerID: id, OpenReceivables: money.New(open, currency),
		CreditBalance: money.New(credit, currency)})
}
