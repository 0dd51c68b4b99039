package scenario

import (
	"math"
	"math/rand/v2"
	"time"
)

// weight is one named weight of a weight set, in the set's fixed order.
type weight struct {
	name string
	w    float64
}

// QuoteOutcome is what a buyer does with a quote.
type QuoteOutcome string

// Quote outcomes.
const (
	QuoteAccepted            QuoteOutcome = "accepted"
	QuoteRevisedThenAccepted QuoteOutcome = "revised_then_accepted"
	QuoteRejected            QuoteOutcome = "rejected"
	QuoteSilent              QuoteOutcome = "silent"
)

// QuoteWeights weighs the quote outcomes.
type QuoteWeights struct {
	Accepted            float64 `yaml:"accepted"`
	RevisedThenAccepted float64 `yaml:"revised_then_accepted"`
	Rejected            float64 `yaml:"rejected"`
	Silent              float64 `yaml:"silent"`
}

func (q QuoteWeights) weights() []weight {
	return []weight{{string(QuoteAccepted), q.Accepted}, {string(QuoteRevisedThenAccepted), q.RevisedThenAccepted},
		{string(QuoteRejected), q.Rejected}, {string(QuoteSilent), q.Silent}}
}

// ApprovalOutcome is an approver's answer.
type ApprovalOutcome string

// Approval outcomes.
const (
	ApprovalApproved ApprovalOutcome = "approved"
	ApprovalRejected ApprovalOutcome = "rejected"
)

// ApprovalWeights weighs the approvers' answers.
type ApprovalWeights struct {
	Approved float64 `yaml:"approved"`
	Rejected float64 `yaml:"rejected"`
}

func (a ApprovalWeights) weights() []weight {
	return []weight{{string(ApprovalApproved), a.Approved}, {string(ApprovalRejected), a.Rejected}}
}

// CreditOutcome is whether the scenario pushes an order over its
// customer's credit limit.
type CreditOutcome string

// Credit outcomes.
const (
	CreditWithinLimit CreditOutcome = "within_limit"
	CreditOverLimit   CreditOutcome = "over_limit"
)

// CreditWeights weighs the credit outcomes.
type CreditWeights struct {
	WithinLimit float64 `yaml:"within_limit"`
	OverLimit   float64 `yaml:"over_limit"`
}

func (c CreditWeights) weights() []weight {
	return []weight{{string(CreditWithinLimit), c.WithinLimit}, {string(CreditOverLimit), c.OverLimit}}
}

// CreditDecision is finance's decision on a credit hold.
type CreditDecision string

// Credit decisions.
const (
	CreditOverride   CreditDecision = "override"
	CreditPrepayment CreditDecision = "prepayment"
	CreditDecline    CreditDecision = "decline"
)

// DecisionWeights weighs finance's credit decisions.
type DecisionWeights struct {
	Override   float64 `yaml:"override"`
	Prepayment float64 `yaml:"prepayment"`
	Decline    float64 `yaml:"decline"`
}

func (d DecisionWeights) weights() []weight {
	return []weight{{string(CreditOverride), d.Override}, {string(CreditPrepayment), d.Prepayment}, {string(CreditDecline), d.Decline}}
}

// CarrierOutcome is what happens to an order's shipment.
type CarrierOutcome string

// Carrier outcomes.
const (
	CarrierNone          CarrierOutcome = "none"
	CarrierFailedAttempt CarrierOutcome = "failed_attempt"
	CarrierDamaged       CarrierOutcome = "damaged"
	CarrierLost          CarrierOutcome = "lost"
)

// CarrierWeights weighs the carrier outcomes; none is a clean delivery.
type CarrierWeights struct {
	None          float64 `yaml:"none"`
	FailedAttempt float64 `yaml:"failed_attempt"`
	Damaged       float64 `yaml:"damaged"`
	Lost          float64 `yaml:"lost"`
}

func (c CarrierWeights) weights() []weight {
	return []weight{{string(CarrierNone), c.None}, {string(CarrierFailedAttempt), c.FailedAttempt},
		{string(CarrierDamaged), c.Damaged}, {string(CarrierLost), c.Lost}}
}

