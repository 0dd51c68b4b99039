package scenario

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Plan is a scenario expanded: every order it places and how every party
// behaves on it, in business time since the scenario's start. Delays are
// counted from the system's own step named on each field (a quote's mail,
// an invoice), which only the running system fixes; request times and
// outage windows are absolute.
type Plan struct {
	Name     string
	Seed     uint64
	Duration time.Duration
	// TimeScale is business seconds per wall second (Compress).
	TimeScale float64
	Customers []PlannedCustomer
	// Orders in the order they are requested (RequestAt, then Ref).
	Orders  []Order
	Outages []Window
}

// PlannedCustomer is a scenario customer. A demo customer keeps the terms
// of the demo data; a new one gets Terms drawn from the seed, for the
// player to put before the first order.
type PlannedCustomer struct {
	ID    string
	Demo  bool
	Terms *Terms // nil for a demo customer
}

// Terms are a new customer's terms.
type Terms struct {
	Currency         string
	PaymentTermsDays int
	CreditLimitMinor int64
}

// Order is one planned order.
type Order struct {
	// Seq is the order's 1-based position in Plan.Orders.
	Seq int
	// Ref names the order stably: customer, buyer and the buyer's n-th
	// order (ACME-001-B02-0003). The player uses it as the PO number and
	// idempotency key, so a replay places no order twice.
	Ref        string
	CustomerID string
	// Buyer is the 1-based buyer of the customer who orders.
	Buyer int
	// RequestAt is when the quote is requested.
	RequestAt time.Duration
	Lines     []OrderLine
	Quote     QuotePlan
	Approval  ApprovalPlan
	Credit    CreditPlan
	// Carrier is what happens to the shipment; "" when the order never
	// ships (quote not accepted, credit declined).
	Carrier CarrierOutcome
	// Payment is "" behaviour when the order is never invoiced.
	Payment PaymentPlan
	// Survey is "" band when the order never ships.
	Survey SurveyPlan
	// Forced are the reasons the scenario forces this order into a human
	// decision, known before the run (see Forced).
	Forced []Reason
}

// OrderLine is one line of an order.
type OrderLine struct {
	SKU      string
	Quantity int
}

// QuotePlan is the buyer's answer to the quote.
type QuotePlan struct {
	Outcome QuoteOutcome
	// Decide is from the quote's mail to the answer (accept, revision
	// request, rejection); 0 for a silent quote, which expires.
	Decide time.Duration
	// AcceptRevised is from the revised quote's mail to its acceptance;
	// only for revised_then_accepted.
	AcceptRevised time.Duration
}

// ApprovalPlan is the approver's answer should the system ask for an
// approval (the customer's terms decide whether it does). "" when the
// quote is never accepted.
type ApprovalPlan struct {
	Outcome ApprovalOutcome
	// Delay is from the approval request to the answer.
	Delay time.Duration
}

// CreditPlan is whether the order goes over the credit limit and what
// finance decides. "" outcome when the quote is never accepted.
type CreditPlan struct {
	Outcome CreditOutcome
	// Decision and Delay (from the hold) only for over_limit.
	Decision CreditDecision
	Delay    time.Duration
}

// PaymentPlan is how the payer pays the order's invoice.
type PaymentPlan struct {
	Behaviour PaymentBehaviour
	// Delay is from the invoice to the (first) payment; for late, from the
	// due date; 0 for never.
	Delay time.Duration
	// ShortMinor is what the payment falls short (bank_fee).
	ShortMinor int64
	// Parts is how many payments pay the invoice (split); 1 otherwise.
	Parts int
	// Group names the remittance that pays this and the customer's other
	// invoices of the same group together (grouped); a customer's last
	// group may hold fewer than group_size invoices.
	Group string
}

// SurveyPlan is the buyer's NPS answer.
type SurveyPlan struct {
	Band SurveyBand
	// Score is 0–10; -1 when unanswered.
	Score int
	// Delay is from the survey mail to the answer.
	Delay time.Duration
}

