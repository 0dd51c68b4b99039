package order

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

func terms() Terms {
	return Terms{CustomerID: "ACME-001", Currency: "EUR", CreditLimit: eur(5_000_000), PaymentTermsDays: 30,
		DiscountBP: 300, RepDiscountAuthorityBP: 1000, PurchasingLimit: eur(1_000_000),
		DualApprovalThreshold: eur(2_500_000), QuoteValidityDays: 14, LeadTimeDays: 5,
		ContractPrices: map[string]money.Money{"BOLT-M8": eur(20)}}
}

var list = []ListPrice{{SKU: "BOLT-M8", UnitPrice: eur(25)}, {SKU: "PUMP-200", UnitPrice: eur(125_000)}}

func TestPrice(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	q, err := Price(1, []Line{{SKU: "BOLT-M8", Quantity: 500}, {SKU: "PUMP-200", Quantity: 2}}, list, terms(), 0, now)
	if err != nil {
		t.Fatal(err)
	}
	// 500 x 0.20 (contract) + 2 x 1250.00 = 2600.00; 3% = 78.00; total 2522.00.
	if q.Subtotal != eur(260_000) || q.Discount != eur(7_800) || q.Total != eur(252_200) {
		t.Fatalf("subtotal %v discount %v total %v", q.Subtotal, q.Discount, q.Total)
	}
	if !q.Lines[0].Contract || q.Lines[0].UnitPrice != eur(20) || q.Lines[0].ListPrice != eur(25) {
		t.Fatalf("contract price not applied: %+v", q.Lines[0])
	}
	if q.Lines[1].Contract || q.Lines[1].UnitPrice != eur(125_000) {
		t.Fatalf("list price not used: %+v", q.Lines[1])
	}
	if !q.ValidUntil.Equal(now.AddDate(0, 0, 14)) || q.PaymentTermsDays != 30 || q.LeadTimeDays != 5 {
		t.Fatalf("terms not carried: %+v", q)
	}
	// A rep's larger discount wins over the standing one.
	q, _ = Price(2, []Line{{SKU: "PUMP-200", Quantity: 1}}, list, terms(), 1200, now)
	if q.DiscountBP != 1200 || q.Total != eur(110_000) {
		t.Fatalf("requested discount: %d%% total %v", q.DiscountBP, q.Total)
	}
	if _, err := Price(1, []Line{{SKU: "NOPE", Quantity: 1}}, list, terms(), 0, now); err == nil {
		t.Fatal("unknown SKU priced")
	}
	usd := []ListPrice{{SKU: "PUMP-200", UnitPrice: money.New(139_000, "USD")}}
	if _, err := Price(1, []Line{{SKU: "PUMP-200", Quantity: 1}}, usd, terms(), 0, now); err == nil {
		t.Fatal("USD list price accepted for EUR terms")
	}
}

// VAT: net, tax and gross on the quote; reverse charge charges none; the
// approval rules look at the net total.
func TestPriceWithVAT(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	lines := []Line{{SKU: "BOLT-M8", Quantity: 500}, {SKU: "PUMP-200", Quantity: 2}}
	for _, tc := range []struct {
		name     string
		rateBP   int64
		reverse  bool
		tax      money.Money
		total    money.Money
		taxRated int64
	}{
		{"no VAT", 0, false, eur(0), eur(252_200), 0},
		{"19 %", 1900, false, eur(47_918), eur(300_118), 1900}, // 2522.00 x 19 % = 479.18
		{"7 %", 700, false, eur(17_654), eur(269_854), 700},
		{"reverse charge", 1900, true, eur(0), eur(252_200), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := terms()
			tr.VATRateBP, tr.ReverseCharge = tc.rateBP, tc.reverse
			q, err := Price(1, lines, list, tr, 0, now)
			if err != nil {
				t.Fatal(err)
			}
			if q.Net != eur(252_200) || q.Tax != tc.tax || q.Total != tc.total || q.TaxRateBP != tc.taxRated || q.ReverseCharge != tc.reverse {
				t.Fatalf("net %v tax %v (%d bp, reverse %v) total %v", q.Net, q.Tax, q.TaxRateBP, q.ReverseCharge, q.Total)
			}
			if q.NetTotal() != eur(252_200) {
				t.Fatalf("net total %v", q.NetTotal())
			}
		})
	}
	// A purchasing limit between net and gross asks no approval: limits are net.
	tr := terms()
	tr.VATRateBP, tr.PurchasingLimit, tr.DualApprovalThreshold = 1900, eur(260_000), eur(0)
	q, _ := Price(1, lines, list, tr, 0, now)
	if needs := RequiredApprovals(q, tr); len(needs) != 0 {
		t.Fatalf("gross %v over the limit %v but net %v under it: %v", q.Total, tr.PurchasingLimit, q.Net, needs)
	}
	// A quote priced before VAT was kept has no Net: its Total was net.
	old := Quote{Total: eur(100)}
	if old.NetTotal() != eur(100) {
		t.Fatalf("old quote's net: %v", old.NetTotal())
	}
}

