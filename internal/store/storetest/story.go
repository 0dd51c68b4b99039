// Package storetest writes orders with known outcomes into a store the way
// the order workflow does (RecordTransition with Facts, SaveInvoice,
// CreateSurvey and AnswerSurvey), so tests of the dashboard can seed
// figures they know the answer to without running a workflow.
package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// Story is one order's life in outline. Zero times are milestones the
// order never reached.
type Story struct {
	ID, CustomerID string
	// Created is when the quote was sent (the order's creation).
	Created  time.Time
	Revision int // the last quote revision; 0 means 1
	LeadDays int // the lead time the quote stated
	Accepted time.Time
	// Shipment, when set, is booked after acceptance and delivered at
	// Shipment.DeliveredAt (when set).
	Shipment *order.ShipmentFact
	// Invoice, when set, is issued after delivery; Open is what stays open
	// on it (zero: paid in full at Paid).
	Invoice *order.Invoice
	Open    money.Money
	Paid    time.Time
	// Exceptions are audit actions with their reasons, recorded after the
	// quote: "step.failed" with "credit check: …", "shipment.exception", …
	Exceptions [][2]string
	// Staff: a finance person acted on the order.
	Staff bool
	// End is the status the order ends in (or is in now).
	End order.Status
	// Survey, when set, is the score the buyer gave on the delivered
	// shipment, at SurveyAt.
	Survey   *int
	SurveyAt time.Time
}

