package scenario

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// FieldError is a value out of bounds, named by its YAML path
// (customers[1].lines[0].quantity.max).
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

type checker struct{ errs []error }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks every field of s, defaults filled (Parse fills them),
// and returns every problem found, each a *FieldError, joined.
func (s Scenario) Validate() error {
	var c checker
	if strings.TrimSpace(s.Name) == "" {
		c.add("name", "missing")
	}
	if s.Duration <= 0 {
		c.add("duration", "must be above 0")
	} else if s.Duration.D() > MaxDuration {
		c.add("duration", "longer than %s", FormatDuration(MaxDuration))
	}
	if !(s.TimeScale > 0) || math.IsInf(s.TimeScale, 0) {
		c.add("time_scale", "must be a number above 0 (business seconds per wall second)")
	}
	s.validateCustomers(&c)
	c.weights("quotes.outcomes", s.Quotes.Outcomes.weights())
	if s.Quotes.Outcomes.Accepted+s.Quotes.Outcomes.Rejected+s.Quotes.Outcomes.RevisedThenAccepted > 0 {
		c.dist("quotes.decision_delay", s.Quotes.DecisionDelay)
	}
	if s.Quotes.Outcomes.RevisedThenAccepted > 0 {
		c.dist("quotes.revision_delay", s.Quotes.RevisionDelay)
	}
	c.weights("approvals.outcomes", s.Approvals.Outcomes.weights())
	c.dist("approvals.delay", s.Approvals.Delay)
	c.weights("credit.outcomes", s.Credit.Outcomes.weights())
	if s.Credit.Outcomes.OverLimit > 0 {
		c.weights("credit.decisions", s.Credit.Decisions.weights())
		c.dist("credit.decision_delay", s.Credit.DecisionDelay)
	}
	c.weights("carrier.exceptions", s.Carrier.Exceptions.weights())
	s.validatePayments(&c)
	if !(s.Survey.Unanswered >= 0 && s.Survey.Unanswered <= 1) {
		c.add("survey.unanswered", "must be a share from 0 to 1")
	}
	if s.Survey.Unanswered < 1 {
		c.weights("survey.bands", s.Survey.Bands.weights())
		c.dist("survey.delay", s.Survey.Delay)
	}
	for i, o := range s.Outages {
		s.validateOutage(&c, fmt.Sprintf("outages[%d]", i), o)
	}
	return errors.Join(c.errs...)
}

