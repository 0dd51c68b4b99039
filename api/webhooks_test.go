package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// hook posts a webhook body signed with secret at ts.
func (e *env) hook(path string, secret []byte, ts time.Time, body any) *responseRecorder {
	e.t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(e.t, err)
	}
	return e.do(req{method: http.MethodPost, path: path, body: raw,
		header: map[string]string{webhook.SignatureHeader: webhook.Sign(secret, ts, raw), "Content-Type": "application/json"}})
}

func ackStatus(t *testing.T, w *responseRecorder) string {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return decode[map[string]string](t, w)["status"]
}

// signals returns the signals of one name sent to an order.
func (e *env) signals(id, name string) []any {
	var out []any
	for _, c := range e.calls("SignalWorkflow") {
		if c.Arguments.String(1) == id && c.Arguments.String(3) == name {
			out = append(out, c.Arguments.Get(4))
		}
	}
	return out
}

func TestLogisticsWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("w1", quoteBody())
	const path = "/v1/webhooks/logistics"
	delivered := func(eventID string) webhook.LogisticsEvent {
		return webhook.LogisticsEvent{EventID: eventID, Type: webhook.LogisticsDelivered, ShipmentID: "shp_1",
			TrackingNumber: "TRK1", Reference: id, OccurredAt: e.now.Add(-time.Hour)}
	}
	seen := func(eventID string) bool {
		ok, err := e.store.WebhookEventSeen(context.Background(), api.SourceLogistics, eventID)
		require.NoError(t, err)
		return ok
	}

	t.Run("a failed signal is not recorded, so the retry gets through", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalDelivered, mock.Anything).
			Return(serviceerror.NewUnavailable("temporal down")).Once()
		requireProblem(t, e.hook(path, logisticsSecret, e.now, delivered("ev-1")), http.StatusServiceUnavailable)
		require.False(t, seen("ev-1"))
	})

	t.Run("delivered signals the order", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalDelivered, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, delivered("ev-1"))))
		require.True(t, seen("ev-1"))
		sigs := e.signals(id, workflows.SignalDelivered)
		require.Len(t, sigs, 2, "the failed attempt and the retry")
		require.Equal(t, workflows.DeliveredSignal{ShipmentID: "shp_1", EventID: "ev-1", DeliveredAt: e.now.Add(-time.Hour)}, sigs[1])
	})

	t.Run("a duplicate is acknowledged and not signalled again", func(t *testing.T) {
		before := len(e.signals(id, workflows.SignalDelivered))
		require.Equal(t, api.WebhookDuplicate, ackStatus(t, e.hook(path, logisticsSecret, e.now, delivered("ev-1"))))
		require.Len(t, e.signals(id, workflows.SignalDelivered), before)
	})

	t.Run("an exception signals the order with the carrier's detail and time", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalShipmentException, mock.Anything).Return(nil).Once()
		at := e.now.Add(-90 * time.Minute)
		ev := webhook.LogisticsEvent{EventID: "ev-2", Type: webhook.LogisticsException, ShipmentID: "shp_1", Reference: id,
			OccurredAt: at, Detail: "address not found"}
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, ev)))
		require.True(t, seen("ev-2"))
		require.Equal(t, []any{workflows.ShipmentExceptionSignal{ShipmentID: "shp_1", EventID: "ev-2", Detail: "address not found", OccurredAt: at}},
			e.signals(id, workflows.SignalShipmentException))
	})

	t.Run("an exception must say when it occurred", func(t *testing.T) {
		ev := webhook.LogisticsEvent{EventID: "ev-2d", Type: webhook.LogisticsException, ShipmentID: "shp_1", Reference: id, Detail: "lost"}
		p := requireProblem(t, e.hook(path, logisticsSecret, e.now, ev), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"occurred_at"}, p.fields())
	})

	t.Run("an exception must name the order and the shipment", func(t *testing.T) {
		ev := webhook.LogisticsEvent{EventID: "ev-2b", Type: webhook.LogisticsException, OccurredAt: e.now, Detail: "lost"}
		p := requireProblem(t, e.hook(path, logisticsSecret, e.now, ev), http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"shipment_id", "reference"}, p.fields())
		require.False(t, seen("ev-2b"))
	})

	t.Run("in-transit scans are recorded without a signal", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		ev := webhook.LogisticsEvent{EventID: "ev-2c", Type: webhook.LogisticsInTransit, ShipmentID: "shp_1", Reference: id, OccurredAt: e.now}
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, ev)))
		require.True(t, seen("ev-2c"))
		require.Len(t, e.calls("SignalWorkflow"), before)
	})

	t.Run("an unknown order's shipment is a 404 naming shipment_id, recorded", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		ev := delivered("ev-3")
		ev.Reference = "ord_UNKNOWN"
		for attempt := 1; attempt <= 2; attempt++ {
			w := e.hook(path, logisticsSecret, e.now, ev)
			p := requireProblem(t, w, http.StatusNotFound)
			require.Equal(t, api.ProblemTypePrefix+api.ProblemUnknownShipment, p.Type)
			require.Equal(t, []string{"shipment_id"}, p.fields())
			rec, err := e.store.LookupWebhookEvent(context.Background(), api.SourceLogistics, "ev-3")
			require.NoError(t, err)
			require.Equal(t, store.WebhookOutcomeUnknownShipment, rec.Outcome)
			require.Equal(t, attempt, rec.Attempts, "a redelivery is looked at again, and counted")
			var stored webhook.LogisticsEvent
			require.NoError(t, json.Unmarshal(rec.Payload, &stored))
			require.Equal(t, ev, stored, "the event is kept for CS")
		}
		require.Len(t, e.calls("SignalWorkflow"), before, "nothing reaches an order")
		var warned bool
		for _, l := range e.logs.lines(t) {
			warned = warned || (l["level"] == "warn" && l["event_id"] == "ev-3")
		}
		require.True(t, warned)
		list, err := e.store.WebhookEventsByOutcome(context.Background(), api.SourceLogistics, store.WebhookOutcomeUnknownShipment, 0)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})

	t.Run("signatures", func(t *testing.T) {
		body, _ := json.Marshal(delivered("ev-4"))
		w := e.hook(path, []byte("wrong-secret"), e.now, body)
		p := requireProblem(t, w, http.StatusUnauthorized)
		require.Empty(t, p.Errors)
		require.Empty(t, w.Header().Get("WWW-Authenticate"), "webhooks are not bearer-authenticated")
		requireProblem(t, e.hook(path, paymentsSecret, e.now, body), http.StatusUnauthorized) // the other sender's secret
		requireProblem(t, e.do(req{method: http.MethodPost, path: path, body: body}), http.StatusUnauthorized)
		// Signed, then tampered with.
		w = e.do(req{method: http.MethodPost, path: path, body: append(body, ' '),
			header: map[string]string{webhook.SignatureHeader: webhook.Sign(logisticsSecret, e.now, body)}})
		requireProblem(t, w, http.StatusUnauthorized)

		stale := requireProblem(t, e.hook(path, logisticsSecret, e.now.Add(-6*time.Minute), body), http.StatusBadRequest)
		require.Contains(t, stale.Type, "stale-signature")
		require.Equal(t, []string{webhook.SignatureHeader}, stale.fields(), "the 400 names the header")
		requireProblem(t, e.hook(path, logisticsSecret, e.now.Add(6*time.Minute), body), http.StatusBadRequest)
		require.False(t, seen("ev-4"))
	})

	t.Run("a malformed timestamp is a 400 naming the header", func(t *testing.T) {
		body, _ := json.Marshal(delivered("ev-4b"))
		_, v1, _ := strings.Cut(webhook.Sign(logisticsSecret, e.now, body), ",")
		for _, header := range []string{"t=yesterday," + v1, "t=-5," + v1, "t=99999999999999999999," + v1, v1,
			"t=" + strconv.FormatInt(e.now.Unix(), 10) + ",t=1," + v1} {
			w := e.do(req{method: http.MethodPost, path: path, body: body, header: map[string]string{webhook.SignatureHeader: header}})
			p := requireProblem(t, w, http.StatusBadRequest)
			require.Equal(t, api.ProblemTypePrefix+api.ProblemBadRequest, p.Type, header)
			require.Equal(t, []string{webhook.SignatureHeader}, p.fields(), header)
		}
		require.False(t, seen("ev-4b"))
	})

	t.Run("bad events name the field", func(t *testing.T) {
		tests := []struct {
			body   string
			status int
			field  string
		}{
			{`{"event_id":"x","type":"delivered","shipment_id":"s","reference":"` + id + `"}`, 422, "occurred_at"},
			{`{"type":"in_transit"}`, 422, "event_id"},
			{`{"event_id":"x","type":"lost"}`, 422, "type"},
			{`{"event_id":"x","type":"delivered","reference":"r","occurred_at":"2026-01-01T00:00:00Z"}`, 422, "shipment_id"},
			{`{"event_id":"x\u0000y","type":"in_transit"}`, 422, "event_id"},
			{`{"event_id":7,"type":"in_transit"}`, 400, "event_id"},
			{`{"event_id":"x","type":"delivered","occurred_at":"yesterday"}`, 400, "occurred_at"},
			{`{"event_id":"x","type":"in_transit","occurred_at":5}`, 400, "occurred_at"},
			{`not json`, 400, ""},
		}
		for _, tt := range tests {
			p := requireProblem(t, e.hook(path, logisticsSecret, e.now, []byte(tt.body)), tt.status)
			if tt.field != "" {
				require.Equal(t, []string{tt.field}, p.fields(), tt.body)
			}
		}
	})

	t.Run("body too large", func(t *testing.T) {
		big := []byte(`{"event_id":"big","type":"in_transit","detail":"` + strings.Repeat("x", 1<<20) + `"}`)
		requireProblem(t, e.hook(path, logisticsSecret, e.now, big), http.StatusRequestEntityTooLarge)
	})

	t.Run("unknown fields from the sender are tolerated", func(t *testing.T) {
		body := []byte(`{"event_id":"ev-5","type":"in_transit","shipment_id":"s","carrier_extra":{"x":"\u0000"}}`)
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, body)))
	})
}

