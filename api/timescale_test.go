package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

// ORDERFLOW_TIME_SCALE reaches every order the API starts
// (workflows.OrderInput.TimeScale), and the API says loudly at its start
// that business time runs faster. Real time leaves the input without a
// scale, as orders were started before the setting existed.
func TestConfiguredTimeScaleReachesTheOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		scale float64
		want  float64
		warns bool
	}{
		{"simulation", 5760, 5760, true},
		{"real time", 1, 0, false},
		{"unset", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withTimeScale(tc.scale))
			e.expectStart()
			e.expectNoLive()
			w := e.do(req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleStorefront), body: quoteBody(),
				header: map[string]string{"Idempotency-Key": "key-scale"}})
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			in := startInput(t, e, decode[orderView](t, w).ID)
			require.Equal(t, tc.want, in.TimeScale)
			var warned []any
			for _, l := range e.logs.lines(t) {
				if msg, _ := l["message"].(string); strings.Contains(msg, "business time runs") {
					require.Equal(t, "warn", l["level"])
					require.Contains(t, msg, "5760× faster in new orders")
					require.Contains(t, msg, "for simulations only; a business day lasts 15s")
					warned = append(warned, l["time_scale"])
				}
			}
			if tc.warns {
				require.Equal(t, []any{5760.0}, warned, "one warning at the start")
			} else {
				require.Empty(t, warned)
			}
		})
	}
}
