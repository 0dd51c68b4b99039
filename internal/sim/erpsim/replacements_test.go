package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func replacementBody(orderID, replaces string, lines ...line) map[string]any {
	return map[string]any{"order_id": orderID, "customer_id": "ACME-001", "replaces": replaces, "lines": lines, "reason": "lost in transit"}
}

func TestReplacementOrderShipsFromStockAndIsNeverInvoiced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	so := e.createSO(t, "ord-rs/sales-order", "ord-rs", line{"PUMP-200", 2}, line{"VALVE-50", 4})
	before := e.available(t)

	r := e.do(t, http.MethodPost, "/v1/replacement-orders", "ord-rs/replacement-1", replacementBody("ord-rs", so, line{"PUMP-200", 1}))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	rep := r.json(t)
	repID := rep["sales_order_id"].(string)
	assert.NotEqual(t, so, repID)
	assert.Equal(t, "issued", rep["status"])
	assert.Equal(t, so, rep["replaces"])
	assert.Equal(t, before["WH-NORTH/PUMP-200"]-1, e.available(t)["WH-NORTH/PUMP-200"])
	r = e.do(t, http.MethodPost, "/v1/replacement-orders", "ord-rs/replacement-1", replacementBody("ord-rs", so, line{"PUMP-200", 1}))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, repID, r.json(t)["sales_order_id"], "a retry is the same replacement")
	assert.Equal(t, before["WH-NORTH/PUMP-200"]-1, e.available(t)["WH-NORTH/PUMP-200"], "taken once")

	// The goods left at once: on hand dropped, nothing stays reserved for it.
	stock, err := e.sim.Stock(ctx)
	require.NoError(t, err)
	for _, s := range stock {
		if s.Warehouse == "WH-NORTH" && s.SKU == "PUMP-200" {
			assert.Equal(t, int64(2), s.Reserved, "only the original's reservation")
		}
	}

	r = e.do(t, http.MethodPost, "/v1/invoices", "ord-rs/replacement-1/invoice", invoiceBody("ord-rs", repID, 100))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "replacement_not_invoiced", r.json(t)["error"])

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"more than the original held", replacementBody("ord-rs", so, line{"PUMP-200", 3}), 422, "replacement_exceeds_sales_order"},
		{"a SKU it did not hold", replacementBody("ord-rs", so, line{"MOTOR-7K", 1}), 422, "sku_not_on_sales_order"},
		{"another order's sales order", replacementBody("ord-other", so, line{"PUMP-200", 1}), 422, "order_mismatch"},
		{"an unknown sales order", replacementBody("ord-rs", "SO-999999", line{"PUMP-200", 1}), 404, "sales_order_not_found"},
		{"more than is in stock", replacementBody("ord-rs", e.createSO(t, "ord-rs/big", "ord-rs", line{"MOTOR-7K", 10}), line{"MOTOR-7K", 10}), 409, "insufficient_stock"},
	}
	for _, tt := range tests {
		r := e.do(t, http.MethodPost, "/v1/replacement-orders", "ord-rs/bad", tt.body)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.code, r.json(t)["error"], tt.name)
	}

	// Cancelled like any sales order: by key, and its goods come back on hand.
	r = e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-rs/replacement-1/undo", map[string]any{"forward_key": "ord-rs/replacement-1"})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, repID, r.json(t)["sales_order_id"])
	assert.Equal(t, before["WH-NORTH/PUMP-200"], e.available(t)["WH-NORTH/PUMP-200"])

	sos, err := e.sim.SalesOrders(ctx, "ord-rs")
	require.NoError(t, err)
	var found bool
	for _, s := range sos {
		if s.ID == repID {
			found = true
			assert.Equal(t, so, s.Replaces)
			assert.Equal(t, erpsim.SalesOrderCancelled, s.Status)
		}
	}
	assert.True(t, found)
}
