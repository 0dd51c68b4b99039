package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

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
		require.Equal(t, order.StatusQuoting, v.Status)
		require.Nil(t, v.Live, "no worker answers the query here")
		require.Contains(t, w.Body.String(), `"live":null`)

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
		for _, role := range []order.Role{order.RoleFinance, order.RoleCS, order.RoleSalesManager, order.RoleBuyerApprover} {
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
		for i, tt := range tests {
			b := quoteBody()
			tt.change(b)
			p := requireProblem(t, post(storefront, "v-"+string(rune('a'+i)), b), http.StatusUnprocessableEntity)
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

// startInput returns the OrderInput the workflow of id was started with.
func startInput(t *testing.T, e *env, id string) workflows.OrderInput {
	t.Helper()
	for _, c := range e.calls("ExecuteWorkflow") {
		if c.Arguments.Get(1).(startOptions).ID == id {
			return c.Arguments.Get(3).(workflows.OrderInput)
		}
	}
	t.Fatalf("no start of %s", id)
	return workflows.OrderInput{}
}

func TestCreateQuoteWhenTemporalIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectNoLive()
	run := mocks.NewWorkflowRun(t)
	run.On("GetRunID").Return("run-1").Maybe()
	// The first start fails; the replay starts it.
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).
		Return(run, nil).Once()

	post := func() *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
			header: map[string]string{"Idempotency-Key": "down-1"}})
	}
	p := requireProblem(t, post(), http.StatusServiceUnavailable)
	require.NotContains(t, p.Detail, "connection refused", "internals stay in the log")

	w := post()
	require.Equal(t, http.StatusOK, w.Code, "the order was recorded the first time: %s", w.Body.String())
	id := decode[orderView](t, w).ID
	require.Len(t, e.startCalls(id), 2)
}

func TestCreateQuoteAlreadyStartedIsSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectNoLive()
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "run-0"))
	w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
		header: map[string]string{"Idempotency-Key": "k"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

func TestCreateQuoteStartFaultIs500WithoutLeak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.OrderWorkflowName, mock.Anything).
		Return(nil, errors.New("search attribute PONumber is not registered"))
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
