package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

func TestWinBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	anna := e.tokenFor(order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep})
	ben := e.tokenFor(order.Actor{Subject: "ben.rep@seller.example", Role: order.RoleSalesRep})
	var asked []workflows.WinBackInput
	e.tc.On("SignalWorkflow", mock.Anything, workflows.CustomerWorkflowID(acme), "", workflows.SignalWinBack, mock.Anything).
		Run(func(args mock.Arguments) { asked = append(asked, args.Get(4).(workflows.WinBackInput)) }).Return(nil)
	e.tc.On("SignalWorkflow", mock.Anything, workflows.CustomerWorkflowID("INITECH-003"), "", workflows.SignalWinBack, mock.Anything).
		Return(serviceerror.NewNotFound("workflow not found"))
	body := map[string]any{"reason": "new price list"}
	post := func(customerID, token string, b any, key string) *httptest.ResponseRecorder {
		h := map[string]string{}
		if key != "" {
			h["Idempotency-Key"] = key
		}
		return e.do(req{method: http.MethodPost, path: "/v1/customers/" + customerID + "/win-back", token: token, body: b, header: h})
	}

	// Refusals signal nothing.
	requireProblem(t, post(acme, ben, body, ""), http.StatusForbidden)
	requireProblem(t, post(acme, e.token(order.RoleCS), body, ""), http.StatusForbidden)
	requireProblem(t, post("NOPE-9", anna, body, ""), http.StatusNotFound)
	p := requireProblem(t, post(acme, anna, map[string]any{}, ""), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"reason"}, p.fields())
	require.Empty(t, asked)

	// The customer's rep asks: the workflow gets the signal with who asked,
	// and the request is on the customer's audit chain.
	w := post(acme, anna, body, "wb-1")
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	require.Len(t, asked, 1)
	require.Equal(t, "anna.rep@seller.example", asked[0].RequestedBy.Subject)
	require.Equal(t, "new price list", asked[0].Reason)
	require.NotEmpty(t, asked[0].RequestID)
	log, err := e.store.AuditLog(ctx, store.CustomerAuditID(acme))
	require.NoError(t, err)
	require.Equal(t, "marketing.win-back-requested", log[len(log)-1].Action)
	require.Equal(t, "anna.rep@seller.example", log[len(log)-1].Actor.Subject)

	// A repeat with the same key names the same mail; another key another.
	require.Equal(t, http.StatusAccepted, post(acme, anna, body, "wb-1").Code)
	require.Equal(t, http.StatusAccepted, post(acme, e.token(order.RoleSalesManager), body, "").Code)
	require.Len(t, asked, 3)
	require.Equal(t, asked[0].RequestID, asked[1].RequestID)
	require.NotEqual(t, asked[0].RequestID, asked[2].RequestID)

	// A customer whose workflow has not started (no order yet): 409.
	p = requireProblem(t, post("INITECH-003", anna, body, ""), http.StatusConflict)
	require.Contains(t, p.Detail, "first order")
}

// The customer's own audit chain (marketing decisions, opt-outs, win-back
// requests) is read through the API by the seller's staff; a rep reads
// their own customers' only.
func TestCustomerAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.store.AppendAudit(ctx, store.AuditEntry{OrderID: store.CustomerAuditID(acme),
		Actor: order.System, Action: "marketing.sent", Reason: "reorder-reminder to purchasing@acme.example"}))
	anna := e.tokenFor(order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep})
	ben := e.tokenFor(order.Actor{Subject: "ben.rep@seller.example", Role: order.RoleSalesRep})
	get := func(customerID, token string) *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodGet, path: "/v1/customers/" + customerID + "/audit", token: token})
	}
	for _, token := range []string{anna, e.token(order.RoleCS), e.token(order.RoleFinance), e.token(order.RoleSalesManager)} {
		w := get(acme, token)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var got struct {
			CustomerID string             `json:"customer_id"`
			Chain      string             `json:"chain"`
			Entries    []store.AuditEntry `json:"entries"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, "customer-"+acme, got.Chain)
		require.Len(t, got.Entries, 1)
		require.Equal(t, "marketing.sent", got.Entries[0].Action)
	}
	requireProblem(t, get(acme, ben), http.StatusForbidden)
	requireProblem(t, get(acme, e.token(order.RoleBuyer)), http.StatusForbidden)
	requireProblem(t, get("NOPE-9", e.token(order.RoleCS)), http.StatusNotFound)
	w := get("INITECH-003", e.token(order.RoleCS))
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"customer_id":"INITECH-003","chain":"customer-INITECH-003","entries":[]}`, w.Body.String())
}
