package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
)

// Two pumps from WH-NORTH and a motor from WH-SOUTH: two shipments.
var twoWarehouses = []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}

func TestOrderFromQuoteToCash(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-main", twoWarehouses...)
	x.accept(id)
	v := x.complete(id)
	x.recordHistory(id, "order_completed_two_shipments")
	// 2 x 1250.00 + 2480.00 = 4980.00, less Acme's 3% = 4830.60 EUR net,
	// plus 19 % VAT (917.81) = 5748.41 EUR gross.
	require.Equal(t, int64(574_841), v.Total.Minor)
	// The invoice the buyer got splits the gross as the ERP booked it.
	inv := x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "invoice"})
	require.Len(t, inv, 1)
	require.Contains(t, inv[0].Text, "Net amount:         4830.60 EUR")
	require.Contains(t, inv[0].Text, "VAT:                917.81 EUR")
	require.Contains(t, inv[0].Text, "Amount due:         5748.41 EUR")

	// It links the printable invoice and its UBL, without a bearer token.
	_, link, ok := strings.Cut(inv[0].Text, "View or print the invoice: ")
	require.True(t, ok, "the invoice mail links its document:\n%s", inv[0].Text)
	link, _, _ = strings.Cut(link, "\n")
	require.True(t, strings.HasPrefix(link, x.s.APIURL+"/documents/"), link)
	for suffix, want := range map[string]string{"": "text/html; charset=utf-8", "/ubl": "application/xml"} {
		resp, err := x.http.Get(link + suffix)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		require.Equal(t, want, resp.Header.Get("Content-Type"))
		require.Contains(t, string(body), "5748.41")
		require.Contains(t, string(body), "Acme Industrial GmbH")
	}
	// And in a real browser, as the buyer sees and prints it.
	checkDocumentInBrowser(t, link, v.InvoiceNumber, "5748.41", "917.81", "Acme Industrial GmbH", "PUMP-200", "MOTOR-7K")
	a := x.api(http.MethodGet, "/v1/orders/"+id+"/documents", order.RoleBuyer, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.Contains(t, string(a.body), link)

	// The projection lists it.
	a = x.api(http.MethodGet, "/v1/orders?customer_id=ACME-001&status=COMPLETED", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.Contains(t, string(a.body), id)

	// The audit log tells the story, in order.
	a = x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var audit struct {
		Entries []struct {
			Action   string       `json:"action"`
			ToStatus order.Status `json:"to_status"`
			Actor    order.Actor  `json:"actor"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(a.body, &audit), "%s", a.body)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"order.created", "quote.sent", "quote.accepted", "order.confirmed", "shipment.booked",
		"shipment.delivered", "invoice.issued", "survey.answered", "payment.exact", "payment.reconciled", "order.completed"} {
		require.Contains(t, actions, want)
	}
	require.Less(t, slices.Index(actions, "quote.accepted"), slices.Index(actions, "order.confirmed"))
	require.Less(t, slices.Index(actions, "invoice.issued"), slices.Index(actions, "order.completed"))
	for _, e := range audit.Entries {
		if e.Action == "quote.accepted" {
			require.Equal(t, "pat@acme", e.Actor.Subject, "the audit log names who accepted")
		}
	}

	// The buyer got the mails of the main path, each once.
	msgs := x.s.Mail.Messages(mailsink.Filter{OrderID: id})
	kinds := map[string]int{}
	for _, m := range msgs {
		if !m.Duplicate {
			kinds[string(m.Kind)]++
		}
	}
	require.Equal(t, 1, kinds["quote"])
	require.Equal(t, 1, kinds["order-confirmed"])
	require.Equal(t, 2, kinds["shipment-booked"], "one per warehouse")
	require.Equal(t, 1, kinds["invoice"])
	require.Equal(t, 2, kinds["survey"], "one per delivery")

	// Operators find it in Temporal by customer and status.
	ctx := context.Background()
	res, err := x.s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: `CustomerId = "ACME-001" AND OrderStatus = "COMPLETED"`})
	require.NoError(t, err)
	require.Len(t, res.Executions, 1)
	require.Equal(t, id, res.Executions[0].Execution.WorkflowId)
	// Late orders are found by DeliveryOverdue; this one never was late.
	res, err = x.s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: `CustomerId = "ACME-001" AND DeliveryOverdue = true`})
	require.NoError(t, err, "DeliveryOverdue is a registered search attribute")
	require.Empty(t, res.Executions)

	// Each delivery was surveyed on its own, named by its warehouse.
	for _, m := range x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "survey"}) {
		require.Contains(t, m.Text, "your delivery SHP-", "a survey names its delivery")
	}
}

func TestReservationSurvivesERPFailures(t *testing.T) {
	t.Parallel()
	x := start(t)
	ctx := context.Background()
	x.s.ERP.SetFaults([]erpsim.FaultRule{{Route: erpsim.RouteSalesOrdersCreate, FailNext: 3, Status: http.StatusServiceUnavailable}})
	id := x.createQuote("e2e-erp-503", twoWarehouses...)
	x.accept(id)
	x.complete(id)

	calls, err := x.s.ERP.Calls(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(4), calls[erpsim.RouteSalesOrdersCreate], "three 503s, then the retry that worked")
	sos, err := x.s.ERP.SalesOrders(ctx, id)
	require.NoError(t, err)
	require.Len(t, sos, 1, "the ERP holds exactly one sales order (one reservation) for the order")
	require.Len(t, sos[0].Reservations, 2)
}

func TestOrderCompletesAcrossWorkerRestart(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-restart", twoWarehouses...)
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)

	// The worker goes away mid-order; proof of delivery arrives meanwhile.
	x.s.StopWorker()
	x.deliver(id, v.Live.Shipments)
	require.Equal(t, order.StatusShipping, x.order(id).Status, "nothing moves without a worker")

	// A new worker picks the order up where it stood.
	require.NoError(t, x.s.StartWorker())
	v = x.waitStatus(id, order.StatusAwaitingPayment, time.Minute)
	x.answerSurvey(id, 10)
	x.pay(v)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
}

// TestCarrierExceptionReachesCS: the carrier simulator reports a failed
// delivery attempt through its signed webhook; CS gets an alert, the order
// shows the problem and keeps waiting, and the next attempt completes it.
func TestCarrierExceptionReachesCS(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-exception", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	shipment := v.Live.Shipments[0].ShipmentID
	a := x.call(http.MethodPost, x.s.CarrierURL+"/sim/shipments/"+shipment+"/exception", "",
		map[string]string{"detail": "consignee closed, second attempt tomorrow"}, nil)
	require.Equal(t, http.StatusAccepted, a.status, "%s", a.body)

	var alert *mailsink.Message
	deadline := time.Now().Add(30 * time.Second)
	for alert == nil && time.Now().Before(deadline) {
		for _, m := range x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "cs-alert"}) {
			alert = &m
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	require.NotNil(t, alert, "no CS alert for the carrier exception")
	require.Contains(t, alert.Text, "consignee closed")
	require.Contains(t, alert.Text, "keeps going")

	v = x.order(id)
	require.Equal(t, order.StatusShipping, v.Status)
	require.False(t, v.NeedsAttention)
	require.Contains(t, v.Live.Waiting, "consignee closed")

	x.complete(id)
}

// TestTemporalCancelAfterDeliveryIsRefused: an operator cancels a delivered,
// invoiced order from the Temporal UI. The cancellation is refused like an
// API cancel: the audit log says so, CS is alerted, and the order keeps its
// invoice and its sales order and goes on to be paid.
func TestTemporalCancelAfterDeliveryIsRefused(t *testing.T) {
	t.Parallel()
	x := start(t)
	ctx := context.Background()
	id := x.createQuote("e2e-cancel-late", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	// The carrier delivers (its simulator knows the shipment is delivered and
	// sends the signed webhook itself).
	a := x.call(http.MethodPost, x.s.CarrierURL+"/sim/shipments/"+v.Live.Shipments[0].ShipmentID+"/deliver", "", nil, nil)
	require.Equal(t, http.StatusAccepted, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)

	require.NoError(t, x.s.Client.CancelWorkflow(ctx, id, "")) // what the UI's "Request cancellation" does

	var refused bool
	for deadline := time.Now().Add(30 * time.Second); !refused && time.Now().Before(deadline); {
		log := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
		refused = strings.Contains(string(log.body), `"action":"cancel.refused"`)
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	require.True(t, refused, "the refusal is in the audit log")
	v = x.order(id)
	require.Equal(t, order.StatusAwaitingPayment, v.Status)
	require.True(t, v.NeedsAttention, "CS is asked to look")
	require.NotEmpty(t, x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "cs-alert"}))

	invs, err := x.s.ERP.Invoices(ctx, id)
	require.NoError(t, err)
	require.Len(t, invs, 1)
	require.NotEqual(t, erpsim.InvoiceVoid, invs[0].Status, "the invoice stands")
	sos, err := x.s.ERP.SalesOrders(ctx, id)
	require.NoError(t, err)
	require.Len(t, sos, 1)
	require.True(t, sos[0].CancelledAt.IsZero(), "the sales order stands")

	x.answerSurvey(id, 9)
	x.pay(v)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
}
