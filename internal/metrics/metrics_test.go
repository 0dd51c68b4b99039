package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestBusinessMetricsAreExposed(t *testing.T) {
	t.Parallel()
	m := New()
	m.BreakerRegistered("carrier")
	m.BreakerChanged("erp", gobreaker.StateClosed, gobreaker.StateOpen)
	m.ObserveStep("Reserve", nil, 20*time.Millisecond)
	m.ObserveStep("Reserve", errors.New("503"), time.Second)
	m.ObserveOrders(func(context.Context) (map[string]int, error) {
		return map[string]int{"SHIPPING": 3, "COMPLETED": 7}, nil
	})
	h, closer := m.SDKHandler()
	defer closer.Close()
	h.Counter("temporal_test_counter").Inc(1)
	m.AuditHead(3, "aa", 10, 1)
	m.AuditHead(4, "bb", 12, 0)

	out := scrape(t, m)
	if strings.Contains(out, `hash="aa"`) {
		t.Error("the previous head's series must go: one series")
	}
	for _, want := range []string{
		`orderflow_breaker_state{system="erp"} 2`,
		`orderflow_breaker_state{system="carrier"} 0`,
		`orderflow_step_duration_seconds_count{activity="Reserve",outcome="error"} 1`,
		`orderflow_orders{status="SHIPPING"} 3`,
		`orderflow_orders{status="COMPLETED"} 7`,
		`orderflow_audit_seal_number 4`,
		`orderflow_audit_entries_sealed 12`,
		`orderflow_audit_entries_unsealed 0`,
		`orderflow_audit_head_info{hash="bb",seal_no="4"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
