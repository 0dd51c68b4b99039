package worker

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/internal/metrics"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// ObserveStore exposes the gauges m reads from the database at scrape
// time: orders by status, worklist sizes (overdue deliveries with the
// workflow's DeliveryGrace) and NPS per warehouse and carrier.
func ObserveStore(m *metrics.Metrics, st *store.Store) {
	m.ObserveOrders(st.CountByStatus)
	m.ObserveWorklists(func(ctx context.Context) (map[string]int, error) {
		return st.WorklistSizes(ctx, time.Now(), workflows.DeliveryGrace)
	})
	m.ObserveNPS(func(ctx context.Context, from, to time.Time) ([]metrics.NPSGroup, error) {
		groups, err := st.NPSByFulfilment(ctx, from, to)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.NPSGroup, len(groups))
		for i, g := range groups {
			if g.Dimension == store.NPSAll {
				g.Value = store.NPSAll
			}
			out[i] = metrics.NPSGroup{Dimension: g.Dimension, Value: g.Value, Answers: g.Answers,
				Promoters: g.Promoters, Detractors: g.Detractors}
		}
		return out, nil
	})
}