func (s Scenario) validateCustomers(c *checker) {
	if len(s.Customers) == 0 {
		c.add("customers", "missing: a scenario needs at least one customer")
		return
	}
	seen := map[string]int{}
	var expected float64
	for i, cu := range s.Customers {
		p := fmt.Sprintf("customers[%d]", i)
		switch {
		case cu.ID == "":
			c.add(p+".id", "missing")
		case len(cu.ID) > 64 || strings.ContainsFunc(cu.ID, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			c.add(p+".id", "must be at most 64 characters without spaces or control characters")
		default:
			if j, ok := seen[cu.ID]; ok {
				c.add(p+".id", "%s repeats customers[%d]", cu.ID, j)
			}
			seen[cu.ID] = i
		}
		if cu.Buyers < 1 || cu.Buyers > MaxBuyers {
			c.add(p+".buyers", "must be from 1 to %d", MaxBuyers)
		}
		mean, jitter := cu.Rhythm.MeanInterval.D(), cu.Rhythm.Jitter.D()
		switch {
		case mean < MinInterval:
			c.add(p+".rhythm.mean_interval", "must be at least %s", MinInterval)
		case mean > MaxDuration:
			c.add(p+".rhythm.mean_interval", "longer than %s", FormatDuration(MaxDuration))
		default:
			if cu.Buyers >= 1 && cu.Buyers <= MaxBuyers && s.Duration > 0 && s.Duration.D() <= MaxDuration {
				expected += cu.expectedOrders(s.Duration.D())
				if expected > MaxOrders {
					c.add(p+".rhythm.mean_interval", "too short: the scenario would place more than %d orders", MaxOrders)
					expected = math.Inf(-1) // report once
				}
			}
		}
		if jitter < 0 {
			c.add(p+".rhythm.jitter", "must not be negative")
		} else if mean >= MinInterval && jitter > mean {
			c.add(p+".rhythm.jitter", "above mean_interval")
		}
		if len(cu.Lines) == 0 {
			c.add(p+".lines", "missing: a customer orders at least one line")
		}
		for j, l := range cu.Lines {
			lp := fmt.Sprintf("%s.lines[%d]", p, j)
			if strings.TrimSpace(l.SKU) == "" {
				c.add(lp+".sku", "missing")
			}
			switch {
			case l.Quantity.Min < 1:
				c.add(lp+".quantity.min", "must be at least 1")
			case l.Quantity.Max < l.Quantity.Min:
				c.add(lp+".quantity.max", "below min")
			case l.Quantity.Max > MaxQuantity:
				c.add(lp+".quantity.max", "above %d", MaxQuantity)
			}
			if l.Probability != nil && !(*l.Probability > 0 && *l.Probability <= 1) {
				c.add(lp+".probability", "must be above 0 and at most 1")
			}
		}
	}
}

func (s Scenario) validatePayments(c *checker) {
	b := s.Payments.Behaviour
	c.weights("payments.behaviour", b.weights())
	if b.Exact+b.BankFee+b.Split+b.Grouped+b.MissingReference+b.MistypedReference+b.PayerReference > 0 {
		c.dist("payments.delay", s.Payments.Delay)
	}
	if b.Late > 0 {
		c.dist("payments.late_by", s.Payments.LateBy)
	}
	if b.BankFee > 0 && s.Payments.BankFeeMinor < 1 {
		c.add("payments.bank_fee_minor", "must be at least 1 when behaviour.bank_fee is above 0")
	}
	if s.Payments.BankFeeMinor < 0 {
		c.add("payments.bank_fee_minor", "must not be negative")
	}
	if b.Split > 0 && (s.Payments.SplitParts < 2 || s.Payments.SplitParts > 12) {
		c.add("payments.split_parts", "must be from 2 to 12 when behaviour.split is above 0")
	}
	if b.Grouped > 0 && (s.Payments.GroupSize < 2 || s.Payments.GroupSize > 50) {
		c.add("payments.group_size", "must be from 2 to 50 when behaviour.grouped is above 0")
	}
}

var (
	systems = []string{SystemERP, SystemCarrier, SystemSMTP}
	modes   = []string{ModeErrors, ModeLatency}
)

func (s Scenario) validateOutage(c *checker, p string, o Outage) {
	if !slices.Contains(systems, o.System) {
		c.add(p+".system", "%q is none of %s", o.System, strings.Join(systems, ", "))
	}
	durOK := s.Duration > 0 && s.Duration.D() <= MaxDuration
	if o.Start < 0 {
		c.add(p+".start", "must not be negative")
	} else if durOK && o.Start >= s.Duration {
		c.add(p+".start", "at or after the scenario's end (duration %s)", FormatDuration(s.Duration.D()))
	}
	if o.Length <= 0 {
		c.add(p+".length", "must be above 0")
	} else if durOK && o.Start >= 0 && o.Start < s.Duration && o.Length > s.Duration-o.Start {
		c.add(p+".length", "runs past the scenario's end (duration %s)", FormatDuration(s.Duration.D()))
	}
	switch o.Mode {
	case ModeErrors:
		if o.Latency != 0 {
			c.add(p+".latency", "only with mode latency")
		}
	case ModeLatency:
		if o.Latency <= 0 || o.Latency.D() > 10*time.Minute {
			c.add(p+".latency", "must be above 0 and at most 10m with mode latency")
		}
	default:
		c.add(p+".mode", "%q is none of %s", o.Mode, strings.Join(modes, ", "))
	}
}

func (c *checker) weights(p string, ws []weight) {
	var sum float64
	ok := true
	for _, w := range ws {
		if !(w.w >= 0) || math.IsInf(w.w, 0) {
			c.add(p+"."+w.name, "must be a number from 0 up")
			ok = false
			continue
		}
		sum += w.w
	}
	if ok && !(sum > 0 && !math.IsInf(sum, 0)) {
		c.add(p, "weights sum to %v: at least one must be above 0", sum)
	}
}

func (c *checker) dist(p string, d Distribution) {
	unused := func(name string, v Duration) {
		if v != 0 {
			c.add(p+"."+name, "not used by kind %s", d.Kind)
		}
	}
	long := func(name string, v Duration) bool {
		if v.D() > MaxDuration {
			c.add(p+"."+name, "longer than %s", FormatDuration(MaxDuration))
			return true
		}
		return false
	}
	switch d.Kind {
	case KindFixed:
		if d.Value < 0 {
			c.add(p+".value", "must not be negative")
		}
		long("value", d.Value)
		unused("min", d.Min)
		unused("max", d.Max)
		unused("mean", d.Mean)
	case KindUniform:
		switch {
		case d.Min < 0:
			c.add(p+".min", "must not be negative")
		case d.Max < d.Min:
			c.add(p+".max", "below min")
		case long("max", d.Max):
		}
		unused("value", d.Value)
		unused("mean", d.Mean)
	case KindExponential:
		switch {
		case d.Mean <= 0:
			c.add(p+".mean", "must be above 0")
		case long("mean", d.Mean):
		case d.Max != 0 && d.Max < d.Mean:
			c.add(p+".max", "below mean")
		case long("max", d.Max):
		}
		unused("value", d.Value)
		unused("min", d.Min)
	case "":
		c.add(p+".kind", "missing: one of %s, %s, %s", KindFixed, KindUniform, KindExponential)
	default:
		c.add(p+".kind", "%q is none of %s, %s, %s", d.Kind, KindFixed, KindUniform, KindExponential)
	}
}

// ExpectedOrders is about how many orders the scenario places: over every
// buyer, duration / mean_interval.
func (s Scenario) ExpectedOrders() float64 {
	var n float64
	for _, cu := range s.Customers {
		n += cu.expectedOrders(s.Duration.D())
	}
	return n
}

func (cu Customer) expectedOrders(d time.Duration) float64 {
	if cu.Rhythm.MeanInterval <= 0 {
		return 0
	}
	return float64(max(cu.Buyers, 1)) * float64(d) / float64(cu.Rhythm.MeanInterval)
}