// Window is an outage in business time.
type Window struct {
	System  string
	Start   time.Duration
	End     time.Duration
	Mode    string
	Latency time.Duration
}

// Reason is why an order needs a human decision by the scenario's design.
type Reason string

// Reasons the scenario forces an order into a human decision. They leave
// the order out of the straight-through (STP) denominator: the staff or
// buyer decision is the scenario's intent, not a failure of automation.
const (
	// ReasonQuoteRejected: the buyer rejects; the rep follows up.
	ReasonQuoteRejected Reason = "quote_rejected"
	// ReasonQuoteExpired: the buyer stays silent; the quote expires and
	// the rep follows up. The order never reaches cash by design.
	ReasonQuoteExpired Reason = "quote_expired"
	// ReasonCreditDecision: the order goes over the credit limit; finance
	// decides (override, prepayment or decline).
	ReasonCreditDecision Reason = "credit_decision"
	// ReasonCarrierDamaged and ReasonCarrierLost: the goods do not arrive
	// usable; CS decides reship or refund.
	ReasonCarrierDamaged Reason = "carrier_damaged"
	ReasonCarrierLost    Reason = "carrier_lost"
	// ReasonNeverPaid: the payer never pays; dunning ends with finance.
	ReasonNeverPaid Reason = "never_paid"
	// ReasonApproval: the system asked for an approval (the terms decide,
	// at run time); an approver decides. Only ForcedDecision adds it.
	ReasonApproval Reason = "approval"
)

// ForcedDecision is every reason the order needs a human decision by the
// scenario's design: the plan's own reasons and, when the run saw the
// system ask for an approval on it, ReasonApproval. An order with none
// counts in the STP denominator.
func (o Order) ForcedDecision(approvalAsked bool) []Reason {
	r := slices.Clone(o.Forced)
	if approvalAsked && o.Quote.Outcome.accepted() {
		r = append(r, ReasonApproval)
	}
	return r
}

func (q QuoteOutcome) accepted() bool { return q == QuoteAccepted || q == QuoteRevisedThenAccepted }

// Compress turns a business duration into wall time at the plan's time
// scale: at 4320, a 30-day month takes 10 minutes.
func (p Plan) Compress(d time.Duration) time.Duration {
	return Compress(d, p.TimeScale)
}

// Compress turns a business duration into wall time at scale business
// seconds per wall second; scale must be above 0.
func Compress(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}

// streams hands out generators seeded from the scenario's seed and a name,
// so each attribute's draws depend on nothing else.
type streams struct{ seed uint64 }

func (s streams) get(name ...string) *rand.Rand {
	h := fnv.New64a()
	for _, n := range name {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(s.seed, h.Sum64()))
}

// Expand builds the plan of a valid scenario. It validates s again, so a
// Scenario built in Go gets the same checks as a file.
func Expand(s Scenario) (Plan, error) {
	s.Customers = slices.Clone(s.Customers) // defaults must not reach the caller's slice
	s.fillDefaults()
	if err := s.Validate(); err != nil {
		return Plan{}, err
	}
	st := streams{seed: s.Seed}
	p := Plan{Name: s.Name, Seed: s.Seed, Duration: s.Duration.D(), TimeScale: s.TimeScale}
	for _, cu := range s.Customers {
		pc := PlannedCustomer{ID: cu.ID, Demo: slices.Contains(DemoCustomers, cu.ID)}
		if !pc.Demo {
			r := st.get("terms", cu.ID)
			pc.Terms = &Terms{
				Currency:         "EUR",
				PaymentTermsDays: []int{14, 30, 45, 60}[r.IntN(4)],
				CreditLimitMinor: int64(50+r.IntN(451)) * 1000_00, // 50k to 500k
			}
		}
		p.Customers = append(p.Customers, pc)
		for b := 1; b <= cu.Buyers; b++ {
			p.Orders = append(p.Orders, s.buyerOrders(st, cu, b)...)
		}
	}
	slices.SortFunc(p.Orders, func(a, b Order) int {
		return cmp.Or(cmp.Compare(a.RequestAt, b.RequestAt), strings.Compare(a.Ref, b.Ref))
	})
	groups := map[string][]int{} // customer → indexes of its grouped payments
	for i := range p.Orders {
		p.Orders[i].Seq = i + 1
		if o := p.Orders[i]; o.Payment.Behaviour == PayGrouped {
			groups[o.CustomerID] = append(groups[o.CustomerID], i)
		}
	}
	for cid, idx := range groups {
		for k, i := range idx {
			p.Orders[i].Payment.Group = fmt.Sprintf("%s-R%03d", cid, k/s.Payments.GroupSize+1)
		}
	}
	for _, o := range s.Outages {
		p.Outages = append(p.Outages, Window{System: o.System, Start: o.Start.D(), End: o.Start.D() + o.Length.D(), Mode: o.Mode, Latency: o.Latency.D()})
	}
	slices.SortStableFunc(p.Outages, func(a, b Window) int { return cmp.Compare(a.Start, b.Start) })
	return p, nil
}

