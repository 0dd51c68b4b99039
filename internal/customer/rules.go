package customer

import (
	"slices"
	"time"
)

// Median returns the median of ds (the mean of the two middle ones for an
// even count); 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// medianInt is the median of quantities, the mean of the two middle ones
// rounded up for an even count (a buyer rather gets one more than short).
func medianInt(qs []int64) int64 {
	if len(qs) == 0 {
		return 0
	}
	s := slices.Clone(qs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	sum := s[n/2-1] + s[n/2]
	return sum/2 + sum%2
}

// MinRhythm is how many intervals between a product's purchases make a
// rhythm to remind by: two (three purchases). One interval is a repeat,
// not yet a habit.
const MinRhythm = 2

// ExpectedNext is when the product's next order is expected: its last
// order plus the median of its intervals. It needs MinRhythm intervals;
// ok is false before.
func ExpectedNext(p Product) (at time.Time, ok bool) {
	if len(p.Intervals) < MinRhythm || p.LastOrderAt.IsZero() {
		return time.Time{}, false
	}
	return p.LastOrderAt.Add(Median(p.Intervals)), true
}

// ReminderAt is when the product's reorder reminder is due: lead before
// its expected next order, but never in the first half of the interval
// after its last order (a customer who orders every three days is not
// reminded the moment an order is placed because the lead is five days).
func ReminderAt(p Product, lead time.Duration) (at time.Time, ok bool) {
	exp, ok := ExpectedNext(p)
	if !ok {
		return time.Time{}, false
	}
	return maxTime(exp.Add(-lead), p.LastOrderAt.Add(Median(p.Intervals)/2)), true
}

// DormantAt is when the customer counts as dormant if no order comes:
// its last order plus factor times the median interval between its
// orders. It needs minOrders orders (and at least two intervals).
func DormantAt(s Summary, factor float64, minOrders int) (at time.Time, ok bool) {
	if s.Orders < minOrders || len(s.Intervals) < 2 || s.LastOrderAt.IsZero() {
		return time.Time{}, false
	}
	return s.LastOrderAt.Add(time.Duration(factor * float64(Median(s.Intervals)))), true
}

// Dormant reports whether the customer's silence at now exceeds factor
// times its usual interval.
func Dormant(s Summary, now time.Time, factor float64, minOrders int) bool {
	at, ok := DormantAt(s, factor, minOrders)
	return ok && now.After(at)
}

// OpenOrder is an accepted order not yet completed or ended, with its SKUs.
type OpenOrder struct {
	OrderID string   `json:"order_id"`
	SKUs    []string `json:"skus"`
}

// OpenSKUs are the SKUs of open orders, sorted, without repeats.
func OpenSKUs(open []OpenOrder) []string {
	var out []string
	for _, o := range open {
		out = append(out, o.SKUs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IsOpen reports whether an open order has sku.
func IsOpen(open []OpenOrder, sku string) bool {
	return slices.ContainsFunc(open, func(o OpenOrder) bool { return slices.Contains(o.SKUs, sku) })
}

// Reminder is a product whose reorder reminder is due.
type Reminder struct {
	SKU      string    `json:"sku"`
	Expected time.Time `json:"expected"`
	Quantity int64     `json:"quantity"`
	// Cycle is the product's LastOrderAt: the reminder belongs to it.
	Cycle time.Time `json:"cycle"`
}

// DueReminders are the products whose reminder is due at now, by SKU:
// expected next order known, due time reached, not reminded in this
// cycle, and no open order for it.
func DueReminders(s Summary, open []OpenOrder, lead time.Duration, now time.Time) []Reminder {
	var out []Reminder
	for _, p := range s.Products {
		at, ok := ReminderAt(p, lead)
		if !ok || at.After(now) || p.Reminded() || IsOpen(open, p.SKU) {
			continue
		}
		exp, _ := ExpectedNext(p)
		out = append(out, Reminder{SKU: p.SKU, Expected: exp, Quantity: p.TypicalQuantity(), Cycle: p.LastOrderAt})
	}
	return out
}

// NextReminderAt is the earliest reminder still to come after now, for
// the products that may get one (ok false: none).
func NextReminderAt(s Summary, open []OpenOrder, lead time.Duration, now time.Time) (at time.Time, sku string, ok bool) {
	for _, p := range s.Products {
		r, has := ReminderAt(p, lead)
		if !has || p.Reminded() || IsOpen(open, p.SKU) || !r.After(now) {
			continue
		}
		if !ok || r.Before(at) {
			at, sku, ok = r, p.SKU, true
		}
	}
	return at, sku, ok
}

// NextExpected is the product expected to be ordered next (the earliest
// expected date, by SKU among equals), for the rep's view.
func NextExpected(s Summary) (at time.Time, sku string, ok bool) {
	for _, p := range s.Products {
		e, has := ExpectedNext(p)
		if !has {
			continue
		}
		if !ok || e.Before(at) {
			at, sku, ok = e, p.SKU, true
		}
	}
	return at, sku, ok
}

// NudgeAt is when the next nudge of a quote sent at quotedAt is due, after
// sent nudges of the schedule nudges (offsets from quotedAt). Nudges
// come before the quote's expiry reminder: one due at or after
// validUntil − reminderBefore is not sent (ok false), nor are those after it.
func NudgeAt(quotedAt, validUntil time.Time, nudges []time.Duration, sent int, reminderBefore time.Duration) (at time.Time, ok bool) {
	if sent >= len(nudges) {
		return time.Time{}, false
	}
	at = quotedAt.Add(nudges[sent])
	if !validUntil.IsZero() && !at.Before(validUntil.Add(-reminderBefore)) {
		return time.Time{}, false
	}
	return at, true
}

// Earliest returns the earliest of the non-zero times (zero when all are).
func Earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
