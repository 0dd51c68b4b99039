package automation_test

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/order"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func straight(id string) automation.OrderFacts {
	return automation.OrderFacts{OrderID: id, PONumber: "PO-" + id, Status: order.StatusCompleted,
		DeliveredAt: t0, PaidAt: t0.Add(10 * 24 * time.Hour)}
}

func TestStraightRules(t *testing.T) {
	cs := automation.StaffAction{Role: order.RoleCS, Action: "action.retry", At: t0}
	mgr := automation.StaffAction{Role: order.RoleSalesManager, Action: "approval.approved", At: t0}
	for _, tc := range []struct {
		name     string
		o        automation.OrderFacts
		straight bool
		excluded []string // by ExcludeRealTraffic
	}{
		{"completed untouched", straight("a"), true, nil},
		{"paid, survey open", automation.OrderFacts{Status: order.StatusPaid}, true, nil},
		{"completed after a CS retry", automation.OrderFacts{Status: order.StatusCompleted, StaffActions: []automation.StaffAction{cs}}, false, nil},
		{"a manager's approval is a decision, not a touch", automation.OrderFacts{Status: order.StatusCompleted,
			StaffActions: []automation.StaffAction{mgr}, Decisions: []automation.Decision{automation.DecisionApproval}}, true, []string{"approval asked"}},
		{"flagged touched without an audit entry", automation.OrderFacts{Status: order.StatusCompleted, StaffTouched: true}, false, nil},
		{"in flight untouched", automation.OrderFacts{Status: order.StatusShipping}, false, []string{automation.InFlight}},
		{"in flight touched stays in", automation.OrderFacts{Status: order.StatusShipping, StaffActions: []automation.StaffAction{cs}}, false, nil},
		{"cancelled is a decision", automation.OrderFacts{Status: order.StatusCancelled, Decisions: []automation.Decision{automation.DecisionCancelled}}, false, []string{"cancelled"}},
		{"credit declined", automation.OrderFacts{Status: order.StatusCreditDeclined,
			Decisions: []automation.Decision{automation.DecisionCreditHold, automation.DecisionCreditDeclined}}, false, []string{"credit hold", "credit declined"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.Straight(); got != tc.straight {
				t.Errorf("Straight() = %v, want %v", got, tc.straight)
			}
			got := automation.ExcludeRealTraffic(tc.o)
			if strings.Join(got, ",") != strings.Join(tc.excluded, ",") {
				t.Errorf("ExcludeRealTraffic = %q, want %q", got, tc.excluded)
			}
		})
	}
}

func TestSummarizeSTP(t *testing.T) {
	var orders []automation.OrderFacts
	for i := range 18 {
		orders = append(orders, straight(fmt.Sprint("ok", i)))
	}
	touched := straight("t")
	touched.StaffActions = []automation.StaffAction{{Role: order.RoleCS, Action: "action.retry", At: t0}}
	touched.Exceptions = []automation.Exception{{Cause: "step failed: reserve", Kind: "step.failed", OpenedAt: t0, ClosedAt: t0.Add(2 * time.Hour), Worklist: "attention", InWorklist: true}}
	stuck := automation.OrderFacts{OrderID: "s", Status: order.StatusShipping}
	rejected := automation.OrderFacts{OrderID: "r", Status: order.StatusQuoteRejected, Decisions: []automation.Decision{automation.DecisionQuoteRejected}}
	orders = append(orders, touched, stuck, rejected)

	// The scenario player's excluder: only the plan's forced orders.
	forced := func(o automation.OrderFacts) []string {
		if o.OrderID == "r" {
			return []string{"plan: buyer rejects"}
		}
		return nil
	}
	r := automation.Summarize(orders, nil, forced)
	if r.STP != (automation.Rate{Num: 18, Den: 20}) {
		t.Fatalf("STP = %+v, want 18 of 20", r.STP)
	}
	tg, _ := r.Target(automation.NameSTP)
	if tg.Met || !tg.Applicable {
		t.Errorf("STP target %+v: want missed", tg)
	}
	want := map[string]int{"cs: action.retry": 1, "exception: step failed: reserve": 1, "not finished: SHIPPING": 1}
	for _, c := range tg.HeldBackBy {
		if want[c.Cause] != c.Count {
			t.Errorf("held back by %q ×%d, want ×%d", c.Cause, c.Count, want[c.Cause])
		}
		delete(want, c.Cause)
	}
	if len(want) > 0 {
		t.Errorf("causes missing: %v", want)
	}
	if r.Excluded != 1 || r.ExclusionsBy[0] != (automation.Exclusion{Reason: "plan: buyer rejects", Orders: 1}) {
		t.Errorf("exclusions %d %+v", r.Excluded, r.ExclusionsBy)
	}
	if r.CSPer100 != 100.0/21 {
		t.Errorf("CS per 100 = %v", r.CSPer100)
	}

	// The dashboard's excluder takes the untouched order in flight out.
	r = automation.Summarize(orders, nil, automation.ExcludeRealTraffic)
	if r.STP != (automation.Rate{Num: 18, Den: 19}) {
		t.Errorf("real traffic STP = %+v, want 18 of 19", r.STP)
	}
	if tg, _ := r.Target(automation.NameSTP); tg.Met || len(tg.HeldBackBy) != 2 {
		t.Errorf("18 of 19 (94.7 %%) should miss, held back by the touch and the exception: %+v", tg)
	}
}

