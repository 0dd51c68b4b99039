package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// customerToken signs a link of the customer workflow's mails, as the
// worker does.
func (e *env) customerToken(purpose links.Purpose, expires time.Time, lines ...links.Line) string {
	e.t.Helper()
	tok, err := e.links.Sign(links.Link{Purpose: purpose, OrderID: "customer-" + acme, CustomerID: acme,
		To: "purchasing@acme.example", Lines: lines, Expires: expires})
	require.NoError(e.t, err)
	return tok
}

// htmlPage checks a page's status and headers and returns its body.
func htmlPage(t *testing.T, w *responseRecorder, status int) string {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	require.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), "the token in the URL must not leak")
	return w.Body.String()
}

func TestReorderLinkRequestsAQuoteThroughTheQuotesPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	tok := e.customerToken(links.Reorder, e.now.Add(time.Hour), links.Line{SKU: "BOLT-M8", Quantity: 500}, links.Line{SKU: "NUT-M8", Quantity: 200})

	body := htmlPage(t, e.do(req{method: http.MethodGet, path: "/reorder/" + tok}), http.StatusOK)
	require.Contains(t, body, "BOLT-M8")
	require.Contains(t, body, `name="quantity" min="0" step="1" value="500"`)
	require.Contains(t, body, `value="200"`)
	require.Contains(t, body, "purchasing@acme.example")
	require.Contains(t, body, "Acme", "the customer's name")

	post := func(qs ...string) *responseRecorder {
		v := url.Values{"quantity": qs}
		return e.do(req{method: http.MethodPost, path: "/reorder/" + tok, body: v.Encode(), header: formHeader})
	}
	w := post("600", "0")
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	loc := w.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "https://orders.example/o/"), loc)
	view, err := e.links.Check(strings.TrimPrefix(loc, "https://orders.example/o/"), e.now)
	require.NoError(t, err)
	require.Equal(t, links.View, view.Purpose)
	require.Equal(t, acme, view.CustomerID)
	require.Equal(t, "purchasing@acme.example", view.To)

	// The order was made by POST /v1/quotes' own path: recorded, started
	// with the changed quantity, the product left at 0 left out, as the
	// link's recipient (a buyer of the customer).
	rec, err := e.store.Order(context.Background(), view.OrderID)
	require.NoError(t, err)
	require.Equal(t, acme, rec.CustomerID)
	in := startInput(t, e, view.OrderID)
	require.Equal(t, []order.Line{{SKU: "BOLT-M8", Quantity: 600}}, in.Lines)
	require.Equal(t, order.Actor{Subject: "purchasing@acme.example", Role: order.RoleBuyer, CustomerID: acme}, in.RequestedBy)

	// The same form again is the same order; other quantities on a used link are refused.
	again := post("600", "0")
	require.Equal(t, http.StatusSeeOther, again.Code)
	v2, err := e.links.Check(strings.TrimPrefix(again.Header().Get("Location"), "https://orders.example/o/"), e.now)
	require.NoError(t, err)
	require.Equal(t, view.OrderID, v2.OrderID)
	require.Contains(t, htmlPage(t, post("1", "1"), http.StatusConflict), "already requested a quote")
}

func TestReorderFormMistakesShowTheFormAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.customerToken(links.Reorder, e.now.Add(time.Hour), links.Line{SKU: "BOLT-M8", Quantity: 500})
	for _, tc := range []struct {
		body   string
		status int
		says   string
	}{
		{"quantity=0", http.StatusUnprocessableEntity, "order at least one product"},
		{"quantity=ten", http.StatusUnprocessableEntity, "a whole number"},
		{"quantity=-1", http.StatusUnprocessableEntity, "a whole number"},
		{"quantity=1&quantity=2", http.StatusBadRequest, "one quantity for each"},
		{"", http.StatusBadRequest, "one quantity for each"},
		{"quantity=99999999999999999999", http.StatusUnprocessableEntity, "a whole number"},
	} {
		w := e.do(req{method: http.MethodPost, path: "/reorder/" + tok, body: tc.body, header: formHeader})
		body := htmlPage(t, w, tc.status)
		require.Contains(t, body, tc.says, "body %q", tc.body)
		require.Contains(t, body, `<form method="post">`, "the form again")
	}
	require.Empty(t, e.calls("UpdateWithStartWorkflow"), "no order started")
}

