package carriersim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/internal/webhook/webhooktest"
)

const returnBooking = `{"reference":"ord-1","rma":"RMA-000001","warehouse":"WH-NORTH","lines":[{"sku":"PUMP-200","quantity":1}]}`

func (h *harness) bookReturn(t *testing.T, key, body string) string {
	t.Helper()
	code, a, _ := h.do(t, http.MethodPost, "/v1/returns", key, body)
	require.Equal(t, http.StatusCreated, code, "%v", a)
	return a["return_id"].(string)
}

func TestReturnPickupSendsOneSignedReturnedEvent(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{PickupDays: 2})
	before := time.Now()

	code, first, _ := h.do(t, http.MethodPost, "/v1/returns", "ord-1/return/RMA-000001", returnBooking)
	require.Equal(t, http.StatusCreated, code, "%v", first)
	id := first["return_id"].(string)
	require.Regexp(t, `^RET-[0-9A-F]{16}$`, id)
	require.Equal(t, "booked", first["status"])
	pickup, err := time.Parse(time.RFC3339, first["pickup_date"].(string))
	require.NoError(t, err)
	require.WithinRange(t, pickup, before.Add(48*time.Hour-time.Second), time.Now().Add(48*time.Hour))
	code, again, hdr := h.do(t, http.MethodPost, "/v1/returns", "ord-1/return/RMA-000001", returnBooking)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, first, again)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))

	// Only a return comes back; a return is not delivered.
	delivery := h.book(t, "ord-1/shipment/WH-NORTH", booking)
	code, a, _ := h.do(t, http.MethodPost, "/sim/returns/"+delivery+"/returned", "", "")
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "not_a_return", a["error"])
	code, a, _ = h.do(t, http.MethodPost, "/sim/shipments/"+id+"/deliver", "", "")
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "is_a_return", a["error"])

	code, a, _ = h.do(t, http.MethodPost, "/sim/returns/"+id+"/returned", "", "")
	require.Equal(t, http.StatusAccepted, code)
	eventID := a["event_id"].(string)
	code, a, _ = h.do(t, http.MethodPost, "/sim/returns/"+id+"/returned", "", "")
	require.Equal(t, http.StatusOK, code, "returned twice")
	require.Equal(t, eventID, a["event_id"])

	drain(t, h)
	events := webhooktest.Events[webhook.LogisticsEvent](t, h.rc)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, webhook.LogisticsReturned, ev.Type)
	require.Equal(t, id, ev.ShipmentID)
	require.Equal(t, "ord-1", ev.Reference)
	require.Equal(t, first["tracking_number"], ev.TrackingNumber)

	code, track, _ := h.do(t, http.MethodGet, "/v1/shipments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "returned", track["status"])
	require.Contains(t, track, "returned_at")

	// Back at the warehouse: no cancel, no exception.
	code, a, _ = h.do(t, http.MethodPost, "/v1/returns/"+id+"/cancel", "cancel-return", "")
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "return_returned", a["error"])
	_, err = h.sim.Exception(t.Context(), id, "late")
	require.ErrorIs(t, err, carriersim.ErrDelivered)

	list, err := h.sim.Shipments(t.Context(), "ord-1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	ret := list[0]
	require.Equal(t, carriersim.KindReturn, ret.Kind)
	require.Equal(t, "RMA-000001", ret.RMA)
	require.Equal(t, []order.Line{{SKU: "PUMP-200", Quantity: 1}}, ret.Lines)
	require.Equal(t, eventID, ret.ReturnedEventID)
	require.Equal(t, carriersim.KindDelivery, list[1].Kind)
}

func TestAutoReturnAfter(t *testing.T) {
	t.Parallel()
	const after = 150 * time.Millisecond
	h := start(t, carriersim.Options{AutoReturnAfter: after})
	keep := h.bookReturn(t, "ret-1", returnBooking)
	cancelled := h.bookReturn(t, "ret-2", strings.Replace(returnBooking, "ord-1", "ord-2", 1))
	code, _, _ := h.do(t, http.MethodPost, "/v1/returns/"+cancelled+"/cancel", "cancel-2", "")
	require.Equal(t, http.StatusOK, code)
	delivery := h.book(t, "book-1", booking) // not auto-delivered: AutoDeliverAfter is 0

	events := webhooktest.WaitEvents[webhook.LogisticsEvent](t, h.rc, 1, 20*time.Second)
	require.Len(t, events, 1)
	require.Equal(t, keep, events[0].ShipmentID)
	require.Equal(t, webhook.LogisticsReturned, events[0].Type)
	list, err := h.sim.Shipments(t.Context(), "")
	require.NoError(t, err)
	for _, s := range list {
		switch s.ShipmentID {
		case keep:
			require.Equal(t, carriersim.StatusReturned, s.Status)
			require.GreaterOrEqual(t, s.ReturnedAt.Sub(s.BookedAt), after)
		case cancelled:
			require.Equal(t, carriersim.StatusCancelled, s.Status)
		case delivery:
			require.Equal(t, carriersim.StatusBooked, s.Status)
		}
	}
}

func TestCancelReturnByKeyAfterALostAnswer(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})
	h.sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteReturnBook, Mode: faults.ModeDropAnswer, FailNext: 1}})
	lost(t, h, "/v1/returns", "ord-1/return/RMA-000001", returnBooking)
	list, err := h.sim.Shipments(t.Context(), "ord-1")
	require.NoError(t, err)
	require.Len(t, list, 1, "booked before the answer was lost")

	code, a, _ := h.do(t, http.MethodPost, "/v1/returns/cancel-by-key", "ord-1/return/RMA-000001/undo", `{"forward_key":"ord-1/return/RMA-000001"}`)
	require.Equal(t, http.StatusOK, code, "%v", a)
	require.Equal(t, map[string]any{"forward_key": "ord-1/return/RMA-000001", "found": true, "status": "cancelled", "return_id": list[0].ShipmentID}, a)
	code, a, _ = h.do(t, http.MethodPost, "/v1/returns/cancel-by-key", "ord-1/never/undo", `{"forward_key":"ord-1/never"}`)
	require.Equal(t, http.StatusOK, code, "%v", a)
	require.Equal(t, false, a["found"])
	code, a, _ = h.do(t, http.MethodPost, "/v1/returns", "ord-1/never", returnBooking)
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "undone_by_key", a["error"])

	code, a, _ = h.do(t, http.MethodPost, "/v1/returns", "bad", `{"reference":"ord-1","warehouse":"","lines":[{"sku":"X","quantity":1}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "warehouse", a["field"])
}

// lost posts body under key on a connection of its own and requires that no
// answer comes back (a drop_answer fault). Its own connection: Go's
// transport would resend a keyed request by itself on a reused one and get
// the stored answer.
func lost(t *testing.T, h *harness, path, key, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", key)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the answer was dropped")
}
