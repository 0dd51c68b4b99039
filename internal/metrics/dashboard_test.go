package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

// dashboardPath is the Grafana dashboard deploy/ ships; deploy/check.sh
// runs TestGrafanaDashboard as its JSON check.
const dashboardPath = "../../deploy/grafana/orderflow-dashboard.json"

// exported lists the names of every metric family orderflow registers,
// with each of its collectors given a series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	m.BreakerRegistered("erp")
	m.BreakerChanged("erp", gobreaker.StateClosed, gobreaker.StateOpen)
	m.ObserveStep("Reserve", nil, time.Millisecond)
	m.ObserveTransition("QUOTING", "AWAITING_ACCEPTANCE", time.Minute)
	m.ObserveOrders(func(context.Context) (map[string]int, error) { return map[string]int{"SHIPPING": 1}, nil })
	m.ObserveWorklists(func(context.Context) (map[string]int, error) { return map[string]int{"attention": 1}, nil })
	m.ObserveNPS(func(context.Context, time.Time, time.Time) ([]NPSGroup, error) {
		return []NPSGroup{{Dimension: "all", Value: "all", Answers: 1, Promoters: 1}}, nil
	})
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

// dashboard is the part of a Grafana dashboard the check reads.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name, Type, Query string
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         *int            `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// TestGrafanaDashboard checks deploy/grafana/orderflow-dashboard.json (see
// checkDashboard); deploy/check.sh runs it as its JSON check.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDashboard(raw, exported(t)) {
		t.Error(p)
	}
}

// TestGrafanaDashboardCheckFails: the check finds what it looks for.
func TestGrafanaDashboardCheckFails(t *testing.T) {
	t.Parallel()
	known := exported(t)
	for broken, want := range map[string]string{
		`{"title": "x", "uid": "x", "schemaVersion": 39, "panels": [`:  "not a dashboard's JSON",
		`{"title": "", "uid": "x", "schemaVersion": 39, "panels": []}`: "needs a title",
		`{"title": "x", "uid": "x", "schemaVersion": 39, "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
		  "panels": [{"id": 1, "type": "stat", "title": "a", "datasource": {"uid": "${datasource}"}, "targets": [{"expr": "orderflow_order_transition_total"}]}]}`: "reads orderflow_order_transition_total, which orderflow does not export",
		`{"title": "x", "uid": "x", "schemaVersion": 39, "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
		  "panels": [{"id": 1, "type": "stat", "title": "a", "datasource": {"uid": "${datasource}"}, "targets": [{"expr": "orderflow_orders"}]},
		             {"id": 1, "type": "stat", "title": "b", "datasource": {"uid": "prom"}, "targets": []}]}`: "share id 1",
	} {
		problems := strings.Join(checkDashboard([]byte(broken), known), "\n")
		if !strings.Contains(problems, want) {
			t.Errorf("checking %s: problems %q lack %q", broken, problems, want)
		}
	}
}

// checkDashboard checks a Grafana dashboard: it is JSON with a title, uid,
// schemaVersion and panels and a Prometheus datasource variable; every
// panel has a unique id, a type, the datasource variable and targets (rows
// only group panels); and every metric an expr reads is in known, so a
// renamed metric cannot leave the dashboard blank.
func checkDashboard(raw []byte, known map[string]bool) []string {
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return []string{fmt.Sprintf("not a dashboard's JSON: %v", err)}
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 36 || len(d.Panels) == 0 {
		problem("the dashboard needs a title, a uid, schemaVersion >= 36 and panels; has %q, %q, %d, %d panels",
			d.Title, d.UID, d.SchemaVersion, len(d.Panels))
	}
	hasVar := false
	for _, v := range d.Templating.List {
		hasVar = hasVar || (v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus")
	}
	if !hasVar {
		problem(`the dashboard needs a "datasource" variable of type datasource, query prometheus`)
	}
	ids := map[int]string{}
	var check func(p panel)
	check = func(p panel) {
		name := p.Title
		if p.ID == nil {
			problem("panel %q has no id", name)
		} else if other, dup := ids[*p.ID]; dup {
			problem("panels %q and %q share id %d", other, name, *p.ID)
		} else {
			ids[*p.ID] = name
		}
		if p.Type == "" {
			problem("panel %q has no type", name)
		}
		if p.Type == "row" {
			for _, c := range p.Panels {
				check(c)
			}
			return
		}
		if !strings.Contains(string(p.Datasource), "${datasource}") {
			problem("panel %q does not use the ${datasource} variable: %s", name, p.Datasource)
		}
		if len(p.Targets) == 0 {
			problem("panel %q has no targets", name)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				problem("panel %q target %s has no expr", name, tg.RefID)
			}
			for _, metric := range metricNames(tg.Expr) {
				if !known[metric] {
					problem("panel %q reads %s, which orderflow does not export", name, metric)
				}
			}
		}
	}
	for _, p := range d.Panels {
		check(p)
	}
	return problems
}

// The parts of a PromQL expression that are not metric names: strings,
// label matchers, ranges and offsets, Grafana variables, grouping clauses.
var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	grafanaVars  = regexp.MustCompile(`\$\{?\w+\}?`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "offset": true, "bool": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true}
)

// metricNames lists the metric names an expression reads, a histogram's
// _bucket, _sum and _count series under the histogram's name.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = grafanaVars.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		word := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(word)] {
			continue // a function or aggregation, or an operator
		}
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // a number's exponent or a duration's unit
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			word = strings.TrimSuffix(word, suffix)
		}
		out = append(out, word)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string][]string{
		`histogram_quantile(0.9, sum by (le, stage) (increase(orderflow_stage_duration_seconds_bucket[$__range])))`: {"orderflow_stage_duration_seconds"},
		`max by (value) (orderflow_nps{dimension="warehouse"})`:                                                     {"orderflow_nps"},
		`sum(rate(a_total{x="y or z"}[5m])) / ignoring(le) sum(b_count) > bool 1e3`:                                 {"a_total", "b"},
		`up == 0 and on (instance) orderflow_orders offset 1h`:                                                      {"up", "orderflow_orders"},
	} {
		got := metricNames(expr)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}
