package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// An approver out of office hands their approvals to a colleague; the
// colleague's approval reaches the order with the delegation, and only
// while it is in force and fits the order.
func TestDelegatedApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("dlg", quoteBody())
	boss := order.Actor{Subject: "boss@acme", Role: order.RoleBuyerApprover, CustomerID: acme}
	pat := order.Actor{Subject: "pat@acme", Role: order.RoleBuyer, CustomerID: acme}
	eve := order.Actor{Subject: "eve@globex", Role: order.RoleBuyer, CustomerID: "GLOBEX-002"}
	until := e.now.Add(14 * 24 * time.Hour)
	delegate := func(a order.Actor, body map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/delegations", token: e.tokenFor(a), body: body})
	}

	// Refused: not an approver, to oneself, no return date, too long, no reason.
	for _, tc := range []struct {
		actor  order.Actor
		body   map[string]any
		status int
		fields []string
	}{
		{pat, map[string]any{"to": "sam@acme", "until": until, "reason": "x"}, http.StatusForbidden, nil},
		{boss, map[string]any{"to": "boss@acme", "until": until, "reason": "x"}, http.StatusUnprocessableEntity, []string{"to"}},
		{boss, map[string]any{"to": "pat@acme", "reason": "x"}, http.StatusUnprocessableEntity, []string{"until"}},
		{boss, map[string]any{"to": "pat@acme", "until": e.now.Add(91 * 24 * time.Hour), "reason": "x"}, http.StatusUnprocessableEntity, []string{"until"}},
		{boss, map[string]any{"to": "pat@acme", "until": e.now.Add(-time.Hour), "reason": "x"}, http.StatusUnprocessableEntity, []string{"until"}},
		{boss, map[string]any{"to": "pat@acme", "until": until}, http.StatusUnprocessableEntity, []string{"reason"}},
	} {
		p := requireProblem(t, delegate(tc.actor, tc.body), tc.status)
		require.Equal(t, tc.fields, p.fields(), "%v", tc.body)
	}

	w := delegate(boss, map[string]any{"to": "pat@acme", "until": until, "reason": "holiday, back on the 15th"})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	d := decode[store.Delegation](t, w)
	require.Equal(t, boss, d.From)
	require.Equal(t, "pat@acme", d.To)

	// Both see it; a stranger does not.
	for _, a := range []order.Actor{boss, pat} {
		w := e.do(req{method: http.MethodGet, path: "/v1/delegations", token: e.tokenFor(a)})
		require.Equal(t, http.StatusOK, w.Code)
		require.Len(t, decode[struct{ Delegations []store.Delegation }](t, w).Delegations, 1)
	}
	w = e.do(req{method: http.MethodGet, path: "/v1/delegations", token: e.tokenFor(eve)})
	require.Empty(t, decode[struct{ Delegations []store.Delegation }](t, w).Delegations)

	approve := func(a order.Actor, body map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/orders/" + id + "/approvals", token: e.tokenFor(a), body: body})
	}
	// pat approves for boss: the order gets the delegation.
	e.expectUpdate(id, workflows.UpdateApprove, workflows.DecisionResult{Status: order.StatusCreditCheck, Message: "Approved"}, nil)
	w = approve(pat, map[string]any{"approve": true, "comment": "fine"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	calls := e.updateCalls(id)
	require.Equal(t, []any{workflows.ApproveInput{Actor: pat, Approve: true, Comment: "fine",
		OnBehalfOf: &workflows.Delegation{ID: d.ID, From: boss, Until: d.EndsAt}}}, calls[len(calls)-1].Args)

	// A delegation that is not theirs, or names another: refused before the order.
	p := requireProblem(t, approve(pat, map[string]any{"approve": true, "delegation_id": "dlg_nope"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"delegation_id"}, p.fields())
	p = requireProblem(t, approve(boss, map[string]any{"approve": true, "delegation_id": d.ID}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"delegation_id"}, p.fields())

	// Only boss revokes it; then pat decides as pat (the order refuses the role).
	w = e.do(req{method: http.MethodDelete, path: "/v1/delegations/" + d.ID, token: e.tokenFor(pat)})
	requireProblem(t, w, http.StatusNotFound)
	w = e.do(req{method: http.MethodDelete, path: "/v1/delegations/" + d.ID, token: e.tokenFor(boss)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NotNil(t, decode[store.Delegation](t, w).RevokedAt)
	e.expectUpdate(id, workflows.UpdateApprove, workflows.DecisionResult{}, nil)
	w = approve(pat, map[string]any{"approve": true})
	require.Equal(t, http.StatusOK, w.Code)
	calls = e.updateCalls(id)
	require.Nil(t, calls[len(calls)-1].Args[0].(workflows.ApproveInput).OnBehalfOf)
}

// A sales manager sets a rep's discount authority; reps read it; others may not.
func TestRepRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mgr := order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	rep := order.Actor{Subject: "rita@seller", Role: order.RoleSalesRep}
	put := func(a order.Actor, subject string, body map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPut, path: "/v1/reps/" + subject, token: e.tokenFor(a), body: body})
	}
	requireProblem(t, put(rep, "rita@seller", map[string]any{"discount_authority_bp": 9000}), http.StatusForbidden)
	p := requireProblem(t, put(mgr, "rita@seller", map[string]any{"discount_authority_bp": 10001}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"discount_authority_bp"}, p.fields())
	p = requireProblem(t, put(mgr, "rita@seller", map[string]any{"name": "Rita"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"discount_authority_bp"}, p.fields())

	w := put(mgr, "rita@seller", map[string]any{"name": "Rita Rep", "discount_authority_bp": 750})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decode[store.Rep](t, w)
	require.Equal(t, int64(750), got.DiscountAuthorityBP)
	require.Equal(t, "mia@seller", got.UpdatedBy)

	w = e.do(req{method: http.MethodGet, path: "/v1/reps", token: e.tokenFor(rep)})
	require.Equal(t, http.StatusOK, w.Code)
	list := decode[struct{ Reps []store.Rep }](t, w)
	require.Contains(t, list.Reps, got)
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/reps", token: e.token(order.RoleBuyer)}), http.StatusForbidden)
}

// A sales manager sets a customer's contacts; the customer's buyers read
// them, other customers' do not.
func TestCustomerContacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mgr := order.Actor{Subject: "sue@seller", Role: order.RoleSalesAdmin}
	put := func(a order.Actor, id string, body any) *responseRecorder {
		return e.do(req{method: http.MethodPut, path: "/v1/customers/" + id + "/contacts", token: e.tokenFor(a), body: body})
	}
	ap := map[string]any{"name": "AP", "email": "ap@acme.example", "roles": []string{"accounts_payable"}}
	requireProblem(t, put(order.Actor{Subject: "pat", Role: order.RoleBuyer, CustomerID: acme}, acme, map[string]any{"contacts": []any{ap}}), http.StatusForbidden)
	requireProblem(t, put(order.Actor{Subject: "mia", Role: order.RoleSalesManager}, acme, map[string]any{"contacts": []any{ap}}), http.StatusForbidden) // managers read, admins write
	p := requireProblem(t, put(mgr, acme, map[string]any{"contacts": []any{ap, map[string]any{"email": "x@acme.example", "roles": []string{"ceo"}}}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"contacts[1].roles[0]"}, p.fields())
	p = requireProblem(t, put(mgr, acme, map[string]any{}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"contacts"}, p.fields())
	requireProblem(t, put(mgr, "NOBODY-9", map[string]any{"contacts": []any{ap}}), http.StatusNotFound)

	w := put(mgr, acme, map[string]any{"contacts": []any{ap}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	type answer struct {
		Contacts  []order.Contact `json:"contacts"`
		MainEmail string          `json:"main_email"`
	}
	got := decode[answer](t, w)
	require.Equal(t, []order.Contact{{Name: "AP", Email: "ap@acme.example", Roles: []order.ContactRole{order.ContactAccountsPayable}}}, got.Contacts)

	w = e.do(req{method: http.MethodGet, path: "/v1/customers/" + acme + "/contacts", token: e.token(order.RoleBuyer)})
	require.Equal(t, http.StatusOK, w.Code)
	require.Len(t, decode[answer](t, w).Contacts, 1)
	w = e.do(req{method: http.MethodGet, path: "/v1/customers/" + acme + "/contacts",
		token: e.tokenFor(order.Actor{Subject: "eve", Role: order.RoleBuyer, CustomerID: "GLOBEX-002"})})
	requireProblem(t, w, http.StatusNotFound)
}

// A sales admin records a new version of a customer's terms; a manager
// reads them; nobody else writes them.
func TestTermsCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := order.Actor{Subject: "sue@seller", Role: order.RoleSalesAdmin}
	mgr := order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	terms := store.DemoCustomers()[0]
	terms.DiscountBP = 500
	put := func(a order.Actor, body map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPut, path: "/v1/customers/" + acme + "/terms", token: e.tokenFor(a), body: body})
	}
	requireProblem(t, put(mgr, map[string]any{"terms": terms, "reason": "x"}), http.StatusForbidden)
	p := requireProblem(t, put(admin, map[string]any{"terms": terms}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"reason"}, p.fields())
	p = requireProblem(t, put(admin, map[string]any{"terms": terms, "reason": "x", "effective_from": e.now.Add(-time.Hour)}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"effective_from"}, p.fields())
	bad := terms
	bad.Currency = "EURO"
	p = requireProblem(t, put(admin, map[string]any{"terms": bad, "reason": "x"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"terms.currency"}, p.fields())
	other := terms
	other.CustomerID = "GLOBEX-002"
	p = requireProblem(t, put(admin, map[string]any{"terms": other, "reason": "x"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"terms.customer_id"}, p.fields())

	w := put(admin, map[string]any{"terms": terms, "reason": "volume agreement 2031"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	v := decode[store.TermsVersion](t, w)
	require.Equal(t, 1, v.Version)
	require.Equal(t, "sue@seller", v.ChangedBy)
	require.NotEmpty(t, v.Hash)

	w = e.do(req{method: http.MethodGet, path: "/v1/customers/" + acme + "/terms", token: e.tokenFor(mgr)})
	require.Equal(t, http.StatusOK, w.Code)
	got := decode[struct {
		InForce  order.Terms          `json:"in_force"`
		Versions []store.TermsVersion `json:"versions"`
	}](t, w)
	require.Equal(t, int64(500), got.InForce.DiscountBP)
	require.Equal(t, v.Hash, got.InForce.Hash)
	require.Len(t, got.Versions, 1)
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/customers/" + acme + "/terms", token: e.token(order.RoleBuyer)}), http.StatusForbidden)
}

// A retried delegation request with its Idempotency-Key is the same
// delegation; the key with another body is refused.
func TestDelegationRetryIsTheSameDelegation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := order.Actor{Subject: "boss@acme", Role: order.RoleBuyerApprover, CustomerID: acme}
	body := map[string]any{"to": "pat@acme", "until": e.now.Add(24 * time.Hour), "reason": "away"}
	post := func(b map[string]any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/delegations", token: e.tokenFor(boss), body: b,
			header: map[string]string{"Idempotency-Key": "away-2030-03"}})
	}
	first := post(body)
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	e.now = e.now.Add(time.Minute) // the retry comes a minute later
	again := post(body)
	require.Equal(t, http.StatusCreated, again.Code, again.Body.String())
	require.Equal(t, decode[store.Delegation](t, first).ID, decode[store.Delegation](t, again).ID)
	w := e.do(req{method: http.MethodGet, path: "/v1/delegations", token: e.tokenFor(boss)})
	require.Len(t, decode[struct{ Delegations []store.Delegation }](t, w).Delegations, 1)

	other := map[string]any{"to": "eve@acme", "until": body["until"], "reason": "away"}
	requireProblem(t, post(other), http.StatusConflict)
}
