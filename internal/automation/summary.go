package automation

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// Rate is Num of Den; undefined (not Valid) when Den is 0.
type Rate struct{ Num, Den int }

// Valid reports whether the rate has a denominator.
func (r Rate) Valid() bool { return r.Den > 0 }

// Value is Num/Den, 0 when not Valid.
func (r Rate) Value() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Percent is 100·Value.
func (r Rate) Percent() float64 { return 100 * r.Value() }

// Durations are percentiles of durations, interpolated between ranks (as
// PostgreSQL's percentile_cont, which the dashboard's lead times use).
type Durations struct {
	N             int
	P50, P90, Max time.Duration
}

// Cause is a reason with the number of orders (or payments) it applies
// to, and a few of their ids.
type Cause struct {
	Cause    string
	Count    int
	Examples []string
}

// MaxExamples bounds Cause.Examples.
const MaxExamples = 5

// ExceptionCause is the exceptions of one cause.
type ExceptionCause struct {
	Cause string
	Count int
	// Orders met at least one; Open are still unresolved.
	Orders, Open int
	// Worklist is where they show ("" none); Orphans have no entry there.
	Worklist string
	Orphans  int
	// Wait is how long they waited for their resolution (so far, for the
	// open ones).
	Wait Durations
}

// Orphan is an exception that reached no worklist.
type Orphan struct {
	OrderID, PONumber, Cause string
	OpenedAt                 time.Time
}

// Exclusion counts the orders one reason left out of the STP denominator
// (an order with several reasons counts under each).
type Exclusion struct {
	Reason string
	Orders int
}

// Target is one of the targets, met or missed, and when missed
// what holds it back (largest first).
type Target struct {
	Name   string
	Goal   string // "≥ 95 %"
	Actual string
	Met    bool
	// Applicable is false when there was nothing to measure (no orders in
	// the denominator, no payments); such a target is not Met nor missed.
	Applicable bool
	HeldBackBy []Cause
}

// Report is the automation figures of a set of orders and payments.
type Report struct {
	Orders int
	// Excluded orders asked for a human decision (or are in flight, for
	// real traffic): they leave the STP denominator.
	Excluded       int
	ExclusionsBy   []Exclusion
	Finished       int // COMPLETED or PAID, of all orders
	STP            Rate
	STPMisses      []Cause // the denominator's orders not straight, by what held them
	Payments       int
	AutoMatch      Rate
	MatchMisses    []Cause
	Exceptions     []ExceptionCause // most first
	ExceptionTotal int
	Orphans        []Orphan
	DeliveryToCash Durations
	// Staff actions over all the orders, per role, and CS and finance per 100 orders.
	ActionsBy     map[order.Role]int
	CSPer100      float64
	FinancePer100 float64
	Targets       []Target
}