// Seed writes the story.
func Seed(ctx context.Context, s *store.Store, st Story) error {
	seq := int64(0)
	last := st.Created
	lead := st.LeadDays
	rec := func(status order.Status, action string, at time.Time, f func(*store.Transition)) error {
		seq++
		if at.Before(last) {
			at = last
		}
		last = at
		tr := store.Transition{OrderID: st.ID, CustomerID: st.CustomerID, Seq: seq, Status: status,
			Action: action, Details: string(status), At: at, Facts: &order.Facts{LeadTimeDays: &lead}}
		if f != nil {
			f(&tr)
		}
		if err := s.RecordTransition(ctx, tr); err != nil {
			return fmt.Errorf("seed %s seq %d: %w", st.ID, seq, err)
		}
		return nil
	}
	rev := max(st.Revision, 1)
	if err := rec(order.StatusAwaitingAcceptance, "quote.sent", st.Created, func(tr *store.Transition) {
		tr.QuoteRevision = rev
		tr.Total = money.New(10_000, "EUR")
	}); err != nil {
		return err
	}
	for _, x := range st.Exceptions {
		if err := rec(order.StatusAwaitingAcceptance, x[0], last.Add(time.Minute), func(tr *store.Transition) { tr.Reason = x[1] }); err != nil {
			return err
		}
	}
	var shipments []order.ShipmentFact
	if !st.Accepted.IsZero() {
		if err := rec(order.StatusCreditCheck, "quote.accepted", st.Accepted, nil); err != nil {
			return err
		}
		if st.Shipment != nil {
			booked := *st.Shipment
			booked.DeliveredAt = time.Time{}
			if err := rec(order.StatusShipping, "order.shipping", st.Accepted.Add(time.Hour), func(tr *store.Transition) {
				tr.Facts.Shipments = []order.ShipmentFact{booked}
			}); err != nil {
				return err
			}
			shipments = []order.ShipmentFact{*st.Shipment}
			if !st.Shipment.DeliveredAt.IsZero() {
				if err := rec(order.StatusShipping, "order.delivered", st.Shipment.DeliveredAt, func(tr *store.Transition) {
					tr.Facts.Shipments = shipments
				}); err != nil {
					return err
				}
			}
		}
	}
	if st.Invoice != nil {
		if err := s.SaveInvoice(ctx, st.ID, *st.Invoice); err != nil {
			return fmt.Errorf("seed %s: %w", st.ID, err)
		}
		open := st.Invoice.Amount
		if err := rec(order.StatusAwaitingPayment, "invoice.issued", st.Invoice.IssuedAt, func(tr *store.Transition) {
			tr.Facts.Shipments = shipments
			tr.Facts.Invoices = []order.InvoiceFact{{Number: st.Invoice.Number, Open: open}}
		}); err != nil {
			return err
		}
		if !st.Paid.IsZero() {
			if err := rec(order.StatusPaid, "payment.reconciled", st.Paid, func(tr *store.Transition) {
				tr.Facts.Shipments = shipments
				tr.Facts.Invoices = []order.InvoiceFact{{Number: st.Invoice.Number, Open: money.New(0, open.Currency), SettledAt: st.Paid}}
			}); err != nil {
				return err
			}
		} else if !st.Open.IsZero() && st.Open != open {
			if err := rec(order.StatusAwaitingPayment, "payment.matched", st.Invoice.IssuedAt.Add(time.Hour), func(tr *store.Transition) {
				tr.Facts.Shipments = shipments
				tr.Facts.Invoices = []order.InvoiceFact{{Number: st.Invoice.Number, Open: st.Open}}
			}); err != nil {
				return err
			}
		}
	}
	if st.Staff {
		if err := rec(lastStatus(st), "action.retry", last.Add(time.Minute), func(tr *store.Transition) {
			tr.Actor = order.Actor{Subject: "fin@seller", Role: order.RoleFinance}
			tr.Facts.Shipments = shipments
		}); err != nil {
			return err
		}
	}
	if st.End != "" && st.End != lastStatus(st) {
		if err := rec(st.End, "status.changed", last.Add(time.Minute), func(tr *store.Transition) {
			tr.Facts.Shipments = shipments
		}); err != nil {
			return err
		}
	}
	if st.Survey != nil && st.Shipment != nil {
		token := "survey-" + st.ID
		if _, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: st.ID, ShipmentID: st.Shipment.ShipmentID, CustomerID: st.CustomerID,
			Warehouse: st.Shipment.Warehouse, Carrier: st.Shipment.Carrier, SKUs: st.Shipment.SKUs,
			Token: token, ExpiresAt: st.SurveyAt.Add(24 * time.Hour)}); err != nil {
			return fmt.Errorf("seed %s: %w", st.ID, err)
		}
		if _, _, err := s.AnswerSurvey(ctx, token, *st.Survey, "", st.SurveyAt); err != nil {
			return fmt.Errorf("seed %s: %w", st.ID, err)
		}
	}
	return nil
}

// lastStatus is the status Seed has recorded last before the end.
func lastStatus(st Story) order.Status {
	switch {
	case st.Invoice != nil && !st.Paid.IsZero():
		return order.StatusPaid
	case st.Invoice != nil:
		return order.StatusAwaitingPayment
	case st.Shipment != nil && !st.Accepted.IsZero():
		return order.StatusShipping
	case !st.Accepted.IsZero():
		return order.StatusCreditCheck
	}
	return order.StatusAwaitingAcceptance
}

// The period of Scenario: March 2026 (30 days, from Sunday 1 to Tuesday 31
// excluded; Monday 2 starts an ISO week).
var (
	ScenarioFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ScenarioTo   = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
)

