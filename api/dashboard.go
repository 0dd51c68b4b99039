package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// The seller's KPI dashboard: GET /dashboard, for staff roles. A browser
// logs in by pasting its bearer token into the form (POST /dashboard/login),
// which keeps it in an HttpOnly, SameSite=Strict cookie scoped to
// /dashboard; a client may send the bearer header instead. Every section is
// an inline SVG chart rendered here (no script, no CDN) with a table beside
// it, and a CSV export at /dashboard/{section}.csv. The figures come from
// store.KPIs; docs/design.md ("Dashboard") defines them.

// DashboardCookie holds a dashboard login: the bearer token itself, so a
// revoked or expired token ends the session at the next request.
const DashboardCookie = "orderflow_dashboard"

// dashboardSession is how long the login cookie lasts (a working day); the
// token's own expiry ends it sooner.
const dashboardSession = 10 * time.Hour

// DefaultDashboardDays is the period the dashboard shows without from/to.
const DefaultDashboardDays = 30

// maxDashboardTable bounds the rows of an NPS table on the page (the
// groups with the most answers); the CSV export has every group.
const maxDashboardTable = 12

var dashboardTemplate = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.Format(time.DateOnly) },
	"pct":      pct,
	"days":     days1,
	"nps":      npsText,
	"amount":   amount,
	"passives": func(n store.NPSScore) int { return n.Answers - n.Promoters - n.Detractors },
	"lower":    strings.ToLower,
	"rate":     autoRate,
	"wait":     automation.FormatDuration,
	"divDays":  func(d time.Duration) float64 { return d.Hours() / 24 },
	"kpikey":   kpiKey,
	"csvLink": func(section, query string) csvLink {
		href := "/dashboard/" + section + ".csv"
		if query != "" {
			href += "?" + query
		}
		return csvLink{Name: section, Href: template.URL(href)}
	},
}).ParseFS(templateFiles, "templates/dashboard.html", "templates/head.html"))

// errNoCredentials: the request carries neither a bearer token nor the cookie.
var errNoCredentials = errors.New("no credentials")

// dashboardActor authenticates a dashboard request: the bearer header
// first, else the login cookie. Only staff roles see the dashboard.
func (s *server) dashboardActor(r *http.Request) (order.Actor, error) {
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(t) == "" {
			return order.Actor{}, auth.ErrInvalidToken
		}
		tok = strings.TrimSpace(t)
	} else if c, err := r.Cookie(DashboardCookie); err == nil && c.Value != "" {
		tok = c.Value
	}
	if tok == "" {
		return order.Actor{}, errNoCredentials
	}
	a, err := s.tokens.Authenticate(r.Context(), tok)
	if err != nil {
		return order.Actor{}, err
	}
	if !a.Role.Staff() {
		return a, forbidden(fmt.Sprintf("role %s may not see the dashboard; it is for the seller's staff (sales, finance, CS)", a.Role))
	}
	return a, nil
}

// dashboardPeriod reads from/to (dates, YYYY-MM-DD, both days included,
// UTC) and customer_id; without from/to the period is the last 30 days
// up to today.
func (s *server) dashboardPeriod(q url.Values) (store.KPIFilter, error) {
	today := s.now().UTC().Truncate(24 * time.Hour)
	f := store.KPIFilter{From: today.AddDate(0, 0, 1-DefaultDashboardDays), To: today.AddDate(0, 0, 1)}
	parse := func(field string, dst *time.Time, offset int) error {
		v := strings.TrimSpace(q.Get(field))
		if v == "" {
			return nil
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return badRequest("the period is not valid", order.FieldError{Field: field, Reason: "a date as YYYY-MM-DD"})
		}
		*dst = d.AddDate(0, 0, offset)
		return nil
	}
	if err := parse("from", &f.From, 0); err != nil {
		return f, err
	}
	if err := parse("to", &f.To, 1); err != nil {
		return f, err
	}
	if !f.From.Before(f.To) {
		return f, badRequest("the period is not valid", order.FieldError{Field: "to", Reason: "on or after from"})
	}
	if f.To.Sub(f.From) > store.MaxKPIPeriod {
		return f, badRequest("the period is not valid", order.FieldError{Field: "from", Reason: "at most three years before to"})
	}
	f.CustomerID = strings.TrimSpace(q.Get("customer_id"))
	if fe := checkID("customer_id", f.CustomerID, false); fe != nil {
		return f, badRequest("the customer is not valid", *fe)
	}
	return f, nil
}

