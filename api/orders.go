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
	rec, found, err := s.findOrder(r)
	switch {
	case err != nil:
		return store.OrderRecord{}, err
	case !found || !canSee(actorFrom(r.Context()), rec):
		return store.OrderRecord{}, missingOrder(r)
	}
	return rec, nil
}

// findOrder reads the projection row of the order named in the path,
// whoever may see it; found is false when there is none.
func (s *server) findOrder(r *http.Request) (rec store.OrderRecord, found bool, err error) {
	id := mux.Vars(r)["id"]
	if !validOrderID(id) {
		return store.OrderRecord{}, false, nil
	}
	rec, err = s.store.Order(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.OrderRecord{}, false, nil
	}
	return rec, err == nil, err
}

// validOrderID reports whether id could name an order at all.
func validOrderID(id string) bool {
	return len(id) <= maxIDLen && checkID("id", id, true) == nil
}

func missingOrder(r *http.Request) error {
	return notFound(fmt.Sprintf("no order %q", mux.Vars(r)["id"]))
}

// Where GET /v1/orders/{id} took its answer from.
const (
	// sourceProjection: PostgreSQL's projection alone, as of its seq and
	// updated_at.
	sourceProjection = "projection"
	// sourceWorkflow: the workflow's details query, answered during the
	// request (with the projection row, when there is one).
	sourceWorkflow = "workflow"
)

// getParams are the query parameters GET /v1/orders/{id} understands.
var getParams = map[string]bool{"live": true}

// wantsLive reads GET /v1/orders/{id}'s live parameter: true asks the
// workflow for its details, false or absent answers from the projection.
func wantsLive(r *http.Request) (bool, error) {
	q := r.URL.Query()
	for k := range q {
		if !getParams[k] {
			return false, badRequest("unknown query parameter",
				order.FieldError{Field: k, Reason: "unknown parameter; use live"})
		}
	}
	v := q.Get("live")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("bad query parameter", order.FieldError{Field: "live", Reason: "true or false"})
	}
	return b, nil
}

// getOrder is GET /v1/orders/{id}. It answers from the projection unless
// the caller asks for live details (?live=true) or the projection has no
// row for the order yet (an order started outside the API has none until
// its first transition is recorded): only then is the workflow queried, so
// the storefront's polling does not compete with the orders for the
// worker. Nothing else tells the API that the projection is behind the
// workflow without asking the workflow; the answer's source, seq and
// updated_at say how fresh it is.
func (s *server) getOrder(w http.ResponseWriter, r *http.Request) error {
	withLive, err := wantsLive(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	actor := actorFrom(ctx)
	rec, found, err := s.findOrder(r)
	if err != nil {
		return err
	}
	if !found {
		return s.getUnprojected(w, r)
	}
	if !canSee(actor, rec) {
		return missingOrder(r)
	}
	if rec.Status == order.StatusQuoteRefused {
		fields, err := s.store.QuoteRefusal(ctx, rec.ID)
		if err != nil {
			return err
		}
		return &apiError{status: http.StatusGone, slug: ProblemGone,
			detail: "the ERP refused to price this quote request; no order was created", fields: fields}
	}
	var live *workflows.Details
	if withLive {
		live = s.live(ctx, rec.ID)
	}
	v := present(actor, rec, live)
	if b, ok := v.(*buyerOrder); ok && live == nil && rec.InvoiceNumber != "" {
		// Without live details, what the buyer owes comes from the
		// projection's invoices (none before the row names one: most
		// polls need no second query).
		invs, err := s.store.OrderInvoices(ctx, rec.ID)
		if err != nil {
			return err
		}
		b.setProjectedInvoices(invs)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// getUnprojected answers GET /v1/orders/{id} for an order the projection
// has no row of: from the workflow, when it runs and the caller may see it,
// else 404. The answer has no seq, created_at or updated_at: nothing was
// recorded yet.
func (s *server) getUnprojected(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if !validOrderID(id) {
		return missingOrder(r)
	}
	ctx := r.Context()
	live := s.live(ctx, id)
	if live == nil || live.OrderID != id {
		return missingOrder(r)
	}
	rec := store.OrderRecord{ID: id, CustomerID: live.CustomerID, PONumber: live.PONumber, Status: live.Status,
		NeedsAttention: live.NeedsAttention, Details: live.Waiting}
	if live.Quote != nil {
		rec.Total, rec.QuoteRevision = live.Quote.Total, live.Quote.Revision
	}
	if live.Invoice != nil {
		rec.InvoiceNumber = live.Invoice.Number
	}
	if !canSee(actorFrom(ctx), rec) {
		return missingOrder(r)
	}
	writeJSON(w, http.StatusOK, present(actorFrom(ctx), rec, live))
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
