package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// worklistBody mirrors GET /v1/worklists/{name}.
type worklistBody[T any] struct {
	Items     []T    `json:"items"`
	NextAfter string `json:"next_after"`
}

// seedWorklists writes, as the order workflow would, an overdue invoice
// per customer (acme's 20 days, globex's 10), an order needing attention
// at a shipping step and one at an invoicing step, and a detractor's
// follow-up per customer (acme's and initech's owned by anna, globex's by
// ben).
func seedWorklists(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	for i, c := range []struct{ id, customer string }{{"ord-inv-1", acme}, {"ord-inv-2", globex}} {
		require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: c.id, CustomerID: c.customer, Seq: 1,
			Status: order.StatusInvoiced, Action: "status.changed", At: e.now.AddDate(0, 0, -60)}))
		number := fmt.Sprintf("INV-%d", i+1)
		require.NoError(t, e.store.SaveInvoice(ctx, c.id, order.Invoice{InvoiceID: "erp-" + number, Number: number,
			Amount: money.New(50_000, "EUR"), IssuedAt: e.now.AddDate(0, 0, -50), DueDate: e.now.AddDate(0, 0, -20+10*i)}))
		require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: c.id, Seq: 2,
			Status: order.StatusAwaitingPayment, Action: "dunning.sent", At: e.now.AddDate(0, 0, -1),
			Facts: &order.Facts{Invoices: []order.InvoiceFact{{Number: number, Open: money.New(20_000, "EUR"), DunningLevel: 2 - i}}}}))
	}
	for _, c := range []struct{ id, customer, step string }{{"ord-att-1", acme, "book shipment from WH-EAST"}, {"ord-att-2", globex, "invoice"}} {
		require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: c.id, CustomerID: c.customer, Seq: 1,
			Status: order.StatusConfirmed, NeedsAttention: true, Action: "step.delayed", Reason: c.step + ": down",
			At: e.now.Add(-time.Hour), Facts: &order.Facts{AttentionStep: c.step}}))
	}
	for _, c := range []struct{ id, customer string }{{"ord-fu-1", acme}, {"ord-fu-2", globex}, {"ord-fu-3", initech}} {
		require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: c.id, CustomerID: c.customer, Seq: 1,
			Status: order.StatusPaid, Action: "status.changed", At: e.now.Add(-time.Hour)}))
		_, err := e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: c.id, ShipmentID: "S1", CustomerID: c.customer,
			Warehouse: "WH-EAST", Carrier: "parcel", Token: "tok-" + c.id, ExpiresAt: e.now.Add(time.Hour)})
		require.NoError(t, err)
		_, _, err = e.store.AnswerSurvey(ctx, "tok-"+c.id, 4, "late", e.now)
		require.NoError(t, err)
	}
}

const initech = "INITECH-003"

// TestWorklistRoles: finance's lists are finance's and sales managers',
// CS's are CS's; everyone else is refused; an unknown list is a 404.
func TestWorklistRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedWorklists(t, e)
	allowed := map[string][]order.Role{
		"overdue-invoices":   {order.RoleFinance, order.RoleSalesManager},
		"credit-holds":       {order.RoleFinance, order.RoleSalesManager},
		"unmatched-payments": {order.RoleFinance, order.RoleSalesManager},
		"attention":          {order.RoleCS},
		"overdue-deliveries": {order.RoleCS},
		"followups":          {order.RoleCS, order.RoleSalesManager, order.RoleSalesRep},
	}
	roles := []order.Role{order.RoleFinance, order.RoleSalesManager, order.RoleCS, order.RoleSalesRep,
		order.RoleSalesAdmin, order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront}
	for name, ok := range allowed {
		for _, role := range roles {
			w := e.do(req{method: http.MethodGet, path: "/v1/worklists/" + name, token: e.token(role)})
			if slices.Contains(ok, role) {
				require.Equal(t, http.StatusOK, w.Code, "%s reads %s: %s", role, name, w.Body)
				body := decode[worklistBody[map[string]any]](t, w)
				require.NotNil(t, body.Items, "%s: items is a list, also when empty", name)
			} else {
				requireProblem(t, w, http.StatusForbidden)
			}
		}
	}
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/worklists/everything", token: e.token(order.RoleCS)}), http.StatusNotFound)
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/worklists/attention"}), http.StatusUnauthorized)
}

