package customer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/order"
)

var t0 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * customer.Day) }

func days(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * customer.Day
	}
	return out
}

func line(sku string, q int64) []order.Line { return []order.Line{{SKU: sku, Quantity: q}} }

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{days(10), 10 * customer.Day},
		{days(30, 10, 20), 20 * customer.Day},
		{days(10, 20), 15 * customer.Day},
		{days(7, 7, 100, 7), 7 * customer.Day},
	} {
		require.Equal(t, tc.want, customer.Median(tc.in), "%v", tc.in)
	}
}

func TestAddOrderKeepsABoundedSummary(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	for i := range 10 {
		require.True(t, addOrder(&s, fmt.Sprint("o", i), day(i*30), line("GLOVES", int64(10+i))))
	}
	require.False(t, addOrder(&s, "o9", day(400), line("GLOVES", 1)), "a repeated order is ignored")
	p, ok := s.Product("GLOVES")
	require.True(t, ok)
	require.Equal(t, 10, p.Orders)
	require.Equal(t, day(270), p.LastOrderAt)
	require.Len(t, p.Intervals, customer.MaxIntervals)
	require.Equal(t, []int64{14, 15, 16, 17, 18, 19}, p.Quantities)
	require.Equal(t, int64(17), p.TypicalQuantity(), "median of an even count rounds up")
	require.Equal(t, 10, s.Orders)
	require.Len(t, s.Intervals, customer.MaxIntervals)
	require.Equal(t, day(270), s.LastOrderAt)
}

func TestAddOrderLateAndRepeatedSKUs(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	addOrder(&s, "a", day(0), []order.Line{{SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 3}})
	addOrder(&s, "b", day(20), line("A", 4))
	addOrder(&s, "late", day(10), line("A", 9))
	a, _ := s.Product("A")
	b, _ := s.Product("B")
	require.Equal(t, []int64{5}, b.Quantities, "repeated SKU lines are one line of the order")
	require.Equal(t, day(20), a.LastOrderAt, "a late order does not move the last order")
	require.Equal(t, days(20), a.Intervals)
	require.Equal(t, []int64{1, 4, 9}, a.Quantities)
	require.Equal(t, day(20), s.LastOrderAt)
	require.Equal(t, days(20), s.Intervals)
	require.Equal(t, "A", s.Products[0].SKU, "products stay sorted by SKU")
}

func TestAddOrderDropsTheLeastRecentlyOrderedProduct(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	for i := range customer.MaxProducts {
		addOrder(&s, fmt.Sprint("o", i), day(i), line(fmt.Sprintf("SKU-%03d", customer.MaxProducts-i), 1))
	}
	addOrder(&s, "new", day(customer.MaxProducts), line("NEW", 1))
	require.Len(t, s.Products, customer.MaxProducts)
	_, ok := s.Product(fmt.Sprintf("SKU-%03d", customer.MaxProducts))
	require.False(t, ok, "the product ordered first is dropped")
	_, ok = s.Product("NEW")
	require.True(t, ok)
	require.Len(t, s.Recent, customer.MaxRecentOrders)
}

func TestAnOrderEndsDormancy(t *testing.T) {
	t.Parallel()
	s := customer.Summary{DormantSince: day(5), DormantNotified: true}
	addOrder(&s, "a", day(6), line("A", 1))
	require.True(t, s.DormantSince.IsZero())
	require.False(t, s.DormantNotified)
}

func TestExpectedAndReminder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		p         customer.Product
		lead      time.Duration
		wantOK    bool
		expected  time.Time
		remindsAt time.Time
	}{
		{"one order: no rhythm", customer.Product{LastOrderAt: day(0)}, 5 * customer.Day, false, time.Time{}, time.Time{}},
		{"two orders: a repeat, no rhythm yet", customer.Product{LastOrderAt: day(30), Intervals: days(30)}, 5 * customer.Day, false, time.Time{}, time.Time{}},
		{"three orders", customer.Product{LastOrderAt: day(60), Intervals: days(30, 30)}, 5 * customer.Day, true, day(90), day(85)},
		{"median interval", customer.Product{LastOrderAt: day(100), Intervals: days(20, 90, 30)}, 5 * customer.Day, true, day(130), day(125)},
		{"lead longer than half the interval: halfway", customer.Product{LastOrderAt: day(10), Intervals: days(4, 4)}, 5 * customer.Day, true, day(14), day(12)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, ok := customer.ExpectedNext(tc.p)
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.expected, exp)
			r, ok := customer.ReminderAt(tc.p, tc.lead)
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.remindsAt, r)
		})
	}
}

