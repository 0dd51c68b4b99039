package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

// JSON keys are matched exactly: encoding/json alone would take
// "Customer_ID" for customer_id.
func TestJSONKeysAreCaseSensitive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("strict bodies refuse a key that differs in case, naming it", func(t *testing.T) {
		quote := func(body string) *responseRecorder {
			return e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: body,
				header: map[string]string{"Idempotency-Key": "case-1", "Content-Type": "application/json"}})
		}
		tests := []struct{ body, field string }{
			{`{"Customer_ID":"ACME-001","lines":[{"sku":"BOLT-M8","quantity":1}]}`, "Customer_ID"},
			{`{"customer_id":"ACME-001","CUSTOMER_ID":"GLOBEX-002","lines":[{"sku":"BOLT-M8","quantity":1}]}`, "CUSTOMER_ID"},
			{`{"customer_id":"ACME-001","lines":[{"sku":"BOLT-M8","quantity":1},{"SKU":"NUT-M8","quantity":1}]}`, "lines.SKU"},
			{`{"customer_id":"ACME-001","lines":[{"sku":"BOLT-M8","Quantity":1}]}`, "lines.Quantity"},
		}
		for _, tt := range tests {
			p := requireProblem(t, quote(tt.body), http.StatusBadRequest)
			require.Equal(t, []string{tt.field}, p.fields(), tt.body)
			require.Contains(t, p.Errors[0].Reason, "unknown field")
		}
		w := e.do(req{method: http.MethodPost, path: "/v1/payments/txn-1/allocate", token: e.token(order.RoleFinance),
			body: `{"Order_ID":"ord_X","reason":"x"}`})
		require.Equal(t, []string{"Order_ID"}, requireProblem(t, w, http.StatusBadRequest).fields())
	})

	t.Run("webhooks ignore such a key; the real field stays missing", func(t *testing.T) {
		p := requireProblem(t, e.hook("/v1/webhooks/logistics", logisticsSecret, e.now,
			[]byte(`{"EVENT_ID":"ev-case","type":"in_transit"}`)), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"event_id"}, p.fields())

		p = requireProblem(t, e.hook("/v1/webhooks/payments", paymentsSecret, e.now,
			[]byte(`{"event_id":"pev-case","bank_transaction_id":"txn-case","amount":{"Minor":100,"currency":"EUR"}}`)), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"amount.minor"}, p.fields())
	})
}
