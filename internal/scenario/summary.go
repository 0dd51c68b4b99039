package scenario

import (
	"fmt"
	"strings"
)

// Count is one named count of a summary.
type Count struct {
	Name string
	N    int
}

// Summary counts a plan for a report. Each breakdown lists every name of
// its kind in the format's order, zeros included, and counts only the
// orders that reach that step: Carrier and Survey the orders that ship,
// Payment the orders that are invoiced.
type Summary struct {
	Orders   int
	Quote    []Count
	Credit   []Count // within_limit, then finance's decisions on over_limit
	Carrier  []Count
	Payment  []Count
	Survey   []Count
	Outages  []Count // by system
	Forced   []Count // orders per reason; an order may have several
	Customer []Count // orders per customer
	// ForcedOrders is how many orders the plan forces into a human
	// decision (at least one Reason).
	ForcedOrders int
	// STPDenominator is Orders − ForcedOrders: the orders the plan expects
	// to go from quote to cash with no person deciding. A run removes
	// further the orders it saw the system ask an approval for
	// (Order.ForcedDecision).
	STPDenominator int
}

// Summarize counts the plan.
func (p Plan) Summarize() Summary {
	s := Summary{Orders: len(p.Orders)}
	count := func(names []string) (func(string), *[]Count) {
		cs := make([]Count, len(names))
		for i, n := range names {
			cs[i].Name = n
		}
		return func(n string) {
			for i := range cs {
				if cs[i].Name == n {
					cs[i].N++
				}
			}
		}, &cs
	}
	names := func(ws []weight) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.name)
		}
		return out
	}
	quote, qs := count(names(QuoteWeights{}.weights()))
	credit, cs := count([]string{string(CreditWithinLimit), string(CreditOverride), string(CreditPrepayment), string(CreditDecline)})
	carrier, ks := count(names(CarrierWeights{}.weights()))
	payment, ps := count(names(PaymentWeights{}.weights()))
	survey, ss := count(append(names(SurveyWeights{}.weights()), string(SurveyUnanswered)))
	outage, os := count(systems)
	forced, fs := count([]string{string(ReasonQuoteRejected), string(ReasonQuoteExpired), string(ReasonCreditDecision),
		string(ReasonCarrierDamaged), string(ReasonCarrierLost), string(ReasonNeverPaid)})
	var custNames []string
	for _, c := range p.Customers {
		custNames = append(custNames, c.ID)
	}
	customer, us := count(custNames)
	for _, o := range p.Orders {
		customer(o.CustomerID)
		quote(string(o.Quote.Outcome))
		switch o.Credit.Outcome {
		case CreditWithinLimit:
			credit(string(CreditWithinLimit))
		case CreditOverLimit:
			credit(string(o.Credit.Decision))
		}
		if o.Carrier != "" {
			carrier(string(o.Carrier))
		}
		if o.Payment.Behaviour != "" {
			payment(string(o.Payment.Behaviour))
		}
		if o.Survey.Band != "" {
			survey(string(o.Survey.Band))
		}
		for _, r := range o.Forced {
			forced(string(r))
		}
		if len(o.Forced) > 0 {
			s.ForcedOrders++
		}
	}
	for _, w := range p.Outages {
		outage(w.System)
	}
	s.Quote, s.Credit, s.Carrier, s.Payment, s.Survey, s.Outages, s.Forced, s.Customer = *qs, *cs, *ks, *ps, *ss, *os, *fs, *us
	s.STPDenominator = s.Orders - s.ForcedOrders
	return s
}

// String is the summary as a report prints it, one breakdown a line.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "orders %d\n", s.Orders)
	line := func(title string, cs []Count) {
		b.WriteString(title)
		for _, c := range cs {
			fmt.Fprintf(&b, " %s=%d", c.Name, c.N)
		}
		b.WriteByte('\n')
	}
	line("customers", s.Customer)
	line("quote", s.Quote)
	line("credit", s.Credit)
	line("carrier", s.Carrier)
	line("payment", s.Payment)
	line("survey", s.Survey)
	line("outages", s.Outages)
	line("forced", s.Forced)
	fmt.Fprintf(&b, "forced orders %d\nSTP denominator %d\n", s.ForcedOrders, s.STPDenominator)
	return b.String()
}
