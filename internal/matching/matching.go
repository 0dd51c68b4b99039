package matching

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
)

// Rule names the rule that decided, as written to the audit log.
type Rule string

// The rules, in the order they are tried.
const (
	RuleExactReference  Rule = "exact-reference"
	RuleRFCorrected     Rule = "rf-corrected"
	RuleNumberCorrected Rule = "number-corrected"
	RulePayerAmount     Rule = "payer-amount"
	RulePayerSum        Rule = "payer-sum"
	RuleNameAmount      Rule = "name-amount"
	// RuleNone: no rule found an invoice; finance looks at the payment.
	RuleNone Rule = "none"
)

// Confidences of the rules (see the package doc).
const (
	ConfidenceExact           = 1.0
	ConfidenceRFCorrected     = 0.97
	ConfidenceNumberCorrected = 0.95
	// ConfidenceCorrectedByAmount: a mistyped reference one typo from
	// several open invoices, of which the amount pays exactly one.
	ConfidenceCorrectedByAmount = 0.92
	ConfidencePayerAmount       = 0.95
	ConfidencePayerShort        = 0.92
	ConfidencePayerSum          = 0.92
	ConfidenceNameExact         = 0.85
	ConfidenceNameNear          = 0.80
)

// Scores of finance's candidates, by how they were found; a decision
// below the threshold gives its candidates its confidence as score.
const (
	scoreReferenceCandidates = 0.8
	scoreCorrectedCandidates = 0.7
	scoreNumberCandidates    = 0.6
	scoreAmountCandidates    = 0.5
	scoreSumCandidates       = 0.4
	scoreCustomerInvoice     = 0.2
	scoreNotApplicable       = 0
)

const (
	// nameSimilarityMin: names this similar (one edit in ten characters)
	// are the same name.
	nameSimilarityMin = 0.9
	// maxRFTried bounds the RF-looking words of one text that are corrected.
	maxRFTried = 32
)

// Payment is one incoming bank payment.
type Payment struct {
	Amount money.Money
	// Reference is the payer's reference or remittance text, as received.
	Reference string
	// PayerName is the account holder's name as the bank gives it.
	PayerName string
	// PayerAccount is the payer's IBAN or account number, empty when unknown.
	PayerAccount string
	// ReceivedAt is when the bank received it; candidates' reasons say how
	// it stands to their due dates.
	ReceivedAt time.Time
}

// Invoice is one invoice the payment could be meant for, with its customer.
// Pass the open invoices and, so that a reference naming a paid invoice is
// recognised and not matched elsewhere, recently paid ones (Open zero).
type Invoice struct {
	Number string
	// CreditorRef is the invoice's ISO 11649 RF reference, empty if it has none.
	CreditorRef  string
	CustomerID   string
	CustomerName string
	// PayerAccounts are the accounts known to pay for the customer; the
	// union over a customer's invoices counts.
	PayerAccounts []string
	// Open is what is still to be paid; zero or less: paid.
	Open     money.Money
	DueDate  time.Time
	IssuedAt time.Time
}

// Config tunes the matcher. Zero fields take the defaults of [DefaultConfig].
type Config struct {
	// AutoApply is the confidence from which a match is applied without
	// finance (default 0.9).
	AutoApply float64
	// FeeTolerance is how far below the open amount, in minor units of the
	// payment's currency, a payment still counts as paying it: a bank fee
	// (default 1500, i.e. 15.00). Negative: no tolerance.
	FeeTolerance int64
	// MaxSplitParts is the most invoices one payment is matched to by its
	// sum (default 5).
	MaxSplitParts int
	// MaxSplitInvoices bounds the search for sums to the customer's oldest
	// due open invoices (default 20).
	MaxSplitInvoices int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{AutoApply: 0.9, FeeTolerance: 1500, MaxSplitParts: 5, MaxSplitInvoices: 20}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.AutoApply == 0 {
		c.AutoApply = d.AutoApply
	}
	if c.FeeTolerance == 0 {
		c.FeeTolerance = d.FeeTolerance
	}
	if c.FeeTolerance < 0 {
		c.FeeTolerance = 0
	}
	if c.MaxSplitParts == 0 {
		c.MaxSplitParts = d.MaxSplitParts
	}
	if c.MaxSplitInvoices == 0 {
		c.MaxSplitInvoices = d.MaxSplitInvoices
	}
	return c
}