// Summarize computes the Report. exclude says why an order leaves the STP
// denominator (nil leaves none out): ExcludeRealTraffic for the
// dashboard, the scenario plan's forced reasons for a scenario run.
//
//   - STP: orders in the denominator that finished (COMPLETED or PAID)
//     with no CS or finance action, of the orders in the denominator.
//     A miss is held back by every CS/finance action on it ("cs:
//     action.retry"), every exception cause it met, and, when it did not
//     finish, its status ("not finished: SHIPPING").
//   - auto-match: payments applied with no finance allocation, of all
//     payments received; a miss by PaymentFacts.MissCause.
//   - exceptions by cause with their wait; orphans: those with no
//     worklist entry (the target is none).
//   - delivery to cash: from the last delivery to the invoices
//     reconciled, over the orders paid after delivery (prepaid ones
//     are left out).
//   - CS and finance actions per 100 orders, over all the orders.
func Summarize(orders []OrderFacts, payments []PaymentFacts, exclude Excluder) Report {
	r := Report{Orders: len(orders), Payments: len(payments), ActionsBy: map[order.Role]int{}}
	excl := map[string]int{}
	stpMiss := causeCounter{}
	type exAcc struct {
		c      ExceptionCause
		waits  []time.Duration
		orders map[string]bool
	}
	byCause := map[string]*exAcc{}
	var d2c []time.Duration
	for _, o := range orders {
		for role, n := range o.ActionsBy() {
			r.ActionsBy[role] += n
		}
		if o.Finished() {
			r.Finished++
		}
		if !o.DeliveredAt.IsZero() && !o.PaidAt.IsZero() && !o.PaidAt.Before(o.DeliveredAt) {
			d2c = append(d2c, o.PaidAt.Sub(o.DeliveredAt))
		}
		for _, e := range o.Exceptions {
			a := byCause[e.Cause]
			if a == nil {
				a = &exAcc{c: ExceptionCause{Cause: e.Cause, Worklist: e.Worklist}, orders: map[string]bool{}}
				byCause[e.Cause] = a
			}
			a.c.Count++
			a.orders[o.OrderID] = true
			if e.Open {
				a.c.Open++
			}
			if a.c.Worklist == "" {
				a.c.Worklist = e.Worklist
			}
			a.waits = append(a.waits, e.Waited())
			if !e.InWorklist {
				a.c.Orphans++
				r.Orphans = append(r.Orphans, Orphan{OrderID: o.OrderID, PONumber: o.PONumber, Cause: e.Cause, OpenedAt: e.OpenedAt})
			}
			r.ExceptionTotal++
		}

		var reasons []string
		if exclude != nil {
			reasons = dedupe(exclude(o))
		}
		if len(reasons) > 0 {
			r.Excluded++
			for _, why := range reasons {
				excl[why]++
			}
			continue
		}
		r.STP.Den++
		if o.Straight() {
			r.STP.Num++
			continue
		}
		var why []string
		for _, a := range o.StaffActions {
			if a.Touches() {
				why = append(why, string(a.Role)+": "+a.Action)
			}
		}
		if len(why) == 0 && o.StaffTouched {
			why = append(why, "staff touched (no audit entry names the action)")
		}
		for _, e := range o.Exceptions {
			why = append(why, "exception: "+e.Cause)
		}
		if !o.Finished() {
			why = append(why, "not finished: "+string(o.Status))
		}
		for _, w := range dedupe(why) {
			stpMiss.add(w, o.OrderID)
		}
	}
	for why, n := range excl {
		r.ExclusionsBy = append(r.ExclusionsBy, Exclusion{Reason: why, Orders: n})
	}
	slices.SortFunc(r.ExclusionsBy, func(a, b Exclusion) int {
		return cmp.Or(cmp.Compare(b.Orders, a.Orders), cmp.Compare(a.Reason, b.Reason))
	})
	r.STPMisses = stpMiss.sorted()

	matchMiss := causeCounter{}
	for _, p := range payments {
		r.AutoMatch.Den++
		if p.AutoMatched() {
			r.AutoMatch.Num++
			continue
		}
		matchMiss.add(p.MissCause(), p.ID)
	}
	r.MatchMisses = matchMiss.sorted()

	for _, a := range byCause {
		a.c.Orders = len(a.orders)
		a.c.Wait = durations(a.waits)
		r.Exceptions = append(r.Exceptions, a.c)
	}
	slices.SortFunc(r.Exceptions, func(a, b ExceptionCause) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Cause, b.Cause))
	})
	slices.SortFunc(r.Orphans, func(a, b Orphan) int {
		return cmp.Or(a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.OrderID, b.OrderID))
	})
	r.DeliveryToCash = durations(d2c)
	r.CSPer100 = per100(r.ActionsBy[order.RoleCS], r.Orders)
	r.FinancePer100 = per100(r.ActionsBy[order.RoleFinance], r.Orders)

	// Orphans hold back their own target by cause.
	orphanBy := causeCounter{}
	for _, o := range r.Orphans {
		orphanBy.add(o.Cause, o.OrderID)
	}
	r.Targets = []Target{
		rateTarget(NameSTP, TargetSTP, r.STP, r.STPMisses),
		rateTarget(NameAutoMatch, TargetAutoMatch, r.AutoMatch, r.MatchMisses),
		{Name: NameOrphans, Goal: fmt.Sprintf("%d", TargetOrphans),
			Actual: fmt.Sprintf("%d", len(r.Orphans)), Applicable: true, Met: len(r.Orphans) <= TargetOrphans,
			HeldBackBy: orphanBy.sorted()},
	}
	if r.Targets[2].Met {
		r.Targets[2].HeldBackBy = nil
	}
	return r
}

// The targets' names in Report.Targets.
const (
	NameSTP       = "STP"
	NameAutoMatch = "auto-match"
	NameOrphans   = "exceptions without a worklist entry"
)

// Target returns the named target (NameSTP, NameAutoMatch, NameOrphans);
// ok is false for another name.
func (r Report) Target(name string) (t Target, ok bool) {
	for _, t := range r.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// Met reports whether every applicable target is met.
func (r Report) Met() bool {
	for _, t := range r.Targets {
		if t.Applicable && !t.Met {
			return false
		}
	}
	return true
}

func rateTarget(name string, goal float64, rate Rate, misses []Cause) Target {
	t := Target{Name: name, Goal: fmt.Sprintf("≥ %g %%", 100*goal), Applicable: rate.Valid()}
	if !t.Applicable {
		t.Actual = "n/a"
		return t
	}
	t.Actual = fmt.Sprintf("%.1f %% (%d of %d)", rate.Percent(), rate.Num, rate.Den)
	// Compare in integers: 95 of 100 meets 0.95 whatever the float says.
	t.Met = float64(rate.Num) >= math.Ceil(goal*float64(rate.Den)-1e-9)
	if !t.Met {
		t.HeldBackBy = misses
	}
	return t
}

type causeCounter map[string]*Cause

func (c causeCounter) add(why, id string) {
	x := c[why]
	if x == nil {
		x = &Cause{Cause: why}
		c[why] = x
	}
	x.Count++
	if len(x.Examples) < MaxExamples {
		x.Examples = append(x.Examples, id)
	}
}

func (c causeCounter) sorted() []Cause {
	out := make([]Cause, 0, len(c))
	for _, x := range c {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b Cause) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Cause, b.Cause))
	})
	return out
}

// durations are the interpolated percentiles of ds.
func durations(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return Durations{N: len(s), P50: percentile(s, 0.5), P90: percentile(s, 0.9), Max: s[len(s)-1]}
}

// percentile interpolates between the ranks of sorted s, as percentile_cont.
func percentile(s []time.Duration, p float64) time.Duration {
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return s[lo] + time.Duration(math.Round(frac*float64(s[hi]-s[lo])))
}

func per100(n, orders int) float64 {
	if orders == 0 {
		return 0
	}
	return 100 * float64(n) / float64(orders)
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
