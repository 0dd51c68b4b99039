package scenario

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	s := load(t, "month.yaml")
	a, err := Expand(s)
	require.NoError(t, err)
	b, err := Expand(s)
	require.NoError(t, err)
	require.Equal(t, a, b, "the same seed gives the same plan")

	s.Seed++
	c, err := Expand(s)
	require.NoError(t, err)
	require.NotEqual(t, a.Orders, c.Orders, "another seed another plan")
}

// A change to one customer or one behaviour mix leaves the rest of the
// plan as it was, so a scenario can be tuned without reshuffling it.
func TestPlanChangesStayLocal(t *testing.T) {
	t.Parallel()
	s := load(t, "month.yaml")
	base, err := Expand(s)
	require.NoError(t, err)
	byRef := func(p Plan) map[string]Order {
		m := map[string]Order{}
		for _, o := range p.Orders {
			o.Seq = 0
			m[o.Ref] = o
		}
		return m
	}

	moreGlobex := s
	moreGlobex.Customers = slices.Clone(s.Customers)
	moreGlobex.Customers[1].Rhythm.MeanInterval = Duration(10 * 24 * time.Hour)
	p, err := Expand(moreGlobex)
	require.NoError(t, err)
	before, after := byRef(base), byRef(p)
	for ref, o := range before {
		if o.CustomerID != "GLOBEX-002" {
			require.Equal(t, o, after[ref], "%s is not GLOBEX's", ref)
		}
	}

	payments := s
	payments.Payments.Behaviour.Never = 30
	p, err = Expand(payments)
	require.NoError(t, err)
	after = byRef(p)
	changed := 0
	for ref, o := range before {
		require.Equal(t, o.Quote, after[ref].Quote, ref)
		require.Equal(t, o.Lines, after[ref].Lines, ref)
		require.Equal(t, o.Carrier, after[ref].Carrier, ref)
		require.Equal(t, o.Survey, after[ref].Survey, ref)
		if o.Payment.Behaviour != after[ref].Payment.Behaviour {
			changed++
		}
	}
	require.Positive(t, changed, "the payment mix did change payments")
}

// big is a scenario of one customer with many buyers, for shares.
func big(t *testing.T) Scenario {
	s := load(t, "short.yaml")
	s.Duration = Duration(30 * 24 * time.Hour)
	s.Customers = []Customer{{ID: "NEWCO-900", Buyers: 500, Rhythm: Rhythm{MeanInterval: Duration(24 * time.Hour), Jitter: Duration(12 * time.Hour)},
		Lines: []Line{{SKU: "BOLT-M8", Quantity: Range{Min: 1, Max: 10}}}}}
	return s
}

// Weights turn into shares within a tolerance over many orders.
func TestPlanSharesFollowWeights(t *testing.T) {
	t.Parallel()
	s := big(t)
	p, err := Expand(s)
	require.NoError(t, err)
	sum := p.Summarize()
	require.InDelta(t, 500*30, sum.Orders, 500, "500 buyers ordering daily for 30 days")
	require.InDelta(t, s.ExpectedOrders(), sum.Orders, 500)

	share := func(cs []Count, ws []weight) {
		t.Helper()
		var n, total float64
		for _, c := range cs {
			n += float64(c.N)
		}
		for _, w := range ws {
			total += w.w
		}
		for i, w := range ws {
			require.Equal(t, w.name, cs[i].Name)
			require.InDelta(t, w.w/total, float64(cs[i].N)/n, 0.02, "%s: %d of %.0f", w.name, cs[i].N, n)
		}
	}
	share(sum.Quote, s.Quotes.Outcomes.weights())
	share(sum.Carrier, s.Carrier.Exceptions.weights())
	share(sum.Payment, s.Payments.Behaviour.weights())
	decisions := sum.Credit[1:] // over_limit orders by decision
	share(decisions, s.Credit.Decisions.weights())
	var answered, unanswered float64
	for _, c := range sum.Survey {
		if c.Name == string(SurveyUnanswered) {
			unanswered += float64(c.N)
		} else {
			answered += float64(c.N)
		}
	}
	require.InDelta(t, s.Survey.Unanswered, unanswered/(answered+unanswered), 0.02)
	share(sum.Survey[:3], s.Survey.Bands.weights())

	// Delays stay in their distribution's bounds; scores in their band.
	for _, o := range p.Orders {
		if o.Quote.Outcome != QuoteSilent {
			require.GreaterOrEqual(t, o.Quote.Decide, s.Quotes.DecisionDelay.Min.D())
			require.LessOrEqual(t, o.Quote.Decide, s.Quotes.DecisionDelay.Max.D())
		}
		switch o.Survey.Band {
		case SurveyPromoter:
			require.Contains(t, []int{9, 10}, o.Survey.Score)
		case SurveyPassive:
			require.Contains(t, []int{7, 8}, o.Survey.Score)
		case SurveyDetractor:
			require.True(t, o.Survey.Score >= 0 && o.Survey.Score <= 6, o.Survey.Score)
		case SurveyUnanswered:
			require.Equal(t, -1, o.Survey.Score)
		}
		require.Less(t, o.RequestAt, p.Duration)
		for _, l := range o.Lines {
			require.True(t, l.Quantity >= 1 && l.Quantity <= 10, l.Quantity)
		}
	}
}