func TestDormant(t *testing.T) {
	t.Parallel()
	regular := customer.Summary{Orders: 3, LastOrderAt: day(60), Intervals: days(30, 30)}
	for _, tc := range []struct {
		name string
		s    customer.Summary
		now  time.Time
		want bool
	}{
		{"within twice the interval", regular, day(119), false},
		{"at twice the interval: not yet", regular, day(120), false},
		{"past twice the interval", regular, day(121), true},
		{"two orders are no rhythm", customer.Summary{Orders: 2, LastOrderAt: day(30), Intervals: days(30)}, day(500), false},
		{"no orders", customer.Summary{}, day(500), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, customer.Dormant(tc.s, tc.now, 2, 3))
		})
	}
	at, ok := customer.DormantAt(regular, 1.5, 3)
	require.True(t, ok)
	require.Equal(t, day(105), at)
	_, ok = customer.DormantAt(regular, 2, 4)
	require.False(t, ok, "MinOrders is honoured")
}

func TestDueRemindersSkipOpenAndRemindedProducts(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	addOrder(&s, "0", day(-30), []order.Line{{SKU: "A", Quantity: 11}, {SKU: "B", Quantity: 4}, {SKU: "C", Quantity: 1}})
	addOrder(&s, "1", day(0), []order.Line{{SKU: "A", Quantity: 10}, {SKU: "B", Quantity: 4}, {SKU: "C", Quantity: 1}})
	addOrder(&s, "2", day(30), []order.Line{{SKU: "A", Quantity: 12}, {SKU: "B", Quantity: 4}, {SKU: "C", Quantity: 1}})
	lead := 5 * customer.Day
	require.Empty(t, customer.DueReminders(s, nil, lead, day(54)), "before the reminder is due")
	at, sku, ok := customer.NextReminderAt(s, nil, lead, day(31))
	require.True(t, ok)
	require.Equal(t, day(55), at)
	require.Equal(t, "A", sku)

	open := []customer.OpenOrder{{OrderID: "3", SKUs: []string{"B"}}}
	c, _ := s.Product("C")
	c.RemindedFor = c.LastOrderAt
	due := customer.DueReminders(s, open, lead, day(55))
	require.Equal(t, []customer.Reminder{{SKU: "A", Expected: day(60), Quantity: 11, Cycle: day(30)}}, due)
	require.Equal(t, []string{"B"}, customer.OpenSKUs(append(open, customer.OpenOrder{SKUs: []string{"B"}})))

	// A new order of C starts a new cycle: it may be reminded again.
	addOrder(&s, "4", day(60), line("C", 1))
	c, _ = s.Product("C")
	require.False(t, c.Reminded())
}

func TestNudgeAt(t *testing.T) {
	t.Parallel()
	nudges := days(2, 5)
	for _, tc := range []struct {
		name       string
		validUntil time.Time
		sent       int
		want       time.Time
		ok         bool
	}{
		{"first", day(30), 0, day(2), true},
		{"second", day(30), 1, day(5), true},
		{"all sent", day(30), 2, time.Time{}, false},
		{"not at or after the expiry reminder", day(7), 1, time.Time{}, false},
		{"before the expiry reminder", day(8), 1, day(5), true},
		{"no validity known", time.Time{}, 1, day(5), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := customer.NudgeAt(day(0), tc.validUntil, nudges, tc.sent, 2*customer.Day)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, at)
		})
	}
}

func TestEarliest(t *testing.T) {
	t.Parallel()
	require.Equal(t, day(2), customer.Earliest(time.Time{}, day(3), day(2)))
	require.True(t, customer.Earliest(time.Time{}).IsZero())
}

