package player

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/scenario"
	"github.com/orderflow/orderflow/internal/sim/faults"
)

// Targets are the running system's parts the player talks to.
type Targets struct {
	// API is orderflow's REST API; ERP, Carrier and Bank the simulators'
	// base URLs; Mail the mail sink's web address.
	API, ERP, Carrier, Bank, Mail string
	// Mint makes a bearer token for an actor (the dev token issuer).
	Mint func(order.Actor) (string, error)
}

// Options tune a run.
type Options struct {
	// Poll is how often an order the player waits on is read (wall time);
	// 0 means 500ms.
	Poll time.Duration
	// Transit is how long (business time) the carrier takes from booking
	// to delivery or to its exception; 0 means a day.
	Transit time.Duration
	// Staff is how long (business time) CS takes to reship a damaged or
	// lost parcel, and finance to decide a credit hold the plan did not
	// foresee; 0 means 2 hours.
	Staff time.Duration
	// Stall is how long (business time) an order may stay put with
	// nothing planned left to do before the player leaves it waiting
	// (for finance, for CS); 0 means 5 days.
	Stall time.Duration
	// Timeout bounds the run in wall time; 0 means none (the context's).
	Timeout time.Duration
	// Progress, when set, gets a line now and then.
	Progress func(format string, args ...any)
	Log      zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Transit <= 0 {
		o.Transit = 24 * time.Hour
	}
	if o.Staff <= 0 {
		o.Staff = 2 * time.Hour
	}
	if o.Stall <= 0 {
		o.Stall = 5 * 24 * time.Hour
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return o
}

// Result is what a run did.
type Result struct {
	Plan     scenario.Plan
	Started  time.Time
	Finished time.Time
	// Orders follow Plan.Orders.
	Orders []OrderRun
	// Payments are the bank payments the player sent, in sending order.
	Payments []SentPayment
	// Errors are what went wrong in the player itself (an answer it could
	// not use); a run with errors is not a clean measurement.
	Errors []string
}

// OrderRun is one planned order as played.
type OrderRun struct {
	Plan    scenario.Order
	OrderID string
	// Status is the order's status when the run ended; Waiting its
	// details then; NeedsAttention its flag.
	Status         order.Status
	Waiting        string
	NeedsAttention bool
	// DeliveryOverdue: a shipment is past its promise and CS was alerted
	// (the overdue-deliveries worklist lists it).
	DeliveryOverdue bool
	// ApprovalAsked: the system asked for an approval.
	ApprovalAsked bool
	// CreditHeld: the order went on credit hold; UnplannedHold when the
	// plan did not send it over the limit.
	CreditHeld    bool
	UnplannedHold bool
	// Parked says why the player stopped following the order before it
	// ended (it waits for someone the plan leaves silent); "" when it
	// ended or the run did.
	Parked string
	// StaffSteps are the steps the player took as seller staff (CS,
	// finance, sales manager), as "role: step".
	StaffSteps []string
	// Invoices are the order's invoice numbers when the run ended.
	Invoices []string
	// PaymentIDs are the bank transaction ids the order's live view lists
	// as applied when the run ended.
	PaymentIDs []string
	// Shipments are the ids of the order's shipments when the run ended.
	Shipments []string
	Error     string
}

// SentPayment is one payment the player had the bank send.
type SentPayment struct {
	BankTransactionID string
	// Parts are the remittance parts' transaction ids (a grouped payment);
	// empty for a single payment.
	Parts     []string
	Customer  string
	Behaviour scenario.PaymentBehaviour
	Amount    money.Money
	Reference string
	// Invoices are the invoices the payer meant to pay.
	Invoices []string
	Orders   []string
}

// Play walks plan against the system at targets and returns what it did
// once every order has ended or waits for someone the plan leaves silent.
func Play(ctx context.Context, plan scenario.Plan, t Targets, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if plan.TimeScale <= 0 {
		return nil, errors.New("player: the plan has no time scale")
	}
	for _, c := range plan.Customers {
		if !c.Demo {
			return nil, fmt.Errorf("player: customer %s is not a demo customer: the simulators hold only %s (new customers are not played yet)",
				c.ID, strings.Join(scenario.DemoCustomers, ", "))
		}
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	p := &player{
		plan: plan, t: t, opts: opts, log: opts.Log,
		c:         &client{http: &http.Client{Timeout: time.Minute}, retryFor: 3 * time.Minute},
		tokens:    map[string]string{},
		customers: map[string]*customer{},
		groups:    map[string]*group{},
		res:       &Result{Plan: plan, Orders: make([]OrderRun, len(plan.Orders))},
	}
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	p.start = time.Now()
	p.res.Started = p.start
	outagesDone := p.playOutages(ctx)
	var wg sync.WaitGroup
	for i := range plan.Orders {
		p.res.Orders[i].Plan = plan.Orders[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &walker{p: p, run: &p.res.Orders[i], plan: plan.Orders[i]}
			if err := w.walk(ctx); err != nil && ctx.Err() == nil {
				w.run.Error = err.Error()
				p.fail("order %s: %v", plan.Orders[i].Ref, err)
			}
		}()
	}
	wg.Wait()
	<-outagesDone
	// Read where every order stands, with a context of its own: a run cut
	// short by its timeout still reports.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	p.final(fctx)
	p.res.Finished = time.Now()
	if ctx.Err() != nil {
		return p.res, fmt.Errorf("player: run cut short: %w", ctx.Err())
	}
	return p.res, nil
}

// player is one run's shared state.
type player struct {
	plan  scenario.Plan
	t     Targets
	opts  Options
	log   zerolog.Logger
	c     *client
	start time.Time

	mu        sync.Mutex
	tokens    map[string]string
	customers map[string]*customer
	groups    map[string]*group
	res       *Result
}

// customer is what the player knows of a scenario customer.
type customer struct {
	ID, Name, Currency string
	CreditLimit        money.Money
	PayerAccount       string
	// credit orders the moves into the credit check of the customer's
	// orders: an order the plan sends over the limit takes it alone while
	// the ERP's receivables are raised for it, every other order shares it.
	credit sync.RWMutex
}

// wall is the wall time of a business duration at the plan's scale.
func (p *player) wall(d time.Duration) time.Duration { return scenario.Compress(d, p.plan.TimeScale) }

// business is the business time of a wall duration.
func (p *player) business(d time.Duration) time.Duration {
	return time.Duration(float64(d) * p.plan.TimeScale)
}

func (p *player) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.log.Warn().Msg(msg)
	p.mu.Lock()
	p.res.Errors = append(p.res.Errors, msg)
	p.mu.Unlock()
}

// token returns a bearer token for the actor, minted once.
func (p *player) token(a order.Actor) (string, error) {
	key := string(a.Role) + "|" + a.CustomerID + "|" + a.Subject
	p.mu.Lock()
	defer p.mu.Unlock()
	if tok, ok := p.tokens[key]; ok {
		return tok, nil
	}
	tok, err := p.t.Mint(a)
	if err != nil {
		return "", fmt.Errorf("mint a token for %s: %w", a.Subject, err)
	}
	p.tokens[key] = tok
	return tok, nil
}

// Staff actors the player acts as.
var (
	actorCS       = order.Actor{Subject: "scenario.cs@seller.example", Role: order.RoleCS}
	actorFinance  = order.Actor{Subject: "scenario.finance@seller.example", Role: order.RoleFinance}
	actorAdmin    = order.Actor{Subject: "scenario.admin@seller.example", Role: order.RoleSalesAdmin}
	actorManagers = []order.Actor{
		{Subject: "scenario.manager1@seller.example", Role: order.RoleSalesManager},
		{Subject: "scenario.manager2@seller.example", Role: order.RoleSalesManager},
	}
)

// termsAnswer is the part of GET /v1/customers/{id}/terms the player reads.
type termsAnswer struct {
	InForce       map[string]any `json:"in_force"`
	PayerAccounts []struct {
		Account string `json:"account"`
	} `json:"payer_accounts"`
}

// MinCreditLimit is the credit limit (major units) the player gives a
// customer whose limit is lower: the scenario decides which orders go over
// the limit, so the others must fit in it whatever the month brings.
const MinCreditLimit = 1_000_000

// prepare reads each customer's terms and raises a credit limit below
// MinCreditLimit, as a sales admin would before a month of trading.
func (p *player) prepare(ctx context.Context) error {
	tok, err := p.token(actorAdmin)
	if err != nil {
		return err
	}
	for _, pc := range p.plan.Customers {
		var ta termsAnswer
		u := p.t.API + "/v1/customers/" + url.PathEscape(pc.ID) + "/terms"
		if _, err := p.c.do(ctx, request{method: http.MethodGet, url: u, token: tok}, &ta); err != nil {
			return fmt.Errorf("player: read the terms of %s: %w", pc.ID, err)
		}
		c := &customer{ID: pc.ID}
		c.Name, _ = ta.InForce["customer_name"].(string)
		c.Currency, _ = ta.InForce["currency"].(string)
		limit, _ := ta.InForce["credit_limit"].(map[string]any)
		minor, _ := limit["minor"].(float64)
		c.CreditLimit = money.New(int64(minor), c.Currency)
		if len(ta.PayerAccounts) > 0 {
			// The payer pays from the first account on file; the bank
			// tells it, and the matcher knows it.
			c.PayerAccount = ta.PayerAccounts[0].Account
		}
		floor := money.New(MinCreditLimit*100, c.Currency)
		if c.CreditLimit.Minor < floor.Minor {
			ta.InForce["credit_limit"] = floor
			for _, k := range []string{"version", "effective_from", "hash"} {
				delete(ta.InForce, k)
			}
			body := map[string]any{"terms": ta.InForce, "reason": "scenario " + p.plan.Name + ": the month's orders fit in the limit; the scenario sends chosen orders over it"}
			if _, err := p.c.do(ctx, request{method: http.MethodPut, url: u, token: tok, body: body}, nil); err != nil {
				return fmt.Errorf("player: raise the credit limit of %s: %w", pc.ID, err)
			}
			c.CreditLimit = floor
		}
		p.customers[pc.ID] = c
	}
	return nil
}

// playOutages switches the simulators' faults on and off at the plan's
// windows; the channel closes when the last window has ended.
func (p *player) playOutages(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range p.plan.Outages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sleep(ctx, p.wall(w.Start)) != nil {
				return
			}
			p.opts.Progress("outage of %s begins (%s)", w.System, w.Mode)
			if err := p.fault(ctx, w, true); err != nil {
				p.fail("outage of %s: %v", w.System, err)
				return
			}
			_ = sleep(ctx, p.wall(w.End-w.Start))
			if err := p.fault(context.WithoutCancel(ctx), w, false); err != nil {
				p.fail("end of the outage of %s: %v", w.System, err)
			}
			p.opts.Progress("outage of %s ends", w.System)
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// fault turns one outage on or off.
func (p *player) fault(ctx context.Context, w scenario.Window, on bool) error {
	if w.System == scenario.SystemSMTP {
		if !on {
			_, err := p.c.do(ctx, request{method: http.MethodDelete, url: p.t.Mail + "/faults"}, nil)
			return err
		}
		_, err := p.c.do(ctx, request{method: http.MethodPut, url: p.t.Mail + "/faults", body: map[string]bool{"refuse": true}}, nil)
		return err
	}
	base := map[string]string{scenario.SystemERP: p.t.ERP, scenario.SystemCarrier: p.t.Carrier}[w.System]
	if base == "" {
		return fmt.Errorf("no simulator for system %q", w.System)
	}
	if !on {
		_, err := p.c.do(ctx, request{method: http.MethodDelete, url: base + "/sim/faults"}, nil)
		return err
	}
	rule := faults.Rule{Route: faults.All, ErrorRate: 1}
	if w.Mode == scenario.ModeLatency {
		rule = faults.Rule{Route: faults.All, LatencyMS: int(w.Latency.Milliseconds())}
	}
	_, err := p.c.do(ctx, request{method: http.MethodPut, url: base + "/sim/faults", body: faults.Body{Rules: []faults.Rule{rule}}}, nil)
	return err
}

// group gathers the invoices one grouped payment pays.
type group struct {
	members  int
	reported int
	invoices []dueInvoice
	latest   time.Time // when the last invoice was seen
	delay    time.Duration
	customer string
	paid     bool
}

// dueInvoice is an invoice a payer is to pay.
type dueInvoice struct {
	OrderID   string
	Number    string
	Open      money.Money
	Due       time.Time
	Reference string
}

// joinGroup tells the order's group what the order brings: its invoices,
// or none (it ended without). The last member to report gets the group
// back, to pay it.
func (p *player) joinGroup(name, customer string, invoices []dueInvoice, delay time.Duration) *group {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.groups[name]
	if g == nil {
		g = &group{customer: customer}
		for _, o := range p.plan.Orders {
			if o.Payment.Group == name {
				g.members++
			}
		}
		p.groups[name] = g
	}
	g.reported++
	g.invoices = append(g.invoices, invoices...)
	if len(invoices) > 0 {
		g.latest = time.Now()
		g.delay = max(g.delay, delay)
	}
	if g.reported < g.members || g.paid || len(g.invoices) == 0 {
		return nil
	}
	g.paid = true
	slices.SortFunc(g.invoices, func(a, b dueInvoice) int { return cmp.Compare(a.Number, b.Number) })
	return g
}

func (p *player) sent(sp SentPayment) {
	p.mu.Lock()
	p.res.Payments = append(p.res.Payments, sp)
	p.mu.Unlock()
}