func TestExponentialDelaysAverageTheirMean(t *testing.T) {
	t.Parallel()
	s := big(t)
	s.Quotes.DecisionDelay = Distribution{Kind: KindExponential, Mean: Duration(8 * time.Hour)}
	p, err := Expand(s)
	require.NoError(t, err)
	var total time.Duration
	n := 0
	for _, o := range p.Orders {
		if o.Quote.Outcome != QuoteSilent {
			total += o.Quote.Decide
			n++
			require.LessOrEqual(t, o.Quote.Decide, 20*8*time.Hour, "capped at 20 means")
		}
	}
	require.InDelta(t, 8*time.Hour, total/time.Duration(n), float64(15*time.Minute))
}

// The orders the scenario forces into a human decision, and so the STP
// denominator, follow from each order's plan.
func TestForcedDecisionsDefineTheSTPDenominator(t *testing.T) {
	t.Parallel()
	p, err := Expand(big(t))
	require.NoError(t, err)
	sum := p.Summarize()
	clean := 0
	for _, o := range p.Orders {
		var want []Reason
		switch o.Quote.Outcome {
		case QuoteRejected:
			want = append(want, ReasonQuoteRejected)
		case QuoteSilent:
			want = append(want, ReasonQuoteExpired)
		}
		if o.Quote.Outcome.accepted() {
			if o.Credit.Outcome == CreditOverLimit {
				want = append(want, ReasonCreditDecision)
			}
			if o.Credit.Decision != CreditDecline {
				want = append(want, map[CarrierOutcome][]Reason{CarrierDamaged: {ReasonCarrierDamaged}, CarrierLost: {ReasonCarrierLost}}[o.Carrier]...)
				if o.Payment.Behaviour == PayNever {
					want = append(want, ReasonNeverPaid)
				}
			}
		}
		require.Equal(t, want, o.Forced, o.Ref)
		if len(want) == 0 {
			clean++
			require.Empty(t, o.ForcedDecision(false))
			require.Equal(t, []Reason{ReasonApproval}, o.ForcedDecision(true), "an approval the system asks for is a decision")
		}
	}
	require.Equal(t, clean, sum.STPDenominator)
	require.Equal(t, sum.Orders-sum.ForcedOrders, sum.STPDenominator)
	require.Positive(t, sum.STPDenominator)
	require.Less(t, sum.STPDenominator, sum.Orders)

	// A scenario whose buyers reject every quote forces every order.
	s := big(t)
	s.Quotes.Outcomes = QuoteWeights{Rejected: 1}
	p, err = Expand(s)
	require.NoError(t, err)
	sum = p.Summarize()
	require.Zero(t, sum.STPDenominator)
	for _, o := range p.Orders {
		require.Equal(t, []Reason{ReasonQuoteRejected}, o.ForcedDecision(true), "a rejected quote is never asked an approval")
		require.Empty(t, o.Payment.Behaviour, "a rejected quote is never paid")
		require.Empty(t, o.Carrier)
	}
}

// What an order never reaches is blank: a declined order neither ships
// nor is paid, a rejected quote has no credit check.
func TestPlanBlanksWhatTheOrderNeverReaches(t *testing.T) {
	t.Parallel()
	p, err := Expand(big(t))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, o := range p.Orders {
		switch {
		case !o.Quote.Outcome.accepted():
			require.Equal(t, CreditPlan{}, o.Credit)
			require.Equal(t, ApprovalPlan{}, o.Approval)
			require.Equal(t, SurveyPlan{}, o.Survey)
			seen["quote"] = true
		case o.Credit.Decision == CreditDecline:
			require.Empty(t, o.Carrier)
			require.Equal(t, PaymentPlan{}, o.Payment)
			seen["decline"] = true
		default:
			require.NotEmpty(t, o.Carrier)
			require.NotEmpty(t, o.Payment.Behaviour)
			require.NotEmpty(t, o.Survey.Band)
		}
	}
	require.Len(t, seen, 2)
}

