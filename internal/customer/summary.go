package customer

import (
	"cmp"
	"slices"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// Bounds of a Summary.
const (
	// MaxIntervals is how many of the last intervals (and quantities) are
	// kept per product and for the customer.
	MaxIntervals = 6
	// MaxProducts is how many products a summary follows; a new one drops
	// the least recently ordered.
	MaxProducts = 200
	// MaxRecentOrders is how many accepted order ids are kept to ignore a
	// repeated signal.
	MaxRecentOrders = 50
)

// Product is the customer's ordering of one SKU.
type Product struct {
	SKU string `json:"sku"`
	// LastOrderAt is the date of the last order with the SKU: the reorder
	// cycle a reminder belongs to.
	LastOrderAt time.Time `json:"last_order_at"`
	// Orders counts the orders with the SKU (not bounded).
	Orders int `json:"orders"`
	// Intervals are the last ≤ MaxIntervals gaps between its orders,
	// oldest first.
	Intervals []time.Duration `json:"intervals,omitempty"`
	// Quantities are the last ≤ MaxIntervals quantities ordered, oldest first.
	Quantities []int64 `json:"quantities,omitempty"`
	// RemindedFor is the LastOrderAt of the cycle whose reorder reminder
	// was sent (zero: none yet): one reminder per cycle.
	RemindedFor time.Time `json:"reminded_for,omitzero"`
}

// TypicalQuantity is the median of the last quantities (0 when none).
func (p Product) TypicalQuantity() int64 { return medianInt(p.Quantities) }

// Reminded reports whether this cycle's reminder went out.
func (p Product) Reminded() bool {
	return !p.RemindedFor.IsZero() && p.RemindedFor.Equal(p.LastOrderAt)
}

// Summary is the bounded history of a customer's orders.
type Summary struct {
	// Products, by SKU.
	Products []Product `json:"products,omitempty"`
	// LastOrderAt is the date of the customer's last order.
	LastOrderAt time.Time `json:"last_order_at,omitzero"`
	// Orders counts the customer's orders (not bounded).
	Orders int `json:"orders"`
	// Intervals are the last ≤ MaxIntervals gaps between the customer's
	// orders, oldest first.
	Intervals []time.Duration `json:"intervals,omitempty"`
	// Recent are the last ≤ MaxRecentOrders order ids added, oldest first.
	Recent []string `json:"recent,omitempty"`
	// DormantSince is when the customer was found dormant (zero: not
	// dormant); DormantNotified says the rep and the customer were told
	// for this dormancy. An order resets both.
	DormantSince    time.Time `json:"dormant_since,omitzero"`
	DormantNotified bool      `json:"dormant_notified,omitempty"`
}

// AddOrder adds an accepted order of the customer at at with its lines. A
// repeat of an order already added changes nothing and returns false. An
// order older than the last one (a late signal) counts its quantities but
// no interval and does not move the last order date. An order less than
// minInterval after the last one is the same purchase: its quantities add
// to the last ones and it makes no interval.
func (s *Summary) AddOrder(orderID string, at time.Time, lines []order.Line, minInterval time.Duration) bool {
	if slices.Contains(s.Recent, orderID) {
		return false
	}
	s.Recent = keepLast(append(s.Recent, orderID), MaxRecentOrders)
	switch {
	case s.LastOrderAt.IsZero():
		s.LastOrderAt = at
	case !at.After(s.LastOrderAt): // late: no interval
	case at.Sub(s.LastOrderAt) < minInterval: // the same purchase
		s.LastOrderAt = at
	default:
		s.Intervals = keepLast(append(s.Intervals, at.Sub(s.LastOrderAt)), MaxIntervals)
		s.LastOrderAt = at
	}
	if !at.Before(s.LastOrderAt) {
		s.DormantSince, s.DormantNotified = time.Time{}, false
	}
	s.Orders++
	for _, l := range mergeLines(lines) {
		s.addProduct(l, at, minInterval)
	}
	return true
}

func (s *Summary) addProduct(l order.Line, at time.Time, minInterval time.Duration) {
	i, found := slices.BinarySearchFunc(s.Products, l.SKU, func(p Product, sku string) int { return cmp.Compare(p.SKU, sku) })
	if !found {
		if len(s.Products) >= MaxProducts {
			s.dropOldestProduct()
			i, _ = slices.BinarySearchFunc(s.Products, l.SKU, func(p Product, sku string) int { return cmp.Compare(p.SKU, sku) })
		}
		s.Products = slices.Insert(s.Products, i, Product{SKU: l.SKU})
	}
	p := &s.Products[i]
	p.Orders++
	switch {
	case p.LastOrderAt.IsZero():
		p.LastOrderAt = at
	case at.After(p.LastOrderAt) && at.Sub(p.LastOrderAt) < minInterval && len(p.Quantities) > 0:
		// The same purchase: one quantity, and the cycle moves with it.
		p.Quantities[len(p.Quantities)-1] += l.Quantity
		p.LastOrderAt = at
		return
	case at.After(p.LastOrderAt):
		p.Intervals = keepLast(append(p.Intervals, at.Sub(p.LastOrderAt)), MaxIntervals)
		p.LastOrderAt = at
	}
	p.Quantities = keepLast(append(p.Quantities, l.Quantity), MaxIntervals)
}

// dropOldestProduct drops the least recently ordered product (the first by
// SKU among equals, so the choice is deterministic).
func (s *Summary) dropOldestProduct() {
	oldest := 0
	for i, p := range s.Products {
		if p.LastOrderAt.Before(s.Products[oldest].LastOrderAt) {
			oldest = i
		}
	}
	s.Products = slices.Delete(s.Products, oldest, oldest+1)
}

// Product returns the product of sku.
func (s *Summary) Product(sku string) (*Product, bool) {
	i, found := slices.BinarySearchFunc(s.Products, sku, func(p Product, sku string) int { return cmp.Compare(p.SKU, sku) })
	if !found {
		return nil, false
	}
	return &s.Products[i], true
}

// Clone returns a deep copy (the workflow hands summaries to activities and
// into the next run).
func (s Summary) Clone() Summary {
	c := s
	c.Products = make([]Product, len(s.Products))
	for i, p := range s.Products {
		p.Intervals = slices.Clone(p.Intervals)
		p.Quantities = slices.Clone(p.Quantities)
		c.Products[i] = p
	}
	c.Intervals = slices.Clone(s.Intervals)
	c.Recent = slices.Clone(s.Recent)
	return c
}

// mergeLines sums the quantities of repeated SKUs, in SKU order.
func mergeLines(lines []order.Line) []order.Line {
	out := make([]order.Line, 0, len(lines))
	for _, l := range lines {
		if l.SKU == "" {
			continue
		}
		if i := slices.IndexFunc(out, func(o order.Line) bool { return o.SKU == l.SKU }); i >= 0 {
			out[i].Quantity += l.Quantity
			continue
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b order.Line) int { return cmp.Compare(a.SKU, b.SKU) })
	return out
}

func keepLast[T any](s []T, n int) []T {
	if len(s) <= n {
		return s
	}
	return slices.Clone(s[len(s)-n:])
}
