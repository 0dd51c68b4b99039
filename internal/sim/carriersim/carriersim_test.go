package carriersim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/internal/webhook/webhooktest"
)

var secret = []byte("carrier-webhook-secret")

type harness struct {
	sim *carriersim.Sim
	srv *httptest.Server
	rc  *webhooktest.Receiver
}

// start runs a migrated simulator (HTTP and its Run loops) on a fresh
// database, sending webhooks to a verifying receiver.
func start(t *testing.T, opts carriersim.Options) *harness {
	t.Helper()
	h := &harness{rc: webhooktest.NewReceiver(t, secret)}
	if opts.WebhookURL == "" {
		opts.WebhookURL = h.rc.URL
	}
	opts.WebhookSecret = secret
	pool := pgtest.NewPool(t, nil)
	h.sim = carriersim.New(pool, opts, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, h.sim.Migrate(t.Context()))
	h.srv = httptest.NewServer(h.sim.Handler())
	t.Cleanup(h.srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.sim.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return h
}

// do sends a JSON request and returns the status, the decoded answer and
// the answer's headers.
func (h *harness) do(t *testing.T, method, path, key, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.srv.URL+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		require.NoError(t, json.Unmarshal(data, &out), "answer %s", data)
	}
	return resp.StatusCode, out, resp.Header
}

const booking = `{"reference":"ord-1","warehouse":"WH-NORTH","lines":[{"sku":"BOLT-M8","quantity":100},{"sku":"NUT-M8","quantity":100}]}`

func (h *harness) book(t *testing.T, key, body string) string {
	t.Helper()
	code, a, _ := h.do(t, http.MethodPost, "/v1/shipments", key, body)
	require.Equal(t, http.StatusCreated, code, "%v", a)
	return a["shipment_id"].(string)
}

func drain(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.sim.Webhooks().Drain(ctx))
}

func TestBookingIsIdempotent(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	before := time.Now()

	code, first, hdr := h.do(t, http.MethodPost, "/v1/shipments", "ord-1/book/WH-NORTH", booking)
	require.Equal(t, http.StatusCreated, code)
	require.Empty(t, hdr.Get("Idempotent-Replayed"))
	require.Regexp(t, `^SHP-[0-9A-F]{16}$`, first["shipment_id"])
	require.Regexp(t, `^1Z[0-9]{16}$`, first["tracking_number"])
	require.Equal(t, "booked", first["status"])
	promised, err := time.Parse(time.RFC3339, first["promised_date"].(string))
	require.NoError(t, err)
	require.WithinRange(t, promised, before.Add(72*time.Hour-time.Second), time.Now().Add(72*time.Hour))

	// Same key, same request (other spacing and field order): the first answer.
	same := `{ "lines":[{"quantity":100,"sku":"BOLT-M8"},{"sku":"NUT-M8","quantity":100}], "warehouse":"WH-NORTH", "reference":"ord-1" }`
	code, again, hdr := h.do(t, http.MethodPost, "/v1/shipments", "ord-1/book/WH-NORTH", same)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, first, again)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))

	// Same key, other request.
	other := strings.Replace(booking, `"quantity":100}]`, `"quantity":5}]`, 1)
	code, a, _ := h.do(t, http.MethodPost, "/v1/shipments", "ord-1/book/WH-NORTH", other)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "idempotency_key_reused", a["error"])

	// No key.
	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments", "", booking)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "idempotency_key_required", a["error"])

	// Another key is another shipment.
	second := h.book(t, "ord-1/book/WH-NORTH/reship-1", booking)
	require.NotEqual(t, first["shipment_id"], second)

	list, err := h.sim.Shipments(t.Context(), "ord-1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, first["shipment_id"], list[0].ShipmentID)
	require.Equal(t, "WH-NORTH", list[0].Warehouse)
	require.Equal(t, []order.Line{{SKU: "BOLT-M8", Quantity: 100}, {SKU: "NUT-M8", Quantity: 100}}, list[0].Lines)
	require.Equal(t, promised, list[0].PromisedDate)
	other2, err := h.sim.Shipments(t.Context(), "ord-2")
	require.NoError(t, err)
	require.Empty(t, other2)

	code, a, _ = h.do(t, http.MethodGet, "/sim/shipments?reference=ord-1", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, a["shipments"], 2)
}

