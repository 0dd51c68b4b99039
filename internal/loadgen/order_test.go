package loadgen

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
)

// The bank pays what is open on each invoice: an order invoiced per
// shipment has several, and paying its total on one would leave the
// others open for ever.
func TestDuePaysEachOpenInvoice(t *testing.T) {
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	for _, tc := range []struct {
		name, body string
		want       map[string]money.Money
	}{
		{"one invoice, staff view without balances",
			`{"invoice_number":"INV-1","total":{"minor":1000,"currency":"EUR"},"live":{}}`,
			map[string]money.Money{"INV-1": eur(1000)}},
		{"per shipment, staff view",
			`{"invoice_number":"INV-2","total":{"minor":1000,"currency":"EUR"},"live":{"balances":[
				{"number":"INV-1","open":{"minor":600,"currency":"EUR"}},{"number":"INV-2","open":{"minor":400,"currency":"EUR"}}]}}`,
			map[string]money.Money{"INV-1": eur(600), "INV-2": eur(400)}},
		{"per shipment, buyer view, one paid already",
			`{"invoice_number":"INV-2","total":{"minor":1000,"currency":"EUR"},"invoices":[
				{"number":"INV-1","open":{"minor":0,"currency":"EUR"}},{"number":"INV-2","open":{"minor":400,"currency":"EUR"}}]}`,
			map[string]money.Money{"INV-2": eur(400)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v view
			require.NoError(t, json.Unmarshal([]byte(tc.body), &v))
			require.Equal(t, tc.want, v.due())
		})
	}
}

// The projection answer has no shipments: its SHIPPING, recorded once every
// shipment is booked, is what says so.
func TestBookedReadsEachAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"projection, shipping", `{"source":"projection","status":"SHIPPING"}`, true},
		{"projection, confirmed", `{"source":"projection","status":"CONFIRMED"}`, false},
		{"buyer live view, tracking number", `{"source":"workflow","status":"SHIPPING","shipments":[{"tracking_number":"TRK-1"}]}`, true},
		{"buyer live view, not booked yet", `{"source":"workflow","status":"SHIPPING","shipments":[{"warehouse":"north"}]}`, false},
		{"staff live view", `{"source":"workflow","status":"SHIPPING","live":{"shipments":[{"warehouse":"north"}]}}`, true},
		{"staff live view, none", `{"source":"workflow","status":"SHIPPING","live":{}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v view
			require.NoError(t, json.Unmarshal([]byte(tc.body), &v))
			require.Equal(t, tc.want, v.booked())
		})
	}
}
