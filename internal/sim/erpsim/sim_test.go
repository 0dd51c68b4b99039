package erpsim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

func TestPrices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name     string
		currency string
		skus     []string
		status   int
		want     string // the answer's prices, or its error and sku
	}{
		{"list prices in EUR, in the order asked", "EUR", []string{"PUMP-200", "BOLT-M8"}, 200,
			`{"prices":[{"sku":"PUMP-200","unit_price":{"minor":125000,"currency":"EUR"}},{"sku":"BOLT-M8","unit_price":{"minor":25,"currency":"EUR"}}]}`},
		{"list prices in USD", "USD", []string{"MOTOR-7K"}, 200,
			`{"prices":[{"sku":"MOTOR-7K","unit_price":{"minor":275000,"currency":"USD"}}]}`},
		{"unknown sku", "EUR", []string{"BOLT-M8", "WIDGET-9"}, 422, `{"error":"unknown_sku","sku":"WIDGET-9"}`},
		{"no price in the currency", "GBP", []string{"NUT-M8"}, 422, `{"error":"no_price_in_currency","sku":"NUT-M8"}`},
		{"malformed currency", "euro", []string{"NUT-M8"}, 400, `{"error":"invalid_request"}`},
		{"no skus", "EUR", nil, 400, `{"error":"invalid_request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(t, http.MethodPost, "/v1/prices", "", map[string]any{
				"customer_id": "ACME-001", "currency": tt.currency, "skus": tt.skus})
			require.Equal(t, tt.status, r.status, "body %s", r.body)
			got := r.json(t)
			delete(got, "detail") // wording, not contract
			want := map[string]any{}
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			assert.Equal(t, want, got)
		})
	}
}

func TestExposure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		customer, currency string
		status             int
		minor              int64
	}{
		{"ACME-001", "EUR", 200, 1200000},
		{"GLOBEX-002", "EUR", 200, 150000},
		{"INITECH-003", "USD", 200, 0},
		{"ACME-001", "USD", 200, 0}, // known customer, nothing open in that currency
		{"NOPE-999", "EUR", 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.customer+"/"+tt.currency, func(t *testing.T) {
			t.Parallel()
			r := e.do(t, http.MethodGet, "/v1/customers/"+tt.customer+"/exposure?currency="+tt.currency, "", nil)
			require.Equal(t, tt.status, r.status, "body %s", r.body)
			if tt.status != 200 {
				assert.Equal(t, "customer_not_found", r.json(t)["error"])
				return
			}
			var got struct {
				CustomerID      string      `json:"customer_id"`
				OpenReceivables money.Money `json:"open_receivables"`
			}
			require.NoError(t, json.Unmarshal(r.body, &got))
			assert.Equal(t, tt.customer, got.CustomerID)
			assert.Equal(t, money.New(tt.minor, tt.currency), got.OpenReceivables)
		})
	}
}

func TestSalesOrderSplitsAcrossWarehousesInNameOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	r := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-1:reserve",
		soBody("ord-1", "ACME-001", "EUR", line{"PUMP-200", 30}, line{"VALVE-50", 5}))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	var got struct {
		SalesOrderID string               `json:"sales_order_id"`
		Status       string               `json:"status"`
		Reservations []erpsim.Reservation `json:"reservations"`
	}
	require.NoError(t, json.Unmarshal(r.body, &got))
	assert.Equal(t, "reserved", got.Status)
	assert.Regexp(t, `^SO-\d{6}$`, got.SalesOrderID)
	want := []erpsim.Reservation{
		{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 20}, {SKU: "VALVE-50", Quantity: 5}}},
		{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 10}}},
	}
	assert.Equal(t, want, got.Reservations)

	stock := e.available(t)
	assert.Equal(t, int64(0), stock["WH-NORTH/PUMP-200"])
	assert.Equal(t, int64(5), stock["WH-SOUTH/PUMP-200"])
	assert.Equal(t, int64(195), stock["WH-NORTH/VALVE-50"])
	assert.Equal(t, int64(100), stock["WH-SOUTH/VALVE-50"], "the north warehouse had enough valves")

	// What the ERP stored is what it answered.
	sos, err := e.sim.SalesOrders(ctx, "ord-1")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, got.SalesOrderID, sos[0].ID)
	assert.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
	assert.Equal(t, want, sos[0].Reservations)
	assert.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 30}, {SKU: "VALVE-50", Quantity: 5}}, sos[0].Lines)

	// The control endpoint shows the same.
	r = e.do(t, http.MethodGet, "/sim/sales-orders?order_id=ord-1", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	var listed struct {
		SalesOrders []erpsim.SalesOrder `json:"sales_orders"`
	}
	require.NoError(t, json.Unmarshal(r.body, &listed))
	require.Len(t, listed.SalesOrders, 1)
	assert.Equal(t, want, listed.SalesOrders[0].Reservations)
}

func TestInsufficientStockReservesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.available(t)

	// Bolts are plentiful; the 36th pump is missing (20 + 15 in stock).
	r := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-2:reserve",
		soBody("ord-2", "ACME-001", "EUR", line{"BOLT-M8", 500}, line{"PUMP-200", 36}))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "insufficient_stock", r.json(t)["error"])
	assert.Equal(t, "PUMP-200", r.json(t)["sku"])

	assert.Equal(t, before, e.available(t), "a refused order must not hold any stock")
	sos, err := e.sim.SalesOrders(ctx, "ord-2")
	require.NoError(t, err)
	assert.Empty(t, sos)
}

func TestRefusalIsNotStoredSoTheSameKeyWorksOnceStockIsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hog := e.createSO(t, "hog:reserve", "hog", line{"PUMP-200", 35})

	body := soBody("ord-3", "ACME-001", "EUR", line{"PUMP-200", 2})
	r := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-3:reserve", body)
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)

	r = e.do(t, http.MethodPost, "/v1/sales-orders/"+hog+"/cancel", "hog:cancel", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)

	// Same key, same body: the refusal changed nothing, so it is judged again.
	r = e.do(t, http.MethodPost, "/v1/sales-orders", "ord-3:reserve", body)
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(18), e.available(t)["WH-NORTH/PUMP-200"])
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	body := soBody("ord-4", "ACME-001", "EUR", line{"PUMP-200", 3})

	first := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-4:reserve", body)
	require.Equal(t, http.StatusCreated, first.status, "body %s", first.body)
	again := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-4:reserve", body)
	assert.Equal(t, first.status, again.status)
	assert.Equal(t, string(first.body), string(again.body), "a replay returns the first answer byte for byte")
	assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))

	// The same request with its fields in another order and other spacing is the same request.
	reordered := []byte(`{ "lines": [{"quantity": 3, "sku": "PUMP-200"}], "currency": "EUR",
		"customer_id": "ACME-001", "order_id": "ord-4" }`)
	third := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-4:reserve", reordered)
	assert.Equal(t, string(first.body), string(third.body))

	sos, err := e.sim.SalesOrders(ctx, "ord-4")
	require.NoError(t, err)
	assert.Len(t, sos, 1, "three calls with one key make one sales order")
	assert.Equal(t, int64(17), e.available(t)["WH-NORTH/PUMP-200"], "stock is reserved once")

	// The key now belongs to that request: another body, or another route, is refused.
	other := e.do(t, http.MethodPost, "/v1/sales-orders", "ord-4:reserve",
		soBody("ord-4", "ACME-001", "EUR", line{"PUMP-200", 4}))
	assert.Equal(t, http.StatusUnprocessableEntity, other.status)
	assert.Equal(t, "idempotency_key_reused", other.json(t)["error"])
	soID := first.json(t)["sales_order_id"].(string)
	cancel := e.do(t, http.MethodPost, "/v1/sales-orders/"+soID+"/cancel", "ord-4:reserve", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, cancel.status)

	sos, err = e.sim.SalesOrders(ctx, "ord-4")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
}

func TestConcurrentRetriesReserveOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := soBody("ord-5", "ACME-001", "EUR", line{"PUMP-200", 25})
	const n = 8
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i] = e.do(t, http.MethodPost, "/v1/sales-orders", "ord-5:reserve", body) })
	}
	wg.Wait()
	for _, r := range replies {
		require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
		assert.Equal(t, string(replies[0].body), string(r.body))
	}
	sos, err := e.sim.SalesOrders(context.Background(), "ord-5")
	require.NoError(t, err)
	assert.Len(t, sos, 1)
	stock := e.available(t)
	assert.Equal(t, int64(0), stock["WH-NORTH/PUMP-200"])
	assert.Equal(t, int64(10), stock["WH-SOUTH/PUMP-200"])
}

func TestWritesRequireAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	so := e.createSO(t, "ord-6:reserve", "ord-6", line{"NUT-M8", 10})
	tests := []struct {
		name, path string
		body       any
	}{
		{"create sales order", "/v1/sales-orders", soBody("ord-6b", "ACME-001", "EUR", line{"NUT-M8", 1})},
		{"cancel sales order", "/v1/sales-orders/" + so + "/cancel", nil},
		{"create invoice", "/v1/invoices", map[string]any{"order_id": "ord-6", "sales_order_id": so,
			"customer_id": "ACME-001", "amount": money.New(80, "EUR"), "payment_terms_days": 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodPost, tt.path, "", tt.body)
			assert.Equal(t, http.StatusBadRequest, r.status, "body %s", r.body)
			assert.Equal(t, "idempotency_key_required", r.json(t)["error"])
		})
	}
	sos, err := e.sim.SalesOrders(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, sos, 1, "no keyless call created anything")
	assert.Equal(t, erpsim.SalesOrderReserved, sos[0].Status)
	invs, err := e.sim.Invoices(context.Background(), "")
	require.NoError(t, err)
	assert.Empty(t, invs)
}

func TestCancelReleasesStock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.available(t)
	so := e.createSO(t, "ord-7:reserve", "ord-7", line{"PUMP-200", 30}, line{"MOTOR-7K", 2})
	require.NotEqual(t, before, e.available(t))

	r := e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-7:cancel", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, map[string]any{"sales_order_id": so, "status": "cancelled"}, r.json(t))
	assert.Equal(t, before, e.available(t), "cancelling gives every unit back")

	// A second cancel, even under a new key, succeeds and releases nothing more.
	r = e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-7:cancel-again", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, before, e.available(t))

	sos, err := e.sim.SalesOrders(ctx, "ord-7")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, erpsim.SalesOrderCancelled, sos[0].Status)
	assert.False(t, sos[0].CancelledAt.IsZero())

	r = e.do(t, http.MethodPost, "/v1/sales-orders/SO-999999/cancel", "nobody:cancel", nil)
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "sales_order_not_found", r.json(t)["error"])
}

// invoiceBody is a POST /v1/invoices body for ACME-001.
func invoiceBody(orderID, salesOrderID string, minor int64) map[string]any {
	return map[string]any{
		"order_id": orderID, "sales_order_id": salesOrderID, "customer_id": "ACME-001",
		"amount": money.New(minor, "EUR"), "payment_terms_days": 30,
	}
}

func TestInvoiceAddsToAndVoidSubtractsFromReceivables(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	so := e.createSO(t, "ord-8:reserve", "ord-8", line{"PUMP-200", 2})
	require.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	r := e.do(t, http.MethodPost, "/v1/invoices", "ord-8:invoice-1", invoiceBody("ord-8", so, 250000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	var inv1 struct {
		InvoiceID string      `json:"invoice_id"`
		Number    string      `json:"number"`
		Amount    money.Money `json:"amount"`
		IssuedAt  time.Time   `json:"issued_at"`
		DueDate   time.Time   `json:"due_date"`
		Status    string      `json:"status"`
	}
	require.NoError(t, json.Unmarshal(r.body, &inv1))
	assert.NotEmpty(t, inv1.InvoiceID)
	assert.Equal(t, "INV-000001", inv1.Number)
	assert.Equal(t, money.New(250000, "EUR"), inv1.Amount)
	assert.Equal(t, "open", inv1.Status)
	assert.WithinDuration(t, time.Now(), inv1.IssuedAt, time.Minute)
	// 30 days net from the issue day, to the end of that day in UTC.
	issueDay := inv1.IssuedAt.UTC()
	assert.Equal(t, time.Date(issueDay.Year(), issueDay.Month(), issueDay.Day()+30, 23, 59, 59, 0, time.UTC), inv1.DueDate)
	assert.Equal(t, int64(1450000), e.receivables(t, "ACME-001", "EUR"))

	// A second invoice on the same sales order (per-shipment invoicing) takes the next number.
	r = e.do(t, http.MethodPost, "/v1/invoices", "ord-8:invoice-2", invoiceBody("ord-8", so, 10000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	inv2 := r.json(t)
	assert.Equal(t, "INV-000002", inv2["number"])
	assert.Equal(t, int64(1460000), e.receivables(t, "ACME-001", "EUR"))

	// An invoiced sales order cannot be cancelled.
	r = e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-8:cancel", nil)
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "sales_order_invoiced", r.json(t)["error"])

	r = e.do(t, http.MethodPost, "/v1/invoices/"+inv1.InvoiceID+"/void", "ord-8:void-1", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, map[string]any{"invoice_id": inv1.InvoiceID, "status": "void"}, r.json(t))
	assert.Equal(t, int64(1210000), e.receivables(t, "ACME-001", "EUR"))
	// Voiding again, under another key, takes nothing more off.
	r = e.do(t, http.MethodPost, "/v1/invoices/"+inv1.InvoiceID+"/void", "ord-8:void-1-again", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(1210000), e.receivables(t, "ACME-001", "EUR"))

	r = e.do(t, http.MethodPost, "/v1/invoices/"+inv2["invoice_id"].(string)+"/void", "ord-8:void-2", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))

	invs, err := e.sim.Invoices(ctx, "ord-8")
	require.NoError(t, err)
	require.Len(t, invs, 2)
	for _, inv := range invs {
		assert.Equal(t, erpsim.InvoiceVoid, inv.Status, inv.Number)
	}

	// With every invoice void, compensation can go on to cancel the sales order.
	r = e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-8:cancel-after-void", nil)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)

	r = e.do(t, http.MethodPost, "/v1/invoices/no-such-invoice/void", "x:void", nil)
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestInvoiceRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open := e.createSO(t, "ord-9:reserve", "ord-9", line{"NUT-M8", 100})
	cancelled := e.createSO(t, "ord-10:reserve", "ord-10", line{"NUT-M8", 100})
	r := e.do(t, http.MethodPost, "/v1/sales-orders/"+cancelled+"/cancel", "ord-10:cancel", nil)
	require.Equal(t, http.StatusOK, r.status)

	withCustomer := func(b map[string]any, c string) map[string]any { b["customer_id"] = c; return b }
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"unknown sales order", invoiceBody("ord-9", "SO-999999", 800), 404, "sales_order_not_found"},
		{"cancelled sales order", invoiceBody("ord-10", cancelled, 800), 409, "sales_order_cancelled"},
		{"another customer's sales order", withCustomer(invoiceBody("ord-9", open, 800), "GLOBEX-002"), 422, "customer_mismatch"},
		{"another order's sales order", invoiceBody("ord-10", open, 800), 422, "order_mismatch"},
		{"zero amount", invoiceBody("ord-9", open, 0), 400, "invalid_request"},
		{"negative payment terms", func() map[string]any { b := invoiceBody("ord-9", open, 800); b["payment_terms_days"] = -1; return b }(), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(t, http.MethodPost, "/v1/invoices", "inv:"+tt.name, tt.body)
			assert.Equal(t, tt.status, r.status, "body %s", r.body)
			assert.Equal(t, tt.code, r.json(t)["error"])
		})
	}
	t.Cleanup(func() {
		// Refusals raise no invoice and leave the receivables alone.
		invs, err := e.sim.Invoices(context.Background(), "")
		require.NoError(t, err)
		assert.Empty(t, invs)
		assert.Equal(t, int64(1200000), e.receivables(t, "ACME-001", "EUR"))
	})
}

func TestRestartKeepsStateAndSeedDoesNotRefillStock(t *testing.T) {
	t.Parallel()
	first := newEnv(t)
	ctx := context.Background()
	body := soBody("ord-11", "ACME-001", "EUR", line{"PUMP-200", 30})
	created := first.do(t, http.MethodPost, "/v1/sales-orders", "ord-11:reserve", body)
	require.Equal(t, http.StatusCreated, created.status, "body %s", created.body)
	so := created.json(t)["sales_order_id"].(string)
	r := first.do(t, http.MethodPost, "/v1/invoices", "ord-11:invoice", invoiceBody("ord-11", so, 3750000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	stockBefore := first.available(t)

	// A new process on the same database: New, Migrate and Seed again.
	second := startSim(t, first.pool)
	assert.Equal(t, stockBefore, second.available(t), "Seed must not refill reserved stock")
	assert.Equal(t, int64(0), second.available(t)["WH-NORTH/PUMP-200"])
	assert.Equal(t, int64(4950000), second.receivables(t, "ACME-001", "EUR"), "Seed must not reset receivables")

	sos, err := second.sim.SalesOrders(ctx, "ord-11")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.Equal(t, erpsim.SalesOrderInvoiced, sos[0].Status)

	// The idempotency keys survived too: a late retry gets the first answer.
	again := second.do(t, http.MethodPost, "/v1/sales-orders", "ord-11:reserve", body)
	assert.Equal(t, http.StatusCreated, again.status)
	assert.Equal(t, string(created.body), string(again.body))

	// Numbering carries on.
	so2 := second.createSO(t, "ord-12:reserve", "ord-12", line{"NUT-M8", 1})
	r = second.do(t, http.MethodPost, "/v1/invoices", "ord-12:invoice", invoiceBody("ord-12", so2, 8))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, "INV-000002", r.json(t)["number"])
}

// TestAdjustReceivablesMovesTheExposure: a booking outside orderflow
// raises what the exposure call reports, a negative one takes it back,
// never below zero; an unknown customer is a 404 and bad input a 400.
func TestAdjustReceivablesMovesTheExposure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	exposure := func() money.Money {
		var got struct {
			OpenReceivables money.Money `json:"open_receivables"`
		}
		r := e.do(t, http.MethodGet, "/v1/customers/GLOBEX-002/exposure?currency=EUR", "", nil)
		require.Equal(t, 200, r.status, "body %s", r.body)
		require.NoError(t, json.Unmarshal(r.body, &got))
		return got.OpenReceivables
	}
	adjust := func(body string) reply { return e.do(t, http.MethodPost, "/sim/receivables", "", []byte(body)) }

	r := adjust(`{"customer_id":"GLOBEX-002","amount":{"minor":1000000,"currency":"EUR"}}`)
	require.Equal(t, 200, r.status, "body %s", r.body)
	assert.Equal(t, money.New(1150000, "EUR"), exposure())
	require.Equal(t, 200, adjust(`{"customer_id":"GLOBEX-002","amount":{"minor":-1000000,"currency":"EUR"}}`).status)
	assert.Equal(t, money.New(150000, "EUR"), exposure())
	require.Equal(t, 200, adjust(`{"customer_id":"GLOBEX-002","amount":{"minor":-99999999,"currency":"EUR"}}`).status)
	assert.Equal(t, money.New(0, "EUR"), exposure())

	assert.Equal(t, 404, adjust(`{"customer_id":"NOPE-9","amount":{"minor":1,"currency":"EUR"}}`).status)
	assert.Equal(t, 400, adjust(`{"customer_id":"GLOBEX-002","amount":{"minor":1,"currency":"euro"}}`).status)
	assert.Equal(t, 400, adjust(`{"amount":{"minor":1,"currency":"EUR"}}`).status)
}
