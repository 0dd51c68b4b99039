package erpsim_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// level is one warehouse's stock of one SKU.
func (e *env) level(t *testing.T, warehouse, sku string) erpsim.StockLevel {
	t.Helper()
	levels, err := e.sim.Stock(context.Background())
	require.NoError(t, err)
	for _, l := range levels {
		if l.Warehouse == warehouse && l.SKU == sku {
			return l
		}
	}
	t.Fatalf("no stock row %s/%s", warehouse, sku)
	return erpsim.StockLevel{}
}

// sellMotor reserves and invoices one MOTOR-7K as orderflow does for an
// order, and answers the reservation's status and body.
func (e *env) sellMotor(t *testing.T, n int) reply {
	t.Helper()
	id := fmt.Sprintf("ord-motor-%d", n)
	r := e.do(t, http.MethodPost, "/v1/sales-orders", id+":reserve", soBody(id, "ACME-001", "EUR", line{"MOTOR-7K", 1}))
	if r.status != http.StatusCreated {
		return r
	}
	so := r.json(t)["sales_order_id"].(string)
	inv := e.do(t, http.MethodPost, "/v1/invoices", id+":invoice", invoiceBody(id, so, 248000))
	require.Equal(t, http.StatusCreated, inv.status, "invoice %d: %s", n, inv.body)
	return r
}

func TestInvoicingIssuesTheGoodsAndCancelAfterVoidPutsThemBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	so := e.createSO(t, "ord-gi:reserve", "ord-gi", line{"PUMP-200", 2})
	assert.Equal(t, erpsim.StockLevel{Warehouse: "WH-NORTH", SKU: "PUMP-200", OnHand: 20, Reserved: 2, Available: 18},
		e.level(t, "WH-NORTH", "PUMP-200"))

	r := e.do(t, http.MethodPost, "/v1/invoices", "ord-gi:invoice", invoiceBody("ord-gi", so, 250000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	invoiceID := r.json(t)["invoice_id"].(string)
	assert.Equal(t, erpsim.StockLevel{Warehouse: "WH-NORTH", SKU: "PUMP-200", OnHand: 18, Reserved: 0, Available: 18},
		e.level(t, "WH-NORTH", "PUMP-200"), "the invoice is the goods issue: the pumps left the warehouse")
	sos, err := e.sim.SalesOrders(ctx, "ord-gi")
	require.NoError(t, err)
	require.Len(t, sos, 1)
	assert.False(t, sos[0].GoodsIssuedAt.IsZero())

	// A second invoice on the same sales order issues nothing more.
	r = e.do(t, http.MethodPost, "/v1/invoices", "ord-gi:invoice-2", invoiceBody("ord-gi", so, 1000))
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
	assert.Equal(t, int64(18), e.level(t, "WH-NORTH", "PUMP-200").OnHand)

	// Compensation after the goods issue: void both invoices, cancel the
	// sales order; the pumps come back on the shelf.
	for i, id := range []string{invoiceID, r.json(t)["invoice_id"].(string)} {
		v := e.do(t, http.MethodPost, "/v1/invoices/"+id+"/void", fmt.Sprintf("ord-gi:void-%d", i), nil)
		require.Equal(t, http.StatusOK, v.status, "body %s", v.body)
	}
	c := e.do(t, http.MethodPost, "/v1/sales-orders/"+so+"/cancel", "ord-gi:cancel", nil)
	require.Equal(t, http.StatusOK, c.status, "body %s", c.body)
	assert.Equal(t, erpsim.StockLevel{Warehouse: "WH-NORTH", SKU: "PUMP-200", OnHand: 20, Reserved: 0, Available: 20},
		e.level(t, "WH-NORTH", "PUMP-200"))
}

func TestStockRunsOutWithoutRestockAndTheRestockEndpointRefillsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // auto-restock is off unless switched on
	for n := 1; n <= 10; n++ {
		r := e.sellMotor(t, n)
		require.Equal(t, http.StatusCreated, r.status, "motor %d: %s", n, r.body)
	}
	assert.Equal(t, erpsim.StockLevel{Warehouse: "WH-SOUTH", SKU: "MOTOR-7K", OnHand: 0, Reserved: 0, Available: 0},
		e.level(t, "WH-SOUTH", "MOTOR-7K"), "ten motors sold and gone")

	r := e.sellMotor(t, 11)
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "insufficient_stock", r.json(t)["error"])
	assert.Equal(t, "MOTOR-7K", r.json(t)["sku"])
	assert.Equal(t, "1 of MOTOR-7K short", r.json(t)["detail"])

	add := e.do(t, http.MethodPost, "/sim/stock", "", map[string]any{"warehouse": "WH-SOUTH", "sku": "MOTOR-7K", "add": 3})
	require.Equal(t, http.StatusOK, add.status, "body %s", add.body)
	assert.Equal(t, float64(3), add.json(t)["available"])
	r = e.sellMotor(t, 11) // the same key: the refusal was not stored
	require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)

	// "available" brings the level to a number, whatever is on hand.
	e.createSO(t, "ord-held:reserve", "ord-held", line{"MOTOR-7K", 1})
	set := e.do(t, http.MethodPost, "/sim/stock", "", map[string]any{"warehouse": "WH-SOUTH", "sku": "MOTOR-7K", "available": 10})
	require.Equal(t, http.StatusOK, set.status, "body %s", set.body)
	assert.Equal(t, erpsim.StockLevel{Warehouse: "WH-SOUTH", SKU: "MOTOR-7K", OnHand: 11, Reserved: 1, Available: 10},
		e.level(t, "WH-SOUTH", "MOTOR-7K"))

	// A warehouse that never kept the SKU gets a row.
	r = e.do(t, http.MethodPost, "/sim/stock", "", map[string]any{"warehouse": "WH-EAST", "sku": "MOTOR-7K", "add": 2})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	assert.Equal(t, int64(2), e.level(t, "WH-EAST", "MOTOR-7K").Available)

	for name, body := range map[string]map[string]any{
		"both":        {"warehouse": "WH-SOUTH", "sku": "MOTOR-7K", "add": 1, "available": 1},
		"neither":     {"warehouse": "WH-SOUTH", "sku": "MOTOR-7K"},
		"negative":    {"warehouse": "WH-SOUTH", "sku": "MOTOR-7K", "add": -1},
		"no sku":      {"warehouse": "WH-SOUTH", "add": 1},
		"no location": {"sku": "MOTOR-7K", "add": 1},
	} {
		r := e.do(t, http.MethodPost, "/sim/stock", "", body)
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", name, r.body)
	}
	r = e.do(t, http.MethodPost, "/sim/stock", "", map[string]any{"warehouse": "WH-SOUTH", "sku": "GOLD-BAR", "add": 1})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
	assert.Equal(t, "unknown_sku", r.json(t)["error"])
}

