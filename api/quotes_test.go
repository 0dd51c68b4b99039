package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

func TestCreateQuote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	storefront := e.token(order.RoleStorefront)
	post := func(token, key string, body any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: token, body: body,
			header: map[string]string{"Idempotency-Key": key}})
	}

	var id string
	t.Run("create starts the workflow", func(t *testing.T) {
		w := post(storefront, "key-1", quoteBody())
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		v := decode[orderView](t, w)
		id = v.ID
		require.Regexp(t, `^ord_[0-9A-HJKMNP-TV-Z]{26}$`, id)
		require.Equal(t, "https://orders.example/v1/orders/"+id, w.Header().Get("Location"))
		require.Equal(t, acme, v.CustomerID)
		require.Equal(t, "PO-4711", v.PONumber)
		require.Equal(t, order.StatusAwaitingAcceptance, v.Status, "the answer carries the priced quote")
		require.Equal(t, money.New(20_000, "EUR"), v.Total)
		require.Equal(t, 1, v.Quote.Revision)
		require.Len(t, v.Quote.Lines, 2)
		require.NotContains(t, w.Body.String(), `"live"`, "the storefront gets the buyer's view")

		starts := e.startCalls(id)
		require.Len(t, starts, 1)
		o := starts[0]
		require.Equal(t, workflows.TaskQueue, o.TaskQueue)
		require.Equal(t, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy)
		require.Equal(t, enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, o.WorkflowIDReusePolicy)
		sa := o.TypedSearchAttributes
		cust, _ := sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(workflows.SACustomerID))
		status, _ := sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(workflows.SAOrderStatus))
		po, _ := sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(workflows.SAPONumber))
		attn, ok := sa.GetBool(temporal.NewSearchAttributeKeyBool(workflows.SANeedsAttention))
		require.True(t, ok)
		total, ok := sa.GetFloat64(temporal.NewSearchAttributeKeyFloat64(workflows.SAOrderTotal))
		require.True(t, ok)
		require.Equal(t, []any{acme, "QUOTING", "PO-4711", false, 0.0}, []any{cust, status, po, attn, total})
		require.Equal(t, "Order "+id+" · Acme Industrial GmbH · PO PO-4711", o.StaticSummary)
		require.Contains(t, o.StaticDetails, "100 × BOLT-M8")

		in := startInput(t, e, id)
		require.Equal(t, id, in.OrderID)
		require.Equal(t, []order.Line{{SKU: "BOLT-M8", Quantity: 100}, {SKU: "NUT-M8", Quantity: 100}}, in.Lines)
		require.Equal(t, order.Actor{Subject: "user-storefront", Role: order.RoleStorefront}, in.RequestedBy)
	})

	t.Run("replay answers the same order and starts again", func(t *testing.T) {
		// Keys of JSON objects in another order are the same request.
		w := post(storefront, "key-1", `{"lines":[{"quantity":100,"sku":"BOLT-M8"},{"sku":"NUT-M8","quantity":100}],"po_number":"PO-4711","customer_id":"ACME-001"}`)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, id, decode[orderView](t, w).ID)
		require.Empty(t, w.Header().Get("Location"))
		require.Len(t, e.startCalls(id), 2, "a replay starts the workflow again in case the first start was lost")
	})

	t.Run("a replay does not start an order that has run", func(t *testing.T) {
		require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{OrderID: id, CustomerID: acme,
			Seq: 1, Status: order.StatusQuoteRejected, Action: "quote.rejected"}))
		w := post(storefront, "key-1", quoteBody())
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, order.StatusQuoteRejected, decode[orderView](t, w).Status)
		require.Len(t, e.startCalls(id), 2, "no third start: the workflow recorded, so it ran")
	})

	t.Run("same key with another body is a conflict", func(t *testing.T) {
		b := quoteBody()
		b["po_number"] = "PO-other"
		p := requireProblem(t, post(storefront, "key-1", b), http.StatusConflict)
		require.Contains(t, p.Type, "idempotency-conflict")
	})

	t.Run("keys are scoped to the caller", func(t *testing.T) {
		other := e.tokenFor(order.Actor{Subject: "another-shop", Role: order.RoleStorefront})
		w := post(other, "key-1", quoteBody())
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		require.NotEqual(t, id, decode[orderView](t, w).ID)
	})

	t.Run("idempotency key is required and checked", func(t *testing.T) {
		for _, key := range []string{"", strings.Repeat("k", 201), "bad\x01key"} {
			p := requireProblem(t, post(storefront, key, quoteBody()), http.StatusBadRequest)
			require.Equal(t, []string{"Idempotency-Key"}, p.fields(), "key %q", key)
		}
	})

	t.Run("roles", func(t *testing.T) {
		buyer := e.token(order.RoleBuyer) // acts for acme
		w := post(buyer, "buyer-1", quoteBody())
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

		other := quoteBody()
		other["customer_id"] = globex
		requireProblem(t, post(buyer, "buyer-2", other), http.StatusForbidden)
		for _, role := range []order.Role{order.RoleSalesRep, order.RoleSalesManager} {
			w := post(e.token(role), "r-"+string(role), quoteBody())
			require.Equal(t, http.StatusCreated, w.Code, "%s: %s", role, w.Body.String())
		}
		for _, role := range []order.Role{order.RoleFinance, order.RoleCS, order.RoleBuyerApprover} {
			requireProblem(t, post(e.token(role), "r-"+string(role), quoteBody()), http.StatusForbidden)
		}
		requireProblem(t, post("", "anon", quoteBody()), http.StatusUnauthorized)
	})

	t.Run("unknown customer", func(t *testing.T) {
		b := quoteBody()
		b["customer_id"] = "NOBODY-999"
		p := requireProblem(t, post(storefront, "unknown-cust", b), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"customer_id"}, p.fields())
	})

	t.Run("validation names each field", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(map[string]any)
			field  string
		}{
			{"no customer", func(b map[string]any) { delete(b, "customer_id") }, "customer_id"},
			{"long customer", func(b map[string]any) { b["customer_id"] = strings.Repeat("C", 65) }, "customer_id"},
			{"long po", func(b map[string]any) { b["po_number"] = strings.Repeat("P", 65) }, "po_number"},
			{"no lines", func(b map[string]any) { b["lines"] = []any{} }, "lines"},
			{"zero quantity", func(b map[string]any) { b["lines"] = []any{map[string]any{"sku": "A", "quantity": 0}} }, "lines[0].quantity"},
			{"empty sku", func(b map[string]any) { b["lines"] = []any{map[string]any{"sku": "", "quantity": 1}} }, "lines[0].sku"},
			{"duplicate sku", func(b map[string]any) {
				b["lines"] = []any{map[string]any{"sku": "A", "quantity": 1}, map[string]any{"sku": "A", "quantity": 2}}
			}, "lines[1].sku"},
			{"NUL in customer", func(b map[string]any) { b["customer_id"] = "ACME\u0000" }, "customer_id"},
			{"control character in po", func(b map[string]any) { b["po_number"] = "PO\n1" }, "po_number"},
			{"NUL in sku", func(b map[string]any) { b["lines"] = []any{map[string]any{"sku": "A\u0000", "quantity": 1}} }, "lines[0].sku"},
			{"negative discount", func(b map[string]any) { b["discount_bp"] = -1 }, "discount_bp"},
			{"discount over 100%", func(b map[string]any) { b["discount_bp"] = 10001 }, "discount_bp"},
		}
		rep := e.token(order.RoleSalesRep) // may send discount_bp
		for i, tt := range tests {
			b := quoteBody()
			tt.change(b)
			p := requireProblem(t, post(rep, "v-"+string(rune('a'+i)), b), http.StatusUnprocessableEntity)
			require.Equal(t, []string{tt.field}, p.fields(), tt.name)
		}
	})

	t.Run("decoding errors are 400 naming the field", func(t *testing.T) {
		tests := []struct {
			name, body, field string
		}{
			{"unknown field", `{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1}],"colour":"red"}`, "colour"},
			{"unknown nested field", `{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1,"price":3}]}`, "price"},
			{"string quantity", `{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":"1"}]}`, "lines.quantity"},
			{"fractional quantity", `{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1.5}]}`, "lines.quantity"},
			{"numeric customer", `{"customer_id":7,"lines":[{"sku":"A","quantity":1}]}`, "customer_id"},
			{"empty body", ``, ""},
			{"whitespace body", "  \n", ""},
			{"array body", `[]`, ""},
			{"broken json", `{"customer_id":`, ""},
			{"two objects", `{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1}]} {}`, ""},
		}
		for i, tt := range tests {
			p := requireProblem(t, post(storefront, "d-"+string(rune('a'+i)), tt.body), http.StatusBadRequest)
			if tt.field == "" {
				require.Empty(t, p.Errors, tt.name)
			} else {
				require.Equal(t, []string{tt.field}, p.fields(), tt.name)
			}
		}
	})

	t.Run("body too large", func(t *testing.T) {
		big := `{"customer_id":"ACME-001","po_number":"` + strings.Repeat("x", 1<<20) + `","lines":[]}`
		requireProblem(t, post(storefront, "big", big), http.StatusRequestEntityTooLarge)
	})

	t.Run("not JSON", func(t *testing.T) {
		w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: storefront, body: quoteBody(),
			header: map[string]string{"Idempotency-Key": "xml", "Content-Type": "application/xml"}})
		requireProblem(t, w, http.StatusUnsupportedMediaType)
	})
}

func TestCreateQuoteWhenTemporalIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectNoLive()
	// The first start fails; the replay starts it.
	allowStart(t, e.tc, pricedQuote, serviceerror.NewUnavailable("connection refused"))

	post := func() *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
			header: map[string]string{"Idempotency-Key": "down-1"}})
	}
	p := requireProblem(t, post(), http.StatusServiceUnavailable)
	require.NotContains(t, p.Detail, "connection refused", "internals stay in the log")

	w := post()
	require.Equal(t, http.StatusOK, w.Code, "the order was recorded the first time: %s", w.Body.String())
	id := decode[orderView](t, w).ID
	require.Len(t, e.startCalls(id), 2, "the replay started it")
	require.Equal(t, 1, decode[orderView](t, w).Quote.Revision, "and answers with its quote")
}

func TestCreateQuoteStartFaultIs500WithoutLeak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	allowStart(t, e.tc, pricedQuote, errors.New("search attribute PONumber is not registered"))
	w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
		header: map[string]string{"Idempotency-Key": "k"}})
	p := requireProblem(t, w, http.StatusInternalServerError)
	require.NotContains(t, p.Detail, "PONumber")
	// The cause is logged, with the request id the client was given.
	var logged bool
	for _, l := range e.logs.lines(t) {
		if l["level"] == "error" && strings.Contains(l["error"].(string), "PONumber") {
			logged = l["request_id"] == p.RequestID
		}
	}
	require.True(t, logged, "the fault is logged with the request id")
}