func TestPaymentDetails(t *testing.T) {
	t.Parallel()
	s := big(t)
	p, err := Expand(s)
	require.NoError(t, err)
	groups := map[string]int{}
	for _, o := range p.Orders {
		pay := o.Payment
		switch pay.Behaviour {
		case PayBankFee:
			require.Equal(t, s.Payments.BankFeeMinor, pay.ShortMinor)
		case PaySplit:
			require.Equal(t, s.Payments.SplitParts, pay.Parts)
		case PayGrouped:
			require.NotEmpty(t, pay.Group)
			groups[pay.Group]++
		case PayNever:
			require.Zero(t, pay.Delay)
		case PayLate:
			require.Equal(t, s.Payments.LateBy.Value.D(), pay.Delay)
		}
		if pay.Behaviour != PayGrouped {
			require.Empty(t, pay.Group)
		}
		if pay.Behaviour != "" && pay.Behaviour != PaySplit {
			require.Equal(t, 1, pay.Parts)
		}
	}
	short := 0
	for g, n := range groups {
		require.LessOrEqual(t, n, s.Payments.GroupSize, g)
		if n < s.Payments.GroupSize {
			short++
		}
	}
	require.LessOrEqual(t, short, 1, "only the customer's last group may be short")
	require.Greater(t, len(groups), 100)
}

func TestNewCustomerTermsComeFromTheSeed(t *testing.T) {
	t.Parallel()
	s := big(t)
	p, err := Expand(s)
	require.NoError(t, err)
	require.False(t, p.Customers[0].Demo)
	terms := p.Customers[0].Terms
	require.NotNil(t, terms)
	require.Contains(t, []int{14, 30, 45, 60}, terms.PaymentTermsDays)
	require.True(t, terms.CreditLimitMinor >= 50_000_00 && terms.CreditLimitMinor <= 500_000_00, terms.CreditLimitMinor)
	q, err := Expand(s)
	require.NoError(t, err)
	require.Equal(t, terms, q.Customers[0].Terms)
}

func TestRhythmAndRefs(t *testing.T) {
	t.Parallel()
	s := load(t, "month.yaml")
	p, err := Expand(s)
	require.NoError(t, err)
	last := map[string]time.Duration{}
	refs := map[string]bool{}
	for i, o := range p.Orders {
		require.Equal(t, i+1, o.Seq)
		require.False(t, refs[o.Ref], "refs are unique")
		refs[o.Ref] = true
		if i > 0 {
			require.GreaterOrEqual(t, o.RequestAt, p.Orders[i-1].RequestAt, "orders in time order")
		}
		buyer := fmt.Sprintf("%s/%d", o.CustomerID, o.Buyer)
		if prev, ok := last[buyer]; ok {
			gap := o.RequestAt - prev
			switch o.CustomerID {
			case "ACME-001": // weekly, ± 1 day
				require.True(t, gap >= 6*24*time.Hour && gap <= 8*24*time.Hour, "%s gap %s", o.Ref, gap)
			case "GLOBEX-002": // monthly, ± 3 days
				require.True(t, gap >= 27*24*time.Hour, "%s gap %s", o.Ref, gap)
			}
		}
		last[buyer] = o.RequestAt
	}
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	p, err := Expand(load(t, "short.yaml"))
	require.NoError(t, err)
	ev := p.Timeline()
	require.Len(t, ev, len(p.Orders)+2*len(p.Outages))
	for i := 1; i < len(ev); i++ {
		require.GreaterOrEqual(t, ev[i].At, ev[i-1].At)
	}
	n := 0
	for _, e := range ev {
		switch e.Kind {
		case EventQuoteRequest:
			require.Equal(t, p.Orders[n].Ref, e.Order, "quote requests in plan order")
			n++
		case EventOutageStart:
			require.Equal(t, p.Outages[e.Outage].Start, e.At)
		case EventOutageEnd:
			require.Equal(t, p.Outages[e.Outage].End, e.At)
		}
	}
	require.Equal(t, Window{System: SystemCarrier, Start: 48 * time.Hour, End: 50 * time.Hour, Mode: ModeLatency, Latency: 3 * time.Second}, p.Outages[1])
}
