package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// dashboardCustomerRows is how many customers the dashboard's customers
// section shows; its CSV and GET /v1/reps/{subject}/customers have them all.
const dashboardCustomerRows = 25

// customersColumn is one column of the customers section: its key (the
// cell's data-kpi is customer.<id>.<key>) and its heading.
type customersColumn struct{ Key, Title string }

// customersSection is the dashboard's section of the rep's view: a sales
// rep's own customers ("My customers"), or every rep's for a sales manager
// or sales admin ("Customers", with the rep's name), dormant first.
type customersSection struct {
	Title   string
	API     string
	Columns []customersColumn
	// Rows are the customers' cells, in the order of Columns.
	Rows []customersRow
	// More: there are customers beyond the rows shown.
	More bool
}

// customersRow is one customer's cells.
type customersRow struct {
	CustomerID string
	Dormant    bool
	Cells      []string
}

// customersColumns are the section's columns; the rep's column only for
// those who see every rep's customers.
func customersColumns(withRep bool) []customersColumn {
	cols := []customersColumn{{"customer_id", "Customer"}, {"name", "Name"}}
	if withRep {
		cols = append(cols, customersColumn{"rep", "Rep"})
	}
	return append(cols,
		customersColumn{"last_order", "Last order"}, customersColumn{"orders", "Orders"},
		customersColumn{"interval", "Usual interval (days)"}, customersColumn{"next_expected", "Next expected order"},
		customersColumn{"next_sku", "SKU"}, customersColumn{"open_quotes", "Open quotes"},
		customersColumn{"oldest_quote_days", "Oldest open quote (days)"}, customersColumn{"dormant_since", "Dormant since"},
		customersColumn{"nps", "NPS (12 months)"}, customersColumn{"nps_answers", "Answers"})
}

// customersCells are a customer's cells for customersColumns; "" where the
// customer workflow knows nothing yet.
func customersCells(c store.RepCustomer, withRep bool, now time.Time) []string {
	v := newRepCustomerView(c, now)
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	}
	count := func(n int) string {
		if !c.Insight {
			return ""
		}
		return strconv.Itoa(n)
	}
	cells := []string{c.CustomerID, c.CustomerName}
	if withRep {
		rep := c.RepName
		if rep == "" {
			rep = c.RepEmail
		}
		cells = append(cells, rep)
	}
	oldest, nps := "", ""
	if v.OldestOpenQuoteAgeDays != nil {
		oldest = strconv.Itoa(*v.OldestOpenQuoteAgeDays)
	}
	if v.NPS != nil {
		nps = strconv.FormatFloat(*v.NPS, 'f', 0, 64)
	}
	return append(cells, date(c.LastOrderAt), count(c.Orders), optDays(v.UsualIntervalDays), date(c.NextExpectedAt),
		c.NextExpectedSKU, count(c.OpenQuotes), oldest, date(c.DormantSince), nps, strconv.Itoa(c.NPSAnswers))
}

// customersFilter is whose customers the actor's section lists: a rep's
// own, everyone's for a sales manager or admin; ok false for other roles.
func (s *server) customersFilter(ctx context.Context, a order.Actor) (f store.RepCustomerFilter, title string, ok bool, err error) {
	switch a.Role {
	case order.RoleSalesRep:
		f.Reps, err = s.repNamesOf(ctx, a.Subject)
		return f, "My customers", true, err
	case order.RoleSalesManager, order.RoleSalesAdmin:
		return f, "Customers", true, nil
	}
	return f, "", false, nil
}

// dashboardCustomers reads the actor's customers section; nil for roles
// without one.
func (s *server) dashboardCustomers(ctx context.Context, a order.Actor) (*customersSection, error) {
	f, title, ok, err := s.customersFilter(ctx, a)
	if !ok || err != nil {
		return nil, err
	}
	f.At, f.Limit = s.now(), dashboardCustomerRows
	p, err := s.store.RepCustomers(ctx, f)
	if err != nil {
		return nil, err
	}
	withRep := len(f.Reps) == 0
	api := "/v1/reps/me/customers"
	if withRep {
		api = "/v1/reps/{subject}/customers"
	}
	sec := &customersSection{Title: title, API: api, Columns: customersColumns(withRep), More: p.Next != ""}
	for _, c := range p.Items {
		sec.Rows = append(sec.Rows, customersRow{CustomerID: c.CustomerID, Dormant: c.Dormant(),
			Cells: customersCells(c, withRep, f.At)})
	}
	return sec, nil
}

// dashboardCustomersCSV is GET /dashboard/customers.csv: the whole
// customers section of the actor, as it stands now.
func (s *server) dashboardCustomersCSV(w http.ResponseWriter, r *http.Request, a order.Actor) error {
	ctx := r.Context()
	f, _, ok, err := s.customersFilter(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden(fmt.Sprintf("role %s has no customers section; it is for sales reps, managers and admins", a.Role))
	}
	f.At, f.Limit = s.now(), store.MaxListLimit
	withRep := len(f.Reps) == 0
	var rows [][]string
	for {
		p, err := s.store.RepCustomers(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range p.Items {
			rows = append(rows, customersCells(c, withRep, f.At))
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	var header []string
	for _, c := range customersColumns(withRep) {
		header = append(header, c.Key)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="orderflow-customers-`+f.At.UTC().Format(time.DateOnly)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, row := range rows {
		_ = cw.Write(csvSafe(row))
	}
	cw.Flush()
	return nil
}
