package metrics

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// business holds the metrics of how orders move: status transitions and
// the time spent in the status each one left.
type business struct {
	transitions *prometheus.CounterVec
	inStage     *prometheus.HistogramVec
}

// StageBuckets are the bounds of orderflow_stage_duration_seconds:
// business time, from a minute to two months.
var StageBuckets = []float64{
	60, 5 * 60, 15 * 60, // minutes
	3600, 4 * 3600, 12 * 3600, // hours
	86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400, // days and weeks
}

func newBusiness(r *prometheus.Registry) business {
	b := business{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderflow_order_transitions_total",
			Help: "Order status changes, counted once when the workflow's record of the change is first written (a retried record is not counted).",
		}, []string{"from", "to"}),
		inStage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orderflow_stage_duration_seconds",
			Help:    "Time an order spent in a status (stage), observed when it leaves it: from the record that entered the status to the one that left it.",
			Buckets: StageBuckets,
		}, []string{"stage"}),
	}
	r.MustRegister(b.transitions, b.inStage)
	return b
}

// ObserveTransition counts an order's change of status from → to, and
// the time it spent in from (negative: unknown, not observed). The
// activities call it once per change newly recorded.
func (m *Metrics) ObserveTransition(from, to string, inStatus time.Duration) {
	m.transitions.WithLabelValues(from, to).Inc()
	if inStatus >= 0 {
		m.inStage.WithLabelValues(from).Observe(inStatus.Seconds())
	}
}

// CountWorklists reads the number of items per worklist name.
type CountWorklists func(ctx context.Context) (map[string]int, error)

// ObserveWorklists exposes orderflow_worklist_items{list}, read at scrape time.
func (m *Metrics) ObserveWorklists(count CountWorklists) {
	desc := prometheus.NewDesc("orderflow_worklist_items",
		"Items on each worklist (overdue invoices, credit holds, unmatched payments, attention, overdue deliveries, open follow-ups).",
		[]string{"list"}, nil)
	m.registry.MustRegister(&dbCollector{m: m, descs: []*prometheus.Desc{desc}, what: "worklist sizes",
		collect: func(ctx context.Context, ch chan<- prometheus.Metric) error {
			sizes, err := count(ctx)
			if err != nil {
				return err
			}
			for list, n := range sizes {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), list)
			}
			return nil
		}})
}

// NPSWindow is how far back the NPS gauges count answers.
const NPSWindow = 30 * 24 * time.Hour

// MaxNPSValues bounds the series per NPS dimension: past it, the values
// with the fewest answers are left out (the dashboard has them all).
const MaxNPSValues = 50

// NPSGroup is the survey answers of one group: dimension "all" (value
// "all"), or one "warehouse" or "carrier".
type NPSGroup struct {
	Dimension, Value               string
	Answers, Promoters, Detractors int
}

// ReadNPS reads the answers given in [from, to), grouped.
type ReadNPS func(ctx context.Context, from, to time.Time) ([]NPSGroup, error)

// ObserveNPS exposes orderflow_nps{dimension,value} (percent promoters
// less percent detractors, -100 to 100) and orderflow_nps_answers over the
// answers of the last NPSWindow, read at scrape time. A group without
// answers has no orderflow_nps series.
func (m *Metrics) ObserveNPS(read ReadNPS) {
	score := prometheus.NewDesc("orderflow_nps",
		"Net promoter score over the survey answers of the last 30 days: % promoters (9-10) less % detractors (0-6), overall (dimension all), per warehouse and per carrier.",
		[]string{"dimension", "value"}, nil)
	answers := prometheus.NewDesc("orderflow_nps_answers",
		"Survey answers of the last 30 days behind orderflow_nps.", []string{"dimension", "value"}, nil)
	m.registry.MustRegister(&dbCollector{m: m, descs: []*prometheus.Desc{score, answers}, what: "NPS",
		collect: func(ctx context.Context, ch chan<- prometheus.Metric) error {
			now := time.Now()
			groups, err := read(ctx, now.Add(-NPSWindow), now)
			if err != nil {
				return err
			}
			for _, g := range boundNPS(groups) {
				ch <- prometheus.MustNewConstMetric(answers, prometheus.GaugeValue, float64(g.Answers), g.Dimension, g.Value)
				if g.Answers > 0 {
					nps := 100 * float64(g.Promoters-g.Detractors) / float64(g.Answers)
					ch <- prometheus.MustNewConstMetric(score, prometheus.GaugeValue, nps, g.Dimension, g.Value)
				}
			}
			return nil
		}})
}

// boundNPS keeps at most MaxNPSValues groups per dimension, those with
// the most answers.
func boundNPS(groups []NPSGroup) []NPSGroup {
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Answers > groups[j].Answers })
	per := map[string]int{}
	out := groups[:0:0]
	for _, g := range groups {
		if per[g.Dimension] < MaxNPSValues {
			per[g.Dimension]++
			out = append(out, g)
		}
	}
	return out
}
