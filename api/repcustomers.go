package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// repCustomerView is one customer in GET /v1/reps/{subject}/customers.
// The fields the customer workflow knows (orders, last order, usual
// interval, next expected order, open quotes, dormancy) are empty while
// it wrote no insight for the customer (insight false).
type repCustomerView struct {
	CustomerID        string     `json:"customer_id"`
	CustomerName      string     `json:"customer_name"`
	RepEmail          string     `json:"rep_email"`
	RepName           string     `json:"rep_name,omitempty"`
	Insight           bool       `json:"insight"`
	Orders            int        `json:"orders"`
	LastOrderAt       *time.Time `json:"last_order_at,omitempty"`
	UsualIntervalDays *float64   `json:"usual_interval_days,omitempty"`
	NextExpectedAt    *time.Time `json:"next_expected_at,omitempty"`
	NextExpectedSKU   string     `json:"next_expected_sku,omitempty"`
	OpenQuotes        int        `json:"open_quotes"`
	OldestOpenQuoteAt *time.Time `json:"oldest_open_quote_at,omitempty"`
	// OldestOpenQuoteAgeDays: whole days since the oldest open quote was
	// first priced.
	OldestOpenQuoteAgeDays *int       `json:"oldest_open_quote_age_days,omitempty"`
	Dormant                bool       `json:"dormant"`
	DormantSince           *time.Time `json:"dormant_since,omitempty"`
	NPS                    *float64   `json:"nps"`
	NPSAnswers             int        `json:"nps_answers"`
}

func newRepCustomerView(c store.RepCustomer, now time.Time) repCustomerView {
	v := repCustomerView{CustomerID: c.CustomerID, CustomerName: c.CustomerName, RepEmail: c.RepEmail,
		RepName: c.RepName, Insight: c.Insight, Orders: c.Orders, LastOrderAt: c.LastOrderAt,
		NextExpectedAt: c.NextExpectedAt, NextExpectedSKU: c.NextExpectedSKU, OpenQuotes: c.OpenQuotes,
		OldestOpenQuoteAt: c.OldestOpenQuoteAt, Dormant: c.Dormant(), DormantSince: c.DormantSince,
		NPSAnswers: c.NPSAnswers}
	if c.UsualInterval > 0 {
		d := math.Round(c.UsualInterval.Hours()/24*10) / 10
		v.UsualIntervalDays = &d
	}
	if c.OldestOpenQuoteAt != nil {
		age := max(0, int(now.Sub(*c.OldestOpenQuoteAt)/(24*time.Hour)))
		v.OldestOpenQuoteAgeDays = &age
	}
	if nps := c.NPS(); nps != nil {
		score := math.Round(*nps*10) / 10
		v.NPS = &score
	}
	return v
}

// repCustomersPage is the body of GET /v1/reps/{subject}/customers.
type repCustomersPage struct {
	Customers []repCustomerView `json:"customers"`
	NextAfter string            `json:"next_after,omitempty"`
}

// repCustomers is GET /v1/reps/{subject}/customers: the customers whose
// terms name the rep, dormant ones first. A sales rep reads their own
// ("me" names the caller); a sales manager or sales admin any rep's.
func (s *server) repCustomers(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, order.RoleSalesRep, order.RoleSalesManager, order.RoleSalesAdmin); err != nil {
		return err
	}
	subject := mux.Vars(r)["subject"]
	if subject == "me" {
		subject = a.Subject
	}
	if len(subject) > maxIDLen {
		return badRequest("bad rep", order.FieldError{Field: "subject", Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
	}
	f, err := parseRepCustomerFilter(r)
	if err != nil {
		return err
	}
	names, err := s.repNamesOf(ctx, subject)
	if err != nil {
		return err
	}
	if a.Role == order.RoleSalesRep && subject != a.Subject {
		mine, err := s.repNamesOf(ctx, a.Subject)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(mine, n) }) {
			return forbidden("a sales rep reads only their own customers; use /v1/reps/me/customers")
		}
	}
	f.Reps, f.At = names, s.now()
	p, err := s.store.RepCustomers(ctx, f)
	if err != nil {
		return err
	}
	out := repCustomersPage{Customers: make([]repCustomerView, 0, len(p.Items)), NextAfter: p.Next}
	for _, c := range p.Items {
		out.Customers = append(out.Customers, newRepCustomerView(c, f.At))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseRepCustomerFilter reads dormant, after and limit, naming the
// parameter at fault.
func parseRepCustomerFilter(r *http.Request) (store.RepCustomerFilter, error) {
	q := r.URL.Query()
	known := []string{"dormant", "after", "limit"}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			return store.RepCustomerFilter{}, badRequest("unknown query parameter",
				order.FieldError{Field: k, Reason: "not a parameter of this list; use " + strings.Join(known, ", ")})
		}
		if len(vs) > 1 {
			return store.RepCustomerFilter{}, badRequest("bad query parameter", order.FieldError{Field: k, Reason: "give it once"})
		}
	}
	var f store.RepCustomerFilter
	switch q.Get("dormant") {
	case "", "false":
	case "true":
		f.DormantOnly = true
	default:
		return f, badRequest("bad query parameter", order.FieldError{Field: "dormant", Reason: "true or false"})
	}
	f.After = q.Get("after")
	if len(f.After) > maxIDLen*4 {
		return f, badRequest("bad query parameter", order.FieldError{Field: "after", Reason: "not a cursor this list gave out; start again without it"})
	}
	n, err := parseLimit(q, store.DefaultListLimit)
	f.Limit = n
	return f, err
}

// repNamesOf are the names a customer's terms may name a rep by: the
// rep's subject, and the e-mail of their rep record.
func (s *server) repNamesOf(ctx context.Context, subject string) ([]string, error) {
	names := []string{subject}
	rep, err := s.store.Rep(ctx, subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case rep.Email != "" && rep.Email != subject:
		names = append(names, rep.Email)
	}
	return names, nil
}
