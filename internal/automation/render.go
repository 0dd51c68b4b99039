package automation

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// FormatDuration prints a wait for people: minutes under an hour, hours
// under two days, days beyond.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f d", d.Hours()/24)
	}
}

// Verdict is "met", "missed" or "n/a".
func (t Target) Verdict() string {
	switch {
	case !t.Applicable:
		return "n/a"
	case t.Met:
		return "met"
	default:
		return "missed"
	}
}

// Markdown renders the report as a Markdown fragment (headings from
// level 3), for docs/benchmarks.md. chart, when not "", is the path of
// the report's SVG (Report.SVG) to show under the targets.
func (r Report) Markdown(chart string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("### Targets\n\n| target | goal | actual | verdict |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		w("| %s | %s | %s | %s |\n", t.Name, t.Goal, t.Actual, t.Verdict())
	}
	w("\n")
	if chart != "" {
		w("![Automation figures](%s)\n\n", chart)
	}
	for _, t := range r.Targets {
		if !t.Applicable || t.Met || len(t.HeldBackBy) == 0 {
			continue
		}
		w("**%s is held back by** (a case may have several causes):\n\n| cause | count | e.g. |\n|---|---|---|\n", t.Name)
		for _, c := range t.HeldBackBy {
			w("| %s | %d | %s |\n", mdCell(c.Cause), c.Count, mdCell(strings.Join(c.Examples, ", ")))
		}
		w("\n")
	}

	w("### Straight-through orders\n\n")
	w("%d orders; %d finished (COMPLETED or PAID). %d left out of the STP denominator for a human decision", r.Orders, r.Finished, r.Excluded)
	if len(r.ExclusionsBy) > 0 {
		var parts []string
		for _, e := range r.ExclusionsBy {
			parts = append(parts, fmt.Sprintf("%s %d", e.Reason, e.Orders))
		}
		w(" (%s)", strings.Join(parts, ", "))
	}
	w(". STP: %s of %d orders went straight through (finished, no CS or finance action).\n\n", ratePct(r.STP), r.STP.Den)

	w("### Payments\n\n%d payments received; %s applied without finance.\n\n", r.Payments, ratePct(r.AutoMatch))
	if len(r.MatchMisses) > 0 {
		w("| not matched automatically | payments |\n|---|---|\n")
		for _, c := range r.MatchMisses {
			w("| %s | %d |\n", mdCell(c.Cause), c.Count)
		}
		w("\n")
	}

	w("### Exceptions\n\n")
	if len(r.Exceptions) == 0 {
		w("None.\n\n")
	} else {
		w("| cause | count | orders | open | worklist | without entry | wait p50 | wait p90 | wait max |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, e := range r.Exceptions {
			wl := e.Worklist
			if wl == "" {
				wl = "none"
			}
			w("| %s | %d | %d | %d | %s | %d | %s | %s | %s |\n", mdCell(e.Cause), e.Count, e.Orders, e.Open, wl, e.Orphans,
				FormatDuration(e.Wait.P50), FormatDuration(e.Wait.P90), FormatDuration(e.Wait.Max))
		}
		w("\nWaits run from the exception to its resolution; an open one counts until the figures were read.\n\n")
	}
	if len(r.Orphans) > 0 {
		w("Exceptions without a worklist entry:\n\n| order | PO | cause | at |\n|---|---|---|---|\n")
		for i, o := range r.Orphans {
			if i == 20 {
				w("| … %d more | | | |\n", len(r.Orphans)-i)
				break
			}
			w("| %s | %s | %s | %s |\n", mdCell(o.OrderID), mdCell(o.PONumber), mdCell(o.Cause), o.OpenedAt.UTC().Format(time.RFC3339))
		}
		w("\n")
	}

	w("### Delivery to cash and staff work\n\n")
	if r.DeliveryToCash.N > 0 {
		w("Delivery to cash (last delivery to the invoices reconciled, %d orders): p50 %s, p90 %s.\n\n",
			r.DeliveryToCash.N, FormatDuration(r.DeliveryToCash.P50), FormatDuration(r.DeliveryToCash.P90))
	} else {
		w("Delivery to cash: no order was paid after delivery.\n\n")
	}
	w("Staff actions per 100 orders: CS %.1f, finance %.1f", r.CSPer100, r.FinancePer100)
	var others []string
	for _, role := range sortedRoles(r.ActionsBy) {
		if role != order.RoleCS && role != order.RoleFinance {
			others = append(others, fmt.Sprintf("%s %d", role, r.ActionsBy[role]))
		}
	}
	if len(others) > 0 {
		w(" (other staff actions: %s)", strings.Join(others, ", "))
	}
	w(".\n")
	return b.String()
}

func sortedRoles(m map[order.Role]int) []order.Role {
	var out []order.Role
	for r := range m {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func ratePct(r Rate) string {
	if !r.Valid() {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %% (%d)", r.Percent(), r.Num)
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// SVG draws the report as a standalone horizontal bar chart: STP and
// auto-match against their 95 % target, then the exceptions per 100
// orders by cause (at most 10 causes).
func (r Report) SVG() string {
	type bar struct {
		label, text string
		value, max  float64
		target      float64 // 0: none
		color       string
	}
	var bars []bar
	for _, t := range []struct {
		name string
		rate Rate
		goal float64
	}{{"STP", r.STP, TargetSTP}, {"auto-match", r.AutoMatch, TargetAutoMatch}} {
		col := "#1a7f37"
		if t.rate.Valid() && t.rate.Value() < t.goal {
			col = "#c0392b"
		}
		text := "n/a"
		if t.rate.Valid() {
			text = strconv.FormatFloat(t.rate.Percent(), 'f', 1, 64) + " %"
		}
		bars = append(bars, bar{t.name, text, t.rate.Percent(), 100, 100 * t.goal, col})
	}
	hi := 1.0
	for _, e := range r.Exceptions {
		hi = math.Max(hi, per100(e.Count, r.Orders))
	}
	for i, e := range r.Exceptions {
		if i == 10 {
			break
		}
		v := per100(e.Count, r.Orders)
		col := "#c77c0e"
		if e.Orphans > 0 {
			col = "#c0392b"
		}
		bars = append(bars, bar{e.Cause, strconv.FormatFloat(v, 'f', 1, 64) + " per 100", v, hi, 0, col})
	}
	const width, labelW, valueW, rowH, pad = 640, 240, 100, 22, 8
	plotW := float64(width - labelW - valueW)
	height := pad*2 + rowH*len(bars) + 16
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12" role="img" aria-label="Automation: STP and auto-match against the 95 %% target; exceptions per 100 orders by cause">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for i, x := range bars {
		y := pad + i*rowH
		w := 0.0
		if x.max > 0 {
			w = math.Max(0, math.Min(1, x.value/x.max)) * plotW
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+15, html.EscapeString(clip(x.label, 36)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
			labelW, y+3, math.Max(w, 1), rowH-6, x.color, html.EscapeString(x.label), html.EscapeString(x.text))
		if x.target > 0 {
			tx := labelW + x.target/x.max*plotW
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#111827" stroke-dasharray="3,2"/>`+"\n", tx, y, tx, y+rowH)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#4b5563">%s</text>`+"\n", float64(labelW)+math.Max(w, 1)+4, y+15, html.EscapeString(x.text))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#4b5563">dashed: the %g %% target; red: target missed or exceptions without a worklist entry</text>`+"\n",
		labelW, height-6, 100*TargetSTP)
	b.WriteString("</svg>\n")
	return b.String()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
