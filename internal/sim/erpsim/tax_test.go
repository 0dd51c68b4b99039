package erpsim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
)

func TestInvoiceCarriesNetTaxAndGross(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	so := e.createSO(t, "ord-t:reserve", "ord-t", line{"PUMP-200", 2})

	t.Run("net and tax given: the amount is the gross", func(t *testing.T) {
		body := invoiceBody("ord-t", so, 297500)
		body["net"], body["tax"] = money.New(250000, "EUR"), money.New(47500, "EUR")
		r := e.do(t, http.MethodPost, "/v1/invoices", "ord-t:invoice-1", body)
		require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
		got := r.json(t)
		assert.Equal(t, map[string]any{"minor": 297500.0, "currency": "EUR"}, got["amount"])
		assert.Equal(t, map[string]any{"minor": 250000.0, "currency": "EUR"}, got["net"])
		assert.Equal(t, map[string]any{"minor": 47500.0, "currency": "EUR"}, got["tax"])
		assert.Equal(t, int64(1200000+297500), e.receivables(t, "ACME-001", "EUR"), "the gross is owed")
	})

	t.Run("without them, as today's callers send it, the invoice is all net", func(t *testing.T) {
		r := e.do(t, http.MethodPost, "/v1/invoices", "ord-t:invoice-2", invoiceBody("ord-t", so, 10000))
		require.Equal(t, http.StatusCreated, r.status, "body %s", r.body)
		got := r.json(t)
		assert.Equal(t, map[string]any{"minor": 10000.0, "currency": "EUR"}, got["net"])
		assert.Equal(t, map[string]any{"minor": 0.0, "currency": "EUR"}, got["tax"])

		// The same key with a split is another request.
		body := invoiceBody("ord-t", so, 10000)
		body["net"], body["tax"] = money.New(10000, "EUR"), money.New(0, "EUR")
		r = e.do(t, http.MethodPost, "/v1/invoices", "ord-t:invoice-2", body)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.body)
		assert.Equal(t, "idempotency_key_reused", r.json(t)["error"])
	})

	invs, err := e.sim.Invoices(ctx, "ord-t")
	require.NoError(t, err)
	require.Len(t, invs, 2)
	assert.Equal(t, money.New(250000, "EUR"), invs[0].Net)
	assert.Equal(t, money.New(47500, "EUR"), invs[0].Tax)
	assert.Equal(t, money.New(10000, "EUR"), invs[1].Net)
	assert.Equal(t, money.New(0, "EUR"), invs[1].Tax)

	t.Run("refusals name the field", func(t *testing.T) {
		eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
		tests := []struct {
			name     string
			net, tax any
			field    string
		}{
			{"net without tax", eur(100), nil, "tax"},
			{"tax without net", nil, eur(19), "net"},
			{"net and tax that do not add up", eur(100), eur(10), "amount"},
			{"net in another currency", money.New(100, "USD"), eur(19), "net"},
			{"negative tax", eur(130), eur(-11), "tax"},
			{"zero net", eur(0), eur(119), "net"},
		}
		for _, tt := range tests {
			body := invoiceBody("ord-t", so, 119)
			if tt.net != nil {
				body["net"] = tt.net
			}
			if tt.tax != nil {
				body["tax"] = tt.tax
			}
			r := e.do(t, http.MethodPost, "/v1/invoices", "ord-t:bad-"+tt.name, body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tt.name, r.body)
			assert.Equal(t, tt.field, r.json(t)["field"], tt.name)
		}
	})
}