func TestRequiredApprovals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		total      int64
		discountBP int64
		want       []ApprovalNeed
	}{
		{"small order, standard discount", 500_000, 300, nil},
		{"exactly the purchasing limit", 1_000_000, 300, nil},
		{"over the purchasing limit", 1_000_001, 300, []ApprovalNeed{{Side: SideBuyer, Count: 1}}},
		{"discount over the rep's authority", 100_000, 1500, []ApprovalNeed{{Side: SideSeller, Count: 1}}},
		{"over dual threshold", 2_600_000, 300, []ApprovalNeed{{Side: SideBuyer, Count: 1}, {Side: SideSeller, Count: 2}}},
		{"over dual threshold and discount", 2_600_000, 1500, []ApprovalNeed{{Side: SideBuyer, Count: 1}, {Side: SideSeller, Count: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RequiredApprovals(Quote{Total: eur(tt.total), DiscountBP: tt.discountBP}, terms())
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Side != tt.want[i].Side || got[i].Count != tt.want[i].Count || got[i].Reason == "" {
					t.Fatalf("need %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	// A rep's own discount authority replaces the customer's for their
	// discount: 8 % is within Acme's 10 % but not within the rep's 5 %.
	repQuote := Quote{Total: eur(100_000), DiscountBP: 800, DiscountBy: "rita.rep@seller.example", DiscountAuthorityBP: 500}
	got := RequiredApprovals(repQuote, terms())
	if len(got) != 1 || got[0].Side != SideSeller || got[0].Reason != "discount 8.00% exceeds rita.rep@seller.example's authority 5.00%" {
		t.Fatalf("rep over their own authority: %+v", got)
	}
	repQuote.DiscountAuthorityBP = 1000
	if got := RequiredApprovals(repQuote, terms()); len(got) != 0 {
		t.Fatalf("rep within their own authority: %+v", got)
	}
	// Zero thresholds mean "no such rule".
	tm := terms()
	tm.PurchasingLimit, tm.DualApprovalThreshold = eur(0), eur(0)
	if got := RequiredApprovals(Quote{Total: eur(99_999_999), DiscountBP: 0}, tm); len(got) != 0 {
		t.Fatalf("zero thresholds demanded %+v", got)
	}
}

func TestCheckCredit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		limit, recv, open, this int64
		want                    bool
	}{
		{"well within", 5_000_000, 1_200_000, 0, 500_000, true},
		{"exactly at the limit", 1_000_000, 600_000, 300_000, 100_000, true},
		{"one cent over", 1_000_000, 600_000, 300_000, 100_001, false},
		{"open orders tip it over", 1_000_000, 100_000, 850_000, 100_000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := CheckCredit(eur(tt.limit), eur(tt.recv), eur(tt.open), eur(tt.this))
			if err != nil {
				t.Fatal(err)
			}
			if e.WithinLimit != tt.want || e.Total != eur(tt.recv+tt.open+tt.this) {
				t.Fatalf("exposure %+v, want within=%v", e, tt.want)
			}
		})
	}
	if _, err := CheckCredit(eur(1), money.New(1, "USD"), eur(0), eur(0)); err == nil {
		t.Fatal("mixed currencies accepted")
	}
}

func TestMatchPayment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		open, paid      money.Money
		kind            MatchKind
		balance, credit int64
	}{
		{"exact", eur(10_000), eur(10_000), MatchExact, 0, 0},
		{"partial", eur(10_000), eur(4_000), MatchPartial, 6_000, 0},
		{"over", eur(10_000), eur(12_500), MatchOver, 0, 2_500},
		{"wrong currency", eur(10_000), money.New(10_000, "USD"), MatchUnmatched, 10_000, 0},
		{"nothing open", eur(0), eur(100), MatchUnmatched, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchPayment(tt.open, tt.paid)
			if m.Kind != tt.kind || m.Balance.Minor != tt.balance || m.Credit.Minor != tt.credit {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestDueDate(t *testing.T) {
	t.Parallel()
	got := DueDate(time.Date(2026, 11, 25, 15, 4, 0, 0, time.FixedZone("CET", 3600)), 30)
	want := time.Date(2026, 12, 25, 23, 59, 59, 0, time.UTC)
	if !got.Equal(want) {
		t.Fatalf("due %v, want %v", got, want)
	}
}

func TestValidateLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []Line
		field string
	}{
		{"ok", []Line{{SKU: "A", Quantity: 1}}, ""},
		{"none", nil, "lines"},
		{"empty sku", []Line{{SKU: "", Quantity: 1}}, "lines[0].sku"},
		{"zero quantity", []Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 0}}, "lines[1].quantity"},
		{"duplicate", []Line{{SKU: "A", Quantity: 1}, {SKU: "A", Quantity: 2}}, "lines[1].sku"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := ValidateLines(tt.lines)
			switch {
			case tt.field == "" && fe != nil:
				t.Fatalf("rejected: %v", fe)
			case tt.field != "" && (fe == nil || fe.Field != tt.field):
				t.Fatalf("got %v, want field %s", fe, tt.field)
			}
		})
	}
}

