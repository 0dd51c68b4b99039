package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// afterSalesView is what the after-sales tests read of the staff view.
type afterSalesView struct {
	Status        order.Status `json:"status"`
	InvoiceNumber string       `json:"invoice_number"`
	Live          struct {
		Shipments []order.Shipment `json:"shipments"`
		Waiting   string           `json:"waiting"`
		Returns   []struct {
			RMAID      string       `json:"rma_id"`
			ReturnID   string       `json:"return_id"`
			Status     string       `json:"status"`
			CreditNote string       `json:"credit_note"`
			Refunded   *money.Money `json:"refunded"`
		} `json:"returns"`
	} `json:"live"`
}

func (x *sys) afterSales(id string) afterSalesView {
	x.t.Helper()
	a := x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleCS, nil)
	require.Equal(x.t, http.StatusOK, a.status, "%s", a.body)
	var v afterSalesView
	require.NoError(x.t, json.Unmarshal(a.body, &v))
	return v
}

// waitAfterSales polls the staff view until ok holds (or fails the test).
func (x *sys) waitAfterSales(id, what string, ok func(afterSalesView) bool) afterSalesView {
	x.t.Helper()
	var v afterSalesView
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if v = x.afterSales(id); ok(v) {
			return v
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	x.t.Fatalf("order %s: %s did not happen; it is %s: %s", id, what, v.Status, v.Live.Waiting)
	return v
}

// simList reads a simulator's /sim listing into out.
func (x *sys) simList(url string, out any) {
	x.t.Helper()
	a := x.call(http.MethodGet, url, "", nil, nil)
	require.Equal(x.t, http.StatusOK, a.status, "%s: %s", url, a.body)
	require.NoError(x.t, json.Unmarshal(a.body, out), "%s", a.body)
}

// payAtTheBank pays through the bank simulator, which books the payment in
// the ERP too (as a real bank statement import would) and sends the signed
// webhook.
func (x *sys) payAtTheBank(reference string, amount int64) {
	x.t.Helper()
	a := x.call(http.MethodPost, x.s.BankURL+"/sim/payments", "", map[string]any{
		"reference": reference, "amount": map[string]any{"minor": amount, "currency": "EUR"}, "payer": "Acme Industrial GmbH",
	}, nil)
	require.Equal(x.t, http.StatusAccepted, a.status, "%s", a.body)
}

// Issue 8: the carrier loses a shipment; CS reships it from stock through
// the API; the ERP holds a replacement order and still one invoice, and
// the order completes when the reship is delivered.
func TestReshipAfterCarrierException(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-reship", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	lostID := v.Live.Shipments[0].ShipmentID

	// Reshipping a shipment with no problem reported is refused.
	a := x.api(http.MethodPost, "/v1/orders/"+id+"/reship", order.RoleCS, map[string]any{"shipment_id": lostID, "reason": "lost"})
	require.Equal(t, http.StatusConflict, a.status, "%s", a.body)

	a = x.call(http.MethodPost, x.s.CarrierURL+"/sim/shipments/"+lostID+"/exception", "",
		map[string]string{"detail": "parcel lost in the hub"}, nil)
	require.Equal(t, http.StatusAccepted, a.status, "%s", a.body)
	x.waitAfterSales(id, "the exception", func(v afterSalesView) bool { return strings.Contains(v.Live.Waiting, "parcel lost in the hub") })

	a = x.api(http.MethodPost, "/v1/orders/"+id+"/reship", order.RoleBuyer, map[string]any{"shipment_id": lostID, "reason": "lost"})
	require.Equal(t, http.StatusForbidden, a.status, "%s", a.body)
	a = x.api(http.MethodPost, "/v1/orders/"+id+"/reship", order.RoleCS, map[string]any{"reason": "lost"})
	require.Equal(t, http.StatusUnprocessableEntity, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "shipment_id")
	a = x.api(http.MethodPost, "/v1/orders/"+id+"/reship", order.RoleCS, map[string]any{"shipment_id": lostID, "reason": "lost in the hub, carrier case 4711"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "reshipped as")

	v2 := x.afterSales(id)
	require.Len(t, v2.Live.Shipments, 2)
	require.True(t, v2.Live.Shipments[0].Replaced)
	reship := v2.Live.Shipments[1]
	require.Equal(t, lostID, reship.Replaces)
	require.NotEqual(t, lostID, reship.ShipmentID)
	require.NotContains(t, v2.Live.Waiting, "parcel lost", "the old shipment's exception is closed")

	var sos struct {
		SalesOrders []struct {
			ID       string `json:"sales_order_id"`
			Replaces string `json:"replaces"`
		} `json:"sales_orders"`
	}
	x.simList(x.s.ERPURL+"/sim/sales-orders?order_id="+id, &sos)
	require.Len(t, sos.SalesOrders, 2, "the order's sales order and the replacement")
	require.Equal(t, sos.SalesOrders[0].ID, sos.SalesOrders[1].Replaces)

	// The carrier delivers the reship; the order is billed once.
	a = x.call(http.MethodPost, x.s.CarrierURL+"/sim/shipments/"+reship.ShipmentID+"/deliver", "", nil, nil)
	require.Less(t, a.status, 300, "%s", a.body)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	var invs struct {
		Invoices []struct {
			OrderID string `json:"order_id"`
		} `json:"invoices"`
	}
	x.simList(x.s.ERPURL+"/sim/invoices?order_id="+id, &invs)
	n := 0
	for _, inv := range invs.Invoices {
		if inv.OrderID == id {
			n++
		}
	}
	require.Equal(t, 1, n, "a reship bills nothing")
	x.answerSurvey(id, 7)
	x.payAtTheBank(v.InvoiceNumber, v.Total.Minor)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	x.waitAudit(id, "shipment.reshipped")
	x.recordHistory(id, "order_completed_reshipped")
}

// Issue 8: a return of paid goods through the API: RMA and pickup, the
// carrier's signed "returned" event, the credit note by lines in the ERP,
// the refund in the ERP and the transfer at the bank.
func TestReturnCreditNoteRefund(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-return", order.Line{SKU: "VALVE-50", Quantity: 4})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	x.deliver(id, v.Live.Shipments)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	gross := v.Total.Minor
	x.payAtTheBank(v.InvoiceNumber, gross)
	x.waitStatus(id, order.StatusPaid, 30*time.Second) // the survey is still open

	ret := func(role order.Role, qty int) answer {
		return x.api(http.MethodPost, "/v1/orders/"+id+"/return", role, map[string]any{
			"lines": []map[string]any{{"sku": "VALVE-50", "quantity": qty}}, "reason": "ordered one too many"})
	}
	require.Equal(t, http.StatusForbidden, ret(order.RoleBuyer, 1).status)
	a := ret(order.RoleCS, 5)
	require.Equal(t, http.StatusUnprocessableEntity, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "lines[0].quantity")
	a = ret(order.RoleCS, 1)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "the carrier collects on")

	r := x.afterSales(id).Live.Returns
	require.Len(t, r, 1)
	require.Equal(t, "awaiting-goods", r[0].Status)
	// The buyer is told when the carrier comes.
	x.waitAudit(id, "return.authorised")

	// The goods are back: the carrier simulator sends the signed event.
	a = x.call(http.MethodPost, x.s.CarrierURL+"/sim/returns/"+r[0].ReturnID+"/returned", "", nil, nil)
	require.Less(t, a.status, 300, "%s", a.body)
	done := x.waitAfterSales(id, "the return's credit and refund", func(v afterSalesView) bool {
		return len(v.Live.Returns) == 1 && v.Live.Returns[0].Status == "credited"
	})
	// One valve of four: a quarter of the gross, to the minor unit.
	quarter := (gross + 2) / 4
	require.NotNil(t, done.Live.Returns[0].Refunded)
	require.InDelta(t, quarter, done.Live.Returns[0].Refunded.Minor, 1)
	refunded := done.Live.Returns[0].Refunded.Minor

	var cns struct {
		CreditNotes []struct {
			Number string      `json:"number"`
			Kind   string      `json:"kind"`
			Amount money.Money `json:"amount"`
			Lines  []struct {
				SKU      string `json:"sku"`
				Quantity int64  `json:"quantity"`
			} `json:"lines"`
		} `json:"credit_notes"`
	}
	x.simList(x.s.ERPURL+"/sim/credit-notes?order_id="+id, &cns)
	require.Len(t, cns.CreditNotes, 1)
	require.Equal(t, "lines", cns.CreditNotes[0].Kind)
	require.Equal(t, done.Live.Returns[0].CreditNote, cns.CreditNotes[0].Number)
	require.Equal(t, refunded, cns.CreditNotes[0].Amount.Minor)
	require.Equal(t, "VALVE-50", cns.CreditNotes[0].Lines[0].SKU)

	var refunds struct {
		Refunds []struct {
			Amount            money.Money `json:"amount"`
			BankTransactionID string      `json:"bank_transaction_id"`
		} `json:"refunds"`
	}
	x.simList(x.s.ERPURL+"/sim/refunds?customer_id=ACME-001", &refunds)
	var ours int
	for _, rf := range refunds.Refunds {
		if rf.Amount.Minor == refunded && rf.BankTransactionID != "" {
			ours++
		}
	}
	require.Equal(t, 1, ours, "one ERP refund of the credited amount: %+v", refunds.Refunds)
	var transfers struct {
		Transfers []struct {
			Amount money.Money `json:"amount"`
			To     struct {
				Name string `json:"name"`
			} `json:"to"`
		} `json:"transfers"`
	}
	x.simList(x.s.BankURL+"/sim/transfers", &transfers)
	found := false
	for _, tr := range transfers.Transfers {
		found = found || tr.Amount.Minor == refunded
	}
	require.True(t, found, "the bank paid the refund out: %+v", transfers.Transfers)

	x.answerSurvey(id, 6)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	for _, want := range []string{"return.received", "credit-note.issued", "refund.paid", "return.credited"} {
		x.waitAudit(id, want)
	}
	// The buyer got the credit note by mail, with its printable page.
	cn := x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "credit-note"})
	require.Len(t, cn, 1)
	require.Contains(t, cn[0].Text, done.Live.Returns[0].CreditNote)
	i := strings.Index(cn[0].Text, x.s.APIURL+"/documents/")
	require.GreaterOrEqual(t, i, 0, "the credit-note mail links its document: %s", cn[0].Text)
	page := x.call(http.MethodGet, strings.Fields(cn[0].Text[i:])[0], "", nil, nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, string(page.body), done.Live.Returns[0].CreditNote)
	x.recordHistory(id, "order_completed_returned")
}

