package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// NPS dimensions of NPSByFulfilment.
const (
	NPSAll       = "all"
	NPSWarehouse = "warehouse"
	NPSCarrier   = "carrier"
)

// NPSGroup is the survey answers of one group: all of them, or those of
// one warehouse or one carrier.
type NPSGroup struct {
	Dimension  string // NPSAll, NPSWarehouse or NPSCarrier
	Value      string // the warehouse or carrier; "" for NPSAll
	Answers    int
	Promoters  int
	Detractors int
}

// Score is the net promoter score: the percentage of promoters less the
// percentage of detractors, -100 to 100; 0 without answers.
func (g NPSGroup) Score() float64 {
	if g.Answers == 0 {
		return 0
	}
	return 100 * float64(g.Promoters-g.Detractors) / float64(g.Answers)
}

// NPSByFulfilment counts the survey answers given in [from, to): overall,
// per warehouse and per carrier (answers about a whole order, without a
// warehouse or carrier, count only overall). The "all" group is there
// also without answers.
func (s *Store) NPSByFulfilment(ctx context.Context, from, to time.Time) ([]NPSGroup, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT CASE WHEN GROUPING(warehouse) = 0 THEN 'warehouse'
				WHEN GROUPING(carrier) = 0 THEN 'carrier' ELSE 'all' END,
			CASE WHEN GROUPING(warehouse) = 0 THEN warehouse
				WHEN GROUPING(carrier) = 0 THEN carrier ELSE '' END,
			count(*),
			count(*) FILTER (WHERE score >= @promoter),
			count(*) FILTER (WHERE score <= @detractor)
		FROM surveys
		WHERE answered_at IS NOT NULL AND answered_at >= @from AND answered_at < @to
		  AND score IS NOT NULL
		GROUP BY GROUPING SETS ((), (warehouse), (carrier))`,
		pgx.NamedArgs{"from": from, "to": to, "promoter": order.PromoterScore, "detractor": order.DetractorScore})
	if err != nil {
		return nil, dbError("NPS", err)
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (NPSGroup, error) {
		var g NPSGroup
		err := row.Scan(&g.Dimension, &g.Value, &g.Answers, &g.Promoters, &g.Detractors)
		return g, err
	})
	if err != nil {
		return nil, dbError("NPS", err)
	}
	out := []NPSGroup{}
	all := false
	for _, g := range groups {
		if g.Dimension != NPSAll && g.Value == "" {
			continue
		}
		all = all || g.Dimension == NPSAll
		out = append(out, g)
	}
	if !all {
		out = append([]NPSGroup{{Dimension: NPSAll}}, out...)
	}
	return out, nil
}
