package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// orderList is the body of GET /v1/orders: projection rows for staff,
// buyer representations for buyers and the storefront.
type orderList struct {
	Orders any `json:"orders"`
	// NextAfter, when set, is the "after" of the next page.
	NextAfter string `json:"next_after,omitempty"`
}

// live asks the order's workflow for its details, within the query timeout.
func (s *server) live(ctx context.Context, id string) *workflows.Details {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	l := zerolog.Ctx(ctx)
	v, err := s.temporal.QueryWorkflow(ctx, id, "", workflows.QueryDetails)
	if err != nil {
		l.Debug().Err(err).Str("order_id", id).Msg("details query failed; answering without live details")
		return nil
	}
	var d workflows.Details
	if err := v.Get(&d); err != nil {
		l.Warn().Err(err).Str("order_id", id).Msg("details query answered something that does not decode")
		return nil
	}
	return &d
}

// canSee reports whether a caller may see an order: buyer roles see only
// their own customer's.
func canSee(a order.Actor, rec store.OrderRecord) bool {
	return !a.Role.CustomerScoped() || a.CustomerID == rec.CustomerID
}

// loadOrder returns the order named in the path if the caller may see it.
// Another customer's order is "not found", exactly like a missing one, so a
// buyer cannot probe which order ids exist.
func (s *server) loadOrder(r *http.Request) (store.OrderRecord, error) {
	id := mux.Vars(r)["id"]
	missing := notFound(fmt.Sprintf("no order %q", id))
	if len(id) > maxIDLen || checkID("id", id, true) != nil {
		return store.OrderRecord{}, missing
	}
	rec, err := s.store.Order(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.OrderRecord{}, missing
	case err != nil:
		return store.OrderRecord{}, err
	case !canSee(actorFrom(r.Context()), rec):
		return store.OrderRecord{}, missing
	}
	return rec, nil
}

// getOrder is GET /v1/orders/{id}.
func (s *server) getOrder(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	if rec.Status == order.StatusQuoteRefused {
		fields, err := s.store.QuoteRefusal(r.Context(), rec.ID)
		if err != nil {
			return err
		}
		return &apiError{status: http.StatusGone, slug: ProblemGone,
			detail: "the ERP refused to price this quote request; no order was created", fields: fields}
	}
	writeJSON(w, http.StatusOK, s.present(r.Context(), actorFrom(r.Context()), rec, true))
	return nil
}

// listParams are the query parameters GET /v1/orders understands.
var listParams = map[string]bool{"customer_id": true, "status": true, "needs_attention": true, "after": true, "limit": true}

// parseOrderFilter reads GET /v1/orders' query, naming the parameter at fault.
func parseOrderFilter(r *http.Request) (store.OrderFilter, error) {
	q := r.URL.Query()
	for k := range q {
		if !listParams[k] {
			return store.OrderFilter{}, badRequest("unknown query parameter",
				order.FieldError{Field: k, Reason: "unknown parameter; use customer_id, status, needs_attention, after or limit"})
		}
	}
	f := store.OrderFilter{CustomerID: q.Get("customer_id"), After: q.Get("after"), Limit: store.DefaultListLimit}
	for _, p := range []struct{ name, value string }{{"customer_id", f.CustomerID}, {"after", f.After}} {
		if len(p.value) > maxIDLen {
			return f, badRequest("bad query parameter", order.FieldError{Field: p.name, Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
		}
		if fe := checkID(p.name, p.value, false); fe != nil {
			return f, badRequest("bad query parameter", *fe)
		}
	}
	if v := q.Get("status"); v != "" {
		f.Status = order.Status(v)
		if !f.Status.Valid() {
			return f, badRequest("bad query parameter", order.FieldError{Field: "status", Reason: fmt.Sprintf("%q is not an order status", v)})
		}
	}
	if v := q.Get("needs_attention"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, badRequest("bad query parameter", order.FieldError{Field: "needs_attention", Reason: "true or false"})
		}
		f.NeedsAttention = &b
	}
	n, err := parseLimit(q, f.Limit)
	f.Limit = n
	return f, err
}

// parseLimit reads a list's page size, def when absent, naming limit when
// it is not a whole number from 1 to store.MaxListLimit.
func parseLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxListLimit {
		return def, badRequest("bad query parameter", order.FieldError{Field: "limit", Reason: fmt.Sprintf("an integer from 1 to %d", store.MaxListLimit)})
	}
	return n, nil
}

// listOrders is GET /v1/orders. Buyer roles are held to their own customer.
func (s *server) listOrders(w http.ResponseWriter, r *http.Request) error {
	f, err := parseOrderFilter(r)
	if err != nil {
		return err
	}
	if a := actorFrom(r.Context()); a.Role.CustomerScoped() {
		if f.CustomerID != "" && f.CustomerID != a.CustomerID {
			return forbidden("a buyer may list only its own customer's orders")
		}
		f.CustomerID = a.CustomerID
	}
	recs, err := s.store.ListOrders(r.Context(), f)
	if err != nil {
		return err
	}
	out := orderList{Orders: recs}
	switch {
	case !actorFrom(r.Context()).Role.Staff():
		buyer := make([]*buyerOrder, len(recs))
		for i, rec := range recs {
			buyer[i] = newBuyerOrder(rec, nil)
		}
		out.Orders = buyer
	case recs == nil:
		out.Orders = []store.OrderRecord{}
	}
	if len(recs) == f.Limit {
		out.NextAfter = recs[len(recs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// orderAudit is GET /v1/orders/{id}/audit: the seller's staff only.
func (s *server) orderAudit(w http.ResponseWriter, r *http.Request) error {
	if a := actorFrom(r.Context()); !a.Role.Staff() {
		return forbidden(fmt.Sprintf("role %s may not read the audit log: it holds the seller's internal record", a.Role))
	}
	if err := requireRole(actorFrom(r.Context()), order.RoleCS, order.RoleFinance, order.RoleSalesManager, order.RoleSalesRep); err != nil {
		return err
	}
	rec, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	entries, err := s.store.AuditLog(r.Context(), rec.ID)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": rec.ID, "entries": entries})
	return nil
}
