package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// lostQuote makes an order of acme whose quote (two revisions) was lost,
// and its quote-lost follow-up, owned by acme's rep Anna.
func lostQuote(t *testing.T, e *env, key string) (string, store.FollowUp) {
	t.Helper()
	ctx := context.Background()
	id := e.createOrder(key, quoteBody())
	for rev, lines := range [][]order.PricedLine{
		{{SKU: "BOLT-M8", Quantity: 100}, {SKU: "NUT-M8", Quantity: 100}},
		{{SKU: "BOLT-M8", Quantity: 150}, {SKU: "NUT-M8", Quantity: 50}},
	} {
		_, err := e.store.SaveQuote(ctx, id, order.Quote{Revision: rev + 1, Lines: lines, Total: money.New(1000, "EUR"),
			ValidUntil: e.now.Add(-time.Hour)})
		require.NoError(t, err)
	}
	fu, _, err := e.store.OpenQuoteLostFollowUp(ctx, store.QuoteLost{OrderID: id, CustomerID: acme, Reason: "expired unanswered", At: e.now})
	require.NoError(t, err)
	require.Equal(t, "anna.rep@seller.example", fu.Owner)
	return id, fu
}

func TestReopenLostQuote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	ctx := context.Background()
	lost, fu := lostQuote(t, e, "lost-1")
	anna := e.tokenFor(order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep})
	ben := e.tokenFor(order.Actor{Subject: "ben.rep@seller.example", Role: order.RoleSalesRep})
	path := "/v1/followups/" + strconv.FormatInt(fu.ID, 10) + "/reopen"
	body := map[string]any{"reason": "the buyer called back", "po_number": "PO-9",
		"lines": []map[string]any{{"sku": "NUT-M8", "quantity": 0}, {"sku": "BOLT-M8", "quantity": 200}}}

	// Refusals first: they change nothing.
	requireProblem(t, e.do(req{method: http.MethodPost, path: path, token: ben, body: body}), http.StatusForbidden)
	requireProblem(t, e.do(req{method: http.MethodPost, path: path, token: e.token(order.RoleCS), body: body}), http.StatusForbidden)
	requireProblem(t, e.do(req{method: http.MethodPost, path: "/v1/followups/999999/reopen", token: anna, body: body}), http.StatusNotFound)
	p := requireProblem(t, e.do(req{method: http.MethodPost, path: path, token: anna, body: map[string]any{"po_number": "x"}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"reason"}, p.fields())
	p = requireProblem(t, e.do(req{method: http.MethodPost, path: path, token: anna,
		body: map[string]any{"reason": "r", "lines": []map[string]any{{"sku": "WASHER-M8", "quantity": 1}}}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"lines[0].sku"}, p.fields())

	// The owning rep re-opens it: a new order of acme with the last
	// revision's lines, the quantities changed as asked.
	w := e.do(req{method: http.MethodPost, path: path, token: anna, body: body})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	created := decode[orderView](t, w)
	require.NotEqual(t, lost, created.ID)
	require.Equal(t, "https://orders.example/v1/orders/"+created.ID, w.Header().Get("Location"))
	require.Equal(t, acme, created.CustomerID)
	in := startInput(t, e, created.ID)
	require.Equal(t, []order.Line{{SKU: "BOLT-M8", Quantity: 200}}, in.Lines)
	require.Equal(t, "PO-9", in.PONumber)
	require.Equal(t, "anna.rep@seller.example", in.RequestedBy.Subject)

	// The follow-up is closed with a note naming the new order, audited
	// on the lost order.
	got, err := e.store.FollowUp(ctx, fu.ID)
	require.NoError(t, err)
	require.NotNil(t, got.ClosedAt)
	require.Equal(t, "re-opened as order "+created.ID+": the buyer called back", got.Note)
	log, err := e.store.AuditLog(ctx, lost)
	require.NoError(t, err)
	var reopened []store.AuditEntry
	for _, a := range log {
		if a.Action == "followup.reopened" {
			reopened = append(reopened, a)
		}
	}
	require.Len(t, reopened, 1)
	require.Contains(t, reopened[0].Reason, created.ID)
	require.Equal(t, "anna.rep@seller.example", reopened[0].Actor.Subject)

	// A retry, by her or a sales manager, answers the same order.
	for _, tok := range []string{anna, e.token(order.RoleSalesManager)} {
		w = e.do(req{method: http.MethodPost, path: path, token: tok, body: body})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, created.ID, decode[orderView](t, w).ID)
	}
	require.Len(t, e.startCalls(created.ID), 1, "one new order, started once")

	// A follow-up closed otherwise, or of another kind: 409.
	_, other := lostQuote(t, e, "lost-2")
	_, err = e.store.CloseFollowUp(ctx, other.ID, order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep}, "no interest", e.now)
	require.NoError(t, err)
	p = requireProblem(t, e.do(req{method: http.MethodPost, path: "/v1/followups/" + strconv.FormatInt(other.ID, 10) + "/reopen",
		token: anna, body: body}), http.StatusConflict)
	require.Contains(t, p.Detail, "no interest")
	var detractor int64
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO followups (kind, order_id, customer_id, survey_token, score, owner, opened_at)
		VALUES ('detractor', $1, $2, 'tok-d', 2, 'anna.rep@seller.example', $3) RETURNING id`, lost, acme, e.now).Scan(&detractor))
	p = requireProblem(t, e.do(req{method: http.MethodPost, path: "/v1/followups/" + strconv.FormatInt(detractor, 10) + "/reopen",
		token: anna, body: body}), http.StatusConflict)
	require.Contains(t, p.Detail, "detractor")
}