// Hole 1: a buyer used to give itself 10 % off by sending discount_bp.
// Only sales people may ask for a discount; others get a 403 naming the
// field, and no order is created.
func TestOnlySalesPeopleMayAskForADiscount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	post := func(role order.Role, key string, discount any) *responseRecorder {
		b := quoteBody()
		b["discount_bp"] = discount
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(role), body: b,
			header: map[string]string{"Idempotency-Key": key}})
	}
	for _, role := range []order.Role{order.RoleBuyer, order.RoleStorefront} {
		for _, d := range []any{1000, 10000, 0} {
			p := requireProblem(t, post(role, fmt.Sprintf("%s-%v", role, d), d), http.StatusForbidden)
			require.Equal(t, []string{"discount_bp"}, p.fields(), "%s sending %v", role, d)
		}
	}
	require.Empty(t, e.calls("UpdateWithStartWorkflow"), "no order was started")
	orders, err := e.store.ListOrders(context.Background(), store.OrderFilter{})
	require.NoError(t, err)
	require.Empty(t, orders, "no order was recorded")

	for _, role := range []order.Role{order.RoleSalesRep, order.RoleSalesManager} {
		w := post(role, "ok-"+string(role), 500)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		in := startInput(t, e, decode[orderView](t, w).ID)
		require.Equal(t, int64(500), in.RequestedDiscountBP)
		require.Equal(t, role, in.RequestedBy.Role)
	}
}

// Hole 3: an unknown SKU used to answer 201 and leave an order stuck in
// QUOTING with NeedsAttention. Now the answer is a 422 naming the line,
// replays answer the same, and the order is in no list.
func TestRefusedLineIs422WithNoOrderLeft(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectNoLive()
	refused := []order.FieldError{{Field: "lines[1].sku", Reason: "the ERP does not know this SKU"}}
	allowStart(t, e.tc, func(in workflows.OrderInput) (workflows.QuoteResult, error) {
		// What the workflow does before it answers: it records the end.
		data, _ := json.Marshal(refused)
		require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{OrderID: in.OrderID, CustomerID: in.CustomerID,
			Seq: 2, Status: order.StatusQuoteRefused, Action: order.ActionQuoteRefused, Data: data}))
		return workflows.QuoteResult{Status: order.StatusQuoteRefused, Refused: refused}, nil
	})
	body := quoteBody()
	body["lines"] = []map[string]any{{"sku": "BOLT-M8", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}}
	post := func() *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: body,
			header: map[string]string{"Idempotency-Key": "nope"}})
	}
	p := requireProblem(t, post(), http.StatusUnprocessableEntity)
	require.Equal(t, refused, p.Errors)
	require.Contains(t, p.Detail, "no order was created")

	again := requireProblem(t, post(), http.StatusUnprocessableEntity)
	require.Equal(t, refused, again.Errors, "a replay answers the same, from the audit log")
	require.Len(t, e.calls("UpdateWithStartWorkflow"), 1, "and starts nothing")

	for _, role := range []order.Role{order.RoleBuyer, order.RoleCS} {
		w := e.do(req{method: http.MethodGet, path: "/v1/orders?customer_id=" + acme, token: e.token(role)})
		require.Equal(t, http.StatusOK, w.Code)
		require.JSONEq(t, `{"orders":[]}`, w.Body.String(), "%s lists no order", role)
	}
	recs, err := e.store.ListOrders(context.Background(), store.OrderFilter{Status: order.StatusQuoteRefused})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	gone := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/" + recs[0].ID, token: e.token(order.RoleBuyer)}), http.StatusGone)
	require.Equal(t, refused, gone.Errors)
}

