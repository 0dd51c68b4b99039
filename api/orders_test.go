package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
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

	t.Run("a default read answers from the projection and asks the workflow nothing", func(t *testing.T) {
		require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{OrderID: withLive, Seq: 1,
			Status: order.StatusAwaitingAcceptance, Action: "quote.priced", Details: "priced"}))
		before := e.queries()
		for _, path := range []string{"/v1/orders/" + withLive, "/v1/orders/" + withLive + "?live=false"} {
			w := e.do(req{method: http.MethodGet, path: path, token: e.token(order.RoleCS)})
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			v := decode[orderView](t, w)
			require.Equal(t, withLive, v.ID)
			require.Equal(t, order.StatusAwaitingAcceptance, v.Status)
			require.Equal(t, "projection", v.Source)
			require.EqualValues(t, 1, v.Seq, "the projection's last transition")
			require.Nil(t, v.Live)
			require.Contains(t, w.Body.String(), `"live":null`)

			w = e.do(req{method: http.MethodGet, path: path, token: e.token(order.RoleBuyer)})
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Contains(t, w.Body.String(), `"source":"projection","seq":1`)
		}
		require.Equal(t, before, e.queries(), "no details query without live=true")
	})

	t.Run("a buyer's default read says what to pay from the projection", func(t *testing.T) {
		ctx := context.Background()
		issued := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
		inv := order.Invoice{InvoiceID: "erp-1", Number: "INV-77", Amount: money.New(12_000, "EUR"), IssuedAt: issued, DueDate: issued.AddDate(0, 0, 30)}
		require.NoError(t, e.store.SaveInvoice(ctx, noLive, inv))
		require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: noLive, Seq: 4, Status: order.StatusAwaitingPayment,
			Action: "payment.awaiting", Details: "awaiting payment", InvoiceNumber: inv.Number,
			Facts: &order.Facts{Invoices: []order.InvoiceFact{{Number: inv.Number, Open: money.New(2_000, "EUR")}}}}))
		before := e.queries()
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive, token: e.token(order.RoleStorefront)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		b := decode[struct {
			Status   order.Status `json:"status"`
			Source   string       `json:"source"`
			Seq      int64        `json:"seq"`
			Invoices []struct {
				Number  string      `json:"number"`
				Amount  money.Money `json:"amount"`
				DueDate time.Time   `json:"due_date"`
				Open    money.Money `json:"open"`
			} `json:"invoices"`
			Invoice struct{ Number string } `json:"invoice"`
		}](t, w)
		require.Equal(t, order.StatusAwaitingPayment, b.Status)
		require.Equal(t, "projection", b.Source)
		require.EqualValues(t, 4, b.Seq)
		require.Len(t, b.Invoices, 1)
		require.Equal(t, "INV-77", b.Invoices[0].Number)
		require.Equal(t, inv.Amount, b.Invoices[0].Amount)
		require.Equal(t, inv.DueDate, b.Invoices[0].DueDate)
		require.Equal(t, money.New(2_000, "EUR"), b.Invoices[0].Open, "what the order last recorded as open")
		require.Equal(t, "INV-77", b.Invoice.Number)
		require.Equal(t, before, e.queries())
	})

	t.Run("live=true asks the workflow", func(t *testing.T) {
		before := e.queries()
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + withLive + "?live=true", token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		v := decode[orderView](t, w)
		require.Equal(t, withLive, v.ID)
		require.Equal(t, order.StatusAwaitingAcceptance, v.Status, "the projection answers as it is")
		require.Equal(t, "workflow", v.Source)
		require.EqualValues(t, 1, v.Seq)
		require.NotNil(t, v.Live)
		require.Equal(t, details, *v.Live)
		require.Equal(t, before+1, e.queries())
	})

	t.Run("live is null when the workflow cannot answer", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + noLive + "?live=1", token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), `"live":null`)
		v := decode[orderView](t, w)
		require.Equal(t, noLive, v.ID)
		require.Equal(t, "projection", v.Source, "nothing came from the workflow")
	})

	t.Run("an order the projection does not hold yet answers from the workflow", func(t *testing.T) {
		const outside = "ord_OUTSIDE"
		live.Store(outside, workflows.Details{OrderID: outside, CustomerID: acme, PONumber: "PO-9", Status: order.StatusQuoting,
			Waiting: "pricing the quote"})
		w := e.do(req{method: http.MethodGet, path: "/v1/orders/" + outside, token: e.token(order.RoleCS)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		v := decode[orderView](t, w)
		require.Equal(t, "workflow", v.Source)
		require.EqualValues(t, 0, v.Seq)
		require.Equal(t, order.StatusQuoting, v.Status)
		require.Equal(t, "pricing the quote", v.Details)
		require.NotContains(t, w.Body.String(), "created_at", "nothing was recorded yet")

		w = e.do(req{method: http.MethodGet, path: "/v1/orders/" + outside, token: e.token(order.RoleBuyer)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), `"source":"workflow"`)
		other := e.tokenFor(order.Actor{Subject: "globex-buyer", Role: order.RoleBuyer, CustomerID: globex})
		requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + outside, token: other}), http.StatusNotFound)
	})

	t.Run("bad parameters are 400 naming the parameter", func(t *testing.T) {
		for query, field := range map[string]string{"?live=maybe": "live", "?fresh=true": "fresh"} {
			p := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + withLive + query, token: e.token(order.RoleCS)}), http.StatusBadRequest)
			require.Equal(t, []string{field}, p.fields(), query)
		}
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