func TestTargetBoundary(t *testing.T) {
	var orders []automation.OrderFacts
	for i := range 19 {
		orders = append(orders, straight(fmt.Sprint("ok", i)))
	}
	orders = append(orders, automation.OrderFacts{OrderID: "x", Status: order.StatusCompleted,
		StaffActions: []automation.StaffAction{{Role: order.RoleFinance, Action: "credit.override"}}})
	r := automation.Summarize(orders, nil, nil)
	if tg, _ := r.Target(automation.NameSTP); !tg.Met {
		t.Errorf("19 of 20 is 95 %%: met, got %+v", tg)
	}
	r = automation.Summarize(nil, nil, nil)
	if tg, _ := r.Target(automation.NameSTP); tg.Applicable || tg.Met || tg.Verdict() != "n/a" {
		t.Errorf("no orders: %+v", tg)
	}
	if !r.Met() {
		t.Error("nothing measured misses nothing")
	}
}

func TestAutoMatch(t *testing.T) {
	ps := []automation.PaymentFacts{
		{ID: "p1", Reference: "RF18INV1", OrderID: "o1", MatchKind: "exact", Applied: true, AllocatedBy: "orderflow"},
		{ID: "p2", Reference: "RF18INV2", OrderID: "o2", MatchKind: "partial", Applied: true},
		{ID: "p3", Reference: "", OrderID: "o3", MatchKind: "exact", Applied: true, ByFinance: true, AllocatedBy: "fin@x", InWorklist: true},
		{ID: "p4", Reference: "", MatchKind: "unmatched", InWorklist: true},
		{ID: "p5", Reference: "garbled", InWorklist: true},
		{ID: "p6", Reference: "RF18INV6", OrderID: "o6", InWorklist: true},
		{ID: "p7", Reference: "", MatchKind: "unmatched", InWorklist: true, Rule: "payer-amount", Candidates: 3},
		{ID: "p8", Reference: "RF99X", MatchKind: "unmatched", InWorklist: true, Rule: "rf-corrected", Candidates: 1},
	}
	r := automation.Summarize(nil, ps, nil)
	if r.AutoMatch != (automation.Rate{Num: 2, Den: 8}) {
		t.Fatalf("auto-match %+v", r.AutoMatch)
	}
	tg, _ := r.Target(automation.NameAutoMatch)
	if tg.Met {
		t.Fatal("2 of 8 met the target")
	}
	got := map[string]int{}
	for _, c := range tg.HeldBackBy {
		got[c.Cause] = c.Count
	}
	for _, want := range []string{
		"allocated by finance: the payment had no reference",
		"waiting for finance: no reference, payer unknown",
		"waiting for finance: the reference names no open invoice",
		"waiting: routed to its order, not applied yet",
		"waiting for finance: payer-amount found several candidate invoices",
		"waiting for finance: rf-corrected found one candidate below the threshold",
	} {
		if got[want] != 1 {
			t.Errorf("cause %q: %d, want 1 (%v)", want, got[want], got)
		}
	}
}

