package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

// The order's paths that the replay test keeps recorded histories of
// (ORDERFLOW_RECORD_HISTORY=<dir> go test ./e2e -run TestPath): each runs
// one order over HTTP through the path and checks where it ends.

// An order over the purchasing limit waits for the buyer's approver.
func TestPathApproval(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("path-approval", order.Line{SKU: "PUMP-200", Quantity: 9})
	x.accept(id)
	x.waitStatus(id, order.StatusAwaitingApproval, 30*time.Second)
	a := x.api(http.MethodPost, "/v1/orders/"+id+"/approvals", order.RoleBuyerApprover, map[string]any{"approve": true, "comment": "budgeted"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.complete(id)
	x.recordHistory(id, "order_completed_with_approval")
}

// A customer over its credit limit: finance switches the order to
// prepayment; it ships once paid.
func TestPathCreditHoldPrepayment(t *testing.T) {
	t.Parallel()
	x := start(t)
	body := map[string]any{"customer_id": "GLOBEX-002", "po_number": "PO-PREPAY", "lines": []map[string]any{{"sku": "PUMP-200", "quantity": 2}}}
	a := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleStorefront, body, map[string]string{"Idempotency-Key": "path-prepay"})
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	id, _ := a.json(t)["id"].(string)
	acc := x.api(http.MethodPost, "/v1/orders/"+id+"/accept", order.RoleStorefront, map[string]any{"revision": 1})
	require.Equal(t, http.StatusOK, acc.status, "%s", acc.body)
	x.waitStatus(id, order.StatusCreditHold, 30*time.Second)
	d := x.api(http.MethodPost, "/v1/orders/"+id+"/credit-decision", order.RoleFinance, map[string]any{"decision": "prepay", "reason": "new customer"})
	require.Equal(t, http.StatusOK, d.status, "%s", d.body)
	v := x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	require.NotEmpty(t, v.InvoiceNumber, "prepayment: invoiced before it ships")
	x.pay(v)
	v = x.waitStatus(id, order.StatusShipping, 30*time.Second)
	x.deliver(id, v.Live.Shipments)
	x.waitStatus(id, order.StatusPaid, 30*time.Second)
	x.answerSurvey(id, 8)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	x.recordHistory(id, "order_completed_prepaid")
}

// The ERP refuses the reservation for good once; CS retries and the order
// completes.
func TestPathFailureAndCSRetry(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("path-retry", order.Line{SKU: "VALVE-50", Quantity: 1})
	fault := x.call(http.MethodPut, x.s.ERPURL+"/sim/faults", "",
		map[string]any{"rules": []map[string]any{{"route": "sales-orders.create", "status": 409, "fail_next": 1}}}, nil)
	require.Less(t, fault.status, 300, "%s", fault.body)
	x.accept(id)
	v := x.waitAttention(id, 30*time.Second)
	require.NotNil(t, v.Live.Failure, "the refused reservation waits for CS")
	require.Contains(t, v.Live.Failure.Error, "ERP")
	a := x.api(http.MethodPost, "/v1/orders/"+id+"/actions", order.RoleCS, map[string]any{"action": "retry", "reason": "stock checked"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.complete(id)
	x.recordHistory(id, "order_completed_after_cs_retry")
}

// CS cancels a shipping order: the undos run in reverse order.
func TestPathCancelWithCompensation(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("path-cancel", order.Line{SKU: "PUMP-200", Quantity: 1}, order.Line{SKU: "MOTOR-7K", Quantity: 1})
	x.accept(id)
	x.waitStatus(id, order.StatusShipping, time.Minute)
	a := x.api(http.MethodPost, "/v1/orders/"+id+"/actions", order.RoleCS, map[string]any{"action": "cancel", "reason": "customer called"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusCancelled, 30*time.Second)
	x.recordHistory(id, "order_cancelled_with_compensation")
}