// PaymentBehaviour is how a payer pays an invoice.
type PaymentBehaviour string

// Payment behaviours.
const (
	PayExact             PaymentBehaviour = "exact"
	PayBankFee           PaymentBehaviour = "bank_fee"
	PaySplit             PaymentBehaviour = "split"
	PayGrouped           PaymentBehaviour = "grouped"
	PayMissingReference  PaymentBehaviour = "missing_reference"
	PayMistypedReference PaymentBehaviour = "mistyped_reference"
	PayPayerReference    PaymentBehaviour = "payer_reference"
	PayLate              PaymentBehaviour = "late"
	PayNever             PaymentBehaviour = "never"
)

// PaymentWeights weighs the payment behaviours.
type PaymentWeights struct {
	Exact             float64 `yaml:"exact"`
	BankFee           float64 `yaml:"bank_fee"`
	Split             float64 `yaml:"split"`
	Grouped           float64 `yaml:"grouped"`
	MissingReference  float64 `yaml:"missing_reference"`
	MistypedReference float64 `yaml:"mistyped_reference"`
	PayerReference    float64 `yaml:"payer_reference"`
	Late              float64 `yaml:"late"`
	Never             float64 `yaml:"never"`
}

func (p PaymentWeights) weights() []weight {
	return []weight{{string(PayExact), p.Exact}, {string(PayBankFee), p.BankFee}, {string(PaySplit), p.Split},
		{string(PayGrouped), p.Grouped}, {string(PayMissingReference), p.MissingReference},
		{string(PayMistypedReference), p.MistypedReference}, {string(PayPayerReference), p.PayerReference},
		{string(PayLate), p.Late}, {string(PayNever), p.Never}}
}

// SurveyBand is an NPS score band.
type SurveyBand string

// Survey bands; SurveyUnanswered is a survey left unanswered.
const (
	SurveyPromoter   SurveyBand = "promoter"
	SurveyPassive    SurveyBand = "passive"
	SurveyDetractor  SurveyBand = "detractor"
	SurveyUnanswered SurveyBand = "unanswered"
)

// SurveyWeights weighs the answered survey bands.
type SurveyWeights struct {
	Promoter  float64 `yaml:"promoter"`
	Passive   float64 `yaml:"passive"`
	Detractor float64 `yaml:"detractor"`
}

func (s SurveyWeights) weights() []weight {
	return []weight{{string(SurveyPromoter), s.Promoter}, {string(SurveyPassive), s.Passive}, {string(SurveyDetractor), s.Detractor}}
}

// pick draws one name of ws in proportion to its weight. ws must sum to
// more than 0 (Validate checks).
func pick(r *rand.Rand, ws []weight) string {
	var sum float64
	for _, w := range ws {
		sum += w.w
	}
	x := r.Float64() * sum
	last := ""
	for _, w := range ws {
		if w.w <= 0 {
			continue
		}
		last = w.name
		if x < w.w {
			return w.name
		}
		x -= w.w
	}
	return last // rounding left x at the very top
}

// Distribution kinds.
const (
	KindFixed       = "fixed"
	KindUniform     = "uniform"
	KindExponential = "exponential"
)

// Distribution is a distribution of delays. Kind fixed takes value;
// uniform takes min and max (inclusive); exponential takes mean and an
// optional max that caps the draw (unset: 20 times the mean).
type Distribution struct {
	Kind  string   `yaml:"kind"`
	Value Duration `yaml:"value"`
	Min   Duration `yaml:"min"`
	Max   Duration `yaml:"max"`
	Mean  Duration `yaml:"mean"`
}

// Sample draws one delay. d must be valid (Validate checks).
func (d Distribution) Sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case KindUniform:
		lo, hi := d.Min.D(), d.Max.D()
		return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
	case KindExponential:
		capAt := d.Max.D()
		if capAt == 0 {
			capAt = 20 * d.Mean.D()
		}
		x := r.ExpFloat64() * float64(d.Mean.D())
		if x >= float64(capAt) || math.IsInf(x, 0) {
			return capAt
		}
		return time.Duration(x)
	default:
		return d.Value.D()
	}
}