func TestExceptionsWaitAndOrphans(t *testing.T) {
	o := straight("a")
	h := time.Hour
	for _, w := range []time.Duration{1 * h, 2 * h, 3 * h, 4 * h, 10 * h} {
		o.Exceptions = append(o.Exceptions, automation.Exception{Cause: "step delayed: book", Kind: "step.delayed",
			OpenedAt: t0, ClosedAt: t0.Add(w), Worklist: "attention", InWorklist: true})
	}
	b := straight("b")
	b.Exceptions = []automation.Exception{{Cause: "carrier exception", Kind: "shipment.exception", OpenedAt: t0, ClosedAt: t0.Add(h), Open: true}}
	r := automation.Summarize([]automation.OrderFacts{o, b}, nil, nil)
	if len(r.Exceptions) != 2 || r.ExceptionTotal != 6 {
		t.Fatalf("exceptions %+v", r.Exceptions)
	}
	d := r.Exceptions[0]
	if d.Cause != "step delayed: book" || d.Count != 5 || d.Orders != 1 || d.Wait.P50 != 3*h || d.Wait.P90 != 7*h+36*time.Minute || d.Wait.Max != 10*h {
		t.Errorf("delayed: %+v", d)
	}
	c := r.Exceptions[1]
	if c.Orphans != 1 || c.Open != 1 || c.Worklist != "" {
		t.Errorf("carrier: %+v", c)
	}
	if len(r.Orphans) != 1 || r.Orphans[0].PONumber != "PO-b" {
		t.Errorf("orphans %+v", r.Orphans)
	}
	tg, _ := r.Target(automation.NameOrphans)
	if tg.Met || len(tg.HeldBackBy) != 1 || tg.HeldBackBy[0].Cause != "carrier exception" {
		t.Errorf("orphan target %+v", tg)
	}
	// An exception is a miss cause of STP only when the order is not straight.
	if r.STP != (automation.Rate{Num: 2, Den: 2}) {
		t.Errorf("STP %+v", r.STP)
	}
}

func TestDeliveryToCash(t *testing.T) {
	var orders []automation.OrderFacts
	for _, d := range []int{5, 10, 20} {
		o := straight("x")
		o.PaidAt = o.DeliveredAt.Add(time.Duration(d) * 24 * time.Hour)
		orders = append(orders, o)
	}
	prepaid := straight("p")
	prepaid.PaidAt = prepaid.DeliveredAt.Add(-time.Hour)
	orders = append(orders, prepaid, automation.OrderFacts{Status: order.StatusShipping})
	r := automation.Summarize(orders, nil, nil)
	if r.DeliveryToCash.N != 3 || r.DeliveryToCash.P50 != 10*24*time.Hour || r.DeliveryToCash.P90 != 18*24*time.Hour {
		t.Errorf("delivery to cash %+v", r.DeliveryToCash)
	}
}

func TestRender(t *testing.T) {
	b := straight("b")
	b.Exceptions = []automation.Exception{{Cause: "carrier <damaged>", OpenedAt: t0, ClosedAt: t0.Add(time.Hour)}}
	b.StaffActions = []automation.StaffAction{{Role: order.RoleCS, Action: "shipment.reshipped"}}
	r := automation.Summarize([]automation.OrderFacts{straight("a"), b}, []automation.PaymentFacts{{ID: "p", Applied: true}}, automation.ExcludeRealTraffic)
	md := r.Markdown("automation.svg")
	for _, want := range []string{"| STP | ≥ 95 % | 50.0 % (1 of 2) | missed |", "| auto-match | ≥ 95 % | 100.0 % (1 of 1) | met |",
		"**STP is held back by**", "| cs: shipment.reshipped | 1 | b |", "| exceptions without a worklist entry | 0 | 1 | missed |",
		"![Automation figures](automation.svg)", "CS 50.0, finance 0.0"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	svg := r.SVG()
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("SVG is not XML: %v\n%s", err, svg)
	}
	if !strings.Contains(svg, "carrier &lt;damaged&gt;") {
		t.Errorf("SVG does not escape the cause:\n%s", svg)
	}
}

func TestExcludeListed(t *testing.T) {
	ex := automation.ExcludeListed(map[string][]string{"PO-7": {"plan: credit declined"}, "ord-9": {"plan: buyer rejects"}})
	for _, tc := range []struct {
		o    automation.OrderFacts
		want string
	}{
		{automation.OrderFacts{OrderID: "ord-1", PONumber: "PO-7"}, "plan: credit declined"},
		{automation.OrderFacts{OrderID: "ord-9"}, "plan: buyer rejects"},
		{automation.OrderFacts{OrderID: "ord-2", PONumber: "PO-8", Status: order.StatusShipping}, ""},
	} {
		if got := strings.Join(ex(tc.o), ","); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}