// A slow ERP still gets the storefront an answer: 202 with the order id,
// the status it has reached and the currency it will be priced in.
func TestSlowPricingAnswers202(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectNoLive()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	allowStart(t, e.tc, func(in workflows.OrderInput) (workflows.QuoteResult, error) {
		<-release
		return pricedQuote(in)
	})
	w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleSalesRep), body: quoteBody(),
		header: map[string]string{"Idempotency-Key": "slow"}})
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	v := decode[orderView](t, w)
	require.Equal(t, "https://orders.example/v1/orders/"+v.ID, w.Header().Get("Location"))
	require.Equal(t, order.StatusQuoting, v.Status)
	require.Equal(t, money.Zero("EUR"), v.Total, "the currency of the customer's terms, as GET answers it")
	require.Nil(t, v.Quote)
}

// Hole 7: idempotency keys are the caller's own per customer: a sales rep
// who uses one key for two customers gets two orders.
func TestIdempotencyKeysAreScopedByCallerAndCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	rep := e.token(order.RoleSalesRep)
	post := func(customer string) *responseRecorder {
		b := quoteBody()
		b["customer_id"] = customer
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: rep, body: b,
			header: map[string]string{"Idempotency-Key": "monday-1"}})
	}
	a, g := post(acme), post(globex)
	require.Equal(t, http.StatusCreated, a.Code, a.Body.String())
	require.Equal(t, http.StatusCreated, g.Code, g.Body.String())
	require.NotEqual(t, decode[orderView](t, a).ID, decode[orderView](t, g).ID)
	require.Equal(t, http.StatusOK, post(acme).Code, "the same caller, customer, key and body is a replay")
}

// A storefront that follows the Location asks for the answer at once
// (RFC 7240 "Prefer: respond-async"): the order is started, its workflow
// prices the quote by itself, and the API waits for no worker.
func TestRespondAsyncStartsTheOrderAndAnswers202(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var started []workflows.OrderInput
	var opts []client.StartWorkflowOptions
	run := &mocks.WorkflowRun{}
	run.On("GetRunID").Return("run-1").Maybe()
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).Return(
		func(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
			opts = append(opts, o)
			started = append(started, args[0].(workflows.OrderInput))
			return run, nil
		})
	post := func(prefer string) *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
			header: map[string]string{"Idempotency-Key": "async", "Prefer": prefer}})
	}
	w := post("return=minimal, respond-async; x=1")
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	require.Equal(t, "respond-async", w.Header().Get("Preference-Applied"))
	v := decode[orderView](t, w)
	require.Equal(t, "https://orders.example/v1/orders/"+v.ID, w.Header().Get("Location"))
	require.Equal(t, order.StatusQuoting, v.Status)
	require.Nil(t, v.Quote, "the quote is priced after the answer")
	require.Empty(t, e.calls("UpdateWithStartWorkflow"), "no update waits for a worker")

	require.Len(t, started, 1)
	require.Equal(t, v.ID, opts[0].ID, "the order id is the workflow id")
	require.Equal(t, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts[0].WorkflowIDConflictPolicy)
	require.Equal(t, v.ID, started[0].OrderID)
	require.Equal(t, acme, started[0].CustomerID)

	// The same key and body again, before the workflow recorded anything:
	// the same order, started again (Temporal keeps the one running).
	w = post("respond-async")
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	require.Equal(t, v.ID, decode[orderView](t, w).ID)
	require.Len(t, started, 2)
	require.Equal(t, v.ID, opts[1].ID)
}