// csvLink is a section's CSV export link.
type csvLink struct {
	Name string
	Href template.URL // built from url.Values.Encode: safe as it is
}

// dashboardPageData is what the template renders.
type dashboardPageData struct {
	Title    string
	Login    bool   // show the login form
	Problem  string // why the page shows no figures
	Actor    order.Actor
	From     string // the period's first day
	To       string // its last day
	Customer string
	Query    string // from=…&to=…&customer_id=… for the CSV links
	Report   *store.KPIReport
	View     *dashboardView
	MaxRows  int
	// Worklists are the lists the actor works from, as they stand now.
	Worklists    []worklistView
	WorklistRows int
	// Customers is the rep's view: a rep's own customers, every rep's for
	// a sales manager or admin; nil for other roles.
	Customers *customersSection
}

// dashboard is GET /dashboard.
func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	d := dashboardPageData{Title: "orderflow dashboard", MaxRows: maxDashboardTable, WorklistRows: dashboardWorklistRows}
	a, err := s.dashboardActor(r)
	if err != nil {
		s.dashboardAuthFail(w, r, err, d)
		return
	}
	d.Actor = a
	f, err := s.dashboardPeriod(r.URL.Query())
	d.From, d.To, d.Customer = r.URL.Query().Get("from"), r.URL.Query().Get("to"), f.CustomerID
	if err != nil {
		p := problemFor(err)
		d.Problem = p.Detail
		for _, fe := range p.Errors {
			d.Problem += fmt.Sprintf(": %s must be %s", fe.Field, fe.Reason)
		}
		writeDashboard(w, r, p.Status, d)
		return
	}
	d.From, d.To = f.From.Format(time.DateOnly), f.To.AddDate(0, 0, -1).Format(time.DateOnly)
	d.Query = dashboardQuery(d.From, d.To, f.CustomerID)
	rep, err := s.store.KPIs(r.Context(), f)
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard figures")
		d.Problem = "The figures could not be read just now. Try again in a minute."
		writeDashboard(w, r, http.StatusServiceUnavailable, d)
		return
	}
	d.Report, d.View = &rep, newDashboardView(rep)
	if d.Worklists, err = s.dashboardWorklists(r.Context(), a, f.CustomerID); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard worklists")
		d.Problem = "The worklists could not be read just now. Try again in a minute."
		writeDashboard(w, r, http.StatusServiceUnavailable, d)
		return
	}
	if d.Customers, err = s.dashboardCustomers(r.Context(), a); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard customers")
		d.Problem = "The customers could not be read just now. Try again in a minute."
		writeDashboard(w, r, http.StatusServiceUnavailable, d)
		return
	}
	writeDashboard(w, r, http.StatusOK, d)
}

func dashboardQuery(from, to, customer string) string {
	q := url.Values{"from": {from}, "to": {to}}
	if customer != "" {
		q.Set("customer_id", customer)
	}
	return q.Encode()
}

// dashboardAuthFail shows the login form (no or a bad token) or says the
// role may not see the dashboard.
func (s *server) dashboardAuthFail(w http.ResponseWriter, r *http.Request, err error, d dashboardPageData) {
	var ae *apiError
	switch {
	case errors.Is(err, errNoCredentials):
		d.Login = true
		writeDashboard(w, r, http.StatusUnauthorized, d)
	case errors.Is(err, auth.ErrInvalidToken):
		// A session whose token expired or was revoked: forget it.
		s.clearDashboardCookie(w, r)
		d.Login, d.Problem = true, "That token is not valid (expired, revoked or mistyped). Paste a current one."
		writeDashboard(w, r, http.StatusUnauthorized, d)
	case errors.As(err, &ae) && ae.status == http.StatusForbidden:
		d.Login, d.Problem = true, ae.detail+"."
		writeDashboard(w, r, http.StatusForbidden, d)
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard authentication")
		d.Problem = "The token could not be checked just now. Try again in a minute."
		writeDashboard(w, r, http.StatusServiceUnavailable, d)
	}
}

