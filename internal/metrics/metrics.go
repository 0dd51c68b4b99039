// Package metrics exposes orderflow's Prometheus metrics: the Temporal SDK's
// own (through tally), and the business ones — orders by status, step
// latency by activity and outcome, each outside system's breaker state,
// order transitions and the time spent per status, NPS and worklist sizes
// (see business.go), and the audit chain's published head.
//
// Gauges read from the database at scrape time (orders by status,
// worklists, NPS) each have ScrapeTimeout; a read that fails or runs out
// of time is logged and its series left out, so the scrape still answers.
package metrics

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics owns one registry per process.
type Metrics struct {
	registry *prometheus.Registry
	breaker  *prometheus.GaugeVec
	steps    *prometheus.HistogramVec

	auditSeal     prometheus.Gauge
	auditSealed   prometheus.Gauge
	auditUnsealed prometheus.Gauge
	auditHead     *prometheus.GaugeVec
	business
	log zerolog.Logger
}

// New builds the registry with Go and process collectors and the business metrics.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orderflow_breaker_state",
			Help: "Circuit breaker state per outside system: 0 closed, 1 half-open, 2 open.",
		}, []string{"system"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orderflow_step_duration_seconds",
			Help:    "Duration of each activity attempt by activity and outcome (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"activity", "outcome"}),
		auditSeal: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orderflow_audit_seal_number",
			Help: "Number of the audit log's latest seal (the published head); 0 before the first.",
		}),
		auditSealed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orderflow_audit_entries_sealed",
			Help: "Audit entries covered by the seals.",
		}),
		auditUnsealed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orderflow_audit_entries_unsealed",
			Help: "Audit entries written since the latest seal.",
		}),
		auditHead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orderflow_audit_head_info",
			Help: "1 for the latest seal's hash (hex): the audit chain's published head; one series.",
		}, []string{"seal_no", "hash"}),
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.breaker, m.steps, m.auditSeal, m.auditSealed, m.auditUnsealed, m.auditHead)
	m.business = newBusiness(m.registry)
	m.log = zerolog.Nop()
	return m
}

// SetLogger sets where failed scrape-time reads are logged (nowhere by default).
func (m *Metrics) SetLogger(l zerolog.Logger) { m.log = l }

// Handler serves the registry at /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// BreakerChanged records a breaker's new state; pass it to downstream.NewBreaker.
func (m *Metrics) BreakerChanged(system string, _, to gobreaker.State) {
	v := 0.0
	switch to {
	case gobreaker.StateHalfOpen:
		v = 1
	case gobreaker.StateOpen:
		v = 2
	}
	m.breaker.WithLabelValues(system).Set(v)
}

// BreakerRegistered shows a system's breaker as closed before its first change.
func (m *Metrics) BreakerRegistered(system string) { m.breaker.WithLabelValues(system).Set(0) }

// ObserveStep records one activity attempt.
func (m *Metrics) ObserveStep(activity string, err error, d time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.steps.WithLabelValues(activity, outcome).Observe(d.Seconds())
}

// AuditHead publishes the audit chain's head: the latest seal's number and
// hash (hex), and how many entries are sealed and not yet. The info series
// is replaced, so it stays one series: its history is the published heads.
func (m *Metrics) AuditHead(sealNo int64, hash string, sealed, unsealed int64) {
	m.auditSeal.Set(float64(sealNo))
	m.auditSealed.Set(float64(sealed))
	m.auditUnsealed.Set(float64(unsealed))
	m.auditHead.Reset()
	if sealNo > 0 {
		m.auditHead.WithLabelValues(strconv.FormatInt(sealNo, 10), hash).Set(1)
	}
}

// CountOrders reads the number of orders per status.
type CountOrders func(ctx context.Context) (map[string]int, error)

// ObserveOrders exposes orderflow_orders{status} read from the projection at scrape time.
func (m *Metrics) ObserveOrders(count CountOrders) {
	desc := prometheus.NewDesc("orderflow_orders", "Orders by status, from the order projection.", []string{"status"}, nil)
	m.registry.MustRegister(&dbCollector{m: m, descs: []*prometheus.Desc{desc}, what: "orders by status",
		collect: func(ctx context.Context, ch chan<- prometheus.Metric) error {
			counts, err := count(ctx)
			if err != nil {
				return err
			}
			for status, n := range counts {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), status)
			}
			return nil
		}})
}

// ScrapeTimeout bounds each database read made at scrape time.
const ScrapeTimeout = 3 * time.Second

// dbCollector reads gauges from the database at scrape time, within
// ScrapeTimeout. A failed read is logged and its series are left out: an
// invalid metric would make the whole scrape answer 500, and with it the
// SDK's and the process's metrics would go missing while the database is
// slow.
type dbCollector struct {
	m       *Metrics
	what    string
	descs   []*prometheus.Desc
	collect func(ctx context.Context, ch chan<- prometheus.Metric) error
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		c.m.log.Warn().Err(err).Str("metrics", c.what).Msg("scrape-time read failed; its series are left out of this scrape")
	}
}

// SDKHandler returns the Temporal SDK's metrics handler, reporting into this
// registry. Close the closer on shutdown.
func (m *Metrics) SDKHandler() (client.MetricsHandler, io.Closer) {
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: m.registry})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &tallyprom.DefaultSanitizerOpts,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer
}