func TestConcurrentRetriesBookOnce(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/shipments", strings.NewReader(booking))
			req.Header.Set("Idempotency-Key", "ord-1/book/race")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var a struct {
				ShipmentID string `json:"shipment_id"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&a)
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("status %d", resp.StatusCode)
			}
			ids[i] = a.ShipmentID
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	list, err := h.sim.Shipments(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestBookingValidation(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"no reference", `{"warehouse":"WH","lines":[{"sku":"A","quantity":1}]}`, 422, "reference"},
		{"blank warehouse", `{"reference":"ord-1","warehouse":" ","lines":[{"sku":"A","quantity":1}]}`, 422, "warehouse"},
		{"no lines", `{"reference":"ord-1","warehouse":"WH","lines":[]}`, 422, "lines"},
		{"zero quantity", `{"reference":"ord-1","warehouse":"WH","lines":[{"sku":"A","quantity":0}]}`, 422, "lines[0].quantity"},
		{"empty sku", `{"reference":"ord-1","warehouse":"WH","lines":[{"sku":"A","quantity":1},{"sku":"","quantity":1}]}`, 422, "lines[1].sku"},
		{"sku twice", `{"reference":"ord-1","warehouse":"WH","lines":[{"sku":"A","quantity":1},{"sku":"A","quantity":1}]}`, 422, "lines[1].sku"},
		{"not JSON", `{"reference":`, 400, ""},
		{"two objects", `{} {}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, a, _ := h.do(t, http.MethodPost, "/v1/shipments", "key-"+tc.name, tc.body)
			require.Equal(t, tc.status, code, "%v", a)
			if tc.field != "" {
				require.Equal(t, "invalid_request", a["error"])
				require.Equal(t, tc.field, a["field"])
			}
		})
	}
	list, err := h.sim.Shipments(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, list)

	// A refusal is not stored: the key works once the request is fixed.
	h.book(t, "key-no lines", booking)
}

func TestPromiseDays(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{PromiseDays: 5})
	id := h.book(t, "k", booking)
	list, err := h.sim.Shipments(t.Context(), "ord-1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, id, list[0].ShipmentID)
	require.Equal(t, list[0].BookedAt.AddDate(0, 0, 5), list[0].PromisedDate)
}

func TestCancelRules(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	id := h.book(t, "book-1", booking)

	code, a, _ := h.do(t, http.MethodPost, "/v1/shipments/"+id+"/cancel", "", "")
	require.Equal(t, http.StatusBadRequest, code, "cancel needs a key")
	require.Equal(t, "idempotency_key_required", a["error"])

	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments/"+id+"/cancel", "cancel-1", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"shipment_id": id, "status": "cancelled"}, a)

	code, a, hdr := h.do(t, http.MethodPost, "/v1/shipments/"+id+"/cancel", "cancel-1", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, "cancelled", a["status"])

	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments/"+id+"/cancel", "cancel-2", "")
	require.Equal(t, http.StatusOK, code, "already cancelled")
	require.Equal(t, "cancelled", a["status"])

	code, a, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "cancelled", a["status"])

	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments/SHP-NOPE/cancel", "cancel-3", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "shipment_not_found", a["error"])

	// The key of cancel-1 names another shipment's cancel now.
	other := h.book(t, "book-2", booking)
	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments/"+other+"/cancel", "cancel-1", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "idempotency_key_reused", a["error"])

	// Delivered cannot be cancelled; a cancelled one cannot be delivered.
	_, err := h.sim.Deliver(t.Context(), other)
	require.NoError(t, err)
	code, a, _ = h.do(t, http.MethodPost, "/v1/shipments/"+other+"/cancel", "cancel-4", "")
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "shipment_delivered", a["error"])
	code, _, _ = h.do(t, http.MethodPost, "/sim/shipments/"+id+"/deliver", "", "")
	require.Equal(t, http.StatusConflict, code)
	_, err = h.sim.Deliver(t.Context(), id)
	require.ErrorIs(t, err, carriersim.ErrCancelled)

	// The 409 was not stored: after nothing changes it is still 409, not a replayed 200.
	code, _, _ = h.do(t, http.MethodPost, "/v1/shipments/"+other+"/cancel", "cancel-4", "")
	require.Equal(t, http.StatusConflict, code)
}

