package player

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/scenario"
)

// TestMistypeBreaksTheCheckOneDigitOff: the payer's typo fails the RF
// check, and the reference meant is among its one-typo corrections.
func TestMistypeBreaksTheCheckOneDigitOff(t *testing.T) {
	for _, number := range []string{"INV-000001", "INV-000457", "INV-123456", "INV-000010"} {
		ref := order.CreditorReferenceOf(number)
		require.True(t, creditref.Valid(ref), ref)
		typo := Mistype(ref)
		require.NotEqual(t, ref, typo)
		require.False(t, creditref.Valid(typo), "%s → %s still valid", ref, typo)
		require.Contains(t, creditref.Corrections(typo), compactRF(ref), "%s → %s", ref, typo)
		diff := 0
		for i := range ref {
			if ref[i] != typo[i] {
				diff++
			}
		}
		require.Equal(t, 1, diff, "one character off: %s → %s", ref, typo)
	}
}

func compactRF(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// TestWaitingOnNamesSomeoneForEveryParkedStatus: the invariant's table.
func TestWaitingOnNamesSomeoneForEveryParkedStatus(t *testing.T) {
	tests := []struct {
		status    order.Status
		attention bool
		named     bool
	}{
		{order.StatusAwaitingAcceptance, false, true},
		{order.StatusAwaitingApproval, false, true},
		{order.StatusCreditHold, false, true},
		{order.StatusInvoiced, false, true},
		{order.StatusAwaitingPayment, false, true},
		{order.StatusPaid, false, true},
		{order.StatusQuoting, false, false},
		{order.StatusCreditCheck, false, false},
		{order.StatusConfirmed, false, false},
		{order.StatusShipping, false, false},
		{order.StatusShipping, true, true},
	}
	for _, tt := range tests {
		got := WaitingOn(tt.status, tt.attention)
		require.Equal(t, tt.named, got != "", "%s attention=%t: %q", tt.status, tt.attention, got)
	}
}

// TestGroupIsPaidByItsLastMemberWithEveryInvoice: a grouped payment waits
// for every member order to bring its invoices (or none), then one member
// pays them all, after the longest delay, counted from the last invoice.
func TestGroupIsPaidByItsLastMemberWithEveryInvoice(t *testing.T) {
	plan := scenario.Plan{TimeScale: 1000, Orders: []scenario.Order{
		{Ref: "A-1", Payment: scenario.PaymentPlan{Behaviour: scenario.PayGrouped, Group: "g1"}},
		{Ref: "A-2", Payment: scenario.PaymentPlan{Behaviour: scenario.PayGrouped, Group: "g1"}},
		{Ref: "A-3", Payment: scenario.PaymentPlan{Behaviour: scenario.PayGrouped, Group: "g1"}},
		{Ref: "A-4", Payment: scenario.PaymentPlan{Behaviour: scenario.PayGrouped, Group: "g2"}},
	}}
	p := &player{plan: plan, groups: map[string]*group{}}
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	require.Nil(t, p.joinGroup("g1", "ACME-001", []dueInvoice{{OrderID: "o2", Number: "INV-2", Open: eur(200)}}, time.Hour))
	require.Nil(t, p.joinGroup("g1", "ACME-001", nil, 0), "an order that ended without an invoice")
	g := p.joinGroup("g1", "ACME-001", []dueInvoice{{OrderID: "o1", Number: "INV-1", Open: eur(100)}}, 2*time.Hour)
	require.NotNil(t, g)
	require.Equal(t, []string{"INV-1", "INV-2"}, []string{g.invoices[0].Number, g.invoices[1].Number})
	require.Equal(t, 2*time.Hour, g.delay)
	require.Nil(t, p.joinGroup("g1", "ACME-001", nil, 0), "paid once")
	require.Nil(t, p.joinGroup("g2", "ACME-001", nil, 0), "a group without invoices pays nothing")
}

// TestInBusinessTimeScalesWaits: a wait of 10 wall seconds in a run at
// 8640 is a business day.
func TestInBusinessTimeScalesWaits(t *testing.T) {
	origin := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	orders := []automation.OrderFacts{{DeliveredAt: origin.Add(10 * time.Second), PaidAt: origin.Add(20 * time.Second),
		Exceptions: []automation.Exception{{OpenedAt: origin.Add(10 * time.Second), ClosedAt: origin.Add(20 * time.Second)}}}}
	InBusinessTime(orders, nil, origin, 8640)
	require.Equal(t, 24*time.Hour, orders[0].PaidAt.Sub(orders[0].DeliveredAt))
	require.Equal(t, 24*time.Hour, orders[0].Exceptions[0].Waited())
	require.True(t, orders[0].CreatedAt.IsZero(), "a zero time stays zero")
}