// Decision is what [Match] decided: exactly one of Matched and Candidates is set.
type Decision struct {
	Matched    *Matched    `json:"matched,omitempty"`
	Candidates *Candidates `json:"candidates,omitempty"`
}

// Part is what of the payment goes to one invoice.
type Part struct {
	Invoice string      `json:"invoice"`
	Amount  money.Money `json:"amount"`
}

// Matched is a payment to apply without finance.
type Matched struct {
	// Invoice is the invoice paid; for a split, the first of Parts.
	Invoice string `json:"invoice"`
	// Parts: one with the whole payment, or one per invoice of a split,
	// each with the invoice's open amount.
	Parts      []Part   `json:"parts"`
	Rule       Rule     `json:"rule"`
	Confidence float64  `json:"confidence"`
	Evidence   []string `json:"evidence"`
}

// Candidate is one invoice finance may choose for the payment.
type Candidate struct {
	Invoice string   `json:"invoice"`
	Rule    Rule     `json:"rule"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
}

// Candidates is finance's worklist entry: the invoices ranked best first
// (score, then oldest due date, then invoice number), possibly none.
type Candidates struct {
	Rule     Rule        `json:"rule"`
	Ranked   []Candidate `json:"ranked"`
	Evidence []string    `json:"evidence"`
}

// Match decides which invoice the payment pays. It is deterministic: the
// same payment and invoices, in any order, give the same decision.
func Match(p Payment, invoices []Invoice, cfg Config) Decision {
	m := &matcher{cfg: cfg.withDefaults(), p: p, text: newText(p.Reference)}
	m.invoices = slices.Clone(invoices)
	slices.SortFunc(m.invoices, func(a, b Invoice) int { return cmp.Compare(a.Number, b.Number) })
	m.payerCustomers()
	d := m.decide()
	return m.finish(d)
}

type matcher struct {
	cfg      Config
	p        Payment
	text     text
	invoices []Invoice

	evidence []string
	// noAuto: something seen makes any match a question for finance.
	noAuto bool
	// extra are candidates to show finance whatever else is found.
	extra []Candidate
	// payers are the customers whose accounts include the payer's.
	payers []string
}

// outcome is one rule's finding before the threshold is applied.
type outcome struct {
	rule       Rule
	confidence float64
	parts      []Invoice
	evidence   []string
	candidates []Candidate
}

func (m *matcher) open(inv Invoice) bool {
	return inv.Open.Minor > 0 && inv.Open.Currency == m.p.Amount.Currency
}

func (m *matcher) decide() *outcome {
	for _, rule := range []func() *outcome{m.exact, m.rfCorrected, m.numberCorrected, m.payerAccount, m.payerName} {
		if o := rule(); o != nil {
			return o
		}
	}
	return nil
}

// exact: an invoice number or RF reference appears whole in the text.
func (m *matcher) exact() *outcome {
	var named []Invoice
	for _, inv := range m.invoices {
		how := ""
		switch {
		case m.text.contains(key(inv.Number)):
			how = "reference names invoice " + inv.Number
		case inv.CreditorRef != "" && m.text.contains(key(inv.CreditorRef)):
			how = fmt.Sprintf("reference holds %s, the RF reference of invoice %s", creditref.Format(inv.CreditorRef), inv.Number)
		default:
			continue
		}
		switch {
		case inv.Open.Minor <= 0:
			m.notApplicable(inv, how+", which is paid: a second payment?")
		case inv.Open.Currency != m.p.Amount.Currency:
			m.notApplicable(inv, fmt.Sprintf("%s, an invoice in %s; the payment is in %s", how, inv.Open.Currency, m.p.Amount.Currency))
		default:
			named = append(named, inv)
			m.evidence = append(m.evidence, how)
		}
	}
	switch len(named) {
	case 0:
		return nil
	case 1:
		return &outcome{rule: RuleExactReference, confidence: ConfidenceExact, parts: named,
			evidence: m.amountEvidence(named[0])}
	}
	sum := m.sum(named)
	if sum == m.p.Amount.Minor {
		return &outcome{rule: RuleExactReference, confidence: ConfidenceExact, parts: named,
			evidence: []string{fmt.Sprintf("amount %s equals the sum of the %d named invoices' open amounts", m.p.Amount, len(named))}}
	}
	o := &outcome{rule: RuleExactReference, evidence: []string{fmt.Sprintf("amount %s is not the sum %s of the %d named invoices' open amounts",
		m.p.Amount, money.New(sum, m.p.Amount.Currency), len(named))}}
	for _, inv := range named {
		o.candidates = append(o.candidates, m.candidate(inv, RuleExactReference, scoreReferenceCandidates, "reference names invoice "+inv.Number))
	}
	return o
}

// rfCorrected: an RF reference in the text fails its check and one typing
// error from it is exactly one open invoice's RF.
func (m *matcher) rfCorrected() *outcome {
	byRF := map[string]Invoice{}
	for _, inv := range m.invoices {
		if inv.CreditorRef != "" && m.open(inv) {
			byRF[key(inv.CreditorRef)] = inv
		}
	}
	if len(byRF) == 0 {
		return nil
	}
	// One typing error changes the length by at most one: only what is
	// that close to an open RF's length is worth correcting. A long text
	// full of "RF" words is cut off at maxRFTried distinct tries.
	lengths := map[int]bool{}
	for k := range byRF {
		lengths[len(k)-1], lengths[len(k)], lengths[len(k)+1] = true, true, true
	}
	hits := map[string]string{} // invoice number → what was typed
	tried := map[string]bool{}
	for _, typed := range m.text.rfCandidates() {
		if !lengths[len(typed)] || tried[typed] || creditref.Valid(typed) {
			continue
		}
		if tried[typed] = true; len(tried) > maxRFTried {
			break
		}
		for _, c := range creditref.Corrections(typed) {
			if inv, ok := byRF[c]; ok {
				if _, seen := hits[inv.Number]; !seen {
					hits[inv.Number] = typed
				}
			}
		}
	}
	return m.corrected(hits, RuleRFCorrected, func(inv Invoice, typed string) string {
		return fmt.Sprintf("RF reference %s fails its check; one typing error from %s, invoice %s's RF", creditref.Format(typed), creditref.Format(inv.CreditorRef), inv.Number)
	}, ConfidenceRFCorrected, scoreCorrectedCandidates, false)
}

// numberCorrected: a word of the text is one typing error from exactly one
// open invoice's number, and the amount pays that invoice.
func (m *matcher) numberCorrected() *outcome {
	// A word that is a known invoice's number names that invoice (the exact
	// rule said what of it); it is no typo of another.
	known := map[string]bool{}
	for _, inv := range m.invoices {
		known[key(inv.Number)] = true
	}
	words := slices.DeleteFunc(m.text.words(), func(w string) bool { return known[w] })
	hits := map[string]string{}
	for _, inv := range m.invoices {
		if !m.open(inv) {
			continue
		}
		k := key(inv.Number)
		for _, w := range words {
			if oneTypo(w, k) {
				hits[inv.Number] = w
				break
			}
		}
	}
	return m.corrected(hits, RuleNumberCorrected, func(inv Invoice, typed string) string {
		return fmt.Sprintf("reference %s is one typing error from invoice number %s", typed, inv.Number)
	}, ConfidenceNumberCorrected, scoreNumberCandidates, true)
}

func (m *matcher) corrected(hits map[string]string, rule Rule, say func(Invoice, string) string, confidence, score float64, needAmount bool) *outcome {
	if len(hits) == 0 {
		return nil
	}
	var found []Invoice
	for _, inv := range m.invoices {
		if _, ok := hits[inv.Number]; ok {
			found = append(found, inv)
		}
	}
	if len(found) == 1 && (!needAmount || m.pays(found[0])) {
		inv := found[0]
		return &outcome{rule: rule, confidence: confidence, parts: found,
			evidence: append([]string{say(inv, hits[inv.Number])}, m.amountEvidence(inv)...)}
	}
	if len(found) > 1 {
		// Several invoices are one typo away; the amount may tell which
		// the payer meant: only one of them is paid by it.
		var paid []Invoice
		for _, inv := range found {
			if m.pays(inv) {
				paid = append(paid, inv)
			}
		}
		if len(paid) == 1 {
			inv := paid[0]
			return &outcome{rule: rule, confidence: min(confidence, ConfidenceCorrectedByAmount), parts: paid,
				evidence: append([]string{say(inv, hits[inv.Number]),
					fmt.Sprintf("%d open invoices are one typing error from the reference; the amount pays only %s", len(found), inv.Number)},
					m.amountEvidence(inv)...)}
		}
	}
	o := &outcome{rule: rule}
	if len(found) > 1 {
		o.evidence = []string{fmt.Sprintf("%d open invoices are one typing error from the reference", len(found))}
	} else {
		o.evidence = []string{fmt.Sprintf("amount %s does not pay invoice %s (open %s)", m.p.Amount, found[0].Number, found[0].Open)}
	}
	for _, inv := range found {
		o.candidates = append(o.candidates, m.candidate(inv, rule, score, say(inv, hits[inv.Number])))
	}
	return o
}

// payerCustomers finds the customers the payer's account is on file for.
func (m *matcher) payerCustomers() {
	acct := key(m.p.PayerAccount)
	if acct == "" {
		return
	}
	for _, inv := range m.invoices {
		if slices.Contains(m.payers, inv.CustomerID) {
			continue
		}
		for _, a := range inv.PayerAccounts {
			if key(a) == acct {
				m.payers = append(m.payers, inv.CustomerID)
				break
			}
		}
	}
	slices.Sort(m.payers)
}

func (m *matcher) customerName(id string) string {
	for _, inv := range m.invoices {
		if inv.CustomerID == id {
			return inv.CustomerName
		}
	}
	return ""
}

// payerAccount: the payer's account is on file for one customer; its open
// invoices and the amount decide.
func (m *matcher) payerAccount() *outcome {
	if m.p.PayerAccount == "" || len(m.payers) == 0 {
		return nil
	}
	who := fmt.Sprintf("payer account %s is customer %s's account (%s)", m.p.PayerAccount, m.payers[0], m.customerName(m.payers[0]))
	if len(m.payers) > 1 {
		m.noAuto = true
		who = fmt.Sprintf("payer account %s is on file for %d customers: %s", m.p.PayerAccount, len(m.payers), strings.Join(m.payers, ", "))
	}
	return m.byCustomer(m.payers, who, RulePayerAmount, ConfidencePayerAmount, ConfidencePayerShort, RulePayerSum, ConfidencePayerSum)
}

// payerName: no account on file; the payer's name is one customer's name.
func (m *matcher) payerName() *outcome {
	payer := normaliseName(m.p.PayerName)
	if payer == "" {
		return nil
	}
	var ids []string
	best := map[string]float64{}
	for _, inv := range m.invoices {
		if _, seen := best[inv.CustomerID]; seen {
			continue
		}
		sim := similarity(payer, normaliseName(inv.CustomerName))
		best[inv.CustomerID] = sim
		if sim >= nameSimilarityMin {
			ids = append(ids, inv.CustomerID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	confidence := ConfidenceNameExact
	if best[ids[0]] < 1 {
		confidence = ConfidenceNameNear
	}
	who := fmt.Sprintf("payer name %q is customer %s's name (%s)", m.p.PayerName, ids[0], m.customerName(ids[0]))
	if len(ids) > 1 {
		m.noAuto = true
		who = fmt.Sprintf("payer name %q is the name of %d customers: %s", m.p.PayerName, len(ids), strings.Join(ids, ", "))
	}
	return m.byCustomer(ids, who, RuleNameAmount, confidence, confidence, RuleNameAmount, confidence)
}

// byCustomer decides among the open invoices of the customers by amount:
// one of the amount, one short by a fee, one set summing to it.
func (m *matcher) byCustomer(customers []string, who string, rule Rule, exactConf, shortConf float64, sumRule Rule, sumConf float64) *outcome {
	var invs []Invoice
	for _, inv := range m.invoices {
		if m.open(inv) && slices.Contains(customers, inv.CustomerID) {
			invs = append(invs, inv)
		}
	}
	var equal, short []Invoice
	for _, inv := range invs {
		switch d := inv.Open.Minor - m.p.Amount.Minor; {
		case d == 0:
			equal = append(equal, inv)
		case d > 0 && d <= m.cfg.FeeTolerance:
			short = append(short, inv)
		}
	}
	for _, set := range []struct {
		invs []Invoice
		conf float64
	}{{equal, exactConf}, {short, shortConf}} {
		switch {
		case len(set.invs) == 1:
			return &outcome{rule: rule, confidence: set.conf, parts: set.invs,
				evidence: append([]string{who}, m.amountEvidence(set.invs[0])...)}
		case len(set.invs) > 1:
			o := &outcome{rule: rule, evidence: []string{who, fmt.Sprintf("%d open invoices of the amount %s: oldest due first", len(set.invs), m.p.Amount)}}
			for _, inv := range set.invs {
				o.candidates = append(o.candidates, m.candidate(inv, rule, scoreAmountCandidates, who, m.amountReason(inv)))
			}
			return o
		}
	}
	if sets := m.sums(invs); len(sets) == 1 {
		parts := sets[0]
		nums := make([]string, len(parts))
		for i, inv := range parts {
			nums[i] = inv.Number
		}
		return &outcome{rule: sumRule, confidence: sumConf, parts: parts,
			evidence: []string{who, fmt.Sprintf("amount %s is the sum of the open amounts of %s", m.p.Amount, strings.Join(nums, ", "))}}
	} else if len(sets) > 1 {
		o := &outcome{rule: sumRule, evidence: []string{who, fmt.Sprintf("%d sets of open invoices sum to %s", len(sets), m.p.Amount)}}
		seen := map[string]bool{}
		for _, set := range sets {
			for _, inv := range set {
				if !seen[inv.Number] {
					seen[inv.Number] = true
					o.candidates = append(o.candidates, m.candidate(inv, sumRule, scoreSumCandidates, who, "part of a set of open invoices that sums to the payment"))
				}
			}
		}
		return o
	}
	o := &outcome{rule: rule, evidence: []string{who, fmt.Sprintf("no open invoice or set of up to %d open invoices of the customer amounts to %s", m.cfg.MaxSplitParts, m.p.Amount)}}
	for _, inv := range invs {
		o.candidates = append(o.candidates, m.candidate(inv, rule, scoreCustomerInvoice, who, m.amountReason(inv)))
	}
	return o
}

// sums returns the sets of 2 to MaxSplitParts invoices (of the oldest due
// MaxSplitInvoices) whose open amounts sum to the payment, each ordered by
// due date; it stops at two sets, which is already ambiguous.
func (m *matcher) sums(invs []Invoice) [][]Invoice {
	pool := slices.Clone(invs)
	slices.SortStableFunc(pool, byDue)
	if len(pool) > m.cfg.MaxSplitInvoices {
		pool = pool[:m.cfg.MaxSplitInvoices]
	}
	var found [][]Invoice
	var pick []Invoice
	var walk func(from int, left int64)
	walk = func(from int, left int64) {
		if len(found) >= 2 {
			return
		}
		if left == 0 && len(pick) >= 2 {
			found = append(found, slices.Clone(pick))
			return
		}
		if left <= 0 || len(pick) == m.cfg.MaxSplitParts {
			return
		}
		for i := from; i < len(pool); i++ {
			pick = append(pick, pool[i])
			walk(i+1, left-pool[i].Open.Minor)
			pick = pick[:len(pick)-1]
		}
	}
	walk(0, m.p.Amount.Minor)
	return found
}

func (m *matcher) sum(invs []Invoice) int64 {
	var s int64
	for _, inv := range invs {
		s += inv.Open.Minor
	}
	return s
}

// pays reports whether the payment pays the invoice: equal, or short by at
// most the fee tolerance.
func (m *matcher) pays(inv Invoice) bool {
	d := inv.Open.Minor - m.p.Amount.Minor
	return d >= 0 && d <= m.cfg.FeeTolerance
}

// amountEvidence says how the payment stands to the invoice's open amount.
func (m *matcher) amountEvidence(inv Invoice) []string {
	return []string{m.amountReason(inv)}
}

func (m *matcher) amountReason(inv Invoice) string {
	d := inv.Open.Minor - m.p.Amount.Minor
	diff := money.New(d, m.p.Amount.Currency)
	switch {
	case d == 0:
		return fmt.Sprintf("amount %s equals invoice %s's open amount", m.p.Amount, inv.Number)
	case d > 0 && d <= m.cfg.FeeTolerance:
		return fmt.Sprintf("short-by %s: pays %s of invoice %s's open %s, within the fee tolerance", diff, m.p.Amount, inv.Number, inv.Open)
	case d > 0:
		return fmt.Sprintf("partial: pays %s of invoice %s's open %s, short by %s", m.p.Amount, inv.Number, inv.Open, diff)
	default:
		return fmt.Sprintf("overpays by %s: pays %s of invoice %s's open %s", money.New(-d, m.p.Amount.Currency), m.p.Amount, inv.Number, inv.Open)
	}
}

// notApplicable records an invoice the reference names that the payment
// cannot pay: finance sees it, nothing is applied automatically.
func (m *matcher) notApplicable(inv Invoice, why string) {
	m.noAuto = true
	m.evidence = append(m.evidence, why)
	m.extra = append(m.extra, m.candidate(inv, RuleExactReference, scoreNotApplicable, why))
}

func (m *matcher) candidate(inv Invoice, rule Rule, score float64, reasons ...string) Candidate {
	reasons = append(reasons, m.dueReason(inv))
	return Candidate{Invoice: inv.Number, Rule: rule, Score: score, Reasons: reasons}
}

func (m *matcher) dueReason(inv Invoice) string {
	if inv.DueDate.IsZero() || m.p.ReceivedAt.IsZero() {
		return "due " + inv.DueDate.Format(time.DateOnly)
	}
	days := int(m.p.ReceivedAt.Sub(inv.DueDate).Hours() / 24)
	switch {
	case days > 0:
		return fmt.Sprintf("due %s, %d days before the payment", inv.DueDate.Format(time.DateOnly), days)
	case days < 0:
		return fmt.Sprintf("due %s, %d days after the payment", inv.DueDate.Format(time.DateOnly), -days)
	}
	return fmt.Sprintf("due %s, the day of the payment", inv.DueDate.Format(time.DateOnly))
}

// finish applies the threshold and adds what every decision says.
func (m *matcher) finish(o *outcome) Decision {
	if o == nil {
		o = &outcome{rule: RuleNone, evidence: []string{"no rule found an invoice for the payment"}}
		if strings.TrimSpace(m.p.Reference) == "" {
			o.evidence = append(o.evidence, "the payment has no reference")
		}
	}
	evidence := append(slices.Clone(m.evidence), o.evidence...)
	if len(o.parts) > 0 {
		evidence = append(evidence, m.payerOtherCustomer(o.parts[0])...)
		if o.confidence >= m.cfg.AutoApply && !m.noAuto {
			matched := &Matched{Invoice: o.parts[0].Number, Rule: o.rule, Confidence: o.confidence, Evidence: evidence}
			if len(o.parts) == 1 {
				matched.Parts = []Part{{Invoice: o.parts[0].Number, Amount: m.p.Amount}}
			} else {
				for _, inv := range o.parts {
					matched.Parts = append(matched.Parts, Part{Invoice: inv.Number, Amount: inv.Open})
				}
			}
			return Decision{Matched: matched}
		}
		if !m.noAuto {
			evidence = append(evidence, fmt.Sprintf("confidence %.2f is below the auto-apply threshold %.2f", o.confidence, m.cfg.AutoApply))
		}
		for _, inv := range o.parts {
			o.candidates = append(o.candidates, m.candidate(inv, o.rule, o.confidence, o.evidence...))
		}
	}
	ranked := make([]Candidate, 0, len(o.candidates)+len(m.extra))
	ranked = append(append(ranked, o.candidates...), m.extra...)
	slices.SortStableFunc(ranked, func(a, b Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := byDue(m.invoice(a.Invoice), m.invoice(b.Invoice)); c != 0 {
			return c
		}
		return cmp.Compare(a.Invoice, b.Invoice)
	})
	return Decision{Candidates: &Candidates{Rule: o.rule, Ranked: ranked, Evidence: evidence}}
}

// payerOtherCustomer says so when the payer's account is another
// customer's than the invoice's: the reference won, finance may look.
func (m *matcher) payerOtherCustomer(inv Invoice) []string {
	if len(m.payers) != 1 || m.payers[0] == inv.CustomerID {
		return nil
	}
	return []string{fmt.Sprintf("payer account %s is customer %s's account (%s); invoice %s is customer %s's (%s)",
		m.p.PayerAccount, m.payers[0], m.customerName(m.payers[0]), inv.Number, inv.CustomerID, inv.CustomerName)}
}

func (m *matcher) invoice(number string) Invoice {
	for _, inv := range m.invoices {
		if inv.Number == number {
			return inv
		}
	}
	return Invoice{}
}

func byDue(a, b Invoice) int {
	if c := a.DueDate.Compare(b.DueDate); c != 0 {
		return c
	}
	return cmp.Compare(a.Number, b.Number)
}
