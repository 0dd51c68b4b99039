package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// expectUpdate answers the next update of an order by name with result or err.
func (e *env) expectUpdate(id, name string, result workflows.DecisionResult, err error) {
	h := mocks.NewWorkflowUpdateHandle(e.t)
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		if err == nil {
			*args.Get(1).(*workflows.DecisionResult) = result
		}
	}).Return(err).Once()
	e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.WorkflowID == id && o.UpdateName == name
	})).Return(h, nil).Once()
}

// updateCalls returns the options of every update sent to an order.
func (e *env) updateCalls(id string) []client.UpdateWorkflowOptions {
	var out []client.UpdateWorkflowOptions
	for _, c := range e.calls("UpdateWorkflow") {
		if o := c.Arguments.Get(1).(client.UpdateWorkflowOptions); o.WorkflowID == id {
			out = append(out, o)
		}
	}
	return out
}

func TestUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("u1", quoteBody())
	buyer := e.token(order.RoleBuyer)
	post := func(token, path string, body any, header ...string) *responseRecorder {
		r := req{method: http.MethodPost, path: "/v1/orders/" + id + path, token: token, body: body}
		if len(header) == 2 {
			r.header = map[string]string{header[0]: header[1]}
		}
		return e.do(r)
	}

	t.Run("each update sends its input with the caller as actor", func(t *testing.T) {
		buyerActor := order.Actor{Subject: "user-buyer", Role: order.RoleBuyer, CustomerID: acme}
		approver := order.Actor{Subject: "user-buyer_approver", Role: order.RoleBuyerApprover, CustomerID: acme}
		finance := order.Actor{Subject: "user-finance", Role: order.RoleFinance}
		cs := order.Actor{Subject: "user-cs", Role: order.RoleCS}
		rep := order.Actor{Subject: "user-sales_rep", Role: order.RoleSalesRep}
		tests := []struct {
			path, name string
			actor      order.Actor
			body       any
			want       any
		}{
			{"/accept", workflows.UpdateAccept, buyerActor, map[string]any{"revision": 2},
				workflows.AcceptInput{Actor: buyerActor, Revision: 2}},
			{"/revise", workflows.UpdateRevise, buyerActor,
				map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 3}}, "reason": "smaller"},
				workflows.ReviseInput{Actor: buyerActor, Lines: []order.Line{{SKU: "A", Quantity: 3}}, Reason: "smaller"}},
			{"/revise", workflows.UpdateRevise, rep,
				map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 3}}, "discount_bp": 500, "reason": "volume deal"},
				workflows.ReviseInput{Actor: rep, Lines: []order.Line{{SKU: "A", Quantity: 3}}, DiscountBP: 500, Reason: "volume deal"}},
			{"/reject", workflows.UpdateReject, buyerActor, map[string]any{"reason": "too dear"},
				workflows.RejectInput{Actor: buyerActor, Reason: "too dear"}},
			{"/cancel", workflows.UpdateCancel, buyerActor, map[string]any{"reason": "not needed"},
				workflows.CancelInput{Actor: buyerActor, Reason: "not needed"}},
			{"/dispute", workflows.UpdateDispute, buyerActor, map[string]any{"reason": "one pump dented"},
				workflows.DisputeInput{Actor: buyerActor, Reason: "one pump dented"}},
			{"/resolve", workflows.UpdateResolve, cs, map[string]any{"reason": "replacement sent"},
				workflows.ResolveInput{Actor: cs, Reason: "replacement sent"}},
			{"/refund", workflows.UpdateRefund, finance, map[string]any{"amount": map[string]any{"minor": 10000, "currency": "EUR"}, "bank_transaction_id": "BTX-1", "reason": "overpaid"},
				workflows.RefundInput{Actor: finance, Amount: money.New(10000, "EUR"), BankTransactionID: "BTX-1", Reason: "overpaid"}},
			{"/credit-note", workflows.UpdateCreditNote, finance, map[string]any{"amount": map[string]any{"minor": 5000, "currency": "EUR"}, "reason": "goodwill"},
				workflows.CreditNoteInput{Actor: finance, Amount: money.New(5000, "EUR"), Reason: "goodwill"}},
			{"/credit-note", workflows.UpdateCreditNote, cs, map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "reason": "dented"},
				workflows.CreditNoteInput{Actor: cs, Lines: []order.Line{{SKU: "A", Quantity: 1}}, Reason: "dented"}},
			{"/reship", workflows.UpdateReship, cs, map[string]any{"shipment_id": " SHP-1 ", "reason": "lost in the hub"},
				workflows.ReshipInput{Actor: cs, ShipmentID: "SHP-1", Reason: "lost in the hub"}},
			{"/return", workflows.UpdateReturn, cs, map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 2}}, "reason": "surplus"},
				workflows.ReturnInput{Actor: cs, Lines: []order.Line{{SKU: "A", Quantity: 2}}, Reason: "surplus"}},
			{"/write-off", workflows.UpdateWriteOff, finance, map[string]any{"reason": "bank fee"},
				workflows.WriteOffInput{Actor: finance, Reason: "bank fee"}},
			{"/write-off", workflows.UpdateWriteOff, finance, map[string]any{"amount": map[string]any{"minor": 250, "currency": "EUR"}, "reason": "bank fee"},
				workflows.WriteOffInput{Actor: finance, Amount: money.New(250, "EUR"), Reason: "bank fee"}},
			{"/apply-credit", workflows.UpdateApplyCredit, finance, map[string]any{"amount": map[string]any{"minor": 5000, "currency": "EUR"}, "reason": "overpaid INV-7"},
				workflows.ApplyCreditInput{Actor: finance, Amount: money.New(5000, "EUR"), Reason: "overpaid INV-7"}},
			// Per shipment, the invoice is named.
			{"/write-off", workflows.UpdateWriteOff, finance, map[string]any{"reason": "bank fee", "invoice_number": "INV-000002"},
				workflows.WriteOffInput{Actor: finance, Reason: "bank fee", InvoiceNumber: "INV-000002"}},
			{"/credit-note", workflows.UpdateCreditNote, cs, map[string]any{"amount": map[string]any{"minor": 500, "currency": "EUR"}, "reason": "dented", "invoice_number": "INV-000003"},
				workflows.CreditNoteInput{Actor: cs, Amount: money.New(500, "EUR"), Reason: "dented", InvoiceNumber: "INV-000003"}},
			{"/apply-credit", workflows.UpdateApplyCredit, finance, map[string]any{"amount": map[string]any{"minor": 5000, "currency": "EUR"}, "reason": "overpaid INV-7", "invoice_number": "INV-000004"},
				workflows.ApplyCreditInput{Actor: finance, Amount: money.New(5000, "EUR"), Reason: "overpaid INV-7", InvoiceNumber: "INV-000004"}},
			{"/approvals", workflows.UpdateApprove, approver, map[string]any{"approve": false, "comment": "no"},
				workflows.ApproveInput{Actor: approver, Approve: false, Comment: "no"}},
			{"/credit-decision", workflows.UpdateCreditDecision, finance, map[string]any{"decision": "prepay", "reason": "new customer"},
				workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditPrepay, Reason: "new customer"}},
			{"/actions", workflows.UpdateAction, cs, map[string]any{"action": "retry", "reason": "ERP is back"},
				workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "ERP is back"}},
			{"/actions", workflows.UpdateAction, cs, map[string]any{"action": "skip", "reason": "cancelled by phone"},
				workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "cancelled by phone"}},
			{"/actions", workflows.UpdateAction, cs, map[string]any{"action": "resend", "mail": "invoice", "reason": "lost"},
				workflows.ActionInput{Actor: cs, Action: workflows.ActionResend, Mail: mail.KindInvoice, Reason: "lost"}},
		}
		for _, tt := range tests {
			before := len(e.updateCalls(id))
			e.expectUpdate(id, tt.name, workflows.DecisionResult{Status: order.StatusAwaitingApproval, Message: "ok " + tt.name}, nil)
			w := post(e.tokenFor(tt.actor), tt.path, tt.body)
			require.Equal(t, http.StatusOK, w.Code, "%s: %s", tt.path, w.Body.String())
			res := decode[workflows.DecisionResult](t, w)
			require.Equal(t, workflows.DecisionResult{Status: order.StatusAwaitingApproval, Message: "ok " + tt.name}, res)
			calls := e.updateCalls(id)
			require.Len(t, calls, before+1)
			o := calls[len(calls)-1]
			require.Equal(t, tt.name, o.UpdateName)
			require.Equal(t, client.WorkflowUpdateStageCompleted, o.WaitForStage)
			require.Equal(t, []any{tt.want}, o.Args, tt.path)
		}
	})

	t.Run("workflow refusals map to statuses", func(t *testing.T) {
		tests := []struct {
			err    error
			status int
		}{
			{temporal.NewApplicationError("only the buyer may accept", workflows.ErrTypeForbidden), http.StatusForbidden},
			{temporal.NewApplicationError("the quote is not awaiting acceptance", workflows.ErrTypeInvalidState), http.StatusConflict},
			{temporal.NewApplicationError("revision 3 is not the current revision 2", workflows.ErrTypeInvalidArgument), http.StatusUnprocessableEntity},
		}
		for _, tt := range tests {
			e.expectUpdate(id, workflows.UpdateAccept, workflows.DecisionResult{}, tt.err)
			p := requireProblem(t, post(buyer, "/accept", map[string]any{}), tt.status)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(tt.err, &appErr))
			require.Equal(t, appErr.Message(), p.Detail, "the workflow's reason reaches the caller")
		}
	})

	t.Run("an unknown application error is a fault", func(t *testing.T) {
		e.expectUpdate(id, workflows.UpdateAccept, workflows.DecisionResult{}, temporal.NewApplicationError("boom", "Surprise"))
		requireProblem(t, post(buyer, "/accept", map[string]any{}), http.StatusInternalServerError)
	})

	t.Run("an update no worker answers times out as a 503, not a hang", func(t *testing.T) {
		e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == id && o.UpdateName == workflows.UpdateApprove
		})).Run(func(args mock.Arguments) {
			<-args.Get(0).(context.Context).Done() // the SDK polls until the context ends
		}).Return(nil, context.DeadlineExceeded).Once()
		p := requireProblem(t, post(e.token(order.RoleSalesManager), "/approvals", map[string]any{"approve": true}), http.StatusServiceUnavailable)
		require.Equal(t, api.ProblemTypePrefix+api.ProblemRequestTimedOut, p.Type)
	})

	t.Run("missing and finished workflows", func(t *testing.T) {
		e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == id && o.UpdateName == workflows.UpdateReject
		})).Return(nil, serviceerror.NewNotFound("workflow not found for ID: "+id)).Once()
		requireProblem(t, post(buyer, "/reject", map[string]any{"reason": "x"}), http.StatusNotFound)

		e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == id && o.UpdateName == workflows.UpdateCancel
		})).Return(nil, serviceerror.NewNotFound("workflow execution already completed")).Once()
		p := requireProblem(t, post(buyer, "/cancel", map[string]any{"reason": "x"}), http.StatusConflict)
		require.Equal(t, "order is finished", p.Detail)
	})

	t.Run("an order the projection shows finished answers 409", func(t *testing.T) {
		done := e.createOrder("u-done", quoteBody())
		require.NoError(t, e.store.RecordTransition(context.Background(), store.Transition{
			OrderID: done, Seq: 1, Status: order.StatusQuoteRejected, Action: "quote.rejected",
		}))
		e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == done
		})).Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
		w := e.do(req{method: http.MethodPost, path: "/v1/orders/" + done + "/accept", token: buyer, body: map[string]any{}})
		require.Equal(t, "order is finished", requireProblem(t, w, http.StatusConflict).Detail)
	})

	t.Run("Temporal unavailable is 503", func(t *testing.T) {
		e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == id && o.UpdateName == workflows.UpdateApprove
		})).Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
		requireProblem(t, post(e.token(order.RoleSalesManager), "/approvals", map[string]any{"approve": true}), http.StatusServiceUnavailable)
	})

	t.Run("bodies are validated before the workflow is asked", func(t *testing.T) {
		before := len(e.updateCalls(id))
		tests := []struct {
			role       order.Role
			path       string
			body       any
			status     int
			wantFields []string
		}{
			{order.RoleBuyer, "/accept", map[string]any{"revision": -1}, 422, []string{"revision"}},
			{order.RoleBuyer, "/accept", "", 400, nil},
			{order.RoleBuyer, "/accept", map[string]any{"revison": 1}, 400, []string{"revison"}},
			{order.RoleBuyer, "/revise", map[string]any{"lines": []any{}}, 422, []string{"lines"}},
			{order.RoleSalesRep, "/revise", map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "discount_bp": 20000}, 422, []string{"discount_bp"}},
			// Hole 1: a buyer (or the storefront) may not ask for a discount, not even 0.
			{order.RoleBuyer, "/revise", map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "discount_bp": 1000}, 403, []string{"discount_bp"}},
			{order.RoleStorefront, "/revise", map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "discount_bp": 0}, 403, []string{"discount_bp"}},
			{order.RoleBuyer, "/reject", map[string]any{}, 422, []string{"reason"}},
			{order.RoleBuyer, "/reject", map[string]any{"reason": "   "}, 422, []string{"reason"}},
			{order.RoleBuyer, "/cancel", map[string]any{"reason": 5}, 400, []string{"reason"}},
			{order.RoleBuyer, "/cancel", map[string]any{"reason": "bad\u0000byte"}, 422, []string{"reason"}},
			{order.RoleBuyerApprover, "/approvals", map[string]any{"comment": "hm"}, 422, []string{"approve"}},
			{order.RoleBuyerApprover, "/approvals", map[string]any{"approve": "yes"}, 400, []string{"approve"}},
			{order.RoleFinance, "/credit-decision", map[string]any{"decision": "maybe", "reason": "x"}, 422, []string{"decision"}},
			{order.RoleFinance, "/credit-decision", map[string]any{"decision": "override"}, 422, []string{"reason"}},
			{order.RoleCS, "/actions", map[string]any{"action": "reboot", "reason": ""}, 422, []string{"action", "reason"}},
			{order.RoleCS, "/actions", map[string]any{"action": "resend", "reason": "x"}, 422, []string{"mail"}},
			{order.RoleCS, "/actions", map[string]any{"action": "resend", "mail": "love-letter", "reason": "x"}, 422, []string{"mail"}},
			{order.RoleCS, "/actions", map[string]any{"action": "retry", "mail": "invoice", "reason": "x"}, 422, []string{"mail"}},
			{order.RoleCS, "/credit-note", map[string]any{"reason": "x"}, 422, []string{"amount"}},
			{order.RoleCS, "/credit-note", map[string]any{"amount": map[string]any{"minor": -5, "currency": "EUR"}}, 422, []string{"amount.minor", "reason"}},
			{order.RoleFinance, "/credit-note", map[string]any{"amount": map[string]any{"minor": 5, "currency": "eur"}, "reason": "x"}, 422, []string{"amount.currency"}},
			// Roles the API itself enforces.
			{order.RoleBuyer, "/credit-note", map[string]any{"amount": map[string]any{"minor": 5, "currency": "EUR"}, "reason": "x"}, 403, nil},
			{order.RoleCS, "/refund", map[string]any{"amount": map[string]any{"minor": 5, "currency": "EUR"}, "reason": "x"}, 403, nil},
			{order.RoleFinance, "/refund", map[string]any{"reason": "x"}, 422, []string{"amount"}},
			{order.RoleBuyer, "/credit-decision", map[string]any{"decision": "override", "reason": "x"}, 403, nil},
			{order.RoleCS, "/credit-note", map[string]any{"amount": map[string]any{"minor": 5, "currency": "EUR"},
				"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "reason": "x"}, 422, []string{"lines"}},
			{order.RoleCS, "/credit-note", map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 0}}, "reason": "x"}, 422, []string{"lines[0].quantity"}},
			{order.RoleCS, "/reship", map[string]any{"reason": "lost"}, 422, []string{"shipment_id"}},
			{order.RoleFinance, "/reship", map[string]any{"shipment_id": "SHP-1", "reason": "lost"}, 403, nil},
			{order.RoleCS, "/return", map[string]any{"lines": []any{}, "reason": ""}, 422, []string{"lines", "reason"}},
			{order.RoleBuyer, "/return", map[string]any{"lines": []any{map[string]any{"sku": "A", "quantity": 1}}, "reason": "x"}, 403, nil},
			{order.RoleCS, "/write-off", map[string]any{"reason": "x"}, 403, nil},
			{order.RoleFinance, "/write-off", map[string]any{"amount": map[string]any{"minor": 0, "currency": "EUR"}, "reason": "x"}, 422, []string{"amount.minor"}},
			{order.RoleFinance, "/apply-credit", map[string]any{"reason": "x"}, 422, []string{"amount"}},
			{order.RoleFinance, "/write-off", map[string]any{"reason": "x", "invoice_number": "INV 1\n<script>"}, 422, []string{"invoice_number"}},
			{order.RoleFinance, "/actions", map[string]any{"action": "retry", "reason": "x"}, 403, nil},
		}
		for _, tt := range tests {
			p := requireProblem(t, post(e.token(tt.role), tt.path, tt.body), tt.status)
			require.Equal(t, tt.wantFields, p.fields(), "%s %v", tt.path, tt.body)
		}
		require.Len(t, e.updateCalls(id), before, "no invalid request reaches the workflow")
	})

	t.Run("another customer's buyer cannot touch the order", func(t *testing.T) {
		before := len(e.updateCalls(id))
		other := e.tokenFor(order.Actor{Subject: "globex-buyer", Role: order.RoleBuyer, CustomerID: globex})
		requireProblem(t, post(other, "/cancel", map[string]any{"reason": "mischief"}), http.StatusNotFound)
		requireProblem(t, e.do(req{method: http.MethodPost, path: "/v1/orders/ord_NOPE/cancel", token: buyer,
			body: map[string]any{"reason": "x"}}), http.StatusNotFound)
		require.Len(t, e.updateCalls(id), before)
	})

	t.Run("an Idempotency-Key becomes a stable update id", func(t *testing.T) {
		e.expectUpdate(id, workflows.UpdateAccept, workflows.DecisionResult{Status: order.StatusAwaitingApproval}, nil)
		e.expectUpdate(id, workflows.UpdateAccept, workflows.DecisionResult{Status: order.StatusAwaitingApproval}, nil)
		require.Equal(t, http.StatusOK, post(buyer, "/accept", map[string]any{}, "Idempotency-Key", "accept-once").Code)
		require.Equal(t, http.StatusOK, post(buyer, "/accept", map[string]any{}, "Idempotency-Key", "accept-once").Code)
		calls := e.updateCalls(id)
		first, second := calls[len(calls)-2], calls[len(calls)-1]
		require.NotEmpty(t, first.UpdateID)
		require.Equal(t, first.UpdateID, second.UpdateID)
	})
}
