package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// bulkAnswer mirrors the body of POST /v1/actions/bulk.
type bulkAnswer struct {
	Action   string `json:"action"`
	Selected int    `json:"selected"`
	Acted    int    `json:"acted"`
	Results  []struct {
		OrderID string       `json:"order_id"`
		Status  order.Status `json:"status"`
		Message string       `json:"message"`
	} `json:"results"`
	Skipped []struct {
		OrderID string `json:"order_id"`
		Reason  string `json:"reason"`
	} `json:"skipped"`
	Refused []struct {
		OrderID string `json:"order_id"`
		Reason  string `json:"reason"`
	} `json:"refused"`
	Failed []struct {
		OrderID string `json:"order_id"`
		Error   string `json:"error"`
	} `json:"failed"`
	More      bool   `json:"more"`
	NextAfter string `json:"next_after"`
}

func (b bulkAnswer) ids(list string) []string {
	out := []string{}
	switch list {
	case "results":
		for _, r := range b.Results {
			out = append(out, r.OrderID)
		}
	case "skipped":
		for _, r := range b.Skipped {
			out = append(out, r.OrderID)
		}
	case "refused":
		for _, r := range b.Refused {
			out = append(out, r.OrderID)
		}
	case "failed":
		for _, r := range b.Failed {
			out = append(out, r.OrderID)
		}
	}
	return out
}

// orderAt makes an order through the API and moves its projection to
// status, needing attention or not, as the workflow's Record would.
func (e *env) orderAt(key string, status order.Status, attention bool, body map[string]any) string {
	e.t.Helper()
	id := e.createOrder(key, body)
	rec, err := e.store.Order(context.Background(), id)
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.RecordTransition(context.Background(), store.Transition{
		OrderID: id, Seq: rec.LastSeq + 1, Status: status, NeedsAttention: attention, Total: rec.Total,
		QuoteRevision: rec.QuoteRevision, Action: "status.changed",
	}))
	return id
}

func (e *env) bulk(token string, body any, header ...string) *responseRecorder {
	r := req{method: http.MethodPost, path: "/v1/actions/bulk", token: token, body: body}
	if len(header) == 2 {
		r.header = map[string]string{header[0]: header[1]}
	}
	return e.do(r)
}

// stuckAt is the details of an order whose step failed.
func stuckAt(id, step string, retrying bool) workflows.Details {
	return workflows.Details{OrderID: id, Status: order.StatusConfirmed, NeedsAttention: true,
		Failure: &workflows.StepFailure{Step: step, Error: "ERP: HTTP 409: insufficient_stock", Retrying: retrying}}
}

func TestBulkRetrySelectsByFailedStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	cs := order.Actor{Subject: "user-cs", Role: order.RoleCS}

	acted := e.orderAt("b1", order.StatusConfirmed, true, quoteBody())
	retrying := e.orderAt("b2", order.StatusConfirmed, true, quoteBody())
	otherStep := e.orderAt("b3", order.StatusConfirmed, true, quoteBody())
	refused := e.orderAt("b4", order.StatusConfirmed, true, quoteBody())
	fine := e.orderAt("b5", order.StatusConfirmed, false, quoteBody())
	unanswered := e.orderAt("b6", order.StatusConfirmed, true, quoteBody())
	silent := e.orderAt("b7", order.StatusConfirmed, true, quoteBody()) // no details: no worker
	shipping := e.orderAt("b8", order.StatusShipping, true, quoteBody())

	live.Store(acted, stuckAt(acted, "reserve stock", false))
	live.Store(retrying, stuckAt(retrying, "reserve stock", true))
	live.Store(otherStep, stuckAt(otherStep, "book shipment from WH-NORTH", false))
	live.Store(refused, stuckAt(refused, "reserve stock", false))
	live.Store(fine, workflows.Details{OrderID: fine, Status: order.StatusConfirmed})
	live.Store(unanswered, stuckAt(unanswered, "reserve stock", false))
	live.Store(shipping, stuckAt(shipping, "reserve stock", false))

	e.expectUpdate(acted, workflows.UpdateAction,
		workflows.DecisionResult{Status: order.StatusShipping, Message: "Retry of reserve stock succeeded."}, nil)
	e.expectUpdate(refused, workflows.UpdateAction, workflows.DecisionResult{},
		temporal.NewApplicationError("no failed step is waiting for a retry", workflows.ErrTypeInvalidState))
	e.tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.WorkflowID == unanswered
	})).Return(nil, serviceerror.NewUnavailable("connection refused")).Once()

	w := e.bulk(e.tokenFor(cs), map[string]any{
		"filter": map[string]any{"needs_attention": true, "status": "CONFIRMED", "step": "reserve stock"},
		"action": "retry", "reason": "stock arrived",
	})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decode[bulkAnswer](t, w)

	require.Equal(t, "retry", got.Action)
	require.Equal(t, 5, got.Selected, "the other step, the order needing nothing and the other status are not selected")
	require.Equal(t, 1, got.Acted)
	require.Equal(t, []string{acted}, got.ids("results"))
	require.Equal(t, "Retry of reserve stock succeeded.", got.Results[0].Message)
	require.Equal(t, order.StatusShipping, got.Results[0].Status)
	require.Equal(t, []string{retrying}, got.ids("skipped"))
	require.Contains(t, got.Skipped[0].Reason, "still retrying by itself")
	require.Equal(t, []string{refused}, got.ids("refused"))
	require.Equal(t, "no failed step is waiting for a retry", got.Refused[0].Reason, "the workflow's reason reaches CS")
	require.Equal(t, []string{unanswered, silent}, got.ids("failed"))
	require.Contains(t, got.Failed[1].Error, "details query did not answer")
	require.False(t, got.More)
	require.Equal(t, got.Selected, got.Acted+len(got.Skipped)+len(got.Refused)+len(got.Failed))

	// Each update is the single action's, with the caller and the reason.
	for _, id := range []string{acted, refused, unanswered} {
		calls := e.updateCalls(id)
		require.Len(t, calls, 1, id)
		require.Equal(t, workflows.UpdateAction, calls[0].UpdateName)
		require.Equal(t, client.WorkflowUpdateStageCompleted, calls[0].WaitForStage)
		require.Equal(t, []any{workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "stock arrived"}}, calls[0].Args)
		require.Empty(t, calls[0].UpdateID, "no Idempotency-Key, no update id")
	}
	for _, id := range []string{retrying, otherStep, fine, silent, shipping} {
		require.Empty(t, e.updateCalls(id), "%s is not acted on", id)
	}
}

func TestBulkCancelByProjectionFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	// No details query is expected: a cancel filtered by the projection
	// alone asks the workflows nothing before it acts.
	globexBody := quoteBody()
	globexBody["customer_id"] = globex
	a1 := e.orderAt("c1", order.StatusAwaitingAcceptance, false, quoteBody())
	a2 := e.orderAt("c2", order.StatusAwaitingAcceptance, false, quoteBody())
	done := e.orderAt("c3", order.StatusCancelled, false, quoteBody())
	other := e.orderAt("c4", order.StatusAwaitingAcceptance, false, globexBody)

	e.expectUpdate(a1, workflows.UpdateAction, workflows.DecisionResult{Status: order.StatusCancelled, Message: "Cancellation started"}, nil)
	e.expectUpdate(a2, workflows.UpdateAction, workflows.DecisionResult{},
		temporal.NewApplicationError("only CS may do this", workflows.ErrTypeForbidden))

	w := e.bulk(e.token(order.RoleCS), map[string]any{
		"filter": map[string]any{"customer_id": acme}, "action": "cancel", "reason": "customer closed",
	})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decode[bulkAnswer](t, w)
	require.Equal(t, 2, got.Selected, "finished orders and other customers' are not selected")
	require.Equal(t, 1, got.Acted)
	require.Equal(t, []string{a1}, got.ids("results"))
	require.Equal(t, []string{a2}, got.ids("refused"))
	require.Empty(t, got.Skipped)
	require.Empty(t, got.Failed)
	require.Equal(t, []any{workflows.ActionInput{Actor: order.Actor{Subject: "user-cs", Role: order.RoleCS},
		Action: workflows.ActionCancel, Reason: "customer closed"}}, e.updateCalls(a1)[0].Args)
	require.Empty(t, e.updateCalls(done))
	require.Empty(t, e.updateCalls(other))
}

func TestBulkLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	var ids []string
	for i := range 3 {
		id := e.orderAt(fmt.Sprintf("l%d", i), order.StatusConfirmed, true, quoteBody())
		ids = append(ids, id)
		e.expectUpdate(id, workflows.UpdateAction, workflows.DecisionResult{Status: order.StatusCancelled}, nil)
	}
	body := map[string]any{"filter": map[string]any{"needs_attention": true}, "action": "cancel", "reason": "x", "limit": 2}
	key := []string{"Idempotency-Key", "bulk-1"}

	w := e.bulk(e.token(order.RoleCS), body, key...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	first := decode[bulkAnswer](t, w)
	require.Equal(t, 2, first.Selected)
	require.Equal(t, ids[:2], first.ids("results"))
	require.True(t, first.More, "a third order matched")
	require.Equal(t, ids[1], first.NextAfter)

	body["after"] = first.NextAfter
	w = e.bulk(e.token(order.RoleCS), body, key...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	second := decode[bulkAnswer](t, w)
	require.Equal(t, ids[2:], second.ids("results"))
	require.False(t, second.More)
	require.Empty(t, second.NextAfter)

	// The key gives each order's update a stable id of its own.
	seen := map[string]bool{}
	for _, id := range ids {
		calls := e.updateCalls(id)
		require.Len(t, calls, 1)
		require.NotEmpty(t, calls[0].UpdateID)
		require.False(t, seen[calls[0].UpdateID], "update ids differ per order")
		seen[calls[0].UpdateID] = true
	}
}

func TestBulkRefusesBeforeActing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	id := e.orderAt("v1", order.StatusConfirmed, true, quoteBody())
	valid := func() map[string]any {
		return map[string]any{"filter": map[string]any{"needs_attention": true}, "action": "cancel", "reason": "x"}
	}
	with := func(k string, v any) map[string]any { b := valid(); b[k] = v; return b }

	tests := []struct {
		name       string
		role       order.Role
		body       any
		header     []string
		status     int
		wantFields []string
	}{
		{"finance may not", order.RoleFinance, valid(), nil, 403, nil},
		{"a buyer may not", order.RoleBuyer, valid(), nil, 403, nil},
		{"everything missing", order.RoleCS, map[string]any{}, nil, 422, []string{"filter", "action", "reason"}},
		{"empty filter", order.RoleCS, with("filter", map[string]any{}), nil, 422, []string{"filter"}},
		{"unknown status", order.RoleCS, with("filter", map[string]any{"status": "STUCK"}), nil, 422, []string{"filter.status"}},
		{"final status", order.RoleCS, with("filter", map[string]any{"status": "CANCELLED"}), nil, 422, []string{"filter.status"}},
		{"bad customer", order.RoleCS, with("filter", map[string]any{"customer_id": "bad\u0000id"}), nil, 422, []string{"filter.customer_id"}},
		{"step with control characters", order.RoleCS, with("filter", map[string]any{"step": "re\u0007serve"}), nil, 422, []string{"filter.step"}},
		// encoding/json names an unknown nested key by itself, not its path.
		{"unknown filter field", order.RoleCS, with("filter", map[string]any{"needs_atention": true}), nil, 400, []string{"needs_atention"}},
		{"unknown field", order.RoleCS, with("dry_run", true), nil, 400, []string{"dry_run"}},
		{"skip is not a bulk action", order.RoleCS, with("action", "skip"), nil, 422, []string{"action"}},
		{"resend is not a bulk action", order.RoleCS, with("action", "resend"), nil, 422, []string{"action"}},
		{"blank reason", order.RoleCS, with("reason", "  "), nil, 422, []string{"reason"}},
		{"limit 0", order.RoleCS, with("limit", 0), nil, 422, []string{"limit"}},
		{"limit past the maximum", order.RoleCS, with("limit", api.MaxBulkLimit+1), nil, 422, []string{"limit"}},
		{"limit not a number", order.RoleCS, with("limit", "all"), nil, 400, []string{"limit"}},
		{"bad Idempotency-Key", order.RoleCS, valid(), []string{"Idempotency-Key", "bad\u00e9"}, 400, []string{"Idempotency-Key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := requireProblem(t, e.bulk(e.token(tt.role), tt.body, tt.header...), tt.status)
			require.Equal(t, tt.wantFields, p.fields())
		})
	}
	require.Empty(t, e.updateCalls(id), "no refused request reaches an order")
}

func TestBulkBoundsConcurrencyAndEachOrdersWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	var ids []string
	for i := range 12 {
		ids = append(ids, e.orderAt(fmt.Sprintf("p%d", i), order.StatusConfirmed, true, quoteBody()))
	}
	hanging := ids[5]
	var mu sync.Mutex
	inFlight, most := 0, 0
	e.tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(
		func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			if o.WorkflowID == hanging {
				<-ctx.Done() // no worker answers this one
				return nil, ctx.Err()
			}
			time.Sleep(20 * time.Millisecond)
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(nil)
			return h, nil
		})

	w := e.bulk(e.token(order.RoleCS), map[string]any{
		"filter": map[string]any{"status": "CONFIRMED"}, "action": "cancel", "reason": "x"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decode[bulkAnswer](t, w)
	require.Equal(t, 12, got.Selected)
	require.Equal(t, 11, got.Acted)
	require.Equal(t, []string{hanging}, got.ids("failed"))
	require.Contains(t, got.Failed[0].Error, "did not answer in time", "one order's silence is bounded and reported")
	require.LessOrEqual(t, most, api.BulkConcurrency)
	require.Greater(t, most, 1, "orders are acted on concurrently")
}
