package api

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/store"
)

// The dashboard's charts are inline SVG drawn here: the geometry is
// computed in Go and the template only writes out rectangles, lines, text
// and polylines, so the page needs no script and no chart library.

// Chart colours: one per series, the same on every chart.
const (
	colBlue   = "#2f6fdb"
	colLight  = "#9bbcf0"
	colGreen  = "#1a7f37"
	colRed    = "#c0392b"
	colAmber  = "#c77c0e"
	colGrey   = "#9ca3af"
	colPurple = "#7c3aed"
)

type svgChart struct {
	W, H   int
	Label  string // what the chart shows, for screen readers
	Rects  []svgRect
	Texts  []svgText
	Lines  []svgLine
	Paths  []svgPath
	Legend []legendItem
}

type svgRect struct {
	X, Y, W, H  float64
	Fill, Title string
}

type svgText struct {
	X, Y         float64
	Text, Anchor string
	Muted        bool
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Stroke         string
}

type svgPath struct {
	Points, Stroke string
}

type legendItem struct{ Label, Color string }

// series is one value per group of a bar chart.
type series struct {
	Label, Color string
}

// barGroup is one row of a horizontal bar chart: a value per series (NaN:
// none) and how to print each.
type barGroup struct {
	Label  string
	Values []float64
	Texts  []string
}

const (
	chartW     = 460
	labelW     = 150
	valueW     = 56
	barH       = 14
	groupGap   = 8
	chartPadY  = 6
	plotRightW = chartW - labelW - valueW
)

