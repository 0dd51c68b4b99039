package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

func TestGetOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	// The details query answers for one order only, as if the other's
	// workflow were gone.
	live := e.expectLive()
	withLive := e.createOrder("live", quoteBody())
	noLive := e.createOrder("no-live", quoteBody())
	details := workflows.Details{OrderID: withLive, CustomerID: acme, Status: order.StatusAwaitingAcceptance,
		Waiting: "waiting for the buyer to accept quote revision 1"}
	live.Store(withLive, details)

	t.Run("live details from the workflow", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + withLive, token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		v := decode[orderView](t, w)
		require.Equal(t, withLive, v.ID)
		require.Equal(t, order.StatusQuoting, v.Status, "the projection answers as it is")
		require.NotNil(t, v.Live)
		require.Equal(t, details, *v.Live)
	})

	t.Run("live is null when the workflow cannot answer", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), `"live":null`)
		require.Equal(t, noLive, decode[orderView](t, w).ID)
	})

	t.Run("buyers see their own customer's orders only", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, token: e.token(order.RoleBuyer)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())

		other := e.tokenFor(order.Actor{Subject: "globex-buyer", Role: order.RoleBuyer, CustomerID: globex})
		hidden := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, token: other}), http.StatusNotFound)
		missing := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/ord_NOPE", token: other}), http.StatusNotFound)
		require.Equal(t, missing.Type, hidden.Type, "another customer's order looks exactly like a missing one")
		require.Equal(t, missing.Title, hidden.Title)
	})

	t.Run("authentication", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive})
		requireProblem(t, w, http.StatusUnauthorized)
		require.Equal(t, `Bearer realm="orderflow"`, w.Header().Get("WWW-Authenticate"))

		for _, tok := range []string{"garbage", e.tokenFor(order.Actor{Subject: "x", Role: order.RoleCS}) + "x"} {
			w = e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, token: tok})
			requireProblem(t, w, http.StatusUnauthorized)
			require.Contains(t, w.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
		}
		w = e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}})
		requireProblem(t, w, http.StatusUnauthorized)
	})

	t.Run("audit log", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive + "/audit", token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		body := decode[struct {
			OrderID string             `json:"order_id"`
			Entries []store.AuditEntry `json:"entries"`
		}](t, w)
		require.Equal(t, noLive, body.OrderID)
		require.NotEmpty(t, body.Entries)
		require.Equal(t, order.ActionOrderCreated, body.Entries[0].Action)
		require.Equal(t, "user-storefront", body.Entries[0].Actor.Subject)

		for _, role := range []order.Role{order.RoleFinance, order.RoleSalesManager, order.RoleSalesRep} {
			w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive + "/audit", token: e.token(role)})
			require.Equal(t, http.StatusOK, w.Code, role)
		}
		// The audit log names approvers, failures and credit decisions:
		// the storefront shows buyers what it gets, so it gets none of it.
		for _, role := range []order.Role{order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront} {
			requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive + "/audit", token: e.token(role)}), http.StatusForbidden)
		}
		requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/ord_NOPE/audit", token: e.token(order.RoleCS)}), http.StatusNotFound)
	})

	t.Run("ids PostgreSQL could not hold are simply not found", func(t *testing.T) {
		for _, path := range []string{"/v1/orders/ord%00x", "/v1/orders/" + strings.Repeat("x", 65), "/v1/orders/%C3%28"} {
			requireProblem(t, e.do(req{method: http.MethodGet, path: path, token: e.token(order.RoleCS)}), http.StatusNotFound)
		}
	})
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	var acmeIDs []string
	for _, k := range []string{"a1", "a2", "a3"} {
		acmeIDs = append(acmeIDs, e.createOrder(k, quoteBody()))
	}
	g := quoteBody()
	g["customer_id"] = globex
	globexID := e.createOrder("g1", g)
	// One acme order waits for CS.
	require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{
		OrderID: acmeIDs[1], Seq: 1, Status: order.StatusConfirmed, NeedsAttention: true, Action: "step.failed",
	}))

	list := func(token, query string) *responseRecorder {
		return e.do(req{method: http.MethodGet, path: "/v1/orders" + query, token: token})
	}
	ids := func(w *responseRecorder) []string {
		t.Helper()
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var out []string
		for _, o := range decode[struct {
			Orders []store.OrderRecord `json:"orders"`
		}](t, w).Orders {
			out = append(out, o.ID)
		}
		return out
	}
	cs := e.token(order.RoleCS)

	t.Run("filters", func(t *testing.T) {
		require.Equal(t, append(append([]string{}, acmeIDs...), globexID), ids(list(cs, "")), "ids sort by creation")
		require.Equal(t, []string{globexID}, ids(list(cs, "?customer_id="+globex)))
		require.Equal(t, []string{acmeIDs[1]}, ids(list(cs, "?needs_attention=true")))
		require.Equal(t, []string{acmeIDs[1]}, ids(list(cs, "?status=CONFIRMED&customer_id="+acme)))
		require.Equal(t, []string{acmeIDs[0], acmeIDs[2], globexID}, ids(list(cs, "?needs_attention=false")))
	})

	t.Run("pages", func(t *testing.T) {
		w := list(cs, "?limit=2")
		page := decode[struct {
			Orders    []store.OrderRecord `json:"orders"`
			NextAfter string              `json:"next_after"`
		}](t, w)
		require.Len(t, page.Orders, 2)
		require.Equal(t, acmeIDs[1], page.NextAfter)
		require.Equal(t, []string{acmeIDs[2], globexID}, ids(list(cs, "?limit=2&after="+page.NextAfter)))
	})

	t.Run("buyers are held to their customer", func(t *testing.T) {
		buyer := e.token(order.RoleBuyer)
		require.Equal(t, acmeIDs, ids(list(buyer, "")))
		require.Equal(t, acmeIDs, ids(list(buyer, "?customer_id="+acme)))
		requireProblem(t, list(buyer, "?customer_id="+globex), http.StatusForbidden)
	})

	t.Run("bad parameters are 400 naming the parameter", func(t *testing.T) {
		tests := []struct{ query, field string }{
			{"?status=SHIPPED", "status"},
			{"?status=quoting", "status"},
			{"?needs_attention=maybe", "needs_attention"},
			{"?limit=0", "limit"},
			{"?limit=201", "limit"},
			{"?limit=ten", "limit"},
			{"?sort=id", "sort"},
			{"?customer_id=%00", "customer_id"},
			{"?customer_id=A%00B", "customer_id"},
			{"?customer_id=%FF", "customer_id"},
			{"?after=%00", "after"},
			{"?after=%FF", "after"},
		}
		for _, tt := range tests {
			p := requireProblem(t, list(cs, tt.query), http.StatusBadRequest)
			require.Equal(t, []string{tt.field}, p.fields(), tt.query)
		}
	})
}