// Scenario is a handful of orders with known outcomes around March 2026,
// for the three demo customers. The figures they give are worked out in
// internal/store/kpis_test.go, and checked again in the browser by
// e2e/dashboard_test.go.
func Scenario() []Story {
	day := func(d int, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
	score := func(n int) *int { return &n }
	inv := func(n string, amount money.Money, issued, due time.Time) *order.Invoice {
		return &order.Invoice{InvoiceID: "erp-" + n, Number: n, Amount: amount, IssuedAt: issued, DueDate: due}
	}
	ship := func(id, wh, carrier string, promised, delivered time.Time, skus ...string) *order.ShipmentFact {
		return &order.ShipmentFact{ShipmentID: id, Warehouse: wh, Carrier: carrier, SKUs: skus, PromisedDate: promised, DeliveredAt: delivered}
	}
	return []Story{
		{ID: "kpi-o1", CustomerID: "ACME-001", Created: day(2, 10), LeadDays: 5, Accepted: day(3, 10),
			Shipment: ship("SHP-o1", "WH-EAST", "parcel", day(6, 0), day(7, 10), "BOLT-M8", "NUT-M8"),
			Invoice:  inv("INV-o1", eur(10_000), day(7, 10), day(7, 10).AddDate(0, 0, 30)), Paid: day(17, 10),
			End: order.StatusCompleted, Survey: score(10), SurveyAt: day(8, 12)},
		{ID: "kpi-o2", CustomerID: "ACME-001", Created: day(5, 10), LeadDays: 1, Accepted: day(8, 10),
			Exceptions: [][2]string{{"step.failed", "credit check: ERP down"}},
			Shipment:   ship("SHP-o2", "WH-EAST", "parcel", day(10, 0), day(10, 10), "BOLT-M8"),
			Invoice:    inv("INV-o2", eur(20_000), day(10, 10), day(10, 10).AddDate(0, 0, 30)), Paid: day(30, 10),
			Staff: true, End: order.StatusCompleted, Survey: score(3), SurveyAt: day(11, 12)},
		{ID: "kpi-o3", CustomerID: "GLOBEX-002", Created: day(10, 9), Revision: 2, LeadDays: 3, End: order.StatusQuoteRejected},
		{ID: "kpi-o4", CustomerID: "GLOBEX-002", Created: day(12, 9), LeadDays: 3, End: order.StatusQuoteExpired},
		{ID: "kpi-o5", CustomerID: "INITECH-003", Created: day(15, 10), LeadDays: 7, Accepted: day(17, 10),
			Exceptions: [][2]string{{"shipment.exception", "damaged"}, {"step.delayed", "book shipment from WH-WEST: carrier down"}},
			Shipment:   ship("SHP-o5", "WH-WEST", "freight", day(21, 0), day(20, 10), "PUMP-200"),
			Invoice:    inv("INV-o5", money.New(30_000, "USD"), day(20, 10), day(25, 10)),
			End:        order.StatusAwaitingPayment, Survey: score(8), SurveyAt: day(22, 12)},
		{ID: "kpi-o6", CustomerID: "ACME-001", Created: day(20, 10), LeadDays: 5, End: order.StatusAwaitingAcceptance},
		// Before the period: counted only where a delivery, invoice or
		// answer falls in it.
		{ID: "kpi-o7", CustomerID: "ACME-001", Created: day(-8, 10), LeadDays: 10, Accepted: day(-7, 10),
			Shipment: ship("SHP-o7", "WH-WEST", "freight", day(2, 0), day(3, 10), "VALVE-50"),
			Invoice:  inv("INV-o7", eur(40_000), day(3, 10), day(33, 10)),
			End:      order.StatusAwaitingPayment, Survey: score(9), SurveyAt: day(5, 12)},
		{ID: "kpi-o10", CustomerID: "GLOBEX-002", Created: day(-49, 10), LeadDays: 3, Accepted: day(-48, 10),
			Shipment: ship("SHP-o10", "WH-EAST", "parcel", day(-29, 0), day(-29, 10), "BOLT-M8"),
			Invoice:  inv("INV-o10", eur(50_000), day(-28, 10), day(3, 10)), Paid: day(36, 10),
			End: order.StatusCompleted},
		// Outside the figures: a refused quote, an order after the period.
		{ID: "kpi-o8", CustomerID: "ACME-001", Created: day(11, 10), End: order.StatusQuoteRefused},
		{ID: "kpi-o9", CustomerID: "ACME-001", Created: day(33, 10), LeadDays: 5, Accepted: day(34, 10), End: order.StatusCreditCheck},
	}
}