// Carrier events for shipments the order's workflow does not list.
func TestLogisticsWebhookUnknownShipments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	const path = "/v1/webhooks/logistics"
	booked := e.createOrder("u1", quoteBody())
	live.Store(booked, workflows.Details{OrderID: booked, Shipments: []order.Shipment{
		{Warehouse: "WH-NORTH", ShipmentID: "shp_N"}, {Warehouse: "WH-SOUTH", ShipmentID: "shp_S"}}})
	booking := e.createOrder("u2", quoteBody())
	live.Store(booking, workflows.Details{OrderID: booking, Shipments: []order.Shipment{
		{Warehouse: "WH-NORTH", ShipmentID: "shp_B1"}, {Warehouse: "WH-SOUTH"}}})
	unconfirmed := e.createOrder("u3", quoteBody())
	live.Store(unconfirmed, workflows.Details{OrderID: unconfirmed})
	at := e.now.Add(-2 * time.Hour)
	event := func(eventID, typ, ref, shipment string) webhook.LogisticsEvent {
		return webhook.LogisticsEvent{EventID: eventID, Type: typ, ShipmentID: shipment, Reference: ref, OccurredAt: at, Detail: "x"}
	}
	outcome := func(eventID string) store.WebhookEvent {
		rec, err := e.store.LookupWebhookEvent(context.Background(), api.SourceLogistics, eventID)
		require.NoError(t, err)
		return rec
	}
	refused := func(ev webhook.LogisticsEvent) {
		t.Helper()
		p := requireProblem(t, e.hook(path, logisticsSecret, e.now, ev), http.StatusNotFound)
		require.Equal(t, api.ProblemTypePrefix+api.ProblemUnknownShipment, p.Type)
		require.Equal(t, []string{"shipment_id"}, p.fields())
		require.Contains(t, p.Errors[0].Reason, ev.ShipmentID)
		require.Equal(t, store.WebhookOutcomeUnknownShipment, outcome(ev.EventID).Outcome)
	}

	t.Run("a shipment the order did not book is a 404, recorded", func(t *testing.T) {
		refused(event("u-1", webhook.LogisticsDelivered, booked, "shp_OTHER"))
		refused(event("u-2", webhook.LogisticsException, booked, "shp_OTHER"))
		refused(event("u-3", webhook.LogisticsDelivered, unconfirmed, "shp_N"))
		require.Empty(t, e.calls("SignalWorkflow"))
	})

	t.Run("while a booking is in flight the event may be its shipment's: signalled", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, booking, "", workflows.SignalDelivered, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, event("u-4", webhook.LogisticsDelivered, booking, "shp_B2"))))
		require.Equal(t, []any{workflows.DeliveredSignal{ShipmentID: "shp_B2", EventID: "u-4", DeliveredAt: at}},
			e.signals(booking, workflows.SignalDelivered))
	})

	t.Run("a refused event delivered again after the booking landed reaches the order once", func(t *testing.T) {
		ev := event("u-5", webhook.LogisticsDelivered, booked, "shp_LATE")
		refused(ev)
		live.Store(booked, workflows.Details{OrderID: booked, Shipments: []order.Shipment{
			{Warehouse: "WH-NORTH", ShipmentID: "shp_N"}, {Warehouse: "WH-SOUTH", ShipmentID: "shp_LATE"}}})
		e.tc.On("SignalWorkflow", mock.Anything, booked, "", workflows.SignalDelivered, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, ev)))
		rec := outcome("u-5")
		require.Equal(t, api.WebhookAccepted, rec.Outcome)
		require.Equal(t, 2, rec.Attempts)
		require.Equal(t, api.WebhookDuplicate, ackStatus(t, e.hook(path, logisticsSecret, e.now, ev)))
		require.Equal(t, []any{workflows.DeliveredSignal{ShipmentID: "shp_LATE", EventID: "u-5", DeliveredAt: at}},
			e.signals(booked, workflows.SignalDelivered))
	})

	t.Run("a known shipment's exception carries its time", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, booked, "", workflows.SignalShipmentException, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, logisticsSecret, e.now, event("u-6", webhook.LogisticsException, booked, "shp_N"))))
		require.Equal(t, []any{workflows.ShipmentExceptionSignal{ShipmentID: "shp_N", EventID: "u-6", Detail: "x", OccurredAt: at}},
			e.signals(booked, workflows.SignalShipmentException))
	})
}

func TestPaymentsWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	ctx := context.Background()
	id := e.createOrder("p1", quoteBody())
	require.NoError(t, e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "inv_1", Number: "INV-1001",
		Amount: money.New(123_45, "EUR"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	const path = "/v1/webhooks/payments"
	pay := func(eventID, txn, ref string) webhook.PaymentEvent {
		return webhook.PaymentEvent{EventID: eventID, BankTransactionID: txn, Amount: money.New(123_45, "EUR"),
			Reference: ref, Payer: "Acme Industrial GmbH", ReceivedAt: e.now.Add(-time.Minute)}
	}

	t.Run("a failed signal is not recorded", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).
			Return(errors.New("deadline exceeded")).Once()
		requireProblem(t, e.hook(path, paymentsSecret, e.now, pay("pev-1", "txn-1", "INV-1001")), http.StatusServiceUnavailable)
		seen, err := e.store.WebhookEventSeen(ctx, api.SourcePayments, "pev-1")
		require.NoError(t, err)
		require.False(t, seen)
	})

	t.Run("a payment quoting the invoice is signalled to its order", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("pev-1", "txn-1", " INV-1001 "))))
		sigs := e.signals(id, workflows.SignalPayment)
		require.Len(t, sigs, 2)
		require.Equal(t, workflows.PaymentSignal{BankTransactionID: "txn-1", Amount: money.New(123_45, "EUR"),
			Reference: "INV-1001", ReceivedAt: e.now.Add(-time.Minute)}, sigs[1])
		require.Equal(t, api.WebhookDuplicate, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("pev-1", "txn-1", "INV-1001"))))
		require.Len(t, e.signals(id, workflows.SignalPayment), 2)
	})

	t.Run("a payment quoting the invoice's creditor reference is signalled with the invoice's number", func(t *testing.T) {
		rf := order.CreditorReferenceOf("INV-1001")
		require.True(t, creditref.Valid(rf))
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		// As printed on the invoice, in groups of four, in lower case.
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, paymentsSecret, e.now,
			pay("pev-rf", "txn-rf", strings.ToLower(creditref.Format(rf))))))
		sigs := e.signals(id, workflows.SignalPayment)
		last := sigs[len(sigs)-1].(workflows.PaymentSignal)
		require.Equal(t, "INV-1001", last.Reference, "the order applies it to the invoice the reference names")
		require.Equal(t, "txn-rf", last.BankTransactionID)

		// One typing error: the check digits catch it, and the one open
		// invoice whose RF is one typing error from it is the one meant
		// (the matcher's rule rf-corrected; api/matching_test.go).
		typo := []byte(rf)
		typo[len(typo)-1] = '0' + (typo[len(typo)-1]-'0'+1)%10
		require.False(t, creditref.Valid(string(typo)))
		e.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		require.Equal(t, api.WebhookAccepted, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("pev-rf2", "txn-rf2", string(typo)))))
		sigs = e.signals(id, workflows.SignalPayment)
		last = sigs[len(sigs)-1].(workflows.PaymentSignal)
		require.Equal(t, workflows.PaymentSignal{BankTransactionID: "txn-rf2", Amount: money.New(123_45, "EUR"),
			Reference: "INV-1001", ReceivedAt: e.now.Add(-time.Minute)}, last)
	})

	t.Run("an unknown reference leaves the payment for finance", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		require.Equal(t, api.WebhookUnmatched, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("pev-2", "txn-2", "thanks for the bolts"))))
		require.Equal(t, api.WebhookUnmatched, ackStatus(t, e.hook(path, paymentsSecret, e.now, pay("pev-3", "txn-3", ""))))
		require.Len(t, e.calls("SignalWorkflow"), before)
		queue, err := e.store.UnmatchedPayments(ctx)
		require.NoError(t, err)
		var txns []string
		for _, p := range queue {
			txns = append(txns, p.BankTransactionID)
		}
		require.Contains(t, txns, "txn-2")
		require.Contains(t, txns, "txn-3")
	})

	t.Run("signatures and bodies", func(t *testing.T) {
		requireProblem(t, e.hook(path, logisticsSecret, e.now, pay("pev-9", "txn-9", "")), http.StatusUnauthorized)
		requireProblem(t, e.hook(path, paymentsSecret, e.now.Add(-time.Hour), pay("pev-9", "txn-9", "")), http.StatusBadRequest)
		bad := pay("pev-9", "txn-9", "")
		bad.Amount = money.New(-5, "EUR")
		p := requireProblem(t, e.hook(path, paymentsSecret, e.now, bad), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"amount.minor"}, p.fields())
		bad.Amount = money.New(5, "euro")
		p = requireProblem(t, e.hook(path, paymentsSecret, e.now, bad), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"amount.currency"}, p.fields())
		_, err := e.store.Payment(ctx, "txn-9")
		require.ErrorIs(t, err, store.ErrNotFound, "nothing refused is stored")
	})

	t.Run("amounts are bounded and currencies are ones we trade in", func(t *testing.T) {
		before := len(e.calls("SignalWorkflow"))
		tests := []struct {
			name   string
			amount money.Money
			field  string
		}{
			{"int64's largest", money.New(math.MaxInt64, "EUR"), "amount.minor"},
			{"one above the bound", money.New(api.MaxPaymentMinor+1, "EUR"), "amount.minor"},
			{"zero", money.New(0, "EUR"), "amount.minor"},
			{"int64's smallest", money.New(math.MinInt64, "EUR"), "amount.minor"},
			{"well-formed, but nobody is billed in it", money.New(100, "XYZ"), "amount.currency"},
			{"a real currency no customer or invoice is in", money.New(100, "JPY"), "amount.currency"},
			{"ISO's no-currency", money.New(100, "XXX"), "amount.currency"},
			{"lower case", money.New(100, "eur"), "amount.currency"},
		}
		for i, tt := range tests {
			txn := "txn-bad-" + strconv.Itoa(i)
			ev := pay("pev-bad-"+strconv.Itoa(i), txn, "INV-1001")
			ev.Amount = tt.amount
			p := requireProblem(t, e.hook(path, paymentsSecret, e.now, ev), http.StatusUnprocessableEntity)
			require.Equal(t, []string{tt.field}, p.fields(), tt.name)
			_, err := e.store.Payment(ctx, txn)
			require.ErrorIs(t, err, store.ErrNotFound, "%s: never written as a payment", tt.name)
		}
		require.Len(t, e.calls("SignalWorkflow"), before, "never reaches an order")

		// The bound itself is a payment; so is one in a currency only an
		// invoice is in (USD is a demo customer's; CHF only an invoice's).
		big := pay("pev-big", "txn-big", "")
		big.Amount = money.New(api.MaxPaymentMinor, "USD")
		require.Equal(t, api.WebhookUnmatched, ackStatus(t, e.hook(path, paymentsSecret, e.now, big)))
		require.NoError(t, e.store.SaveInvoice(ctx, "ord_CHF", order.Invoice{InvoiceID: "inv_chf", Number: "INV-CHF",
			Amount: money.New(50_00, "CHF"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
		chf := pay("pev-chf", "txn-chf", "")
		chf.Amount = money.New(50_00, "CHF")
		require.Equal(t, api.WebhookUnmatched, ackStatus(t, e.hook(path, paymentsSecret, e.now, chf)))
	})
}

func TestAllocatePayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	live := e.expectLive()
	ctx := context.Background()
	invoice := func(id, number string, minor int64) {
		require.NoError(t, e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "id-" + number, Number: number,
			Amount: money.New(minor, "EUR"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}))
	}
	invoiced := e.createOrder("a1", quoteBody())
	invoice(invoiced, "INV-7", 100_00)
	notInvoiced := e.createOrder("a2", quoteBody())
	halfPaid := e.createOrder("a3", quoteBody())
	invoice(halfPaid, "INV-8", 100_00)
	live.Store(halfPaid, workflows.Details{OrderID: halfPaid, Paid: &money.Money{Minor: 50_00, Currency: "EUR"}})
	finished := e.createOrder("a4", quoteBody())
	invoice(finished, "INV-9", 100_00)
	require.NoError(t, e.store.RecordTransition(ctx, store.Transition{OrderID: finished, Seq: 1, Status: order.StatusCompleted, Action: "done"}))
	for _, p := range []store.Payment{
		{BankTransactionID: "txn-a", Amount: money.New(60_00, "EUR"), Reference: "misc", ReceivedAt: e.now},
		{BankTransactionID: "txn-b", Amount: money.New(60_00, "EUR"), Reference: "misc", ReceivedAt: e.now},
		{BankTransactionID: "txn-usd", Amount: money.New(60_00, "USD"), Reference: "misc", ReceivedAt: e.now},
	} {
		_, _, err := e.store.RecordPayment(ctx, p)
		require.NoError(t, err)
	}
	finance := e.token(order.RoleFinance)
	allocate := func(token, txn string, body any) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/payments/" + txn + "/allocate", token: token, body: body})
	}
	audits := func(id string) int {
		entries, err := e.store.AuditLog(ctx, id)
		require.NoError(t, err)
		n := 0
		for _, en := range entries {
			if en.Action == api.ActionPaymentAllocated {
				n++
			}
		}
		return n
	}

	t.Run("finance sees the queue", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/v1/payments/unmatched", token: finance})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Len(t, decode[struct {
			Payments []store.Payment `json:"payments"`
		}](t, w).Payments, 3)
		requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/payments/unmatched", token: e.token(order.RoleCS)}), http.StatusForbidden)
	})

	t.Run("refusals", func(t *testing.T) {
		requireProblem(t, allocate(e.token(order.RoleCS), "txn-a", map[string]any{"order_id": invoiced, "reason": "x"}), http.StatusForbidden)
		requireProblem(t, allocate(finance, "txn-nope", map[string]any{"order_id": invoiced, "reason": "x"}), http.StatusNotFound)
		requireProblem(t, allocate(finance, "txn%00", map[string]any{"order_id": invoiced, "reason": "x"}), http.StatusNotFound)
		p := requireProblem(t, allocate(finance, "txn-a", map[string]any{"order_id": invoiced}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"reason"}, p.fields())
		p = requireProblem(t, allocate(finance, "txn-a", map[string]any{"order_id": "ord_NOPE", "reason": "x"}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"order_id"}, p.fields())
		requireProblem(t, allocate(finance, "txn-a", map[string]any{"order_id": notInvoiced, "reason": "x"}), http.StatusConflict)
		p = requireProblem(t, allocate(finance, "txn-a", map[string]any{"order_id": finished, "reason": "x"}), http.StatusConflict)
		require.Equal(t, "order is finished", p.Detail)
		p = requireProblem(t, allocate(finance, "txn-usd", map[string]any{"order_id": invoiced, "reason": "x"}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"order_id"}, p.fields(), "a USD payment cannot settle a EUR invoice")
		require.Empty(t, e.calls("SignalWorkflow"))
		require.Zero(t, audits(invoiced))
	})

	t.Run("allocation audits, matches and signals", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, invoiced, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		w := allocate(finance, "txn-a", map[string]any{"order_id": invoiced, "reason": "customer called: part payment of INV-7"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		p := decode[store.Payment](t, w)
		require.Equal(t, invoiced, p.OrderID)
		require.Equal(t, "INV-7", p.InvoiceNumber)
		require.Equal(t, order.MatchPartial, p.MatchKind, "60 of an open 100")
		require.Equal(t, "user-finance", p.AllocatedBy)

		require.Equal(t, []any{workflows.PaymentSignal{BankTransactionID: "txn-a", Amount: money.New(60_00, "EUR"),
			Reference: "INV-7", ReceivedAt: e.now}}, e.signals(invoiced, workflows.SignalPayment))
		entries, err := e.store.AuditLog(ctx, invoiced)
		require.NoError(t, err)
		last := entries[len(entries)-1]
		require.Equal(t, api.ActionPaymentAllocated, last.Action)
		require.Equal(t, "user-finance", last.Actor.Subject)
		require.Equal(t, "customer called: part payment of INV-7", last.Reason)

		other := e.tokenFor(order.Actor{Subject: "other-finance", Role: order.RoleFinance})
		requireProblem(t, allocate(other, "txn-a", map[string]any{"order_id": invoiced, "reason": "again"}), http.StatusConflict)
		requireProblem(t, allocate(finance, "txn-a", map[string]any{"order_id": halfPaid, "reason": "elsewhere"}), http.StatusConflict)
	})

	t.Run("the open balance comes from the workflow; a failed signal is retried", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, halfPaid, "", workflows.SignalPayment, mock.Anything).
			Return(serviceerror.NewUnavailable("down")).Once()
		body := map[string]any{"order_id": halfPaid, "reason": "remainder of INV-8"}
		requireProblem(t, allocate(finance, "txn-b", body), http.StatusServiceUnavailable)
		require.Equal(t, 1, audits(halfPaid))

		e.tc.On("SignalWorkflow", mock.Anything, halfPaid, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		w := allocate(finance, "txn-b", body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		p := decode[store.Payment](t, w)
		require.Equal(t, order.MatchOver, p.MatchKind, "60 against the 50 still open")
		require.Len(t, e.signals(halfPaid, workflows.SignalPayment), 2)
		require.Equal(t, 1, audits(halfPaid), "the retry decided nothing new")
	})

	t.Run("a retry after the order counted the payment still goes through", func(t *testing.T) {
		// The signal landed, but its answer was lost: the order's paid amount
		// already includes the payment, so the open balance is 0 now.
		live.Store(halfPaid, workflows.Details{OrderID: halfPaid, Paid: &money.Money{Minor: 110_00, Currency: "EUR"}})
		e.tc.On("SignalWorkflow", mock.Anything, halfPaid, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
		w := allocate(finance, "txn-b", map[string]any{"order_id": halfPaid, "reason": "remainder of INV-8"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, order.MatchOver, decode[store.Payment](t, w).MatchKind, "the first decision stands")
		require.Equal(t, 1, audits(halfPaid))
	})

	t.Run("an allocation that loses the race leaves no audit entry", func(t *testing.T) {
		// Another allocation (or the automatic matcher) applies the payment
		// between this request's check and its write.
		second := e.createOrder("a5", quoteBody())
		invoice(second, "INV-10", 100_00)
		_, _, err := e.store.RecordPayment(ctx, store.Payment{BankTransactionID: "txn-c", Amount: money.New(10_00, "EUR"), Reference: "misc", ReceivedAt: e.now})
		require.NoError(t, err)
		require.NoError(t, e.store.AllocatePayment(ctx, "txn-c", "INV-7", order.MatchPartial,
			store.AuditEntry{OrderID: invoiced, Actor: order.Actor{Subject: "fast-finance", Role: order.RoleFinance}, Action: api.ActionPaymentAllocated}))
		err = e.store.AllocatePayment(ctx, "txn-c", "INV-10", order.MatchPartial,
			store.AuditEntry{OrderID: second, Actor: order.Actor{Subject: "slow-finance", Role: order.RoleFinance}, Action: api.ActionPaymentAllocated})
		require.ErrorIs(t, err, store.ErrPaymentMatched)
		require.Zero(t, audits(second), "no entry for an allocation that did not happen")
	})
}
