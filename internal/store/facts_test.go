package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// TestRecordTransitionKeepsFacts: milestones keep the earliest time they
// were reached whatever order the records arrive in; the facts about the
// order now (failed step, shipments, invoices) follow the newest record
// only; a CS or finance action marks the order as handled by hand.
func TestRecordTransitionKeepsFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	createOrder(t, s, "ord-1", "ACME-001", order.StatusQuoting, money.Money{})
	inv := order.Invoice{InvoiceID: "erp-1", Number: "INV-1", Amount: money.New(10_000, "EUR"), IssuedAt: t0, DueDate: t0.AddDate(0, 0, 30)}
	require.NoError(t, s.SaveInvoice(ctx, "ord-1", inv))

	lead := 5
	at := func(seq int64) time.Time { return t0.Add(time.Duration(seq) * time.Minute) }
	delivered := at(7)
	records := []store.Transition{
		transition("ord-1", 1, order.StatusAwaitingAcceptance),
		transition("ord-1", 2, order.StatusCreditCheck),
		func() store.Transition {
			tr := transition("ord-1", 3, order.StatusConfirmed)
			tr.Action, tr.Reason, tr.NeedsAttention = "step.delayed", "book shipment from WH-EAST: carrier down", true
			tr.Facts = &order.Facts{AttentionStep: "book shipment from WH-EAST", LeadTimeDays: &lead}
			return tr
		}(),
		func() store.Transition {
			tr := transition("ord-1", 4, order.StatusShipping)
			tr.Facts = &order.Facts{LeadTimeDays: &lead, Shipments: []order.ShipmentFact{{
				ShipmentID: "SHP-1", Warehouse: "WH-EAST", Carrier: "parcel", SKUs: []string{"SKU-1"}, PromisedDate: t0.AddDate(0, 0, 3)}}}
			return tr
		}(),
		func() store.Transition {
			tr := transition("ord-1", 5, order.StatusShipping)
			tr.Action = "order.delivered"
			tr.Facts = &order.Facts{LeadTimeDays: &lead, Shipments: []order.ShipmentFact{{
				ShipmentID: "SHP-1", Warehouse: "WH-EAST", Carrier: "parcel", SKUs: []string{"SKU-1"},
				PromisedDate: t0.AddDate(0, 0, 3), DeliveredAt: delivered}}}
			return tr
		}(),
		func() store.Transition {
			tr := transition("ord-1", 6, order.StatusAwaitingPayment)
			tr.Facts = &order.Facts{LeadTimeDays: &lead, Invoices: []order.InvoiceFact{{Number: "INV-1", Open: money.New(10_000, "EUR"), DunningLevel: 1}}}
			return tr
		}(),
		func() store.Transition {
			tr := transition("ord-1", 7, order.StatusAwaitingPayment)
			tr.Action, tr.Actor = "action.retry", order.Actor{Subject: "fin-1", Role: order.RoleFinance}
			tr.Facts = &order.Facts{LeadTimeDays: &lead, Invoices: []order.InvoiceFact{{Number: "INV-1", Open: money.New(0, "EUR"), DunningLevel: 1, SettledAt: at(7)}}}
			return tr
		}(),
		func() store.Transition {
			tr := transition("ord-1", 8, order.StatusPaid)
			tr.Action = "payment.reconciled"
			tr.Facts = &order.Facts{LeadTimeDays: &lead,
				Shipments: []order.ShipmentFact{{ShipmentID: "SHP-1", Warehouse: "WH-EAST", Carrier: "parcel", SKUs: []string{"SKU-1"},
					PromisedDate: t0.AddDate(0, 0, 3), DeliveredAt: delivered}},
				Invoices: []order.InvoiceFact{{Number: "INV-1", Open: money.New(0, "EUR"), DunningLevel: 1, SettledAt: at(8)}}}
			return tr
		}(),
	}
	// Out of order and one twice; the newest (seq 8) arrives second to
	// last, so the facts of seq 7 apply first and are then replaced.
	for _, i := range []int{6, 0, 1, 4, 2, 3, 5, 7, 4} {
		require.NoError(t, s.RecordTransition(ctx, records[i]))
	}

	var quoted, accepted, deliv, paid time.Time
	var step string
	var touched bool
	var leadDays int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT quoted_at, accepted_at, delivered_at, paid_at, attention_step, staff_touched, lead_time_days
		FROM orders WHERE id = 'ord-1'`).Scan(&quoted, &accepted, &deliv, &paid, &step, &touched, &leadDays))
	require.True(t, quoted.Equal(at(1)), "quoted at %s", quoted)
	require.True(t, accepted.Equal(at(2)), "accepted at %s: the first status past acceptance", accepted)
	require.True(t, deliv.Equal(at(5)), "delivered at %s", deliv)
	require.True(t, paid.Equal(at(8)), "paid at %s", paid)
	require.Empty(t, step, "the newest record needs no attention")
	require.True(t, touched, "finance acted on the order")
	require.Equal(t, 5, leadDays)

	var exStep, exKind string
	require.NoError(t, pool.QueryRow(ctx, `SELECT step, kind FROM order_exceptions WHERE order_id = 'ord-1'`).Scan(&exStep, &exKind))
	require.Equal(t, order.StageShipping, exStep)
	require.Equal(t, "step.delayed", exKind)

	var shDelivered *time.Time
	var carrier string
	require.NoError(t, pool.QueryRow(ctx, `SELECT delivered_at, carrier FROM shipments WHERE order_id = 'ord-1' AND shipment_id = 'SHP-1'`).Scan(&shDelivered, &carrier))
	require.NotNil(t, shDelivered, "the newest record with shipments says it was delivered")
	require.Equal(t, "parcel", carrier)

	var open int64
	var level int
	var settled *time.Time
	var customer string
	require.NoError(t, pool.QueryRow(ctx, `SELECT open_minor, dunning_level, settled_at, customer_id FROM invoices WHERE number = 'INV-1'`).Scan(&open, &level, &settled, &customer))
	require.Zero(t, open)
	require.Equal(t, 1, level)
	require.NotNil(t, settled)
	require.True(t, settled.Equal(at(7)), "settled when first seen settled (%s), not at a later record", settled)
	require.Equal(t, "ACME-001", customer)

	// Finance acting outside the workflow marks an order too.
	createOrder(t, s, "ord-2", "ACME-001", order.StatusAwaitingPayment, money.New(1, "EUR"))
	require.NoError(t, s.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-2", Action: "payment.allocated", Actor: order.Actor{Subject: "fin-1", Role: order.RoleFinance}}))
	require.NoError(t, pool.QueryRow(ctx, `SELECT staff_touched FROM orders WHERE id = 'ord-2'`).Scan(&touched))
	require.True(t, touched)
}

// TestDetractorOpensFollowUp: a detractor's answer opens one follow-up
// owned by the customer's rep, a promoter's none; closing it needs a note,
// is audited on the order, and a repeat of the same close is harmless.
func TestDetractorOpensFollowUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	createOrder(t, s, "ord-1", "ACME-001", order.StatusPaid, money.New(1, "EUR"))
	for _, sh := range []string{"SHP-1", "SHP-2"} {
		_, err := s.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord-1", ShipmentID: sh, CustomerID: "ACME-001",
			Warehouse: "WH-EAST", Carrier: "parcel", SKUs: []string{"SKU-1"}, Token: "tok-" + sh, ExpiresAt: t0.Add(time.Hour)})
		require.NoError(t, err)
	}
	_, fresh, err := s.AnswerSurvey(ctx, "tok-SHP-1", 3, "late and dented", t0)
	require.NoError(t, err)
	require.True(t, fresh)
	_, _, err = s.AnswerSurvey(ctx, "tok-SHP-1", 3, "late and dented", t0)
	require.NoError(t, err, "a repeated answer")
	_, _, err = s.AnswerSurvey(ctx, "tok-SHP-2", 9, "", t0)
	require.NoError(t, err)

	open, err := s.FollowUps(ctx, store.FollowUpFilter{Open: true})
	require.NoError(t, err)
	require.Len(t, open, 1, "one follow-up, for the detractor only")
	fu := open[0]
	require.Equal(t, "SHP-1", fu.ShipmentID)
	require.Equal(t, 3, *fu.Score)
	require.Equal(t, "late and dented", fu.Comment)
	require.NotEmpty(t, fu.Owner, "owned by the customer's rep")
	customer, err := s.Terms(ctx, "ACME-001")
	require.NoError(t, err)
	require.Equal(t, customer.RepEmail, fu.Owner)

	cs := order.Actor{Subject: "cs-ann", Role: order.RoleCS}
	_, err = s.CloseFollowUp(ctx, fu.ID, cs, "  ", t0)
	var fe *order.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "note", fe.Field)
	closed, err := s.CloseFollowUp(ctx, fu.ID, cs, "called; a replacement is on its way", t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "cs-ann", closed.ClosedBy)
	again, err := s.CloseFollowUp(ctx, fu.ID, cs, "called; a replacement is on its way", t0.Add(2*time.Hour))
	require.NoError(t, err, "the same close again")
	require.Equal(t, closed, again)
	_, err = s.CloseFollowUp(ctx, fu.ID, order.Actor{Subject: "rep-1", Role: order.RoleSalesRep}, "me too", t0)
	require.ErrorIs(t, err, store.ErrFollowUpClosed)

	open, err = s.FollowUps(ctx, store.FollowUpFilter{Open: true})
	require.NoError(t, err)
	require.Empty(t, open)
	entries, err := s.AuditLog(ctx, "ord-1")
	require.NoError(t, err)
	require.Equal(t, "followup.closed", entries[len(entries)-1].Action)
}