// buyerOrders is one buyer's orders over the scenario.
func (s Scenario) buyerOrders(st streams, cu Customer, buyer int) []Order {
	r := st.get("arrivals", cu.ID, fmt.Sprint(buyer))
	mean, jitter := cu.Rhythm.MeanInterval.D(), cu.Rhythm.Jitter.D()
	t := time.Duration(r.Int64N(int64(mean)))
	var out []Order
	for n := 1; t < s.Duration.D(); n++ {
		ref := fmt.Sprintf("%s-B%02d-%04d", cu.ID, buyer, n)
		o := s.order(st, cu, ref)
		o.CustomerID, o.Buyer, o.RequestAt = cu.ID, buyer, t
		out = append(out, o)
		step := mean
		if jitter > 0 {
			step += time.Duration(r.Int64N(2*int64(jitter)+1)) - jitter
		}
		t += max(step, MinInterval)
	}
	return out
}

// order draws every attribute of one order, each from its own stream, then
// blanks what the order never reaches.
func (s Scenario) order(st streams, cu Customer, ref string) Order {
	o := Order{Ref: ref}

	r := st.get(ref, "lines")
	for _, l := range cu.Lines {
		pr := 1.0
		if l.Probability != nil {
			pr = *l.Probability
		}
		if r.Float64() < pr {
			o.Lines = append(o.Lines, OrderLine{SKU: l.SKU, Quantity: l.Quantity.Min + r.IntN(l.Quantity.Max-l.Quantity.Min+1)})
		}
	}
	if len(o.Lines) == 0 {
		l := cu.Lines[r.IntN(len(cu.Lines))]
		o.Lines = []OrderLine{{SKU: l.SKU, Quantity: l.Quantity.Min + r.IntN(l.Quantity.Max-l.Quantity.Min+1)}}
	}

	r = st.get(ref, "quote")
	o.Quote.Outcome = QuoteOutcome(pick(r, s.Quotes.Outcomes.weights()))
	switch o.Quote.Outcome {
	case QuoteSilent:
	case QuoteRevisedThenAccepted:
		o.Quote.Decide = s.Quotes.DecisionDelay.Sample(r)
		o.Quote.AcceptRevised = s.Quotes.RevisionDelay.Sample(r)
	default:
		o.Quote.Decide = s.Quotes.DecisionDelay.Sample(r)
	}

	r = st.get(ref, "approval")
	o.Approval = ApprovalPlan{Outcome: ApprovalOutcome(pick(r, s.Approvals.Outcomes.weights())), Delay: s.Approvals.Delay.Sample(r)}

	r = st.get(ref, "credit")
	o.Credit.Outcome = CreditOutcome(pick(r, s.Credit.Outcomes.weights()))
	if o.Credit.Outcome == CreditOverLimit {
		o.Credit.Decision = CreditDecision(pick(r, s.Credit.Decisions.weights()))
		o.Credit.Delay = s.Credit.DecisionDelay.Sample(r)
	}

	o.Carrier = CarrierOutcome(pick(st.get(ref, "carrier"), s.Carrier.Exceptions.weights()))

	r = st.get(ref, "payment")
	o.Payment = PaymentPlan{Behaviour: PaymentBehaviour(pick(r, s.Payments.Behaviour.weights())), Parts: 1}
	switch o.Payment.Behaviour {
	case PayNever:
	case PayLate:
		o.Payment.Delay = s.Payments.LateBy.Sample(r)
	default:
		o.Payment.Delay = s.Payments.Delay.Sample(r)
	}
	switch o.Payment.Behaviour {
	case PayBankFee:
		o.Payment.ShortMinor = s.Payments.BankFeeMinor
	case PaySplit:
		o.Payment.Parts = s.Payments.SplitParts
	}

	r = st.get(ref, "survey")
	o.Survey = SurveyPlan{Band: SurveyUnanswered, Score: -1}
	if r.Float64() >= s.Survey.Unanswered {
		o.Survey.Band = SurveyBand(pick(r, s.Survey.Bands.weights()))
		switch o.Survey.Band {
		case SurveyPromoter:
			o.Survey.Score = 9 + r.IntN(2)
		case SurveyPassive:
			o.Survey.Score = 7 + r.IntN(2)
		default:
			o.Survey.Score = r.IntN(7)
		}
		o.Survey.Delay = s.Survey.Delay.Sample(r)
	}

	// What the order never reaches.
	switch o.Quote.Outcome {
	case QuoteRejected:
		o.Forced = append(o.Forced, ReasonQuoteRejected)
	case QuoteSilent:
		o.Forced = append(o.Forced, ReasonQuoteExpired)
	}
	if !o.Quote.Outcome.accepted() {
		o.Approval, o.Credit, o.Carrier, o.Payment, o.Survey = ApprovalPlan{}, CreditPlan{}, "", PaymentPlan{}, SurveyPlan{}
		return o
	}
	if o.Credit.Outcome == CreditOverLimit {
		o.Forced = append(o.Forced, ReasonCreditDecision)
		if o.Credit.Decision == CreditDecline {
			o.Carrier, o.Payment, o.Survey = "", PaymentPlan{}, SurveyPlan{}
			return o
		}
	}
	switch o.Carrier {
	case CarrierDamaged:
		o.Forced = append(o.Forced, ReasonCarrierDamaged)
	case CarrierLost:
		o.Forced = append(o.Forced, ReasonCarrierLost)
	}
	if o.Payment.Behaviour == PayNever {
		o.Forced = append(o.Forced, ReasonNeverPaid)
	}
	return o
}

