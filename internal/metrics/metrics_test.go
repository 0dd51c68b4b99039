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

// TestOrderMetrics: transitions by from and to, time per stage, worklist
// sizes and NPS per dimension are exposed under the names the Grafana
// dashboard reads.
func TestOrderMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	m.ObserveTransition("QUOTING", "AWAITING_ACCEPTANCE", 90*time.Second)
	m.ObserveTransition("QUOTING", "AWAITING_ACCEPTANCE", 3*24*time.Hour)
	m.ObserveTransition("CREDIT_HOLD", "CONFIRMED", -1) // time unknown: counted, not timed
	m.ObserveWorklists(func(context.Context) (map[string]int, error) {
		return map[string]int{"overdue-invoices": 4, "followups": 0}, nil
	})
	m.ObserveNPS(func(_ context.Context, from, to time.Time) ([]NPSGroup, error) {
		if to.Sub(from) != NPSWindow {
			return nil, errors.New("not the window")
		}
		return []NPSGroup{
			{Dimension: "all", Value: "all", Answers: 4, Promoters: 2, Detractors: 1},
			{Dimension: "warehouse", Value: "WH-EAST", Answers: 2, Promoters: 0, Detractors: 1},
			{Dimension: "carrier", Value: "parcel", Answers: 0},
		}, nil
	})

	out := scrape(t, m)
	for _, want := range []string{
		`orderflow_order_transitions_total{from="QUOTING",to="AWAITING_ACCEPTANCE"} 2`,
		`orderflow_order_transitions_total{from="CREDIT_HOLD",to="CONFIRMED"} 1`,
		`orderflow_stage_duration_seconds_count{stage="QUOTING"} 2`,
		`orderflow_stage_duration_seconds_bucket{stage="QUOTING",le="300"} 1`,
		`orderflow_stage_duration_seconds_bucket{stage="QUOTING",le="345600"} 2`,
		`orderflow_worklist_items{list="overdue-invoices"} 4`,
		`orderflow_worklist_items{list="followups"} 0`,
		`orderflow_nps{dimension="all",value="all"} 25`,
		`orderflow_nps{dimension="warehouse",value="WH-EAST"} -50`,
		`orderflow_nps_answers{dimension="carrier",value="parcel"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, unwanted := range []string{`orderflow_stage_duration_seconds_count{stage="CREDIT_HOLD"}`, `orderflow_nps{dimension="carrier"`} {
		if strings.Contains(out, unwanted) {
			t.Errorf("metrics have %q", unwanted)
		}
	}
}

// TestScrapeSurvivesAFailingDatabase: a scrape-time read that fails or
// runs out of time leaves its series out, and the scrape still answers
// 200 with everything else; each read gets a deadline.
func TestScrapeSurvivesAFailingDatabase(t *testing.T) {
	t.Parallel()
	m := New()
	m.ObserveStep("Reserve", nil, time.Millisecond)
	var deadline time.Duration
	m.ObserveOrders(func(ctx context.Context) (map[string]int, error) {
		d, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		deadline = time.Until(d)
		return nil, context.DeadlineExceeded
	})
	m.ObserveWorklists(func(context.Context) (map[string]int, error) { return nil, errors.New("connection refused") })
	m.ObserveNPS(func(context.Context, time.Time, time.Time) ([]NPSGroup, error) {
		return nil, errors.New("connection refused")
	})

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape answered %d: %s", rec.Code, rec.Body)
	}
	out := rec.Body.String()
	if !strings.Contains(out, `orderflow_step_duration_seconds_count{activity="Reserve",outcome="ok"} 1`) {
		t.Error("the step histogram is missing")
	}
	for _, name := range []string{"orderflow_orders{", "orderflow_worklist_items{", "orderflow_nps{"} {
		if strings.Contains(out, name) {
			t.Errorf("a failed read still gave %s", name)
		}
	}
	if deadline <= 0 || deadline > ScrapeTimeout {
		t.Errorf("the read's deadline is %s away, want within %s", deadline, ScrapeTimeout)
	}
}