func TestStatusesAndRoles(t *testing.T) {
	t.Parallel()
	terminal := 0
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Terminal() {
			terminal++
		}
	}
	if terminal != 7 || Status("NOPE").Valid() {
		t.Fatalf("%d terminal statuses, want 7", terminal)
	}
	if !RoleBuyer.CustomerScoped() || RoleCS.CustomerScoped() || Role("admin").Valid() {
		t.Fatal("role rules wrong")
	}
	// Who may ask for a discount, and who sees the seller's internal view.
	for _, r := range Roles {
		wantDiscount := r == RoleSalesRep || r == RoleSalesManager
		wantStaff := wantDiscount || r == RoleSalesAdmin || r == RoleFinance || r == RoleCS
		if r.MayDiscount() != wantDiscount || r.Staff() != wantStaff {
			t.Errorf("%s: MayDiscount %v Staff %v, want %v %v", r, r.MayDiscount(), r.Staff(), wantDiscount, wantStaff)
		}
	}
}

func TestStageOfStep(t *testing.T) {
	for step, want := range map[string]string{
		"price quote":                      StageQuote,
		"credit check":                     StageCredit,
		"reserve stock":                    StageReservation,
		"book shipment from WH-EAST":       StageShipping,
		"three-way match of shipment SH-1": StageInvoicing,
		"invoice shipment SH-1":            StageInvoicing,
		"undo: release the reservation":    StageCompensation,
		"Reserve Stock":                    StageReservation,
		"something new":                    StageOther,
		"":                                 StageOther,
	} {
		if got := StageOfStep(step); got != want {
			t.Errorf("StageOfStep(%q) = %q, want %q", step, got, want)
		}
	}
}