func TestDeliverSendsExactlyOneSignedEvent(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	id := h.book(t, "book-1", booking)
	code, track, _ := h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "booked", track["status"])
	require.NotContains(t, track, "delivered_at")

	code, a, _ := h.do(t, http.MethodPost, "/sim/shipments/"+id+"/deliver", "", "")
	require.Equal(t, http.StatusAccepted, code)
	eventID := a["event_id"].(string)
	require.Regexp(t, `^EVT-[0-9A-F]{16}$`, eventID)

	code, a, _ = h.do(t, http.MethodPost, "/sim/shipments/"+id+"/deliver", "", "")
	require.Equal(t, http.StatusOK, code, "delivering twice")
	require.Equal(t, eventID, a["event_id"])
	again, err := h.sim.Deliver(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, eventID, again)

	drain(t, h)
	events := webhooktest.Events[webhook.LogisticsEvent](t, h.rc)
	require.Len(t, events, 1)
	require.Equal(t, 1, h.rc.Requests())
	ev := events[0]

	code, track, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "delivered", track["status"])
	deliveredAt, err := time.Parse(time.RFC3339Nano, track["delivered_at"].(string))
	require.NoError(t, err)

	require.Equal(t, webhook.LogisticsEvent{
		EventID: eventID, Type: webhook.LogisticsDelivered, ShipmentID: id,
		TrackingNumber: track["tracking_number"].(string), Reference: "ord-1",
		OccurredAt: deliveredAt, Detail: ev.Detail,
	}, ev)
	c, err := h.sim.Webhooks().Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{Delivered: 1}, c)

	_, err = h.sim.Deliver(t.Context(), "SHP-NOPE")
	require.ErrorIs(t, err, carriersim.ErrNotFound)
	code, _, _ = h.do(t, http.MethodPost, "/sim/shipments/SHP-NOPE/deliver", "", "")
	require.Equal(t, http.StatusNotFound, code)

	// A deliberate duplicate arrives with the same event id.
	code, _, _ = h.do(t, http.MethodPost, "/sim/events/"+eventID+"/redeliver", "", "")
	require.Equal(t, http.StatusAccepted, code)
	events = webhooktest.WaitEvents[webhook.LogisticsEvent](t, h.rc, 2, 20*time.Second)
	require.Equal(t, events[0], events[1])
	code, _, _ = h.do(t, http.MethodPost, "/sim/events/EVT-NOPE/redeliver", "", "")
	require.Equal(t, http.StatusNotFound, code)
}

func TestDropWebhooksLeavesPollingToNotice(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{DropWebhooks: true})
	id := h.book(t, "book-1", booking)
	eventID, err := h.sim.Deliver(t.Context(), id)
	require.NoError(t, err)

	// Recorded, queued nowhere, sent to nobody; polling sees the delivery.
	events, err := h.sim.Events(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, eventID, events[0].EventID)
	c, err := h.sim.Webhooks().Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{}, c)
	drain(t, h)
	require.Zero(t, h.rc.Requests())
	code, track, _ := h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "delivered", track["status"])

	// A late webhook on request.
	require.NoError(t, h.sim.Redeliver(t.Context(), eventID))
	got := webhooktest.WaitEvents[webhook.LogisticsEvent](t, h.rc, 1, 20*time.Second)
	require.Equal(t, events, got)
}

