package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// keyPaths lists every key of a JSON document as a path ("a.b[].c").
func keyPaths(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				seen[p] = true
				walk(p, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"[]", c)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// buyerFields is every field a buyer may receive for an order. A new field
// must be added here on purpose: the test fails on anything else.
var buyerFields = []string{
	"id", "customer_id", "po_number", "status", "details", "total", "total.minor", "total.currency",
	"quote_revision", "invoice_number", "created_at", "updated_at", "prepayment", "survey",
	"quote", "quote.revision", "quote.lines", "quote.lines[].sku", "quote.lines[].quantity",
	"quote.lines[].list_price", "quote.lines[].list_price.minor", "quote.lines[].list_price.currency",
	"quote.lines[].unit_price", "quote.lines[].unit_price.minor", "quote.lines[].unit_price.currency",
	"quote.lines[].contract", "quote.lines[].total", "quote.lines[].total.minor", "quote.lines[].total.currency",
	"quote.subtotal", "quote.subtotal.minor", "quote.subtotal.currency", "quote.discount_bp",
	"quote.discount", "quote.discount.minor", "quote.discount.currency", "quote.total", "quote.total.minor",
	"quote.net", "quote.net.minor", "quote.net.currency", "quote.tax_rate_bp", "quote.tax", "quote.tax.minor",
	"quote.tax.currency", "quote.reverse_charge",
	"quote.total.currency", "quote.valid_until", "quote.lead_time_days", "quote.payment_terms_days",
	"approvals", "approvals.buyer_approvals_missing", "approvals.seller_approval_pending",
	"shipments", "shipments[].warehouse", "shipments[].lines", "shipments[].lines[].sku", "shipments[].lines[].quantity",
	"shipments[].tracking_number", "shipments[].promised_date", "shipments[].delivered", "shipments[].delivered_at",
	"invoice", "invoice.number", "invoice.amount", "invoice.amount.minor", "invoice.amount.currency",
	"invoice.issued_at", "invoice.due_date", "invoice.disputed_since", "paid", "paid.minor", "paid.currency",
	"invoice.shipment", "invoice.lines", "invoice.lines[].sku", "invoice.lines[].quantity",
	"invoice.open", "invoice.open.minor", "invoice.open.currency", "shipments[].invoice",
	"invoices", "invoices[].number", "invoices[].amount", "invoices[].amount.minor", "invoices[].amount.currency",
	"invoices[].issued_at", "invoices[].due_date", "invoices[].disputed_since",
	"invoices[].shipment", "invoices[].lines", "invoices[].lines[].sku", "invoices[].lines[].quantity",
	"invoices[].open", "invoices[].open.minor", "invoices[].open.currency",
	"source", "seq",
}

// Hole 2: a buyer used to read live.failure.error (the worker's pid@host,
// Temporal event ids, the ERP's raw answer), the credit exposure and the
// seller approvers' comments. Buyers now get their own representation.
func TestBuyerSeesNoSellerInternals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	id := e.createOrder("b1", quoteBody())
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	due := time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)
	internal := workflows.Details{
		OrderID: id, CustomerID: acme, Status: order.StatusAwaitingApproval, NeedsAttention: true, DeliveryOverdue: true,
		Waiting: "On credit hold: exposure 99,000.00 EUR exceeds the limit 50,000.00 EUR",
		Quote:   &order.Quote{Revision: 2, Total: eur(900_000), ValidUntil: due, Lines: []order.PricedLine{{SKU: "BOLT-M8", Quantity: 1, Total: eur(900_000)}}},
		Approvals: []workflows.Approval{
			{Side: order.SideSeller, Actor: order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}, Approve: true, Comment: "SECRET-margin-thin"},
			{Side: order.SideBuyer, Actor: order.Actor{Subject: "boss@acme", Role: order.RoleBuyerApprover}, Approve: true},
		},
		ApprovalsNeeded: []order.ApprovalNeed{{Side: order.SideBuyer, Count: 2, Reason: "over SECRET-purchasing-limit"}, {Side: order.SideSeller, Count: 2, Reason: "SECRET-discount"}},
		Exposure:        &order.Exposure{Total: eur(9_900_000), Limit: eur(5_000_000)},
		SalesOrderID:    "SECRET-SO-1",
		Shipments: []order.Shipment{{Warehouse: "north", ShipmentID: "SECRET-SH-1", TrackingNumber: "TRK-1", Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1}},
			PromisedDate: due, Overdue: true, Exception: "SECRET-damaged"}},
		Invoice:       &order.Invoice{InvoiceID: "SECRET-inv-id", Number: "INV-000009", Amount: eur(900_000), IssuedAt: due, DueDate: due},
		Paid:          &money.Money{Minor: 100, Currency: "EUR"},
		SurveyState:   "sent",
		Failure:       &workflows.StepFailure{Step: "reserve stock", Error: "SECRET 4711@worker-7 event 42 HTTP 409"},
		Compensations: []string{"SECRET cancel ERP sales order"},
	}
	live.Store(id, internal)
	require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{OrderID: id, CustomerID: acme, Seq: 5,
		Status: order.StatusAwaitingApproval, Action: "approval.requested", Details: internal.Waiting}))

	get := func(role order.Role) *responseRecorder {
		return e.do(req{method: http.MethodGet, path: "/v1/orders/" + id + "?live=true", token: e.token(role)})
	}
	for _, role := range []order.Role{order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront} {
		w := get(role)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		for _, k := range keyPaths(t, w.Body.Bytes()) {
			require.True(t, slices.Contains(buyerFields, k), "%s receives %q, which is not a buyer field", role, k)
		}
		require.NotContains(t, w.Body.String(), "SECRET", "%s reads seller-internal data", role)
		require.NotContains(t, w.Body.String(), "99,000", "%s reads the credit exposure", role)
		var b struct {
			Status    order.Status `json:"status"`
			Details   string       `json:"details"`
			Approvals struct {
				Missing int  `json:"buyer_approvals_missing"`
				Seller  bool `json:"seller_approval_pending"`
			} `json:"approvals"`
			Invoice struct{ Number string } `json:"invoice"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
		require.Equal(t, order.StatusAwaitingApproval, b.Status)
		require.Equal(t, 1, b.Approvals.Missing, "two buyer approvals needed, one given")
		require.True(t, b.Approvals.Seller)
		require.Equal(t, "Waiting for 1 approval(s) by your company's approvers.", b.Details)
		require.Equal(t, "INV-000009", b.Invoice.Number)
	}

	// The list is the same representation, without live data.
	w := e.do(req{method: http.MethodGet, path: "/v1/orders", token: e.token(order.RoleBuyer)})
	require.Equal(t, http.StatusOK, w.Code)
	for _, k := range keyPaths(t, w.Body.Bytes()) {
		k = strings.TrimPrefix(strings.TrimPrefix(k, "orders[]"), ".")
		if k == "" || k == "orders" || k == "next_after" {
			continue
		}
		require.True(t, slices.Contains(buyerFields, k), "the list gives a buyer %q", k)
	}

	// Staff get everything, the failure in one readable line included.
	staff := get(order.RoleCS)
	require.Equal(t, http.StatusOK, staff.Code)
	v := decode[orderView](t, staff)
	require.Equal(t, "reserve stock", v.Live.Failure.Step)
	require.Equal(t, "SECRET-margin-thin", v.Live.Approvals[0].Comment)
}