// sameOrigin refuses a form posted from another site. The browser's
// Sec-Fetch-Site decides when it sends one (every current browser does):
// same-origin or none (typed, bookmarked). Without it the Origin header
// must name this server, as the request reached it or as
// ORDERFLOW_PUBLIC_URL names it; the page's no-referrer policy makes a
// browser send "Origin: null", which is refused here. A client that sends
// neither header (curl) is not a browser a cross-site form could drive.
func (s *server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if origin == scheme+"://"+r.Host {
		return true
	}
	if pub, err := url.Parse(s.publicURL); err == nil && pub.Host != "" && origin == pub.Scheme+"://"+pub.Host {
		return true
	}
	return false
}

// secureCookie: the cookie is only sent over TLS when the API is served so.
func (s *server) secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.publicURL, "https://")
}

func (s *server) clearDashboardCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: DashboardCookie, Value: "", Path: "/dashboard", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r)})
}

// dashboardLogin is POST /dashboard/login (form: token): a staff token
// becomes the login cookie.
func (s *server) dashboardLogin(w http.ResponseWriter, r *http.Request) {
	d := dashboardPageData{Title: "orderflow dashboard", Login: true}
	if !s.sameOrigin(r) {
		d.Problem = "This form only works from orderflow's own page."
		writeDashboard(w, r, http.StatusForbidden, d)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		d.Problem = "The form could not be read."
		writeDashboard(w, r, http.StatusBadRequest, d)
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
	if tok == "" {
		d.Problem = "Paste your bearer token."
		writeDashboard(w, r, http.StatusBadRequest, d)
		return
	}
	a, err := s.tokens.Authenticate(r.Context(), tok)
	if err == nil && !a.Role.Staff() {
		err = forbidden(fmt.Sprintf("role %s may not see the dashboard; it is for the seller's staff (sales, finance, CS)", a.Role))
	}
	if err != nil {
		s.dashboardAuthFail(w, r, err, d)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: DashboardCookie, Value: tok, Path: "/dashboard",
		MaxAge: int(dashboardSession / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r)})
	zerolog.Ctx(r.Context()).Info().Str("subject", a.Subject).Str("role", string(a.Role)).Msg("dashboard login")
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

// dashboardLogout is POST /dashboard/logout: the cookie is cleared.
func (s *server) dashboardLogout(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		writeDashboard(w, r, http.StatusForbidden, dashboardPageData{Title: "orderflow dashboard", Login: true,
			Problem: "This form only works from orderflow's own page."})
		return
	}
	s.clearDashboardCookie(w, r)
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

// writeDashboard renders the page with the headers of every HTML page
// (writePage: no script, no framing, no caching) and a CSP that lets the
// inline SVG charts draw.
func writeDashboard(w http.ResponseWriter, r *http.Request, status int, d dashboardPageData) {
	writePage(w, r, status, dashboardTemplate, d)
}

// dashboardCSV is GET /dashboard/{section}.csv: one section's table.
func (s *server) dashboardCSV(w http.ResponseWriter, r *http.Request) error {
	a, err := s.dashboardActor(r)
	if err != nil {
		if errors.Is(err, errNoCredentials) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="orderflow"`)
			return &apiError{status: http.StatusUnauthorized, slug: ProblemUnauthorized,
				detail: "send Authorization: Bearer <token>, or log in at /dashboard"}
		}
		return err
	}
	section := mux.Vars(r)["section"]
	if section == "customers" {
		return s.dashboardCustomersCSV(w, r, a)
	}
	write, ok := csvSections[section]
	if !ok {
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range csvSections {
				if !yield(k) {
					return
				}
			}
			yield("customers")
		})
		return notFound("no such section; one of: " + strings.Join(names, ", "))
	}
	f, err := s.dashboardPeriod(r.URL.Query())
	if err != nil {
		return err
	}
	rep, err := s.store.KPIs(r.Context(), f)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("orderflow-%s-%s-%s", section, f.From.Format(time.DateOnly), f.To.AddDate(0, 0, -1).Format(time.DateOnly))
	if f.CustomerID != "" {
		name += "-" + safeFileName(f.CustomerID)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	for _, row := range write(rep) {
		_ = cw.Write(csvSafe(row))
	}
	cw.Flush()
	return nil
}

// csvSafe keeps a spreadsheet from reading a text cell as a formula (a
// SKU or warehouse name from the ERP such as "=HYPERLINK(…)"): a cell that
// starts with = + - @ or a control character and is not a number gets a
// leading apostrophe, as OWASP's CSV-injection advice has it. Numbers,
// negative ones too, stay as they are.
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = c
		if c == "" || !strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			continue
		}
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			out[i] = "'" + c
		}
	}
	return out
}

// safeFileName keeps letters, digits, '-' and '_'.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

// Number formats: one decimal for days and percentages, whole NPS points,
// amounts as money.Money prints them. An undefined figure is "".
func days1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func pct(r store.Rate) string {
	if !r.Valid() {
		return ""
	}
	return strconv.FormatFloat(r.Percent(), 'f', 1, 64)
}

func npsText(n store.NPSScore) string {
	if !n.Valid() {
		return ""
	}
	v := math.Round(n.Score())
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func amount(minor int64, cur string) string {
	return strings.TrimSuffix(money.New(minor, cur).String(), " "+cur)
}

func optDays(p *float64) string {
	if p == nil {
		return ""
	}
	return days1(*p)
}

// csvSections write each section's table: a header row, then the rows.
var csvSections = map[string]func(store.KPIReport) [][]string{
	"leadtimes": func(r store.KPIReport) [][]string {
		rows := [][]string{{"phase", "orders", "p50_days", "p90_days"}}
		for _, p := range leadPhases(r.LeadTimes) {
			rows = append(rows, []string{p.Key, strconv.Itoa(p.P.N), days1(p.P.P50), days1(p.P.P90)})
		}
		return rows
	},
	"leadtime-trend": func(r store.KPIReport) [][]string {
		rows := [][]string{{"week", "orders", "quote_to_accepted_p50_days", "accepted_to_delivered_p50_days", "delivered_to_paid_p50_days"}}
		for _, w := range r.LeadTimes.Weeks {
			rows = append(rows, []string{w.Week.Format(time.DateOnly), strconv.Itoa(w.Orders),
				optDays(w.QuoteToAccepted), optDays(w.AcceptedToDelivered), optDays(w.DeliveredToPaid)})
		}
		return rows
	},
	"ontime": func(r store.KPIReport) [][]string {
		rows := [][]string{{"carrier", "delivered", "on_promised_date", "with_promised_date", "on_promised_date_pct",
			"within_quoted_lead_time", "with_quoted_lead_time", "within_quoted_lead_time_pct"}}
		delivered := 0
		for _, c := range r.OnTime.ByCarrier {
			delivered += c.Delivered
			rows = append(rows, []string{c.Carrier, strconv.Itoa(c.Delivered), strconv.Itoa(c.Promise.Num), strconv.Itoa(c.Promise.Den), pct(c.Promise),
				strconv.Itoa(c.LeadTime.Num), strconv.Itoa(c.LeadTime.Den), pct(c.LeadTime)})
		}
		o := r.OnTime
		return append(rows, []string{"all", strconv.Itoa(delivered), strconv.Itoa(o.Promise.Num), strconv.Itoa(o.Promise.Den), pct(o.Promise),
			strconv.Itoa(o.LeadTime.Num), strconv.Itoa(o.LeadTime.Den), pct(o.LeadTime)})
	},
	"automation": func(r store.KPIReport) [][]string {
		a := r.Automation
		return [][]string{{"orders", "completed", "completed_without_staff", "automation_pct", "touched_by_staff"},
			{strconv.Itoa(a.Orders), strconv.Itoa(a.Completed.Den), strconv.Itoa(a.Completed.Num), pct(a.Completed), strconv.Itoa(a.Touched)}}
	},
	"exceptions": func(r store.KPIReport) [][]string {
		rows := [][]string{{"stage", "exceptions", "orders_affected", "per_100_orders"}}
		for _, st := range r.Exceptions.Stages {
			rows = append(rows, []string{st.Stage, strconv.Itoa(st.Exceptions), strconv.Itoa(st.Orders), days1(st.PerHundred)})
		}
		return append(rows, []string{"all", strconv.Itoa(r.Exceptions.Total), "", days1(r.Exceptions.PerHundred())})
	},
	"conversion": func(r store.KPIReport) [][]string {
		rows := [][]string{{"outcome", "orders", "pct_of_quoted"}, {"quoted", strconv.Itoa(r.Conversion.Quoted), ""}}
		for _, o := range conversionRows(r.Conversion) {
			rows = append(rows, []string{o.Key, strconv.Itoa(o.R.Num), pct(o.R)})
		}
		return rows
	},
	"nps": func(r store.KPIReport) [][]string {
		rows := [][]string{{"scenario", "key", "answers", "promoters", "passives", "detractors", "nps"}}
		add := func(dim string, ns ...store.NPSScore) {
			for _, n := range ns {
				rows = append(rows, []string{dim, n.Key, strconv.Itoa(n.Answers), strconv.Itoa(n.Promoters),
					strconv.Itoa(n.Answers - n.Promoters - n.Detractors), strconv.Itoa(n.Detractors), npsText(n)})
			}
		}
		add("overall", r.NPS.Overall)
		add("warehouse", r.NPS.ByWarehouse...)
		add("carrier", r.NPS.ByCarrier...)
		add("customer", r.NPS.ByCustomer...)
		add("product", r.NPS.ByProduct...)
		return rows
	},
	"receivables": func(r store.KPIReport) [][]string {
		rows := [][]string{{"currency", "invoiced", "open_at_end", "overdue", "overdue_invoices",
			"overdue_1_30_days", "overdue_31_60_days", "overdue_61_90_days", "overdue_over_90_days", "dso_days"}}
		for _, rc := range r.Receivables {
			rows = append(rows, []string{rc.Currency, amount(rc.Invoiced, rc.Currency), amount(rc.Open, rc.Currency),
				amount(rc.Overdue, rc.Currency), strconv.Itoa(rc.OverdueInvoices),
				amount(rc.Aging[0], rc.Currency), amount(rc.Aging[1], rc.Currency), amount(rc.Aging[2], rc.Currency), amount(rc.Aging[3], rc.Currency),
				optDays(rc.DSO)})
		}
		return rows
	},
	"orders": func(r store.KPIReport) [][]string {
		rows := [][]string{{"day", "orders"}}
		for _, d := range r.OrdersPerDay.Days {
			rows = append(rows, []string{d.Day.Format(time.DateOnly), strconv.Itoa(d.Orders)})
		}
		return rows
	},
}

type leadPhase struct {
	Key, Label string
	P          store.Percentiles
}

func leadPhases(lt store.LeadTimes) []leadPhase {
	return []leadPhase{
		{"quote_to_accepted", "Quote → accepted", lt.QuoteToAccepted},
		{"accepted_to_delivered", "Accepted → delivered", lt.AcceptedToDelivered},
		{"delivered_to_paid", "Delivered → paid", lt.DeliveredToPaid},
	}
}

type conversionRow struct {
	Key, Label string
	R          store.Rate
}

func conversionRows(c store.Conversion) []conversionRow {
	return []conversionRow{
		{"accepted", "Accepted", c.Accepted}, {"rejected", "Rejected", c.Rejected}, {"expired", "Expired", c.Expired},
		{"withdrawn", "Cancelled before acceptance", c.Withdrawn}, {"open", "Still open", c.Open}, {"revised", "Revised (2+ revisions)", c.Revised},
	}
}