// hbars draws horizontal bars, a group per row, on the scale [lo, hi]
// (lo < 0 draws bars either side of a zero line: NPS).
func hbars(label string, groups []barGroup, ss []series, lo, hi float64) svgChart {
	rowH := float64(len(ss)*barH + groupGap)
	c := svgChart{W: chartW, H: int(2*chartPadY + rowH*float64(max(len(groups), 1))), Label: label}
	if len(ss) > 1 {
		for _, s := range ss {
			c.Legend = append(c.Legend, legendItem{s.Label, s.Color})
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	x := func(v float64) float64 { return labelW + (v-lo)/(hi-lo)*plotRightW }
	zero := x(math.Max(lo, 0))
	c.Lines = append(c.Lines, svgLine{zero, 0, zero, float64(c.H), colGrey})
	for i, g := range groups {
		y0 := chartPadY + float64(i)*rowH
		c.Texts = append(c.Texts, svgText{X: labelW - 6, Y: y0 + rowH/2 + 1, Text: clip(g.Label, 22), Anchor: "end"})
		for j, v := range g.Values {
			if math.IsNaN(v) {
				continue
			}
			v = math.Max(lo, math.Min(hi, v))
			y := y0 + float64(j*barH)
			x0, x1 := zero, x(v)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			w := math.Max(x1-x0, 1)
			c.Rects = append(c.Rects, svgRect{X: x0, Y: y + 1, W: w, H: barH - 2, Fill: ss[j].Color, Title: g.Label + " " + ss[j].Label + ": " + g.Texts[j]})
			c.Texts = append(c.Texts, svgText{X: math.Max(x1, zero) + 4, Y: y + barH - 3, Text: g.Texts[j], Muted: true})
		}
	}
	return c
}

// vbars draws one vertical bar per value (orders per day), with the first,
// middle and last label under the axis.
func vbars(label string, labels []string, values []float64, color string) svgChart {
	const h, bottom, left = 150, 18, 34
	c := svgChart{W: chartW, H: h, Label: label}
	top := niceMax(slices.Max(append(values, 1)))
	plotH := float64(h - bottom - 6)
	bw := float64(chartW-left-4) / float64(max(len(values), 1))
	for _, tick := range []float64{0, top / 2, top} {
		y := 6 + plotH - tick/top*plotH
		c.Lines = append(c.Lines, svgLine{left, y, chartW, y, "#e5e7eb"})
		c.Texts = append(c.Texts, svgText{X: left - 4, Y: y + 4, Text: trimFloat(tick), Anchor: "end", Muted: true})
	}
	for i, v := range values {
		bh := v / top * plotH
		c.Rects = append(c.Rects, svgRect{X: left + float64(i)*bw + bw*0.1, Y: 6 + plotH - bh, W: math.Max(bw*0.8, 0.5), H: bh,
			Fill: color, Title: labels[i] + ": " + trimFloat(v)})
	}
	for _, i := range []int{0, len(values) / 2, len(values) - 1} {
		if i >= 0 && i < len(labels) {
			anchor := map[bool]string{true: "start", false: "middle"}[i == 0]
			if i == len(values)-1 && i > 0 {
				anchor = "end"
			}
			c.Texts = append(c.Texts, svgText{X: left + (float64(i)+0.5)*bw, Y: h - 4, Text: labels[i], Anchor: anchor, Muted: true})
		}
	}
	return c
}

// lines draws one line per series over the x labels; a nil value breaks
// the line.
func lines(label string, xs []string, ss []series, values [][]*float64) svgChart {
	const h, bottom, left = 170, 18, 34
	c := svgChart{W: chartW, H: h, Label: label}
	for _, s := range ss {
		c.Legend = append(c.Legend, legendItem{s.Label, s.Color})
	}
	top := 1.0
	for _, vs := range values {
		for _, v := range vs {
			if v != nil {
				top = math.Max(top, *v)
			}
		}
	}
	top = niceMax(top)
	plotH := float64(h - bottom - 8)
	step := float64(chartW-left-10) / float64(max(len(xs)-1, 1))
	px := func(i int) float64 { return left + 5 + float64(i)*step }
	py := func(v float64) float64 { return 8 + plotH - v/top*plotH }
	for _, tick := range []float64{0, top / 2, top} {
		c.Lines = append(c.Lines, svgLine{left, py(tick), chartW, py(tick), "#e5e7eb"})
		c.Texts = append(c.Texts, svgText{X: left - 4, Y: py(tick) + 4, Text: trimFloat(tick), Anchor: "end", Muted: true})
	}
	for si, vs := range values {
		var pts []string
		flush := func() {
			if len(pts) == 1 { // a lone point: a short tick so it shows
				pts = append(pts, pts[0])
			}
			if len(pts) > 0 {
				c.Paths = append(c.Paths, svgPath{Points: strings.Join(pts, " "), Stroke: ss[si].Color})
			}
			pts = nil
		}
		for i, v := range vs {
			if v == nil {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(i), py(*v)))
			c.Rects = append(c.Rects, svgRect{X: px(i) - 2, Y: py(*v) - 2, W: 4, H: 4, Fill: ss[si].Color,
				Title: xs[i] + " " + ss[si].Label + ": " + days1(*v) + " d"})
		}
		flush()
	}
	if len(xs) > 0 {
		c.Texts = append(c.Texts, svgText{X: px(0), Y: h - 4, Text: xs[0], Anchor: "start", Muted: true})
		if len(xs) > 1 {
			c.Texts = append(c.Texts, svgText{X: px(len(xs) - 1), Y: h - 4, Text: xs[len(xs)-1], Anchor: "end", Muted: true})
		}
	}
	return c
}

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// dashboardView is the page's charts and the rows of its tables.
type dashboardView struct {
	LeadChart, TrendChart, OnTimeChart, AutomationChart, ExceptionChart svgChart
	ConversionChart, OrdersChart, ReceivablesChart                      svgChart
	TargetChart, WaitChart                                              svgChart
	NPSCharts                                                           []npsDimension
	Lead                                                                []leadPhase
	Conversion                                                          []conversionRow
	DSO                                                                 []string
}

// npsDimension is one scenario's NPS chart and table (the groups with the
// most answers; the CSV has all).
type npsDimension struct {
	Key, Label string
	Chart      svgChart
	Rows       []store.NPSScore
	More       int // groups left off the page
}

func nan() float64 { return math.NaN() }

func rateValue(r store.Rate) float64 {
	if !r.Valid() {
		return nan()
	}
	return r.Percent()
}

func newDashboardView(r store.KPIReport) *dashboardView {
	v := &dashboardView{Lead: leadPhases(r.LeadTimes), Conversion: conversionRows(r.Conversion)}

	p50p90 := []series{{"p50", colBlue}, {"p90", colLight}}
	var lg []barGroup
	hi := 1.0
	for _, p := range v.Lead {
		g := barGroup{Label: p.Label, Values: []float64{nan(), nan()}, Texts: []string{"", ""}}
		if p.P.N > 0 {
			g.Values = []float64{p.P.P50, p.P.P90}
			g.Texts = []string{days1(p.P.P50) + " d", days1(p.P.P90) + " d"}
			hi = math.Max(hi, p.P.P90)
		}
		lg = append(lg, g)
	}
	v.LeadChart = hbars("Lead time per phase, p50 and p90, in days", lg, p50p90, 0, niceMax(hi))

	var weeks []string
	trend := make([][]*float64, 3)
	for _, w := range r.LeadTimes.Weeks {
		weeks = append(weeks, w.Week.Format("2 Jan"))
		trend[0] = append(trend[0], w.QuoteToAccepted)
		trend[1] = append(trend[1], w.AcceptedToDelivered)
		trend[2] = append(trend[2], w.DeliveredToPaid)
	}
	v.TrendChart = lines("Median lead time per week of order creation, in days", weeks,
		[]series{{"quote → accepted", colAmber}, {"accepted → delivered", colBlue}, {"delivered → paid", colGreen}}, trend)

	ot := []barGroup{{Label: "All carriers", Values: []float64{rateValue(r.OnTime.Promise), rateValue(r.OnTime.LeadTime)},
		Texts: []string{pct(r.OnTime.Promise) + " %", pct(r.OnTime.LeadTime) + " %"}}}
	for _, c := range r.OnTime.ByCarrier {
		ot = append(ot, barGroup{Label: c.Carrier, Values: []float64{rateValue(c.Promise), rateValue(c.LeadTime)},
			Texts: []string{pct(c.Promise) + " %", pct(c.LeadTime) + " %"}})
	}
	v.OnTimeChart = hbars("On-time delivery per carrier, in percent", ot,
		[]series{{"vs carrier's promised date", colBlue}, {"vs quoted lead time", colGreen}}, 0, 100)

	a := r.Automation
	v.AutomationChart = hbars("Completed orders with and without staff action", []barGroup{
		{Label: "No staff action", Values: []float64{float64(a.Completed.Num)}, Texts: []string{strconv.Itoa(a.Completed.Num)}},
		{Label: "CS or finance acted", Values: []float64{float64(a.Completed.Den - a.Completed.Num)}, Texts: []string{strconv.Itoa(a.Completed.Den - a.Completed.Num)}},
	}, []series{{"orders", colGreen}}, 0, niceMax(float64(max(a.Completed.Num, a.Completed.Den-a.Completed.Num, 1))))

	targetCharts(v, r.Straight)

	var eg []barGroup
	ehi := 1.0
	for _, st := range r.Exceptions.Stages {
		eg = append(eg, barGroup{Label: st.Stage, Values: []float64{st.PerHundred}, Texts: []string{days1(st.PerHundred)}})
		ehi = math.Max(ehi, st.PerHundred)
	}
	v.ExceptionChart = hbars("Exceptions per 100 orders, by stage", eg, []series{{"per 100 orders", colRed}}, 0, niceMax(ehi))

	var cg []barGroup
	for _, c := range v.Conversion {
		cg = append(cg, barGroup{Label: c.Label, Values: []float64{rateValue(c.R)}, Texts: []string{pct(c.R) + " %"}})
	}
	v.ConversionChart = hbars("Quotes by outcome, percent of the quoted orders", cg, []series{{"of quoted", colPurple}}, 0, 100)

	var dayLabels []string
	var dayValues []float64
	for _, d := range r.OrdersPerDay.Days {
		dayLabels = append(dayLabels, d.Day.Format(time.DateOnly))
		dayValues = append(dayValues, float64(d.Orders))
	}
	v.OrdersChart = vbars("Orders created per day", dayLabels, dayValues, colBlue)

	var rg []barGroup
	rhi := 1.0
	for _, rc := range r.Receivables {
		for i, b := range store.AgingBuckets {
			rg = append(rg, barGroup{Label: rc.Currency + " " + b, Values: []float64{float64(rc.Aging[i]) / 100},
				Texts: []string{amount(rc.Aging[i], rc.Currency)}})
			rhi = math.Max(rhi, float64(rc.Aging[i])/100)
		}
		v.DSO = append(v.DSO, optDays(rc.DSO))
	}
	v.ReceivablesChart = hbars("Overdue receivables by days past due", rg, []series{{"overdue", colAmber}}, 0, niceMax(rhi))

	for _, dim := range []struct {
		key, label string
		rows       []store.NPSScore
	}{
		{"warehouse", "Warehouse", r.NPS.ByWarehouse}, {"carrier", "Carrier", r.NPS.ByCarrier},
		{"customer", "Customer", r.NPS.ByCustomer}, {"product", "Product", r.NPS.ByProduct},
	} {
		rows := slices.Clone(dim.rows)
		slices.SortStableFunc(rows, func(a, b store.NPSScore) int { return cmp.Compare(b.Answers, a.Answers) })
		d := npsDimension{Key: dim.key, Label: dim.label}
		if len(rows) > maxDashboardTable {
			d.More = len(rows) - maxDashboardTable
			rows = rows[:maxDashboardTable]
		}
		d.Rows = rows
		var g []barGroup
		for _, n := range rows {
			label := n.Key
			if label == "" {
				label = "(whole order)"
			}
			g = append(g, barGroup{Label: label, Values: []float64{n.Score()}, Texts: []string{npsText(n)}})
		}
		d.Chart = hbars("NPS by "+dim.key+", from −100 to 100", g, []series{{"NPS", colGreen}}, -100, 100)
		v.NPSCharts = append(v.NPSCharts, d)
	}
	return v
}