func TestCustomerLinksThatAreNotValidAnswerA4xxPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired := e.customerToken(links.Reorder, e.now.Add(-time.Minute), links.Line{SKU: "BOLT-M8", Quantity: 1})
	unsubExpired := e.customerToken(links.Unsubscribe, e.now.Add(-time.Minute))
	unsub := e.customerToken(links.Unsubscribe, e.now.Add(time.Hour))
	reorder := e.customerToken(links.Reorder, e.now.Add(time.Hour), links.Line{SKU: "BOLT-M8", Quantity: 1})
	view, err := e.links.Sign(links.Link{Purpose: links.View, OrderID: "ord_X", CustomerID: acme, To: "p@acme", Expires: e.now.Add(time.Hour)})
	require.NoError(t, err)
	for _, tc := range []struct {
		method, path string
		status       int
		says         string
	}{
		{http.MethodGet, "/reorder/" + expired, http.StatusGone, "expired"},
		{http.MethodPost, "/reorder/" + expired, http.StatusGone, "expired"},
		{http.MethodGet, "/unsubscribe/" + unsubExpired, http.StatusGone, "expired"},
		{http.MethodGet, "/reorder/garbage", http.StatusNotFound, "not valid"},
		{http.MethodGet, "/reorder/" + unsub, http.StatusNotFound, "not valid"}, // another purpose
		{http.MethodGet, "/unsubscribe/" + reorder, http.StatusNotFound, "not valid"},
		{http.MethodGet, "/unsubscribe/" + view, http.StatusNotFound, "not valid"}, // an order link
		{http.MethodGet, "/reorder/" + reorder[:len(reorder)-2] + "xx", http.StatusNotFound, "not valid"},
		{http.MethodPost, "/unsubscribe/" + strings.Repeat("a", 3000), http.StatusNotFound, "not valid"},
	} {
		body := htmlPage(t, e.do(req{method: tc.method, path: tc.path, header: formHeader}), tc.status)
		require.Contains(t, body, tc.says, "%s %s", tc.method, tc.path)
	}
	optedOut, err := e.store.OptedOut(context.Background(), acme, "purchasing@acme.example")
	require.NoError(t, err)
	require.False(t, optedOut, "an expired unsubscribe link changes nothing")
}

func TestUnsubscribeIsHonouredAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.customerToken(links.Unsubscribe, e.now.Add(time.Hour))
	body := htmlPage(t, e.do(req{method: http.MethodGet, path: "/unsubscribe/" + tok}), http.StatusOK)
	require.Contains(t, body, "You are unsubscribed")
	require.Contains(t, body, "purchasing@acme.example")
	require.Contains(t, body, "Mails about your orders")

	out, err := e.store.ClaimMarketingMail(ctx, store.MarketingClaim{Key: "k", CustomerID: acme, Email: "purchasing@acme.example",
		Kind: "reorder-reminder", At: e.now, Cap: 1, Window: time.Hour})
	require.NoError(t, err)
	require.Equal(t, store.MarketingOptedOut, out.Decision, "the next marketing mail is suppressed")

	// One-click by POST, and a second use, say the same.
	require.Contains(t, htmlPage(t, e.do(req{method: http.MethodPost, path: "/unsubscribe/" + tok}), http.StatusOK), "You are unsubscribed")
	log, err := e.store.AuditLog(ctx, store.CustomerAuditID(acme))
	require.NoError(t, err)
	var optOuts int
	for _, en := range log {
		if en.Action == "marketing.opted-out" {
			optOuts++
			require.Equal(t, "purchasing@acme.example", en.Actor.Subject)
		}
	}
	require.Equal(t, 1, optOuts, "audited once")
}

// FuzzCustomerLinks sends arbitrary tokens and reorder forms: never a
// 5xx; an order is started only from a form of whole quantities, one per
// line of the link, at least one above 0.
func FuzzCustomerLinks(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	for _, seed := range []struct {
		token string
		body  string
	}{
		{"", "quantity=5&quantity=0"}, {"", "quantity=1"}, {"", "quantity=0&quantity=0"}, {"", "quantity=%zz"},
		{"", "quantity=1&quantity=2&quantity=3"}, {"", "quantity=+7&quantity=07"}, {"", "Quantity=1&quantity=1"},
		{"garbage", "quantity=1&quantity=1"}, {"a.b", ""}, {"%00", "quantity=1"},
	} {
		f.Add(seed.token, []byte(seed.body))
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		ee := e.with(t)
		if token == "" {
			token = ee.customerToken(links.Reorder, ee.now.Add(time.Hour), links.Line{SKU: "BOLT-M8", Quantity: 5},
				links.Line{SKU: fmt.Sprintf("NUT-M%d", n.Add(1)), Quantity: 1})
		}
		path := "/reorder/" + url.PathEscape(token)
		for _, r := range []req{
			{method: http.MethodGet, path: path},
			{method: http.MethodPost, path: path, body: body, header: formHeader},
			{method: http.MethodGet, path: "/unsubscribe/" + url.PathEscape(token)},
		} {
			w := ee.do(r)
			if w.Code >= 500 {
				t.Fatalf("%s %s with %q answered %d: %s", r.method, r.path, body, w.Code, w.Body.String())
			}
			if r.method == http.MethodPost && w.Code == http.StatusSeeOther {
				vals, err := url.ParseQuery(string(body))
				if err != nil || len(vals["quantity"]) != 2 {
					t.Fatalf("body %q (%v) started an order", body, err)
				}
			}
		}
	})
}
