package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/stretchr/testify/require"
)

// walkthroughRuns is how often TestReadmeWalkthroughManyTimes walks the
// README's order: more than the ten runs that used to empty the ERP
// simulator's MOTOR-7K shelf.
const walkthroughRuns = 24

// surveyLinkPattern is the walkthrough's `grep -o 'http://[^ ]*/survey/[A-Za-z0-9_-]*'`.
var surveyLinkPattern = regexp.MustCompile(`http://[^ ]*/survey/[A-Za-z0-9_-]*`)

// TestReadmeWalkthroughManyTimes makes the README's "Walk one order to
// COMPLETED" calls, exactly, again and again in one system on one database,
// with the simulators set up as `orderflow dev` sets them up: every run must
// reach COMPLETED, pay a real invoice number and leave the ERP's stock
// consumed rather than held.
func TestReadmeWalkthroughManyTimes(t *testing.T) {
	t.Parallel()
	x := startWith(t, func(o *devstack.Options) { o.ERPAutoRestock = true }) // as `orderflow dev` (ORDERFLOW_SIM_AUTO_RESTOCK)
	began := time.Now()
	for n := 1; n <= walkthroughRuns; n++ {
		x.walkthrough(n)
	}
	t.Logf("%d walkthroughs in %s", walkthroughRuns, time.Since(began).Round(time.Millisecond))

	// The goods left: nothing stays reserved for the completed orders.
	var stock struct {
		Stock []struct {
			Warehouse string `json:"warehouse"`
			SKU       string `json:"sku"`
			OnHand    int64  `json:"on_hand"`
			Reserved  int64  `json:"reserved"`
			Available int64  `json:"available"`
		} `json:"stock"`
	}
	a := x.call(http.MethodGet, x.s.ERPURL+"/sim/stock", "", nil, nil)
	require.Equal(t, http.StatusOK, a.status)
	require.NoError(t, json.Unmarshal(a.body, &stock), "%s", a.body)
	for _, s := range stock.Stock {
		require.Zero(t, s.Reserved, "%s/%s still reserved after every order completed", s.Warehouse, s.SKU)
		if s.SKU == "MOTOR-7K" {
			require.Positive(t, s.Available, "the motor shelf is restocked")
		}
	}
}

