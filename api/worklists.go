package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// worklistPage is the body of GET /v1/worklists/{name}: one page, and the
// "after" of the next one as GET /v1/orders gives it (absent on the last).
type worklistPage struct {
	Items     any    `json:"items"`
	NextAfter string `json:"next_after,omitempty"`
}

// worklist is one list: who may read it, which filters it takes, and how
// it reads a page.
type worklist struct {
	roles   []order.Role
	filters []string // beyond after and limit
	read    func(ctx context.Context, st *store.Store, f store.WorklistFilter) (any, string, error)
}

// pageOf adapts a store list to worklist.read.
func pageOf[T any](list func(*store.Store, context.Context, store.WorklistFilter) (store.Page[T], error)) func(context.Context, *store.Store, store.WorklistFilter) (any, string, error) {
	return func(ctx context.Context, st *store.Store, f store.WorklistFilter) (any, string, error) {
		p, err := list(st, ctx, f)
		return p.Items, p.Next, err
	}
}

// finance's lists, which sales managers may read; CS's lists.
var (
	financeReaders = []order.Role{order.RoleFinance, order.RoleSalesManager}
	csReaders      = []order.Role{order.RoleCS}
)

// worklists are the lists GET /v1/worklists/{name} serves, by name.
var worklists = map[string]worklist{
	store.WorklistOverdueInvoices: {roles: financeReaders, filters: []string{"customer_id"},
		read: pageOf((*store.Store).OverdueInvoices)},
	store.WorklistCreditHolds: {roles: financeReaders, filters: []string{"customer_id"},
		read: pageOf((*store.Store).CreditHolds)},
	// A payment not applied to an invoice has no customer to filter by.
	store.WorklistUnmatchedPayments: {roles: financeReaders,
		read: pageOf((*store.Store).UnmatchedPaymentsPage)},
	store.WorklistAttention: {roles: csReaders, filters: []string{"customer_id", "stage"},
		read: pageOf((*store.Store).AttentionOrders)},
	store.WorklistOverdueDeliveries: {roles: csReaders, filters: []string{"customer_id"},
		read: pageOf((*store.Store).OverdueDeliveries)},
	// A rep reads only the follow-ups they own; a sales manager, who may
	// close any, reads them all.
	store.WorklistFollowUps: {roles: []order.Role{order.RoleCS, order.RoleSalesRep, order.RoleSalesManager},
		filters: []string{"customer_id", "owner"},
		read:    pageOf((*store.Store).OpenFollowUps)},
}

// stages are the values of the attention list's stage filter.
var stages = []string{order.StageQuote, order.StageCredit, order.StageReservation, order.StageShipping,
	order.StageDelivery, order.StageInvoicing, order.StagePayment, order.StageAfterSales,
	order.StageCompensation, order.StageOther}

// getWorklist is GET /v1/worklists/{name}.
func (s *server) getWorklist(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	name := mux.Vars(r)["name"]
	wl, ok := worklists[name]
	if !ok {
		return notFound(fmt.Sprintf("no worklist %q; there are %s", name, strings.Join(store.Worklists, ", ")))
	}
	if err := requireRole(a, wl.roles...); err != nil {
		return err
	}
	f, err := parseWorklistFilter(r, wl.filters)
	if err != nil {
		return err
	}
	f.At, f.DeliveryGrace = s.now(), workflows.DeliveryGrace
	if err := s.ownFollowUps(ctx, a, name, &f); err != nil {
		return err
	}
	items, next, err := wl.read(ctx, s.store, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, worklistPage{Items: items, NextAfter: next})
	return nil
}

