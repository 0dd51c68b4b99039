package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// The dashboard's automation figures (issue 13): the same report a
// scenario run writes into docs/benchmarks.md (internal/automation), for
// the real orders of the period.

// autoRate turns an automation rate into the dashboard's.
func autoRate(r automation.Rate) store.Rate { return store.Rate{Num: r.Num, Den: r.Den} }

// waitDays is a wait in days with one decimal.
func waitDays(d time.Duration) string { return days1(d.Hours() / 24) }

// waitHours is a wait in hours with one decimal.
func waitHours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', 1, 64) }

// kpiKey makes a cause usable in a data-kpi name.
func kpiKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == ':' || r == '"' || r == '<' || r == '>' || r == '&':
			return '-'
		}
		return r
	}, strings.ToLower(s))
}

// targetCharts draws STP and auto-match against their target, and the
// exceptions' waits by cause (p50, p90, in hours).
func targetCharts(v *dashboardView, rp *automation.Report) {
	if rp == nil {
		return
	}
	r := *rp
	rates := []struct {
		label string
		r     automation.Rate
		goal  float64
	}{{"STP", r.STP, automation.TargetSTP}, {"auto-match", r.AutoMatch, automation.TargetAutoMatch}}
	var g []barGroup
	var fills []string
	for _, x := range rates {
		g = append(g, barGroup{Label: x.label, Values: []float64{rateValue(autoRate(x.r))}, Texts: []string{pct(autoRate(x.r)) + " %"}})
		if !x.r.Valid() {
			continue // no bar drawn
		}
		fill := colGreen
		if x.r.Value() < x.goal {
			fill = colRed
		}
		fills = append(fills, fill)
	}
	c := hbars("Straight-through orders and payments matched without finance, in percent; the line is the 95 % target",
		g, []series{{"of the measured", colGreen}}, 0, 100)
	for i := range c.Rects {
		c.Rects[i].Fill = fills[i]
	}
	x := labelW + automation.TargetSTP*plotRightW
	c.Lines = append(c.Lines, svgLine{x, 0, x, float64(c.H), "#111827"})
	v.TargetChart = c

	var eg []barGroup
	hi := 1.0
	for i, e := range r.Exceptions {
		if i == maxDashboardTable {
			break
		}
		eg = append(eg, barGroup{Label: e.Cause, Values: []float64{e.Wait.P50.Hours(), e.Wait.P90.Hours()},
			Texts: []string{automation.FormatDuration(e.Wait.P50), automation.FormatDuration(e.Wait.P90)}})
		hi = math.Max(hi, e.Wait.P90.Hours())
	}
	v.WaitChart = hbars("How long exceptions waited for their resolution, by cause, p50 and p90, in hours", eg,
		[]series{{"p50", colAmber}, {"p90", colLight}}, 0, niceMax(hi))
}

// automationCSV are the automation report's CSV sections.
var automationCSV = map[string]func(store.KPIReport) [][]string{
	"automation-targets": func(r store.KPIReport) [][]string {
		rows := [][]string{{"figure", "value", "numerator", "denominator", "target", "verdict"}}
		if r.Straight == nil {
			return rows
		}
		a := *r.Straight
		for _, t := range []struct {
			key, name string
			rate      automation.Rate
		}{{"stp_pct", automation.NameSTP, a.STP}, {"auto_match_pct", automation.NameAutoMatch, a.AutoMatch}} {
			tg, _ := a.Target(t.name)
			rows = append(rows, []string{t.key, pct(autoRate(t.rate)), strconv.Itoa(t.rate.Num), strconv.Itoa(t.rate.Den), tg.Goal, tg.Verdict()})
		}
		tg, _ := a.Target(automation.NameOrphans)
		rows = append(rows,
			[]string{"exceptions_without_worklist", strconv.Itoa(len(a.Orphans)), "", strconv.Itoa(a.ExceptionTotal), tg.Goal, tg.Verdict()},
			[]string{"orders", strconv.Itoa(a.Orders), "", "", "", ""},
			[]string{"orders_left_out_of_stp", strconv.Itoa(a.Excluded), "", "", "", ""},
			[]string{"delivery_to_cash_p50_days", waitDays(a.DeliveryToCash.P50), "", strconv.Itoa(a.DeliveryToCash.N), "", ""},
			[]string{"delivery_to_cash_p90_days", waitDays(a.DeliveryToCash.P90), "", strconv.Itoa(a.DeliveryToCash.N), "", ""},
			[]string{"cs_actions_per_100_orders", days1(a.CSPer100), strconv.Itoa(a.ActionsBy[order.RoleCS]), strconv.Itoa(a.Orders), "", ""},
			[]string{"finance_actions_per_100_orders", days1(a.FinancePer100), strconv.Itoa(a.ActionsBy[order.RoleFinance]), strconv.Itoa(a.Orders), "", ""},
		)
		for _, e := range a.ExclusionsBy {
			rows = append(rows, []string{"left_out: " + e.Reason, strconv.Itoa(e.Orders), "", "", "", ""})
		}
		return rows
	},
	"exception-causes": func(r store.KPIReport) [][]string {
		rows := [][]string{{"cause", "exceptions", "orders", "open", "worklist", "without_worklist_entry",
			"wait_p50_hours", "wait_p90_hours", "wait_max_hours"}}
		if r.Straight == nil {
			return rows
		}
		for _, e := range r.Straight.Exceptions {
			rows = append(rows, []string{e.Cause, strconv.Itoa(e.Count), strconv.Itoa(e.Orders), strconv.Itoa(e.Open), e.Worklist,
				strconv.Itoa(e.Orphans), waitHours(e.Wait.P50), waitHours(e.Wait.P90), waitHours(e.Wait.Max)})
		}
		return rows
	},
	"held-back": func(r store.KPIReport) [][]string {
		rows := [][]string{{"target", "cause", "count", "examples"}}
		if r.Straight == nil {
			return rows
		}
		for _, t := range r.Straight.Targets {
			for _, c := range t.HeldBackBy {
				rows = append(rows, []string{t.Name, c.Cause, strconv.Itoa(c.Count), strings.Join(c.Examples, " ")})
			}
		}
		for _, o := range r.Straight.Orphans {
			rows = append(rows, []string{"orphan", o.Cause, "1", o.OrderID})
		}
		return rows
	},
}

func init() {
	for k, f := range automationCSV {
		csvSections[k] = f
	}
}
