package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// perShipmentView is what this test reads of the staff view.
type perShipmentView struct {
	Status order.Status `json:"status"`
	Total  money.Money  `json:"total"`
	Live   struct {
		Waiting   string           `json:"waiting"`
		Shipments []order.Shipment `json:"shipments"`
		Invoices  []order.Invoice  `json:"invoices"`
		Balances  []struct {
			Number string      `json:"number"`
			Open   money.Money `json:"open"`
		} `json:"balances"`
		Payments []struct {
			BankTransactionID string `json:"bank_transaction_id"`
			AppliedTo         string `json:"applied_to"`
		} `json:"payments"`
	} `json:"live"`
}

// Issue 8: a customer invoiced per shipment gets an invoice for each
// shipment as it is delivered, under its own key in the ERP, with its own
// mail and document; the invoices add up to the quote, and one transfer
// whose remittance advice names both pays each its part.
func TestInvoicePerShipmentThroughTheAPI(t *testing.T) {
	t.Parallel()
	x := start(t)
	acme := store.DemoCustomers()[0]
	acme.InvoicePerShipment = true
	require.NoError(t, x.s.Store.UpsertCustomer(context.Background(), acme))

	view := func(id string) perShipmentView {
		a := x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleFinance, nil)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		var v perShipmentView
		require.NoError(t, json.Unmarshal(a.body, &v))
		return v
	}
	waitView := func(id, what string, ok func(perShipmentView) bool) perShipmentView {
		var v perShipmentView
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			if v = view(id); ok(v) {
				return v
			}
			time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
		}
		t.Fatalf("order %s: %s did not happen; it is %s: %s", id, what, v.Status, v.Live.Waiting)
		return v
	}

	// A pump from WH-NORTH, a motor from WH-SOUTH: two shipments.
	id := x.createQuote("e2e-per-shipment", order.Line{SKU: "PUMP-200", Quantity: 1}, order.Line{SKU: "MOTOR-7K", Quantity: 1})
	x.accept(id)
	shipping := x.waitStatus(id, order.StatusShipping, time.Minute)
	require.Len(t, shipping.Live.Shipments, 2)
	first, second := shipping.Live.Shipments[0], shipping.Live.Shipments[1]

	x.deliver(id, []order.Shipment{first})
	v := waitView(id, "the first shipment's invoice", func(v perShipmentView) bool { return len(v.Live.Invoices) == 1 })
	require.Equal(t, order.StatusShipping, v.Status, "the second shipment is still on its way")
	inv1 := v.Live.Invoices[0]
	require.Equal(t, first.ShipmentID, inv1.Shipment)
	require.Equal(t, first.Lines, inv1.Lines)
	require.Less(t, inv1.Amount.Minor, v.Total.Minor)
	require.Equal(t, inv1.Amount.Minor, inv1.Net.Minor+inv1.Tax.Minor)

	// The buyer sees the invoice, what it bills and what is open on it.
	a := x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleBuyer, nil)
	require.Equal(t, http.StatusOK, a.status)
	var b struct {
		Invoices []struct {
			Number   string       `json:"number"`
			Shipment string       `json:"shipment"`
			Open     *money.Money `json:"open"`
		} `json:"invoices"`
	}
	require.NoError(t, json.Unmarshal(a.body, &b))
	require.Len(t, b.Invoices, 1)
	require.Equal(t, inv1.Number, b.Invoices[0].Number)
	require.Equal(t, inv1.Amount, *b.Invoices[0].Open)

	x.deliver(id, []order.Shipment{second})
	v = waitView(id, "the last invoice", func(v perShipmentView) bool { return v.Status == order.StatusAwaitingPayment })
	require.Len(t, v.Live.Invoices, 2)
	inv2 := v.Live.Invoices[1]
	require.Equal(t, second.ShipmentID, inv2.Shipment)
	require.Equal(t, v.Total.Minor, inv1.Amount.Minor+inv2.Amount.Minor, "the invoices add up to the quote")

	// With two invoices, finance names the one it writes off; the problem
	// names the field and lists the invoices.
	a = x.api(http.MethodPost, "/v1/orders/"+id+"/write-off", order.RoleFinance, map[string]any{"reason": "bank fee"})
	require.Equal(t, http.StatusUnprocessableEntity, a.status, "%s", a.body)
	var problem struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(a.body, &problem))
	require.Len(t, problem.Errors, 1, "%s", a.body)
	require.Equal(t, "invoice_number", problem.Errors[0].Field)
	require.Contains(t, string(a.body), inv1.Number+", "+inv2.Number)

	// The ERP holds both, each for its part.
	var erp struct {
		Invoices []struct {
			Number string      `json:"number"`
			Amount money.Money `json:"amount"`
			Paid   money.Money `json:"paid"`
		} `json:"invoices"`
	}
	x.simList(x.s.ERPURL+"/sim/invoices?order_id="+id, &erp)
	require.Len(t, erp.Invoices, 2)
	amounts := map[string]money.Money{}
	for _, i := range erp.Invoices {
		amounts[i.Number] = i.Amount
	}
	require.Equal(t, map[string]money.Money{inv1.Number: inv1.Amount, inv2.Number: inv2.Amount}, amounts)

	// One invoice mail each, each linking its own document, which bills
	// its shipment's lines.
	// Mails go out beside the order's path: the second may still be on
	// its way when the order already waits for the money.
	var mails []mailsink.Message
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if mails = x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "invoice"}); len(mails) >= 2 {
			break
		}
	}
	require.Len(t, mails, 2)
	for _, m := range mails {
		inv, sku := inv1, first.Lines[0].SKU
		if strings.Contains(m.Text, inv2.Number) {
			inv, sku = inv2, second.Lines[0].SKU
		}
		require.Contains(t, m.Text, "this invoice bills\nshipment "+inv.Shipment)
		i := strings.Index(m.Text, x.s.APIURL+"/documents/")
		require.GreaterOrEqual(t, i, 0, "the invoice mail links its document: %s", m.Text)
		page := x.call(http.MethodGet, strings.Fields(m.Text[i:])[0], "", nil, nil)
		require.Equal(t, http.StatusOK, page.status)
		require.Contains(t, string(page.body), inv.Number)
		require.Contains(t, string(page.body), sku)
	}

	// One transfer pays both: its remittance advice names each invoice
	// with its amount.
	x.answerSurvey(id, 9)
	a = x.call(http.MethodPost, x.s.BankURL+"/sim/payments", "", map[string]any{
		"reference": "ACME remittance 2026-12", "amount": v.Total, "payer": "Acme Industrial GmbH",
		"remittance": []map[string]any{
			{"reference": inv1.Number, "amount": inv1.Amount},
			{"reference": inv2.Number, "amount": inv2.Amount},
		},
	}, nil)
	require.Equal(t, http.StatusAccepted, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	paid := map[string]string{}
	for _, p := range view(id).Live.Payments {
		paid[p.AppliedTo] = p.BankTransactionID
	}
	require.Len(t, paid, 2, "each part of the remittance paid its invoice: %v", paid)
	require.Contains(t, paid[inv1.Number], inv1.Number, "the part's id names its invoice")
	require.Contains(t, paid[inv2.Number], inv2.Number)
	x.waitAudit(id, "payment.reconciled")
	x.recordHistory(id, "order_completed_per_shipment")
}