func TestAutoRestockKeepsManyOrdersGoing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetAutoRestock(true)
	for n := 1; n <= 40; n++ {
		r := e.sellMotor(t, n)
		require.Equal(t, http.StatusCreated, r.status, "motor %d: %s", n, r.body)
		l := e.level(t, "WH-SOUTH", "MOTOR-7K")
		require.GreaterOrEqual(t, l.Available, int64(4), "after motor %d: %+v", n, l)
		require.Zero(t, l.Reserved, "after motor %d the goods left: %+v", n, l)
	}
	// Restocking refills to the seed level; an order beyond it is still refused.
	r := e.do(t, http.MethodPost, "/v1/sales-orders", "big:reserve", soBody("big", "ACME-001", "EUR", line{"MOTOR-7K", 11}))
	require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
	assert.Equal(t, "insufficient_stock", r.json(t)["error"])

	// Switched off, the shelf runs empty again.
	e.sim.SetAutoRestock(false)
	sold := 0
	for n := 41; n <= 60; n++ {
		if r := e.sellMotor(t, n); r.status != http.StatusCreated {
			require.Equal(t, http.StatusConflict, r.status, "body %s", r.body)
			break
		}
		sold++
	}
	assert.Less(t, sold, 10, "without auto-restock the motors run out")
	assert.Zero(t, e.level(t, "WH-SOUTH", "MOTOR-7K").Available)
}