func TestAutoDeliverAfter(t *testing.T) {
	t.Parallel()
	const after = 150 * time.Millisecond
	h := start(t, carriersim.Options{AutoDeliverAfter: after})
	keep := h.book(t, "book-1", booking)
	cancelled := h.book(t, "book-2", strings.Replace(booking, "ord-1", "ord-2", 1))
	code, _, _ := h.do(t, http.MethodPost, "/v1/shipments/"+cancelled+"/cancel", "cancel-2", "")
	require.Equal(t, http.StatusOK, code)

	events := webhooktest.WaitEvents[webhook.LogisticsEvent](t, h.rc, 1, 20*time.Second)
	require.Len(t, events, 1)
	require.Equal(t, keep, events[0].ShipmentID)
	require.Equal(t, webhook.LogisticsDelivered, events[0].Type)

	list, err := h.sim.Shipments(t.Context(), "")
	require.NoError(t, err)
	byID := map[string]carriersim.Shipment{}
	for _, s := range list {
		byID[s.ShipmentID] = s
	}
	require.Equal(t, carriersim.StatusDelivered, byID[keep].Status)
	require.GreaterOrEqual(t, byID[keep].DeliveredAt.Sub(byID[keep].BookedAt), after)
	require.Equal(t, events[0].EventID, byID[keep].DeliveredEventID)
	require.Equal(t, carriersim.StatusCancelled, byID[cancelled].Status)
	require.True(t, byID[cancelled].DeliveredAt.IsZero())
}

func TestException(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	id := h.book(t, "book-1", booking)
	code, a, _ := h.do(t, http.MethodPost, "/sim/shipments/"+id+"/exception", "", `{"detail":"pallet damaged"}`)
	require.Equal(t, http.StatusAccepted, code)
	exceptionID := a["event_id"].(string)
	code, track, _ := h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "exception", track["status"])

	// Still deliverable afterwards; no exception after delivery.
	deliveredID, err := h.sim.Deliver(t.Context(), id)
	require.NoError(t, err)
	_, err = h.sim.Exception(t.Context(), id, "late")
	require.ErrorIs(t, err, carriersim.ErrDelivered)
	code, _, _ = h.do(t, http.MethodPost, "/sim/shipments/"+id+"/exception", "", "")
	require.Equal(t, http.StatusConflict, code)

	events := webhooktest.WaitEvents[webhook.LogisticsEvent](t, h.rc, 2, 20*time.Second)
	byID := map[string]webhook.LogisticsEvent{}
	for _, e := range events {
		byID[e.EventID] = e
	}
	require.Equal(t, webhook.LogisticsException, byID[exceptionID].Type)
	require.Equal(t, "pallet damaged", byID[exceptionID].Detail)
	require.Equal(t, webhook.LogisticsDelivered, byID[deliveredID].Type)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})

	code, _, _ := h.do(t, http.MethodPut, "/sim/faults", "", `{"rules":[{"route":"shipments.book","fail_next":2,"status":503}]}`)
	require.Equal(t, http.StatusOK, code)
	for range 2 {
		code, a, _ := h.do(t, http.MethodPost, "/v1/shipments", "book-1", booking)
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Equal(t, "simulated_fault", a["error"])
	}
	id := h.book(t, "book-1", booking) // the same key: the failures had no effect
	list, err := h.sim.Shipments(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	code, a, _ := h.do(t, http.MethodGet, "/sim/faults", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"route": "shipments.book", "status": float64(503)}}, a["rules"])

	// An outage of everything, set over HTTP, then lifted.
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	code, _, _ = h.do(t, http.MethodPut, "/sim/faults", "", `{"rules":[{"route":"*","outage_until":"`+until+`"}]}`)
	require.Equal(t, http.StatusOK, code)
	code, _, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusServiceUnavailable, code)
	code, _, _ = h.do(t, http.MethodPost, "/v1/shipments/"+id+"/cancel", "cancel-1", "")
	require.Equal(t, http.StatusServiceUnavailable, code)
	code, _, _ = h.do(t, http.MethodGet, "/sim/shipments", "", "")
	require.Equal(t, http.StatusOK, code, "control endpoints never fail")
	code, a, _ = h.do(t, http.MethodDelete, "/sim/faults", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, a["rules"])
	code, _, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)

	// From Go.
	h.sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteGet, FailNext: 1, Status: 500}})
	code, _, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusInternalServerError, code)
	code, _, _ = h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	h.sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteAll, ErrorRate: 1}})
	code, _, _ = h.do(t, http.MethodPost, "/v1/shipments", "book-2", booking)
	require.Equal(t, http.StatusServiceUnavailable, code)
	h.sim.ClearFaults()
	require.Empty(t, h.sim.Faults())

	code, a, _ = h.do(t, http.MethodPut, "/sim/faults", "", `{"rules":[{"route":"shipments.teleport"}]}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "invalid_fault_rule", a["error"])
}
