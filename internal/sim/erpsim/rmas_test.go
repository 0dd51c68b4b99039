package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func rmaBody(orderID, so string, lines ...line) map[string]any {
	return map[string]any{"order_id": orderID, "sales_order_id": so, "customer_id": "ACME-001", "lines": lines, "reason": "damaged"}
}

func TestRMANeverMoreThanDelivered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	so := e.createSO(t, "ord-r/sales-order", "ord-r", line{"PUMP-200", 3}, line{"VALVE-50", 2})

	// Nothing has left the warehouse before the goods issue.
	r := e.do(t, http.MethodPost, "/v1/rmas", "ord-r/rma-1", rmaBody("ord-r", so, line{"PUMP-200", 1}))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "not_delivered", r.json(t)["error"])

	r = e.do(t, http.MethodPost, "/v1/invoices", "ord-r/invoice", invoiceBody("ord-r", so, 400000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	onHand := e.available(t)["WH-NORTH/PUMP-200"]

	r = e.do(t, http.MethodPost, "/v1/rmas", "ord-r/rma-1", rmaBody("ord-r", so, line{"PUMP-200", 2}))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	rma := r.json(t)
	assert.Equal(t, "RMA-000001", rma["rma_id"])
	assert.Equal(t, "authorised", rma["status"])
	r = e.do(t, http.MethodPost, "/v1/rmas", "ord-r/rma-1", rmaBody("ord-r", so, line{"PUMP-200", 2}))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "RMA-000001", r.json(t)["rma_id"], "a retry is the same RMA")

	tests := []struct {
		name  string
		lines []line
		code  string
	}{
		{"more than is left of a SKU", []line{{"PUMP-200", 2}}, "return_exceeds_delivered"},
		{"a SKU the sales order does not hold", []line{{"MOTOR-7K", 1}}, "sku_not_on_sales_order"},
	}
	for _, tt := range tests {
		r := e.do(t, http.MethodPost, "/v1/rmas", "ord-r/rma-bad", rmaBody("ord-r", so, tt.lines...))
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.code, r.json(t)["error"], tt.name)
	}
	r = e.do(t, http.MethodPost, "/v1/rmas", "ord-r/rma-2", rmaBody("ord-r", so, line{"PUMP-200", 1}, line{"VALVE-50", 2}))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)

	// A sales order with returns cannot be cancelled behind them.
	r = e.do(t, http.MethodPost, "/v1/invoices/void-by-key", "ord-r/invoice/undo", map[string]any{"forward_key": "ord-r/invoice"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	r = e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-r/cancel", nil)
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "sales_order_returned", r.json(t)["error"])

	// Cancelling the first RMA frees its quantity; receiving the second puts
	// its goods back on the shelf, once.
	r = e.do(t, http.MethodPost, "/v1/rmas/RMA-000001/cancel", "ord-r/rma-1/cancel", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.JSONEq(t, `{"rma_id":"RMA-000001","status":"cancelled"}`, string(r.body))
	r = e.do(t, http.MethodPost, "/v1/rmas/RMA-000001/receive", "ord-r/rma-1/receive", nil)
	require.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "rma_cancelled", r.json(t)["error"])

	r = e.do(t, http.MethodPost, "/v1/rmas/RMA-000002/receive", "ord-r/rma-2/receive", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, "received", r.json(t)["status"])
	r = e.do(t, http.MethodPost, "/v1/rmas/RMA-000002/receive", "ord-r/rma-2/receive-again", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, onHand+1, e.available(t)["WH-NORTH/PUMP-200"], "received once")
	r = e.do(t, http.MethodPost, "/v1/rmas/RMA-000002/cancel", "ord-r/rma-2/cancel", nil)
	require.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "rma_received", r.json(t)["error"])

	rmas, err := e.sim.RMAs(ctx, "ord-r")
	require.NoError(t, err)
	require.Len(t, rmas, 2)
	assert.Equal(t, erpsim.RMACancelled, rmas[0].Status)
	assert.Equal(t, erpsim.RMAReceived, rmas[1].Status)
	assert.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 1}, {SKU: "VALVE-50", Quantity: 2}}, rmas[1].Lines)
}

func TestCancelRMAByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	so := e.createSO(t, "ord-rk/sales-order", "ord-rk", line{"PUMP-200", 1})
	r := e.do(t, http.MethodPost, "/v1/invoices", "ord-rk/invoice", invoiceBody("ord-rk", so, 125000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)

	dropNext(e, erpsim.RouteRMAsCreate)
	e.lost(t, "/v1/rmas", "ord-rk/rma", rmaBody("ord-rk", so, line{"PUMP-200", 1}))
	r = e.do(t, http.MethodPost, "/v1/rmas/cancel-by-key", "ord-rk/rma/undo", map[string]any{"forward_key": "ord-rk/rma"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.JSONEq(t, `{"forward_key":"ord-rk/rma","found":true,"status":"cancelled","rma_id":"RMA-000001"}`, string(r.body))

	// The quantity is free again for a new authorisation.
	r = e.do(t, http.MethodPost, "/v1/rmas", "ord-rk/rma-2", rmaBody("ord-rk", so, line{"PUMP-200", 1}))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
}
