package erpsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

// dropNext makes the next call of route commit and then lose its answer.
func dropNext(e *env, route string) {
	e.sim.SetFaults([]erpsim.FaultRule{{Route: route, Mode: faults.ModeDropAnswer, FailNext: 1}})
}

// lost sends a write on a connection of its own and requires that no answer
// comes back. A fresh connection matters: Go's transport resends a request
// with an Idempotency-Key by itself when a reused connection dies, and the
// resend would get the stored answer.
func (e *env) lost(t *testing.T, path, key string, body any) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+path, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", key)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the answer was dropped: no status line, no body")
}

func TestDropAnswerCommitsTheReservation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	body := soBody("ord-lost", "ACME-001", "EUR", line{"PUMP-200", 2})

	dropNext(e, erpsim.RouteSalesOrdersCreate)
	e.lost(t, "/v1/sales-orders", "ord-lost/sales-order", body)

	sos, err := e.sim.SalesOrders(ctx, "ord-lost")
	require.NoError(t, err)
	require.Len(t, sos, 1, "the sales order was created before the answer was lost")
	assert.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
	assert.Equal(t, int64(18), e.available(t)["WH-NORTH/PUMP-200"])

	// The retry under the same key gets the stored answer: the same sales order.
	r := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-lost/sales-order", body)
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	assert.Equal(t, sos[0].ID, r.json(t)["sales_order_id"])
	assert.Equal(t, int64(18), e.available(t)["WH-NORTH/PUMP-200"], "reserved once")
}

func TestCancelSalesOrderByKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.available(t)

	t.Run("undoes a create whose answer was lost", func(t *testing.T) {
		dropNext(e, erpsim.RouteSalesOrdersCreate)
		e.lost(t, "/v1/sales-orders", "ord-a/sales-order", soBody("ord-a", "ACME-001", "EUR", line{"PUMP-200", 2}, line{"MOTOR-7K", 1}))
		sos, err := e.sim.SalesOrders(ctx, "ord-a")
		require.NoError(t, err)
		require.Len(t, sos, 1)

		undo := map[string]any{"forward_key": "ord-a/sales-order"}
		r := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-a/sales-order/undo", undo)
		require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
		assert.JSONEq(t, `{"forward_key":"ord-a/sales-order","found":true,"status":"cancelled","sales_order_id":"`+sos[0].ID+`"}`, string(r.body))
		assert.Equal(t, before, e.available(t), "the reservation is released")
		sos, err = e.sim.SalesOrders(ctx, "ord-a")
		require.NoError(t, err)
		assert.Equal(t, erpsim.SalesOrderCancelled, sos[0].Status)

		// Idempotent under its own key: the same answer, byte for byte.
		again := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-a/sales-order/undo", undo)
		require.Equal(t, http.StatusOK, again.status)
		assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		assert.Equal(t, r.body, again.body)
		// And under another key: the sales order is cancelled already, which is fine.
		other := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-a/sales-order/undo-2", undo)
		require.Equal(t, http.StatusOK, other.status, "body %s", other.body)
		assert.Equal(t, true, other.json(t)["found"])
		assert.Equal(t, before, e.available(t), "released once")

		// A late retry of the create replays its answer; it reserves nothing.
		late := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-a/sales-order",
			soBody("ord-a", "ACME-001", "EUR", line{"PUMP-200", 2}, line{"MOTOR-7K", 1}))
		require.Equal(t, http.StatusCreated, late.status)
		assert.Equal(t, before, e.available(t))
	})

	t.Run("a key never used is nothing to undo, and fenced", func(t *testing.T) {
		undo := map[string]any{"forward_key": "ord-b/sales-order"}
		r := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-b/sales-order/undo", undo)
		require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
		assert.JSONEq(t, `{"forward_key":"ord-b/sales-order","found":false,"status":"nothing_to_undo"}`, string(r.body))

		again := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-b/sales-order/undo", undo)
		require.Equal(t, http.StatusOK, again.status)
		assert.Equal(t, r.body, again.body)
		other := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-b/sales-order/undo-2", undo)
		require.Equal(t, http.StatusOK, other.status)
		assert.Equal(t, false, other.json(t)["found"])

		// A create that arrives after the undo (a retry of an attempt that
		// never got through, say) must not reserve behind the undo's back.
		late := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-b/sales-order", soBody("ord-b", "ACME-001", "EUR", line{"PUMP-200", 1}))
		require.Equal(t, http.StatusConflict, late.status, "body %s", late.body)
		assert.Equal(t, "undone_by_key", late.json(t)["error"])
		sos, err := e.sim.SalesOrders(ctx, "ord-b")
		require.NoError(t, err)
		assert.Empty(t, sos)
		assert.Equal(t, before, e.available(t))
	})

	t.Run("refusals", func(t *testing.T) {
		soID := e.createSO(t, "ord-c/sales-order", "ord-c", line{"BOLT-M8", 10})
		inv := e.do(t, http.MethodPost, "/v1/invoices", "ord-c/invoice", map[string]any{
			"order_id": "ord-c", "sales_order_id": soID, "customer_id": "ACME-001",
			"amount": map[string]any{"minor": 250, "currency": "EUR"}, "payment_terms_days": 30})
		require.Equal(t, http.StatusCreated, inv.status, "body %s", inv.body)

		for _, tc := range []struct {
			name, key string
			body      any
			status    int
			code      string
		}{
			{"no forward_key", "u1", map[string]any{}, 400, "invalid_request"},
			{"its own key", "u2", map[string]any{"forward_key": "u2"}, 400, "invalid_request"},
			{"the key raised an invoice", "u3", map[string]any{"forward_key": "ord-c/invoice"}, 422, "not_a_sales_order_key"},
			{"the sales order is invoiced", "u4", map[string]any{"forward_key": "ord-c/sales-order"}, 409, "sales_order_invoiced"},
		} {
			r := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", tc.key, tc.body)
			assert.Equal(t, tc.status, r.status, "%s: body %s", tc.name, r.body)
			assert.Equal(t, tc.code, r.json(t)["error"], tc.name)
		}
		r := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "", map[string]any{"forward_key": "ord-c/sales-order"})
		assert.Equal(t, http.StatusBadRequest, r.status, "the undo needs a key of its own")
	})
}

func TestVoidInvoiceByKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	soID := e.createSO(t, "ord-v/sales-order", "ord-v", line{"BOLT-M8", 10})
	open := e.receivables(t, "ACME-001", "EUR")

	dropNext(e, erpsim.RouteInvoicesCreate)
	e.lost(t, "/v1/invoices", "ord-v/invoice", map[string]any{
		"order_id": "ord-v", "sales_order_id": soID, "customer_id": "ACME-001",
		"amount": map[string]any{"minor": 250, "currency": "EUR"}, "payment_terms_days": 30})
	invs, err := e.sim.Invoices(ctx, "ord-v")
	require.NoError(t, err)
	require.Len(t, invs, 1, "the invoice was raised before the answer was lost")
	assert.Equal(t, open+250, e.receivables(t, "ACME-001", "EUR"))

	undo := map[string]any{"forward_key": "ord-v/invoice"}
	r := e.do(t, http.MethodPost, "/v1/invoices/void-by-key", "ord-v/invoice/undo", undo)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.JSONEq(t, `{"forward_key":"ord-v/invoice","found":true,"status":"void","invoice_id":"`+invs[0].ID+`"}`, string(r.body))
	assert.Equal(t, open, e.receivables(t, "ACME-001", "EUR"), "the void takes it off the receivables")
	again := e.do(t, http.MethodPost, "/v1/invoices/void-by-key", "ord-v/invoice/undo", undo)
	assert.Equal(t, r.body, again.body)

	// With the invoice void, the sales order's undo goes through.
	c := e.do(t, http.MethodPost, "/v1/sales-orders/cancel-by-key", "ord-v/sales-order/undo",
		map[string]any{"forward_key": "ord-v/sales-order"})
	require.Equal(t, http.StatusOK, c.status, "body %s", c.body)

	never := e.do(t, http.MethodPost, "/v1/invoices/void-by-key", "ord-w/invoice/undo",
		map[string]any{"forward_key": "ord-w/invoice"})
	require.Equal(t, http.StatusOK, never.status, "body %s", never.body)
	assert.JSONEq(t, `{"forward_key":"ord-w/invoice","found":false,"status":"nothing_to_undo"}`, string(never.body))

	wrong := e.do(t, http.MethodPost, "/v1/invoices/void-by-key", "u-wrong",
		map[string]any{"forward_key": "ord-v/sales-order"})
	assert.Equal(t, http.StatusUnprocessableEntity, wrong.status, "body %s", wrong.body)
}
