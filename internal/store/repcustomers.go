package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// RepCustomer is one line of a rep's view of their customers: who the
// customer is and whose, the customer workflow's insight (empty before
// the workflow wrote one), the age of its oldest open quote, and its NPS.
type RepCustomer struct {
	CustomerID   string `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	// RepEmail is the rep the customer's terms name; RepName the name of
	// that rep's record ("" without one).
	RepEmail string `json:"rep_email"`
	RepName  string `json:"rep_name,omitempty"`
	// Insight is false while the customer workflow has written nothing
	// for the customer; the fields below it are then empty.
	Insight         bool          `json:"insight"`
	Orders          int           `json:"orders"`
	LastOrderAt     *time.Time    `json:"last_order_at,omitempty"`
	UsualInterval   time.Duration `json:"-"`
	NextExpectedAt  *time.Time    `json:"next_expected_at,omitempty"`
	NextExpectedSKU string        `json:"next_expected_sku,omitempty"`
	OpenQuotes      int           `json:"open_quotes"`
	DormantSince    *time.Time    `json:"dormant_since,omitempty"`
	// OldestOpenQuoteAt is when the oldest quote still awaiting the
	// customer's acceptance was first priced (from the orders, not the
	// insight).
	OldestOpenQuoteAt *time.Time `json:"oldest_open_quote_at,omitempty"`
	// NPS of the customer's survey answers in the 12 months before the
	// view's time; NPSAnswers 0: no answers, and NPS means nothing.
	NPSAnswers    int `json:"nps_answers"`
	NPSPromoters  int `json:"-"`
	NPSDetractors int `json:"-"`
}

// Dormant reports whether the customer workflow holds the customer dormant.
func (c RepCustomer) Dormant() bool { return c.DormantSince != nil }

// NPS is the net promoter score of the customer's answers, -100 to 100;
// nil without answers.
func (c RepCustomer) NPS() *float64 {
	if c.NPSAnswers == 0 {
		return nil
	}
	v := NPSGroup{Answers: c.NPSAnswers, Promoters: c.NPSPromoters, Detractors: c.NPSDetractors}.Score()
	return &v
}

// RepCustomerFilter selects and pages a rep's view.
type RepCustomerFilter struct {
	// Reps are the names the customers' terms may name the rep by (the
	// rep's subject and e-mail, compared without case); none: every
	// customer.
	Reps []string
	// DormantOnly keeps the dormant customers.
	DormantOnly bool
	// At is now (zero: time.Now): the NPS counts the 12 months before it.
	At time.Time
	// After is the cursor of the previous page; Limit as in WorklistFilter.
	After string
	Limit int
}

// RepCustomers lists customers for the rep's view, dormant ones first
// (longest dormant first), then by customer id.
func (s *Store) RepCustomers(ctx context.Context, f RepCustomerFilter) (Page[RepCustomer], error) {
	at := orNow(f.At)
	limit := WorklistFilter{Limit: f.Limit}.limit()
	args := pgx.NamedArgs{"from": at.AddDate(-1, 0, 0), "to": at, "promoter": order.PromoterScore,
		"detractor": order.DetractorScore, "limit": limit + 1, "awaiting": string(order.StatusAwaitingAcceptance)}
	var where []string
	if len(f.Reps) > 0 {
		reps := make([]string, len(f.Reps))
		for i, r := range f.Reps {
			reps[i] = strings.ToLower(strings.TrimSpace(r))
		}
		where, args["reps"] = append(where, `lower(c.rep_email) = ANY(@reps)`), reps
	}
	if f.DormantOnly {
		where = append(where, `ci.dormant_since IS NOT NULL`)
	}
	// The sort key: dormant first (0), the longest dormant first, then id.
	// A dormant row's cursor holds its dormant_since; an active row's "".
	if f.After != "" {
		key, err := decodeCursor(f.After, 3)
		if err != nil {
			return Page[RepCustomer]{}, fmt.Errorf("rep's customers: %w", err)
		}
		args["after_id"] = key[2]
		switch key[0] {
		case "0":
			since, err := cursorTime(key[1])
			if err != nil {
				return Page[RepCustomer]{}, fmt.Errorf("rep's customers: %w", err)
			}
			args["after_since"] = since
			where = append(where, `(ci.dormant_since IS NULL OR (ci.dormant_since, c.id) > (@after_since, @after_id))`)
		case "1":
			where = append(where, `(ci.dormant_since IS NULL AND c.id > @after_id)`)
		default:
			return Page[RepCustomer]{}, fmt.Errorf("rep's customers: %w", badCursor())
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.pool.Query(ctx, `
		SELECT c.id, c.name, c.rep_email, COALESCE(r.name, ''), ci.customer_id IS NOT NULL,
			COALESCE(ci.orders, 0), ci.last_order_at, ci.usual_interval, ci.next_expected_at,
			COALESCE(ci.next_expected_sku, ''), COALESCE(ci.open_quotes, 0), ci.dormant_since,
			q.oldest, n.answers, n.promoters, n.detractors
		FROM customers c
		LEFT JOIN customer_insights ci ON ci.customer_id = c.id
		LEFT JOIN LATERAL (SELECT name FROM sales_reps
			WHERE lower(email) = lower(c.rep_email) OR subject = c.rep_email ORDER BY subject LIMIT 1) r ON true
		LEFT JOIN LATERAL (SELECT min(qu.created_at) AS oldest FROM orders o JOIN quotes qu ON qu.order_id = o.id
			WHERE o.customer_id = c.id AND o.status = @awaiting) q ON true
		CROSS JOIN LATERAL (SELECT count(*) AS answers,
				count(*) FILTER (WHERE sv.score >= @promoter) AS promoters,
				count(*) FILTER (WHERE sv.score <= @detractor) AS detractors
			FROM surveys sv JOIN orders o ON o.id = sv.order_id
			WHERE o.customer_id = c.id AND sv.score IS NOT NULL
			  AND sv.answered_at >= @from AND sv.answered_at < @to) n
		`+cond+`
		ORDER BY ci.dormant_since IS NULL, ci.dormant_since, c.id
		LIMIT @limit`, args)
	if err != nil {
		return Page[RepCustomer]{}, dbError("rep's customers", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RepCustomer, error) {
		var c RepCustomer
		var usual *time.Duration
		err := row.Scan(&c.CustomerID, &c.CustomerName, &c.RepEmail, &c.RepName, &c.Insight, &c.Orders,
			&c.LastOrderAt, &usual, &c.NextExpectedAt, &c.NextExpectedSKU, &c.OpenQuotes, &c.DormantSince,
			&c.OldestOpenQuoteAt, &c.NPSAnswers, &c.NPSPromoters, &c.NPSDetractors)
		if usual != nil {
			c.UsualInterval = *usual
		}
		return c, err
	})
	if err != nil {
		return Page[RepCustomer]{}, dbError("rep's customers", err)
	}
	return page(items, limit, func(c RepCustomer) []string {
		if c.DormantSince != nil {
			return []string{"0", formatCursorTime(*c.DormantSince), c.CustomerID}
		}
		return []string{"1", "", c.CustomerID}
	}), nil
}