// TestWorklistFiltersAndPages: overdue invoices with days overdue and
// dunning, by customer and a page at a time; attention by stage; bad
// parameters name the parameter.
func TestWorklistFiltersAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedWorklists(t, e)
	finance := e.token(order.RoleFinance)
	get := func(tok, path string) *worklistBody[map[string]any] {
		t.Helper()
		w := e.do(req{method: http.MethodGet, path: path, token: tok})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		b := decode[worklistBody[map[string]any]](t, w)
		return &b
	}

	all := get(finance, "/v1/worklists/overdue-invoices")
	require.Len(t, all.Items, 2)
	require.Empty(t, all.NextAfter)
	first := all.Items[0]
	require.Equal(t, "INV-1", first["number"], "the longest overdue first")
	require.EqualValues(t, 20, first["days_overdue"])
	require.EqualValues(t, 2, first["dunning_level"])
	require.Equal(t, map[string]any{"minor": float64(20_000), "currency": "EUR"}, first["open"])
	require.EqualValues(t, 10, all.Items[1]["days_overdue"])

	globexOnly := get(finance, "/v1/worklists/overdue-invoices?customer_id="+globex)
	require.Len(t, globexOnly.Items, 1)
	require.Equal(t, "INV-2", globexOnly.Items[0]["number"])

	p1 := get(finance, "/v1/worklists/overdue-invoices?limit=1")
	require.Len(t, p1.Items, 1)
	require.NotEmpty(t, p1.NextAfter)
	p2 := get(finance, "/v1/worklists/overdue-invoices?limit=1&after="+p1.NextAfter)
	require.Equal(t, all.Items[1:], p2.Items)
	require.Empty(t, p2.NextAfter)

	cs := e.token(order.RoleCS)
	shipping := get(cs, "/v1/worklists/attention?stage=shipping")
	require.Len(t, shipping.Items, 1)
	require.Equal(t, "ord-att-1", shipping.Items[0]["order_id"])
	require.Equal(t, "book shipment from WH-EAST", shipping.Items[0]["step"])
	require.Equal(t, "shipping", shipping.Items[0]["stage"])
	require.Len(t, get(cs, "/v1/worklists/attention").Items, 2)

	for _, c := range []struct {
		tok, path, field string
		status           int
	}{
		{finance, "/v1/worklists/overdue-invoices?limit=0", "limit", http.StatusBadRequest},
		{finance, "/v1/worklists/overdue-invoices?limit=201", "limit", http.StatusBadRequest},
		{finance, "/v1/worklists/overdue-invoices?status=PAID", "status", http.StatusBadRequest},
		{finance, "/v1/worklists/overdue-invoices?stage=shipping", "stage", http.StatusBadRequest},
		{finance, "/v1/worklists/unmatched-payments?customer_id=" + acme, "customer_id", http.StatusBadRequest},
		{finance, "/v1/worklists/overdue-invoices?customer_id=%01", "customer_id", http.StatusBadRequest},
		{finance, "/v1/worklists/overdue-invoices?after=%21%21", "after", http.StatusUnprocessableEntity},
		{cs, "/v1/worklists/attention?stage=space", "stage", http.StatusBadRequest},
		{cs, "/v1/worklists/attention?owner=x", "owner", http.StatusBadRequest},
		{cs, "/v1/worklists/followups?owner=a&owner=b", "owner", http.StatusBadRequest},
	} {
		p := requireProblem(t, e.do(req{method: http.MethodGet, path: c.path, token: c.tok}), c.status)
		require.Equal(t, []string{c.field}, p.fields(), c.path)
	}
}