// Kinds of timeline events.
const (
	EventQuoteRequest = "quote_request"
	EventOutageStart  = "outage_start"
	EventOutageEnd    = "outage_end"
)

// Event is one absolute point of the plan's timeline.
type Event struct {
	At   time.Duration
	Kind string
	// Order is the order's Ref for a quote request.
	Order string
	// Outage is the window's index in Plan.Outages for an outage event.
	Outage int
}

// Timeline is every absolute event of the plan in time order: each
// order's quote request and each outage's start and end. Everything else
// a player does is a delay after a step of the running system, on the
// order's plan. At the same instant an outage ends before anything starts.
func (p Plan) Timeline() []Event {
	var ev []Event
	for _, o := range p.Orders {
		ev = append(ev, Event{At: o.RequestAt, Kind: EventQuoteRequest, Order: o.Ref})
	}
	for i, w := range p.Outages {
		ev = append(ev, Event{At: w.Start, Kind: EventOutageStart, Outage: i}, Event{At: w.End, Kind: EventOutageEnd, Outage: i})
	}
	rank := map[string]int{EventOutageEnd: 0, EventOutageStart: 1, EventQuoteRequest: 2}
	slices.SortStableFunc(ev, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(rank[a.Kind], rank[b.Kind]))
	})
	return ev
}