// Issue 8: a payment short by a bank fee within Acme's tolerance (5.00 EUR
// or 0.5 %) settles the invoice: the ERP holds the write-off and the order
// completes without finance.
func TestShortPaymentWithinToleranceIsWrittenOff(t *testing.T) {
	t.Parallel()
	x := start(t)
	// One pump: 1442.88 EUR with VAT; 0.5 % is 7.21, so 5.00 EUR is the tolerance.
	id := x.createQuote("e2e-short-pay", order.Line{SKU: "PUMP-200", Quantity: 1})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	x.deliver(id, v.Live.Shipments)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	x.answerSurvey(id, 9)
	x.payAtTheBank(v.InvoiceNumber, v.Total.Minor-250) // a 2.50 EUR bank fee
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
	x.waitAudit(id, "invoice.written-off")
	var wos struct {
		WriteOffs []struct {
			InvoiceNumber string      `json:"invoice_number"`
			Amount        money.Money `json:"amount"`
		} `json:"write_offs"`
	}
	x.simList(x.s.ERPURL+"/sim/write-offs?customer_id=ACME-001", &wos)
	var ours []money.Money
	for _, wo := range wos.WriteOffs {
		if wo.InvoiceNumber == v.InvoiceNumber {
			ours = append(ours, wo.Amount)
		}
	}
	require.Equal(t, []money.Money{money.New(250, "EUR")}, ours)
	require.Empty(t, x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "finance-alert"}), "finance has nothing to do")
	x.recordHistory(id, "order_completed_short_paid")
}
