package carriersim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

func TestCancelByKey(t *testing.T) {
	t.Parallel()
	h := start(t, carriersim.Options{})

	t.Run("undoes a booking whose answer was lost", func(t *testing.T) {
		h.sim.SetFaults([]carriersim.FaultRule{{Route: carriersim.RouteBook, Mode: faults.ModeDropAnswer, FailNext: 1}})
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+"/v1/shipments", strings.NewReader(booking))
		require.NoError(t, err)
		req.Header.Set("Idempotency-Key", "ord-1/shipment/WH-NORTH")
		// A connection of its own: Go's transport would resend a keyed
		// request by itself on a reused one and get the stored answer.
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		require.Error(t, err, "the answer was dropped")
		list, err := h.sim.Shipments(t.Context(), "ord-1")
		require.NoError(t, err)
		require.Len(t, list, 1, "booked before the answer was lost")
		assert.Equal(t, carriersim.StatusBooked, list[0].Status)

		undo := `{"forward_key":"ord-1/shipment/WH-NORTH"}`
		code, out, _ := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "ord-1/shipment/WH-NORTH/undo", undo)
		require.Equal(t, http.StatusOK, code, "answer %v", out)
		assert.Equal(t, map[string]any{"forward_key": "ord-1/shipment/WH-NORTH", "found": true,
			"status": "cancelled", "shipment_id": list[0].ShipmentID}, out)
		list, err = h.sim.Shipments(t.Context(), "ord-1")
		require.NoError(t, err)
		assert.Equal(t, carriersim.StatusCancelled, list[0].Status)

		code, again, hdr := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "ord-1/shipment/WH-NORTH/undo", undo)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
		assert.Equal(t, out, again)
	})

	t.Run("a key never used is nothing to undo, and a later booking under it is refused", func(t *testing.T) {
		undo := `{"forward_key":"ord-2/shipment/WH-NORTH"}`
		code, out, _ := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "ord-2/shipment/WH-NORTH/undo", undo)
		require.Equal(t, http.StatusOK, code, "answer %v", out)
		assert.Equal(t, map[string]any{"forward_key": "ord-2/shipment/WH-NORTH", "found": false, "status": "nothing_to_undo"}, out)
		code, again, _ := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "ord-2/shipment/WH-NORTH/undo", undo)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, out, again)

		code, late, _ := h.do(t, http.MethodPost, "/v1/shipments", "ord-2/shipment/WH-NORTH",
			strings.Replace(booking, "ord-1", "ord-2", 1))
		require.Equal(t, http.StatusConflict, code, "answer %v", late)
		assert.Equal(t, "undone_by_key", late["error"])
		list, err := h.sim.Shipments(t.Context(), "ord-2")
		require.NoError(t, err)
		assert.Empty(t, list)
	})

	t.Run("a delivered shipment stays delivered", func(t *testing.T) {
		code, booked, _ := h.do(t, http.MethodPost, "/v1/shipments", "ord-3/shipment/WH-NORTH", strings.Replace(booking, "ord-1", "ord-3", 1))
		require.Equal(t, http.StatusCreated, code)
		_, err := h.sim.Deliver(t.Context(), booked["shipment_id"].(string))
		require.NoError(t, err)
		code, out, _ := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "ord-3/undo", `{"forward_key":"ord-3/shipment/WH-NORTH"}`)
		assert.Equal(t, http.StatusConflict, code)
		assert.Equal(t, "shipment_delivered", out["error"])
	})

	t.Run("refusals", func(t *testing.T) {
		code, out, _ := h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "u1", `{}`)
		assert.Equal(t, http.StatusBadRequest, code)
		assert.Equal(t, "forward_key", out["field"])
		code, _, _ = h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "", `{"forward_key":"ord-1/shipment/WH-NORTH"}`)
		assert.Equal(t, http.StatusBadRequest, code, "the undo needs a key of its own")
		code, _, _ = h.do(t, http.MethodPost, "/v1/shipments/cancel-by-key", "u2", `{"forward_key":"u2"}`)
		assert.Equal(t, http.StatusBadRequest, code, "not the forward write's key")
	})
}