// parseWorklistFilter reads a worklist's query: after, limit and the
// filters the list takes, naming the parameter at fault.
func parseWorklistFilter(r *http.Request, filters []string) (store.WorklistFilter, error) {
	q := r.URL.Query()
	f := store.WorklistFilter{Limit: store.DefaultListLimit}
	known := append([]string{"after", "limit"}, filters...)
	for k, vs := range q {
		if !slices.Contains(known, k) {
			return f, badRequest("unknown query parameter",
				order.FieldError{Field: k, Reason: "not a parameter of this list; use " + strings.Join(known, ", ")})
		}
		if len(vs) > 1 {
			return f, badRequest("bad query parameter", order.FieldError{Field: k, Reason: "give it once"})
		}
	}
	for _, name := range []string{"customer_id", "owner", "after"} {
		v := q.Get(name)
		if len(v) > maxIDLen {
			return f, badRequest("bad query parameter", order.FieldError{Field: name, Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
		}
		if fe := checkID(name, v, false); fe != nil {
			return f, badRequest("bad query parameter", *fe)
		}
	}
	f.CustomerID, f.After = q.Get("customer_id"), q.Get("after")
	if v := q.Get("owner"); v != "" {
		f.Owners = []string{v}
	}
	if v := q.Get("stage"); v != "" {
		if !slices.Contains(stages, v) {
			return f, badRequest("bad query parameter", order.FieldError{Field: "stage", Reason: "one of " + strings.Join(stages, ", ")})
		}
		f.Stage = v
	}
	n, err := parseLimit(q, f.Limit)
	f.Limit = n
	return f, err
}

// ownFollowUps keeps a sales rep to the follow-ups they own: a rep who
// names no owner gets theirs, one who names another rep is refused.
func (s *server) ownFollowUps(ctx context.Context, a order.Actor, list string, f *store.WorklistFilter) error {
	if list != store.WorklistFollowUps || a.Role != order.RoleSalesRep {
		return nil
	}
	mine, err := s.repNames(ctx, a)
	if err != nil {
		return err
	}
	if len(f.Owners) > 0 && !slices.Contains(mine, f.Owners[0]) {
		return forbidden("a sales rep reads only the follow-ups they own")
	}
	if len(f.Owners) == 0 {
		f.Owners = mine
	}
	return nil
}

// repNames are the names a follow-up may name a rep by as its owner: the
// token's subject, and the e-mail of their rep record (customers name
// their rep by e-mail).
func (s *server) repNames(ctx context.Context, a order.Actor) ([]string, error) {
	names := []string{a.Subject}
	rep, err := s.store.Rep(ctx, a.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case rep.Email != "" && rep.Email != a.Subject:
		names = append(names, rep.Email)
	}
	return names, nil
}

// closeFollowUpRequest is the body of POST /v1/followups/{id}/close.
type closeFollowUpRequest struct {
	Note string `json:"note"`
}

// closeFollowUp is POST /v1/followups/{id}/close: CS, a sales manager or
// the rep who owns it closes a follow-up with a note of what was done.
func (s *server) closeFollowUp(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, order.RoleCS, order.RoleSalesRep, order.RoleSalesManager); err != nil {
		return err
	}
	raw := mux.Vars(r)["id"]
	missing := notFound(fmt.Sprintf("no follow-up %q", raw))
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return missing
	}
	var in closeFollowUpRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := collect(checkText("note", in.Note, true)); err != nil {
		return err
	}
	fu, err := s.ownedFollowUp(ctx, a, id, missing, "closes")
	if err != nil {
		return err
	}
	fu, err = s.store.CloseFollowUp(ctx, id, a, in.Note, s.now().UTC())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fu)
	return nil
}

// ownedFollowUp loads follow-up id (missing when there is none) and
// refuses a sales rep one they do not own; what names the action in the
// refusal ("closes", "re-opens").
func (s *server) ownedFollowUp(ctx context.Context, a order.Actor, id int64, missing error, what string) (store.FollowUp, error) {
	fu, err := s.store.FollowUp(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.FollowUp{}, missing
	} else if err != nil {
		return store.FollowUp{}, err
	}
	if a.Role == order.RoleSalesRep {
		mine, err := s.repNames(ctx, a)
		if err != nil {
			return store.FollowUp{}, err
		}
		if !slices.Contains(mine, fu.Owner) {
			return store.FollowUp{}, forbidden(fmt.Sprintf("a sales rep %s only the follow-ups they own", what))
		}
	}
	return fu, nil
}
