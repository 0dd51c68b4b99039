package erp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/money"
)

func TestInvoiceWithTax(t *testing.T) {
	t.Parallel()
	_, c := newClient(t)
	ctx := context.Background()
	so, err := c.CreateSalesOrder(ctx, "ord-tax/sales-order", pumps("ord-tax", 2))
	require.NoError(t, err)

	inv, err := c.CreateInvoice(ctx, "ord-tax/invoice", erp.InvoiceRequest{OrderID: "ord-tax", SalesOrderID: so.ID,
		CustomerID: "ACME-001", Amount: money.New(297500, "EUR"), PaymentTermsDays: 30,
		Net: ptr(money.New(250000, "EUR")), Tax: ptr(money.New(47500, "EUR"))})
	require.NoError(t, err)
	assert.Equal(t, money.New(297500, "EUR"), inv.Amount)
	assert.Equal(t, money.New(250000, "EUR"), inv.Net)
	assert.Equal(t, money.New(47500, "EUR"), inv.Tax)

	plain, err := c.CreateInvoice(ctx, "ord-tax/invoice-2", erp.InvoiceRequest{OrderID: "ord-tax", SalesOrderID: so.ID,
		CustomerID: "ACME-001", Amount: money.New(1000, "EUR"), PaymentTermsDays: 30})
	require.NoError(t, err)
	assert.Equal(t, money.New(1000, "EUR"), plain.Net, "no split asked: all net")
	assert.Equal(t, money.New(0, "EUR"), plain.Tax)

	_, err = c.CreateInvoice(ctx, "ord-tax/invoice-3", erp.InvoiceRequest{OrderID: "ord-tax", SalesOrderID: so.ID,
		CustomerID: "ACME-001", Amount: money.New(1000, "EUR"), PaymentTermsDays: 30,
		Net: ptr(money.New(900, "EUR")), Tax: ptr(money.New(50, "EUR"))})
	requireDownstream(t, err, http.StatusBadRequest, true)
}

// A request without a split is the request as it was sent before the split
// existed, so the ERP's hash of it, and the answer stored under its key, match.
func TestInvoiceRequestWithoutTaxIsUnchanged(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(erp.InvoiceRequest{OrderID: "o", SalesOrderID: "SO-1", CustomerID: "C",
		Amount: money.New(1, "EUR"), PaymentTermsDays: 30})
	require.NoError(t, err)
	assert.JSONEq(t, `{"order_id":"o","sales_order_id":"SO-1","customer_id":"C","amount":{"minor":1,"currency":"EUR"},"payment_terms_days":30}`, string(data))
}

// An answer stored before the ERP split tax out carries no net or tax: the
// client reads it as all net.
func TestInvoiceAnswerFromBeforeTheSplit(t *testing.T) {
	t.Parallel()
	c := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"invoice_id":"i","number":"INV-000001","amount":{"minor":500,"currency":"EUR"},
			"issued_at":"2026-01-01T00:00:00Z","due_date":"2026-01-31T23:59:59Z","status":"open"}`))
	}), 100)
	inv, err := c.CreateInvoice(context.Background(), "k", erp.InvoiceRequest{})
	require.NoError(t, err)
	assert.Equal(t, money.New(500, "EUR"), inv.Net)
	assert.Equal(t, money.New(0, "EUR"), inv.Tax)
}

func ptr[T any](v T) *T { return &v }