// TestFollowUpWorklistAndClose: a sales rep, known by the subject of their
// token and the e-mail of their rep record, sees and closes only their
// own follow-ups; CS sees all; a second close by someone else is a 409; a
// close needs a note.
func TestFollowUpWorklistAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedWorklists(t, e)
	ctx := context.Background()
	_, err := e.store.UpsertRep(ctx, store.Rep{Subject: "rep-anna", Email: "anna.rep@seller.example",
		DiscountAuthorityBP: 500, UpdatedAt: e.now, UpdatedBy: "admin"})
	require.NoError(t, err)
	anna := e.tokenFor(order.Actor{Subject: "rep-anna", Role: order.RoleSalesRep})
	ben := e.tokenFor(order.Actor{Subject: "ben.rep@seller.example", Role: order.RoleSalesRep}) // no rep record
	cs := e.token(order.RoleCS)
	list := func(tok, query string) []store.FollowUp {
		t.Helper()
		w := e.do(req{method: http.MethodGet, path: "/v1/worklists/followups" + query, token: tok})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		return decode[worklistBody[store.FollowUp]](t, w).Items
	}

	all := list(cs, "")
	require.Len(t, all, 3)
	mine := list(anna, "")
	require.Len(t, mine, 2)
	for _, fu := range mine {
		require.Equal(t, "anna.rep@seller.example", fu.Owner)
	}
	require.Len(t, list(ben, ""), 1)
	require.Len(t, list(cs, "?owner=ben.rep@seller.example"), 1)
	require.Len(t, list(anna, "?owner=anna.rep@seller.example&customer_id="+initech), 1)
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/worklists/followups?owner=ben.rep@seller.example", token: anna}), http.StatusForbidden)

	var annas, bens store.FollowUp
	for _, fu := range all {
		switch fu.Owner {
		case "ben.rep@seller.example":
			bens = fu
		default:
			annas = fu
		}
	}
	closePath := func(id int64) string { return fmt.Sprintf("/v1/followups/%d/close", id) }
	requireProblem(t, e.do(req{method: http.MethodPost, path: closePath(bens.ID), token: anna, body: map[string]any{"note": "mine?"}}), http.StatusForbidden)
	requireProblem(t, e.do(req{method: http.MethodPost, path: closePath(annas.ID), token: e.token(order.RoleFinance), body: map[string]any{"note": "x"}}), http.StatusForbidden)
	p := requireProblem(t, e.do(req{method: http.MethodPost, path: closePath(annas.ID), token: anna, body: map[string]any{"note": "  "}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"note"}, p.fields())
	requireProblem(t, e.do(req{method: http.MethodPost, path: closePath(999999), token: cs, body: map[string]any{"note": "x"}}), http.StatusNotFound)
	requireProblem(t, e.do(req{method: http.MethodPost, path: "/v1/followups/abc/close", token: cs, body: map[string]any{"note": "x"}}), http.StatusNotFound)

	w := e.do(req{method: http.MethodPost, path: closePath(annas.ID), token: anna, body: map[string]any{"note": "called them; credit note sent"}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	closed := decode[store.FollowUp](t, w)
	require.Equal(t, "rep-anna", closed.ClosedBy)
	require.NotNil(t, closed.ClosedAt)
	w = e.do(req{method: http.MethodPost, path: closePath(annas.ID), token: anna, body: map[string]any{"note": "called them; credit note sent"}})
	require.Equal(t, http.StatusOK, w.Code, "the same close again is a retry")
	requireProblem(t, e.do(req{method: http.MethodPost, path: closePath(annas.ID), token: cs, body: map[string]any{"note": "me too"}}), http.StatusConflict)

	w = e.do(req{method: http.MethodPost, path: closePath(bens.ID), token: e.token(order.RoleSalesManager), body: map[string]any{"note": "handled"}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, list(cs, ""), 1, "two closed, one open")
}
