package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// The order page refuses what its link does not allow: an expired link
// says so (410), a link of another key or a changed one opens nothing
// (404), and a link names its order's customer.
func TestOrderPageLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("page", quoteBody())
	sign := func(l links.Link) string {
		tok, err := e.links.Sign(l)
		require.NoError(t, err)
		return tok
	}
	get := func(tok string) *responseRecorder { return e.do(req{method: http.MethodGet, path: "/o/" + tok}) }

	w := get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, To: "link:x", Expires: e.now.Add(time.Hour)}))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), "Order "+id)
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	require.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")

	w = get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(time.Second)}))
	require.Equal(t, http.StatusOK, w.Code)
	expired := sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(-time.Second)})
	w = get(expired)
	require.Equal(t, http.StatusGone, w.Code)
	require.Contains(t, w.Body.String(), "This link has expired")

	other, err := links.New([]byte("another-key-another-key-another-key!"))
	require.NoError(t, err)
	forged, err := other.Sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(time.Hour)})
	require.NoError(t, err)
	for _, tok := range []string{forged, "nonsense", strings.Repeat("a", 3000)} {
		w := get(tok)
		require.Equal(t, http.StatusNotFound, w.Code)
		require.Contains(t, w.Body.String(), "This link is not valid")
		require.NotContains(t, w.Body.String(), id)
	}
	// Signed for another customer than the order's: nothing.
	w = get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: "GLOBEX-002", Expires: e.now.Add(time.Hour)}))
	require.Equal(t, http.StatusNotFound, w.Code)
	// An accept link's page without an order waiting for an answer shows no button.
	w = e.do(req{method: http.MethodPost, path: "/o/" + expired + "/accept"})
	require.Equal(t, http.StatusGone, w.Code)
}

// Hole 2 for pages: the order page a mail link opens shows the buyer's
// representation only, like GET /v1/orders/{id} for a buyer: nothing of
// the seller's internal view reaches it.
func TestOrderPageShowsNoSellerInternals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	id := e.createOrder("page-secrets", quoteBody())
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	due := e.now.Add(30 * 24 * time.Hour)
	live.Store(id, workflows.Details{
		OrderID: id, CustomerID: acme, Status: order.StatusAwaitingApproval, NeedsAttention: true,
		Waiting: "SECRET waiting text for staff",
		Quote:   &order.Quote{Revision: 1, Total: eur(900_000), Subtotal: eur(900_000), ValidUntil: due, Lines: []order.PricedLine{{SKU: "BOLT-M8", Quantity: 1, UnitPrice: eur(900_000), Total: eur(900_000)}}},
		Approvals: []workflows.Approval{{Side: order.SideSeller, Actor: order.Actor{Subject: "SECRET-mia@seller", Role: order.RoleSalesManager},
			Approve: true, Comment: "SECRET-margin-thin"}},
		ApprovalsNeeded: []order.ApprovalNeed{{Side: order.SideBuyer, Count: 1, Reason: "SECRET-purchasing-limit"}},
		Exposure:        &order.Exposure{Total: eur(9_900_000), Limit: eur(5_000_000)},
		SalesOrderID:    "SECRET-SO-1",
		Shipments:       []order.Shipment{{Warehouse: "north", ShipmentID: "SECRET-SH-1", TrackingNumber: "TRK-1", Exception: "SECRET-damaged"}},
		Terms:           &order.Terms{CustomerID: acme, CreditLimit: eur(123_456_789), Hash: "SECRET-hash"},
		Failure:         &workflows.StepFailure{Step: "reserve stock", Error: "SECRET 4711@worker-7"},
		Compensations:   []string{"SECRET cancel ERP sales order"},
	})
	require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{OrderID: id, CustomerID: acme, Seq: 5,
		Status: order.StatusAwaitingApproval, Action: "approval.requested", Details: "SECRET reasons"}))
	tok, err := e.links.Sign(links.Link{Purpose: links.Approve, OrderID: id, CustomerID: acme, To: "cfo@acme.example", Expires: e.now.Add(time.Hour)})
	require.NoError(t, err)
	w := e.do(req{method: http.MethodGet, path: "/o/" + tok})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	body := w.Body.String()
	require.Contains(t, body, "BOLT-M8", "the buyer's own lines")
	require.Contains(t, body, `id="approve"`, "the approver's buttons")
	require.NotContains(t, body, "SECRET", "seller-internal data on a buyer page")
	require.NotContains(t, body, "1234567.89", "the credit limit")
	require.NotContains(t, body, "99000.00", "the credit exposure")
}