func TestSettings(t *testing.T) {
	t.Parallel()
	require.NoError(t, customer.DefaultSettings().Validate())
	d := customer.DefaultSettings()
	require.Equal(t, 5*customer.Day, d.ReminderLead)
	require.Equal(t, 2.0, d.DormantFactor)
	require.Equal(t, days(2, 5), d.QuoteNudges)
	require.Equal(t, 1, d.FrequencyCap)
	require.Equal(t, 7*customer.Day, d.FrequencyWindow)
	require.Equal(t, 3, d.MinOrders)
	for _, tc := range []struct {
		name   string
		change func(*customer.Settings)
		says   string
	}{
		{"negative lead", func(s *customer.Settings) { s.ReminderLead = -1 }, "reminder lead"},
		{"factor below 1", func(s *customer.Settings) { s.DormantFactor = 0.5 }, "dormant factor"},
		{"nudges out of order", func(s *customer.Settings) { s.QuoteNudges = days(5, 2) }, "quote nudge 2"},
		{"zero nudge", func(s *customer.Settings) { s.QuoteNudges = days(0) }, "quote nudge 1"},
		{"no cap", func(s *customer.Settings) { s.FrequencyCap = 0 }, "frequency cap"},
		{"no window", func(s *customer.Settings) { s.FrequencyWindow = 0 }, "frequency window"},
		{"two orders", func(s *customer.Settings) { s.MinOrders = 2 }, "min orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := customer.DefaultSettings()
			tc.change(&s)
			err := s.Validate()
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), tc.says), err.Error())
		})
	}
	s := customer.DefaultSettings()
	s.QuoteNudges = nil
	require.NoError(t, s.Validate(), "no nudges is a valid choice")
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	addOrder(&s, "1", day(0), line("A", 1))
	addOrder(&s, "2", day(10), line("A", 2))
	c := s.Clone()
	c.Products[0].Quantities[0] = 99
	c.Intervals[0] = 0
	require.Equal(t, int64(1), s.Products[0].Quantities[0])
	require.Equal(t, 10*customer.Day, s.Intervals[0])
}

// addOrder adds an order with the default minimum interval (a day).
func addOrder(s *customer.Summary, id string, at time.Time, lines []order.Line) bool {
	return s.AddOrder(id, at, lines, customer.Day)
}

// Orders closer together than the minimum interval are one purchase: a
// split order, or a forgotten item ordered the same afternoon, adds its
// quantities and makes no interval, so no reminder follows it at once.
func TestOrdersWithinTheMinimumIntervalAreOnePurchase(t *testing.T) {
	t.Parallel()
	var s customer.Summary
	require.True(t, s.AddOrder("1", day(0), line("A", 10), customer.Day))
	require.True(t, s.AddOrder("1b", day(0).Add(2*time.Hour), line("A", 5), customer.Day))
	require.True(t, s.AddOrder("2", day(30), line("A", 15), customer.Day))
	require.True(t, s.AddOrder("2b", day(30).Add(time.Minute), line("B", 1), customer.Day))
	a, _ := s.Product("A")
	require.Equal(t, []time.Duration{30*customer.Day - 2*time.Hour}, a.Intervals, "one interval between the two purchases")
	require.Equal(t, []int64{15, 15}, a.Quantities, "the split order's quantities add up")
	require.Equal(t, []time.Duration{30*customer.Day - 2*time.Hour}, s.Intervals)
	require.Equal(t, 4, s.Orders, "every order counts as an order")
	_, ok := customer.ReminderAt(*a, 5*customer.Day)
	require.False(t, ok, "two purchases are no rhythm yet")

	var quick customer.Summary
	for i := range 5 {
		quick.AddOrder(fmt.Sprint("q", i), day(0).Add(time.Duration(i)*time.Minute), line("A", 1), customer.Day)
	}
	q, _ := quick.Product("A")
	require.Empty(t, q.Intervals, "five orders in five minutes are one purchase")
	require.Equal(t, []int64{5}, q.Quantities)
}
