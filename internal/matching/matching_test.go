package matching

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
)

const (
	acmeIBAN = "DE89 3704 0044 0532 0130 00"
	betaIBAN = "GB29NWBK60161331926819"
)

var received = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

func rf(t testing.TB, body string) string {
	t.Helper()
	r, err := creditref.New(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func acme(number string, open int64, due time.Time) Invoice {
	return Invoice{Number: number, CustomerID: "cus_acme", CustomerName: "Acme Industrial GmbH",
		PayerAccounts: []string{acmeIBAN}, Open: eur(open), DueDate: due, IssuedAt: due.AddDate(0, 0, -30)}
}

func beta(number string, open money.Money, due time.Time) Invoice {
	return Invoice{Number: number, CustomerID: "cus_beta", CustomerName: "Beta Tools Ltd",
		PayerAccounts: []string{betaIBAN}, Open: open, DueDate: due, IssuedAt: due.AddDate(0, 0, -30)}
}

// book is the default set of invoices: Acme has two open invoices of 500.00,
// Beta one paid and one in USD, Gamma no account on file.
func book(t testing.TB) []Invoice {
	invs := []Invoice{
		acme("INV-000101", 100000, day(11, 1)),
		acme("INV-000102", 50000, day(11, 10)),
		acme("INV-000103", 50000, day(10, 20)),
		acme("INV-000104", 25000, day(11, 20)),
		beta("INV-000201", eur(123456), day(11, 5)),
		beta("INV-000202", eur(30000), day(11, 15)),
		beta("INV-000203", eur(0), day(10, 1)),
		beta("INV-000401", money.New(90000, "USD"), day(11, 5)),
		{Number: "INV-000301", CustomerID: "cus_gamma", CustomerName: "Gamma AG", Open: eur(77700), DueDate: day(11, 12)},
	}
	for i := range invs {
		invs[i] = withRF(t, invs[i])
	}
	return invs
}

// withRF gives an invoice the creditor reference the book gives them.
func withRF(t testing.TB, inv Invoice) Invoice {
	inv.CreditorRef = rf(t, strings.TrimPrefix(inv.Number, "INV-")+"7")
	return inv
}

// delta's open amounts sum to one payment in exactly one way.
func delta() []Invoice {
	inv := func(n string, open int64, due time.Time) Invoice {
		return Invoice{Number: n, CustomerID: "cus_delta", CustomerName: "Delta Pumps SA",
			PayerAccounts: []string{"FR7630006000011234567890189"}, Open: eur(open), DueDate: due}
	}
	return []Invoice{inv("INV-000501", 12000, day(11, 3)), inv("INV-000502", 34000, day(11, 1)), inv("INV-000503", 56000, day(11, 9))}
}

type want struct {
	matched    bool
	rule       Rule
	parts      []string // matched: the invoices of the parts, in order
	confidence float64
	ranked     []string // candidates: the invoices, best first
	evidence   []string // each appears in some evidence line
}

func TestMatch(t *testing.T) {
	t.Parallel()
	b := book(t)
	ref := func(number string) string {
		for _, inv := range b {
			if inv.Number == number {
				return inv.CreditorRef
			}
		}
		t.Fatalf("no invoice %s", number)
		return ""
	}
	rf201 := ref("INV-000201") // RF + check + "0002017"
	tests := []struct {
		name     string
		p        Payment
		invoices []Invoice
		cfg      Config
		want     want
	}{
		// exact-reference
		{name: "exact invoice number",
			p:    Payment{Amount: eur(123456), Reference: "INV-000201", PayerAccount: betaIBAN},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1, evidence: []string{"reference names invoice INV-000201", "equals invoice INV-000201's open amount"}}},
		{name: "number inside remittance text, lower case, spaced",
			p:    Payment{Amount: eur(123456), Reference: "Payment inv 000201 thanks"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1}},
		{name: "RF reference grouped, lower case, inside text",
			p:    Payment{Amount: eur(123456), Reference: "our ref 4711, " + strings.ToLower(creditref.Format(rf201)) + ", thank you"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1, evidence: []string{"the RF reference of invoice INV-000201"}}},
		{name: "one remittance for two invoices, amount is their sum",
			p:    Payment{Amount: eur(153456), Reference: "INV-000201, INV-000202"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201", "INV-000202"}, confidence: 1, evidence: []string{"sum of the 2 named invoices"}}},
		{name: "two invoices named, amount is not their sum",
			p:    Payment{Amount: eur(100000), Reference: "INV-000202 INV-000201"},
			want: want{rule: RuleExactReference, ranked: []string{"INV-000201", "INV-000202"}, evidence: []string{"is not the sum"}}},
		{name: "payer paying for another customer: the reference wins",
			p: Payment{Amount: eur(123456), Reference: "INV-000201", PayerAccount: acmeIBAN},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1,
				evidence: []string{"payer account " + acmeIBAN + " is customer cus_acme's account (Acme Industrial GmbH); invoice INV-000201 is customer cus_beta's"}}},
		{name: "overpayment by reference",
			p:    Payment{Amount: eur(35000), Reference: "INV-000202"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000202"}, confidence: 1, evidence: []string{"overpays by 50.00 EUR"}}},
		{name: "short by a bank fee",
			p:    Payment{Amount: eur(122956), Reference: "INV-000201"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1, evidence: []string{"short-by 5.00 EUR", "within the fee tolerance"}}},
		{name: "partial payment beyond the fee tolerance is still the referenced invoice",
			p:    Payment{Amount: eur(100000), Reference: "INV-000201"},
			want: want{matched: true, rule: RuleExactReference, parts: []string{"INV-000201"}, confidence: 1, evidence: []string{"partial: pays 1000.00 EUR"}}},
		{name: "reference naming a paid invoice goes to finance, never auto",
			p: Payment{Amount: eur(30000), Reference: "INV-000203", PayerAccount: betaIBAN},
			want: want{rule: RulePayerAmount, ranked: []string{"INV-000202", "INV-000203"},
				evidence: []string{"reference names invoice INV-000203, which is paid"}}},
		{name: "payment in another currency than the invoice it names: no match",
			p:    Payment{Amount: money.New(123456, "USD"), Reference: "INV-000201"},
			want: want{rule: RuleNone, ranked: []string{"INV-000201"}, evidence: []string{"an invoice in EUR; the payment is in USD"}}},
		{name: "payment in a currency the payer has no invoice in: no match",
			p:    Payment{Amount: money.New(30000, "GBP"), PayerAccount: betaIBAN},
			want: want{rule: RulePayerAmount, ranked: []string{}, evidence: []string{"no open invoice or set"}}},
		{name: "a longer number is not the invoice's number",
			p:    Payment{Amount: eur(1), Reference: "INV-0002015"},
			want: want{rule: RuleNone, ranked: []string{}}},

		// rf-corrected
		{name: "RF with one digit substituted",
			p:    Payment{Amount: eur(123456), Reference: typo(rf201, "sub1")},
			want: want{matched: true, rule: RuleRFCorrected, parts: []string{"INV-000201"}, confidence: 0.97, evidence: []string{"fails its check", creditref.Format(rf201)}}},
		{name: "RF with two digits transposed",
			p:    Payment{Amount: eur(123456), Reference: creditref.Format(typo(rf201, "swap"))},
			want: want{matched: true, rule: RuleRFCorrected, parts: []string{"INV-000201"}, confidence: 0.97}},
		{name: "RF with a digit missing, amount differs: the RF still decides",
			p:    Payment{Amount: eur(100), Reference: "ref " + typo(rf201, "drop") + " ok"},
			want: want{matched: true, rule: RuleRFCorrected, parts: []string{"INV-000201"}, confidence: 0.97, evidence: []string{"partial"}}},
		{name: "RF one typing error from two open invoices' RFs, the amount pays one: that one",
			p: Payment{Amount: eur(123456), Reference: typo(rf201, "sub")},
			want: want{matched: true, rule: RuleRFCorrected, parts: []string{"INV-000201"}, confidence: 0.92,
				evidence: []string{"2 open invoices are one typing error from the reference; the amount pays only INV-000201"}}},
		{name: "RF one typing error from two open invoices' RFs, the amount pays neither: finance",
			p:    Payment{Amount: eur(777), Reference: typo(rf201, "sub")},
			want: want{rule: RuleRFCorrected, ranked: []string{"INV-000201", "INV-000104"}, evidence: []string{"2 open invoices are one typing error"}}},
		{name: "RF one typing error from two open invoices' RFs of the same amount: finance",
			p: Payment{Amount: eur(123456), Reference: typo(rf201, "sub")},
			invoices: append(slices.DeleteFunc(slices.Clone(b), func(i Invoice) bool { return i.Number == "INV-000104" }),
				withRF(t, acme("INV-000104", 123456, day(11, 20)))),
			want: want{rule: RuleRFCorrected, ranked: []string{"INV-000201", "INV-000104"}, evidence: []string{"2 open invoices are one typing error"}}},
		{name: "RF corrected below a strict threshold goes to finance",
			p:    Payment{Amount: eur(123456), Reference: typo(rf201, "sub1")},
			cfg:  Config{AutoApply: 0.99},
			want: want{rule: RuleRFCorrected, ranked: []string{"INV-000201"}, evidence: []string{"confidence 0.97 is below the auto-apply threshold 0.99"}}},

		// number-corrected
		{name: "invoice number with transposed digits",
			p:    Payment{Amount: eur(123456), Reference: "Invoice INV-000210"},
			want: want{matched: true, rule: RuleNumberCorrected, parts: []string{"INV-000201"}, confidence: 0.95, evidence: []string{"INV000210 is one typing error from invoice number INV-000201"}}},
		{name: "invoice number with a digit missing",
			p:    Payment{Amount: eur(123456), Reference: "INV-00201"},
			want: want{matched: true, rule: RuleNumberCorrected, parts: []string{"INV-000201"}, confidence: 0.95}},
		{name: "invoice number with a digit doubled",
			p:    Payment{Amount: eur(123456), Reference: "INV-0002011"},
			want: want{matched: true, rule: RuleNumberCorrected, parts: []string{"INV-000201"}, confidence: 0.95}},
		{name: "invoice number with a typo, short by a fee",
			p:    Payment{Amount: eur(122956), Reference: "INV-000210"},
			want: want{matched: true, rule: RuleNumberCorrected, parts: []string{"INV-000201"}, confidence: 0.95, evidence: []string{"short-by 5.00 EUR"}}},
		{name: "invoice number with a typo, amount differs: finance",
			p:    Payment{Amount: eur(100000), Reference: "INV-000210"},
			want: want{rule: RuleNumberCorrected, ranked: []string{"INV-000201"}, evidence: []string{"does not pay invoice INV-000201"}}},
		{name: "invoice number one typo from several invoices: finance, oldest due first",
			p:    Payment{Amount: eur(50000), Reference: "INV-000100"},
			want: want{rule: RuleNumberCorrected, ranked: []string{"INV-000103", "INV-000101", "INV-000102", "INV-000104"}, evidence: []string{"4 open invoices are one typing error"}}},
		{name: "letter for digit is not a typo of the number",
			p:    Payment{Amount: eur(123456), Reference: "INV-00020I"},
			want: want{rule: RuleNone, ranked: []string{}}},

		// payer-amount
		{name: "payer's account, one open invoice of the amount",
			p:    Payment{Amount: eur(100000), PayerAccount: "de89370400440532013000"},
			want: want{matched: true, rule: RulePayerAmount, parts: []string{"INV-000101"}, confidence: 0.95, evidence: []string{"is customer cus_acme's account"}}},
		{name: "payer's account, two open invoices of the same amount: finance, oldest due first",
			p:    Payment{Amount: eur(50000), PayerAccount: acmeIBAN, Reference: "thanks"},
			want: want{rule: RulePayerAmount, ranked: []string{"INV-000103", "INV-000102"}, evidence: []string{"2 open invoices of the amount 500.00 EUR"}}},
		{name: "payer's account, one open invoice short by a fee",
			p:    Payment{Amount: eur(99500), PayerAccount: acmeIBAN},
			want: want{matched: true, rule: RulePayerAmount, parts: []string{"INV-000101"}, confidence: 0.92, evidence: []string{"short-by 5.00 EUR"}}},
		{name: "payer's account, overpaying every open invoice: finance sees the customer's invoices",
			p:    Payment{Amount: eur(900000), PayerAccount: acmeIBAN},
			want: want{rule: RulePayerAmount, ranked: []string{"INV-000103", "INV-000101", "INV-000102", "INV-000104"}, evidence: []string{"no open invoice or set of up to 5"}}},
		{name: "garbage reference falls back to the payer's account",
			p:    Payment{Amount: eur(30000), Reference: "??? 88x//--!!", PayerAccount: betaIBAN},
			want: want{matched: true, rule: RulePayerAmount, parts: []string{"INV-000202"}, confidence: 0.95}},

		// payer-sum
		{name: "amount is the sum of two of the payer's open invoices",
			p:        Payment{Amount: eur(46000), PayerAccount: "FR76 3000 6000 0112 3456 7890 189"},
			invoices: delta(),
			want:     want{matched: true, rule: RulePayerSum, parts: []string{"INV-000502", "INV-000501"}, confidence: 0.92, evidence: []string{"sum of the open amounts of INV-000502, INV-000501"}}},
		{name: "amount is the sum of all three",
			p:        Payment{Amount: eur(102000), PayerAccount: "FR7630006000011234567890189"},
			invoices: delta(),
			want:     want{matched: true, rule: RulePayerSum, parts: []string{"INV-000502", "INV-000501", "INV-000503"}, confidence: 0.92}},
		{name: "amount is the sum of two different sets: finance",
			p:    Payment{Amount: eur(75000), PayerAccount: acmeIBAN},
			want: want{rule: RulePayerSum, ranked: []string{"INV-000103", "INV-000102", "INV-000104"}, evidence: []string{"2 sets of open invoices sum to 750.00 EUR"}}},

		// name-amount
		{name: "payer name equals one customer's, one invoice of the amount: below the threshold",
			p:    Payment{Amount: eur(77700), PayerName: "GAMMA, A.G."},
			want: want{rule: RuleNameAmount, ranked: []string{"INV-000301"}, evidence: []string{`payer name "GAMMA, A.G." is customer cus_gamma's name`, "confidence 0.85 is below"}}},
		{name: "payer name with a lower threshold is applied",
			p:    Payment{Amount: eur(77700), PayerName: "Gamma AG"},
			cfg:  Config{AutoApply: 0.85},
			want: want{matched: true, rule: RuleNameAmount, parts: []string{"INV-000301"}, confidence: 0.85}},
		{name: "payer name nearly equal, legal form differs",
			p:    Payment{Amount: eur(30000), PayerName: "BETA TOLS LIMITED"},
			cfg:  Config{AutoApply: 0.8},
			want: want{matched: true, rule: RuleNameAmount, parts: []string{"INV-000202"}, confidence: 0.8}},
		{name: "unknown account, name decides",
			p:    Payment{Amount: eur(77700), PayerName: "Gamma AG", PayerAccount: "NL91ABNA0417164300"},
			want: want{rule: RuleNameAmount, ranked: []string{"INV-000301"}}},

		// nothing
		{name: "empty reference, nothing known",
			p:    Payment{Amount: eur(12345)},
			want: want{rule: RuleNone, ranked: []string{}, evidence: []string{"no rule found an invoice", "the payment has no reference"}}},
		{name: "garbage reference, unknown payer",
			p:    Payment{Amount: eur(12345), Reference: "xx!! 0000 RF00 ???", PayerName: "Somebody Else Inc"},
			want: want{rule: RuleNone, ranked: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			invs := tt.invoices
			if invs == nil {
				invs = b
			}
			tt.p.ReceivedAt = received
			d := Match(tt.p, invs, tt.cfg)
			check(t, d, tt.want)
			// The order of the invoices does not matter.
			rev := slices.Clone(invs)
			slices.Reverse(rev)
			if again := Match(tt.p, rev, tt.cfg); !reflect.DeepEqual(again, d) {
				t.Fatalf("reversed invoices decide differently:\n%s\n%s", show(d), show(again))
			}
		})
	}
}

func check(t *testing.T, d Decision, w want) {
	t.Helper()
	if (d.Matched == nil) == (d.Candidates == nil) {
		t.Fatalf("decision must be one of matched and candidates: %s", show(d))
	}
	var evidence []string
	if w.matched {
		if d.Matched == nil {
			t.Fatalf("want matched, got %s", show(d))
		}
		m := d.Matched
		var parts []string
		for _, p := range m.Parts {
			parts = append(parts, p.Invoice)
		}
		if m.Rule != w.rule || !slices.Equal(parts, w.parts) || m.Invoice != w.parts[0] || m.Confidence != w.confidence {
			t.Fatalf("matched %s, want rule %s parts %v confidence %.2f", show(d), w.rule, w.parts, w.confidence)
		}
		evidence = m.Evidence
	} else {
		if d.Candidates == nil {
			t.Fatalf("want candidates, got %s", show(d))
		}
		c := d.Candidates
		ranked := []string{}
		for _, x := range c.Ranked {
			ranked = append(ranked, x.Invoice)
		}
		if c.Rule != w.rule || !slices.Equal(ranked, w.ranked) {
			t.Fatalf("candidates %s, want rule %s ranked %v", show(d), w.rule, w.ranked)
		}
		evidence = c.Evidence
	}
	if b, err := json.Marshal(d); err != nil || strings.Contains(string(b), "null") {
		t.Fatalf("decision for the audit log: %s, %v", b, err)
	}
	for _, e := range w.evidence {
		if !slices.ContainsFunc(evidence, func(s string) bool { return strings.Contains(s, e) }) {
			t.Errorf("evidence lacks %q:\n%s", e, strings.Join(evidence, "\n"))
		}
	}
}

func show(d Decision) string {
	if d.Matched != nil {
		return fmt.Sprintf("Matched%+v", *d.Matched)
	}
	return fmt.Sprintf("Candidates%+v", *d.Candidates)
}

// typo makes one typing error in the last digits of an RF reference.
func typo(ref, kind string) string {
	n := len(ref)
	switch kind {
	case "sub", "sub1":
		by := byte(3)
		if kind == "sub1" {
			by = 1
		}
		d := ref[n-2]
		r := '0' + (d-'0'+by)%10
		return ref[:n-2] + string(r) + ref[n-1:]
	case "swap":
		return ref[:n-3] + string(ref[n-2]) + string(ref[n-3]) + ref[n-1:]
	case "drop":
		return ref[:n-3] + ref[n-2:]
	}
	panic(kind)
}

// FuzzMatch: any reference text, name and amount give exactly one of the
// two decisions, no panic, and the same decision for the invoices reversed.
func FuzzMatch(f *testing.F) {
	f.Add("Payment INV-000201 thanks", "Beta Tools Ltd", betaIBAN, int64(123456))
	f.Add("rf59 0002 047", "", "", int64(1))
	f.Add("RF RF1 RF12 rf 1 2 3", "GmbH", "x", int64(-5))
	b := book(f)
	f.Fuzz(func(t *testing.T, ref, name, account string, amount int64) {
		p := Payment{Amount: eur(amount), Reference: ref, PayerName: name, PayerAccount: account, ReceivedAt: received}
		d := Match(p, b, Config{})
		if (d.Matched == nil) == (d.Candidates == nil) {
			t.Fatalf("decision must be one of matched and candidates: %s", show(d))
		}
		if d.Matched != nil && (d.Matched.Confidence < 0.9 || len(d.Matched.Parts) == 0 || len(d.Matched.Evidence) == 0) {
			t.Fatalf("matched without confidence, parts or evidence: %s", show(d))
		}
		rev := slices.Clone(b)
		slices.Reverse(rev)
		if again := Match(p, rev, Config{}); !reflect.DeepEqual(again, d) {
			t.Fatalf("reversed invoices decide differently:\n%s\n%s", show(d), show(again))
		}
	})
}