// walkthrough is one pass of the README's shell block, step by step.
func (x *sys) walkthrough(n int) {
	t := x.t
	t.Helper()
	step := func(name string) string { return fmt.Sprintf("run %d, step %s", n, name) }

	// 1. The storefront asks for a quote.
	a := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer, map[string]any{
		"customer_id": "ACME-001", "po_number": "PO-4711",
		"lines": []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}},
	}, map[string]string{"Idempotency-Key": fmt.Sprintf("walkthrough-%d", n)})
	require.Equal(t, http.StatusCreated, a.status, "%s: %s", step("1 quote"), a.body)
	id, _ := a.json(t)["id"].(string)
	require.NotEmpty(t, id, step("1 quote"))

	// 2. Priced and mailed.
	v := x.waitFor(id, order.StatusAwaitingAcceptance, step("2 priced"))
	require.Equal(t, int64(574_841), v.Total.Minor, step("2 priced: 4830.60 net + 19 % VAT"))

	// 3. The buyer accepts.
	a = x.api(http.MethodPost, "/v1/orders/"+id+"/accept", order.RoleBuyer, map[string]any{"revision": 1})
	require.Equal(t, http.StatusOK, a.status, "%s: %s", step("3 accept"), a.body)
	x.waitFor(id, order.StatusShipping, step("3 shipping"))

	// 4. The carrier delivers every shipment of the order.
	var shipments struct {
		Shipments []struct {
			ShipmentID string `json:"shipment_id"`
		} `json:"shipments"`
	}
	a = x.call(http.MethodGet, x.s.CarrierURL+"/sim/shipments?reference="+url.QueryEscape(id), "", nil, nil)
	require.Equal(t, http.StatusOK, a.status, "%s: %s", step("4 shipments"), a.body)
	require.NoError(t, json.Unmarshal(a.body, &shipments))
	require.Len(t, shipments.Shipments, 2, "%s: one shipment per warehouse", step("4 shipments"))
	for _, s := range shipments.Shipments {
		a = x.call(http.MethodPost, x.s.CarrierURL+"/sim/shipments/"+s.ShipmentID+"/deliver", "", nil, nil)
		require.Equal(t, http.StatusAccepted, a.status, "%s: %s", step("4 deliver"), a.body)
	}
	v = x.waitFor(id, order.StatusAwaitingPayment, step("4 invoiced"))
	require.True(t, strings.HasPrefix(v.InvoiceNumber, "INV-"), "%s: invoice number %q", step("4 invoiced"), v.InvoiceNumber)

	// 5. The buyer answers each delivery's survey from the link in its
	// mail, which the worker sends at the delivery: the README waits for
	// both too.
	var mails []struct {
		ID int64 `json:"id"`
	}
	for deadline := time.Now().Add(30 * time.Second); len(mails) < 2 && time.Now().Before(deadline); {
		a = x.call(http.MethodGet, x.s.MailURL+"/messages?order="+url.QueryEscape(id)+"&kind=survey", "", nil, nil)
		require.Equal(t, http.StatusOK, a.status, step("5 survey mail"))
		require.NoError(t, json.Unmarshal(a.body, &mails))
		if len(mails) < 2 {
			time.Sleep(100 * time.Millisecond) // polling interval, as the README's loop
		}
	}
	require.Len(t, mails, 2, "%s: a survey mail per delivery", step("5 survey mail"))
	for _, m := range mails {
		a = x.call(http.MethodGet, fmt.Sprintf("%s/messages/%d", x.s.MailURL, m.ID), "", nil, map[string]string{"Accept": "application/json"})
		require.Equal(t, http.StatusOK, a.status, step("5 survey mail"))
		text, _ := a.json(t)["text"].(string)
		link := surveyLinkPattern.FindString(text)
		require.NotEmpty(t, link, "%s: no link in %q", step("5 survey link"), text)
		resp, err := x.http.PostForm(link, url.Values{"score": {"9"}, "comment": {"On time"}})
		require.NoError(t, err, step("5 answer"))
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, step("5 answer"))
	}

	// 6. The bank receives the payment with the invoice number as reference.
	a = x.call(http.MethodPost, x.s.BankURL+"/sim/payments", "", map[string]any{
		"reference": v.InvoiceNumber, "amount": map[string]any{"minor": 574841, "currency": "EUR"}, "payer": "Acme Industrial GmbH",
	}, nil)
	require.Equal(t, http.StatusAccepted, a.status, "%s: %s", step("6 pay"), a.body)

	// 7. Done, and the audit log tells the story.
	x.waitFor(id, order.StatusCompleted, step("7 completed"))
	a = x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status, step("7 audit"))
	require.Contains(t, string(a.body), "order.completed", step("7 audit"))
}

// waitFor is the walkthrough's wait_for: it polls the order as the buyer
// sees it until it shows want, and fails with the status and details it
// shows instead.
func (x *sys) waitFor(id string, want order.Status, step string) orderView {
	x.t.Helper()
	deadline := time.Now().Add(time.Minute)
	var v orderView
	var last answer
	for time.Now().Before(deadline) {
		last = x.api(http.MethodGet, "/v1/orders/"+id, order.RoleBuyer, nil)
		require.Equal(x.t, http.StatusOK, last.status, "%s: GET order: %s", step, last.body)
		v = orderView{}
		require.NoError(x.t, json.Unmarshal(last.body, &v))
		if v.Status == want {
			return v
		}
		if v.Status.Terminal() {
			break // it will never get there
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	x.t.Fatalf("%s: order %s is %s, want %s: %s", step, id, v.Status, want, last.body)
	return v
}
