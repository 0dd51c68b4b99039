package document

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// Kind says what a document is.
type Kind string

// The kinds of document.
const (
	KindInvoice    Kind = "invoice"
	KindCreditNote Kind = "credit-note"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindInvoice || k == KindCreditNote }

// Party is the seller or the buyer as a document names them.
type Party struct {
	Name  string `json:"name"`
	VATID string `json:"vat_id,omitempty"`
	// Street, City, Postcode and Country (ISO 3166-1 alpha-2) are the
	// postal address.
	Street   string `json:"street,omitempty"`
	City     string `json:"city,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	Country  string `json:"country,omitempty"`
	Email    string `json:"email,omitempty"`
	// IBAN is the account payments go to: the seller's only.
	IBAN string `json:"iban,omitempty"`
}

// BuyerFromTerms is the buyer party of a customer's terms.
func BuyerFromTerms(t order.Terms) Party {
	return Party{Name: t.CustomerName, VATID: t.VATID, Street: t.Address.Street, City: t.Address.City,
		Postcode: t.Address.Postcode, Country: t.Address.Country, Email: t.BuyerEmail}
}

// Line is one line of a document. Net is UnitPrice × Quantity.
type Line struct {
	SKU         string      `json:"sku,omitempty"`
	Description string      `json:"description"`
	Quantity    int64       `json:"quantity"`
	UnitPrice   money.Money `json:"unit_price"`
	Net         money.Money `json:"net"`
}

// Document is an invoice or a credit note as issued: what the printable page
// and the UBL export show. See the package documentation for the sums it
// satisfies.
type Document struct {
	Kind      Kind      `json:"kind"`
	Number    string    `json:"number"`
	IssueDate time.Time `json:"issue_date"`
	// DueDate is when an invoice is to be paid; zero for a credit note.
	DueDate  time.Time `json:"due_date,omitzero"`
	OrderID  string    `json:"order_id"`
	PONumber string    `json:"po_number,omitempty"`
	Currency string    `json:"currency"`
	Seller   Party     `json:"seller"`
	Buyer    Party     `json:"buyer"`
	Lines    []Line    `json:"lines"`
	// LineTotal is the sum of the line nets.
	LineTotal money.Money `json:"line_total"`
	// Allowance is a document-level discount (the quote's), zero when none;
	// AllowanceReason says what it is.
	Allowance       money.Money `json:"allowance"`
	AllowanceReason string      `json:"allowance_reason,omitempty"`
	// Net is the tax-exclusive total, LineTotal − Allowance; Tax the VAT on
	// it at TaxRateBP; Gross the total with tax, what is payable (or, for a
	// credit note, credited).
	Net           money.Money `json:"net"`
	TaxRateBP     int64       `json:"tax_rate_bp"`
	Tax           money.Money `json:"tax"`
	Gross         money.Money `json:"gross"`
	ReverseCharge bool        `json:"reverse_charge,omitempty"`
	// PaymentReference is what the buyer quotes with a transfer: the
	// invoice's ISO 11649 creditor reference (RF…, without spaces; the
	// UBL PaymentID), or its number when it has none; empty for a credit
	// note.
	PaymentReference string `json:"payment_reference,omitempty"`
	// InvoiceNumber is the invoice a credit note credits; Reason why.
	InvoiceNumber string `json:"invoice_number,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Title is the document's name as a reader sees it: "Invoice INV-1".
func (d Document) Title() string {
	if d.Kind == KindCreditNote {
		return "Credit note " + d.Number
	}
	return "Invoice " + d.Number
}

// Tax categories (UNCL 5305) and their exemption reasons (VATEX).
const (
	CategoryStandard      = "S"
	CategoryReverseCharge = "AE"
	CategoryExport        = "G"
	CategoryZero          = "Z"
)

// euCountries are the EU member states by ISO 3166-1 alpha-2 code (Greece
// as GR; VAT ids use EL).
var euCountries = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// TaxCategory is the document's VAT category code; see the package
// documentation.
func (d Document) TaxCategory() string {
	switch {
	case d.ReverseCharge:
		return CategoryReverseCharge
	case d.TaxRateBP > 0:
		return CategoryStandard
	case d.Buyer.Country != "" && !slices.Contains(euCountries, d.Buyer.Country):
		return CategoryExport
	}
	return CategoryZero
}

// exemption is the VATEX code and text of the document's category, "" for
// a taxed one.
func (d Document) exemption() (code, reason string) {
	switch d.TaxCategory() {
	case CategoryReverseCharge:
		return "VATEX-EU-AE", "Reverse charge"
	case CategoryExport:
		return "VATEX-EU-G", "Export outside the EU"
	}
	return "", ""
}

// categoryPercent is the rate the category states: none but for S.
func (d Document) categoryPercentBP() int64 {
	if d.TaxCategory() == CategoryStandard {
		return d.TaxRateBP
	}
	return 0
}

// ErrInconsistent is wrapped by the errors of a document whose amounts do
// not add up (Check) or that lacks what a document needs.
var ErrInconsistent = errors.New("document inconsistent")

func inconsistent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInconsistent, fmt.Sprintf(format, args...))
}

// Check verifies that the document has what EN 16931 requires of it here
// and that its sums add up (BR-CO-10, BR-CO-13, BR-CO-15, BR-CO-17).
func (d Document) Check() error {
	switch {
	case !d.Kind.Valid():
		return inconsistent("kind %q", d.Kind)
	case strings.TrimSpace(d.Number) == "":
		return inconsistent("no number")
	case d.IssueDate.IsZero():
		return inconsistent("no issue date")
	case !money.ValidCurrency(d.Currency):
		return inconsistent("currency %q", d.Currency)
	case strings.TrimSpace(d.Seller.Name) == "" || strings.TrimSpace(d.Buyer.Name) == "":
		return inconsistent("the seller and the buyer need names")
	case len(d.Lines) == 0:
		return inconsistent("no lines")
	case strings.TrimSpace(d.OrderID) == "":
		return inconsistent("no order id")
	case d.Kind == KindCreditNote && strings.TrimSpace(d.InvoiceNumber) == "":
		return inconsistent("a credit note names the invoice it credits")
	}
	for _, m := range []money.Money{d.LineTotal, d.Allowance, d.Net, d.Tax, d.Gross} {
		if m.Currency != d.Currency {
			return inconsistent("an amount in %q in a %s document", m.Currency, d.Currency)
		}
	}
	sum := money.Zero(d.Currency)
	for i, l := range d.Lines {
		if l.Net.Currency != d.Currency || l.UnitPrice.Currency != d.Currency {
			return inconsistent("line %d is not in %s", i+1, d.Currency)
		}
		if l.Quantity <= 0 {
			return inconsistent("line %d: quantity %d", i+1, l.Quantity)
		}
		if l.UnitPrice.Times(l.Quantity) != l.Net {
			return inconsistent("line %d: %d × %s is not %s", i+1, l.Quantity, l.UnitPrice, l.Net)
		}
		sum.Minor += l.Net.Minor
	}
	switch {
	case sum != d.LineTotal:
		return inconsistent("BR-CO-10: the lines add up to %s, not %s", sum, d.LineTotal)
	case d.Allowance.Minor < 0:
		return inconsistent("a negative allowance %s", d.Allowance)
	case d.LineTotal.Minor-d.Allowance.Minor != d.Net.Minor:
		return inconsistent("BR-CO-13: %s less %s is not %s", d.LineTotal, d.Allowance, d.Net)
	case d.Net.Minor+d.Tax.Minor != d.Gross.Minor:
		return inconsistent("BR-CO-15: %s plus %s is not %s", d.Net, d.Tax, d.Gross)
	}
	want := d.Net.BasisPoints(d.categoryPercentBP())
	if diff := want.Minor - d.Tax.Minor; diff < -1 || diff > 1 {
		return inconsistent("BR-CO-17: tax %s on %s at %d bp, want %s", d.Tax, d.Net, d.categoryPercentBP(), want)
	}
	return nil
}

// InvoiceInput is what an invoice is built from.
type InvoiceInput struct {
	Invoice order.Invoice
	// Quote, when set, gives the lines, the discount and the tax rate;
	// without it the invoice has one line for the order.
	Quote             *order.Quote
	OrderID, PONumber string
	Seller, Buyer     Party
	// TaxRateBP and ReverseCharge are the customer's, used when Quote is
	// nil (or was priced before VAT was kept).
	TaxRateBP     int64
	ReverseCharge bool
}

// NewInvoice builds the invoice document and checks it.
func NewInvoice(in InvoiceInput) (Document, error) {
	inv := in.Invoice
	cur := inv.Amount.Currency
	d := Document{
		Kind: KindInvoice, Number: inv.Number, IssueDate: inv.IssuedAt, DueDate: inv.DueDate,
		OrderID: in.OrderID, PONumber: in.PONumber, Currency: cur, Seller: in.Seller, Buyer: in.Buyer,
		Gross: inv.Amount, PaymentReference: cmp.Or(inv.CreditorReference(), inv.Number),
		TaxRateBP: in.TaxRateBP, ReverseCharge: in.ReverseCharge,
	}
	q := in.Quote
	if q != nil && q.Net.Currency != "" {
		d.TaxRateBP, d.ReverseCharge = q.TaxRateBP, q.ReverseCharge
	}
	switch {
	case inv.Net.Currency != "":
		d.Net, d.Tax = inv.Net, inv.Tax
	case q != nil && q.Net.Currency != "":
		d.Net, d.Tax = q.Net, q.Tax
	default:
		// Booked all net, as the ERP did before it split the tax.
		d.Net, d.Tax, d.TaxRateBP = inv.Amount, money.Zero(cur), 0
	}
	if d.Tax.Currency == "" && d.Tax.Minor == 0 {
		d.Tax = money.Zero(cur)
	}
	if d.ReverseCharge && d.Tax.Minor == 0 {
		d.TaxRateBP = 0
	}
	if q != nil {
		d.setQuoteLines(q)
	}
	if d.Lines == nil {
		d.setOneLine("Order " + in.OrderID)
	}
	if err := d.Check(); err != nil {
		return Document{}, fmt.Errorf("invoice %s: %w", inv.Number, err)
	}
	return d, nil
}

// setQuoteLines takes the quote's lines when they add up to at least the
// net: what they exceed it by is the quote's discount, a document-level
// allowance. Lines that do not fit leave d without lines.
func (d *Document) setQuoteLines(q *order.Quote) {
	lines := make([]Line, 0, len(q.Lines))
	sum := money.Zero(d.Currency)
	for _, pl := range q.Lines {
		if pl.UnitPrice.Currency != d.Currency || pl.Total != pl.UnitPrice.Times(pl.Quantity) {
			return
		}
		lines = append(lines, Line{SKU: pl.SKU, Description: pl.SKU, Quantity: pl.Quantity, UnitPrice: pl.UnitPrice, Net: pl.Total})
		sum.Minor += pl.Total.Minor
	}
	if len(lines) == 0 || sum.Minor < d.Net.Minor {
		return
	}
	d.Lines, d.LineTotal = lines, sum
	d.Allowance = money.New(sum.Minor-d.Net.Minor, d.Currency)
	if d.Allowance.Minor > 0 {
		d.AllowanceReason = "Discount"
		if q.DiscountBP > 0 {
			d.AllowanceReason = fmt.Sprintf("Discount %d.%02d%%", q.DiscountBP/100, q.DiscountBP%100)
		}
	}
}

// setOneLine makes the document one line of quantity 1 at its net.
func (d *Document) setOneLine(description string) {
	d.Lines = []Line{{Description: description, Quantity: 1, UnitPrice: d.Net, Net: d.Net}}
	d.LineTotal, d.Allowance, d.AllowanceReason = d.Net, money.Zero(d.Currency), ""
}

// CreditNoteInput is what a credit note is built from.
type CreditNoteInput struct {
	CreditNote order.CreditNote
	// Invoice is the invoice credited; Quote, when set, prices credited
	// lines and gives the tax rate.
	Invoice           order.Invoice
	Quote             *order.Quote
	OrderID, PONumber string
	Seller, Buyer     Party
	// TaxRateBP and ReverseCharge are the customer's, used when Quote is
	// nil (or was priced before VAT was kept).
	TaxRateBP     int64
	ReverseCharge bool
}

// NewCreditNote builds the credit note document and checks it. Without the
// ERP's net and tax split, the gross is split at the invoice's tax rate.
func NewCreditNote(in CreditNoteInput) (Document, error) {
	cn := in.CreditNote
	cur := cn.Amount.Currency
	d := Document{
		Kind: KindCreditNote, Number: cn.Number, IssueDate: cn.IssuedAt,
		OrderID: in.OrderID, PONumber: in.PONumber, Currency: cur, Seller: in.Seller, Buyer: in.Buyer,
		Gross: cn.Amount, InvoiceNumber: cn.InvoiceNumber, Reason: cn.Reason,
		TaxRateBP: in.TaxRateBP, ReverseCharge: in.ReverseCharge,
	}
	// The seller's bank account is for payments in; a credit note asks for none.
	d.Seller.IBAN = ""
	if d.InvoiceNumber == "" {
		d.InvoiceNumber = in.Invoice.Number
	}
	q := in.Quote
	if q != nil && q.Net.Currency != "" {
		d.TaxRateBP, d.ReverseCharge = q.TaxRateBP, q.ReverseCharge
	}
	if d.ReverseCharge {
		d.TaxRateBP = 0
	}
	if cn.Net.Currency != "" {
		d.Net, d.Tax = cn.Net, cn.Tax
		if d.Tax.Currency == "" && d.Tax.Minor == 0 {
			d.Tax = money.Zero(cur)
		}
	} else {
		d.Net, d.Tax = SplitGross(cn.Amount, d.TaxRateBP)
	}
	if len(cn.Lines) > 0 && q != nil {
		d.setCreditedLines(cn.Lines, q)
	}
	if d.Lines == nil {
		desc := "Credit on invoice " + d.InvoiceNumber
		if cn.Reason != "" {
			desc += ": " + cn.Reason
		}
		d.setOneLine(desc)
	}
	if err := d.Check(); err != nil {
		return Document{}, fmt.Errorf("credit note %s: %w", cn.Number, err)
	}
	return d, nil
}

// setCreditedLines prices credited lines at the quote's unit prices; the
// quote's discount makes them exceed the net, by an allowance. Lines the
// quote does not price leave d without lines.
func (d *Document) setCreditedLines(credited []order.Line, q *order.Quote) {
	prices := make(map[string]money.Money, len(q.Lines))
	for _, pl := range q.Lines {
		prices[pl.SKU] = pl.UnitPrice
	}
	lines := make([]Line, 0, len(credited))
	sum := money.Zero(d.Currency)
	for _, l := range credited {
		p, ok := prices[l.SKU]
		if !ok || p.Currency != d.Currency || l.Quantity <= 0 {
			return
		}
		n := p.Times(l.Quantity)
		lines = append(lines, Line{SKU: l.SKU, Description: l.SKU, Quantity: l.Quantity, UnitPrice: p, Net: n})
		sum.Minor += n.Minor
	}
	if sum.Minor < d.Net.Minor {
		return
	}
	d.Lines, d.LineTotal = lines, sum
	d.Allowance = money.New(sum.Minor-d.Net.Minor, d.Currency)
	if d.Allowance.Minor > 0 {
		d.AllowanceReason = "Discount as invoiced"
	}
}

// SplitGross splits a gross amount into net and tax at rateBP, so that the
// tax is the net at the rate, rounded (BR-CO-17), whenever some net gives
// exactly the gross; otherwise the tax is a minor unit off.
func SplitGross(gross money.Money, rateBP int64) (net, tax money.Money) {
	if rateBP <= 0 {
		return gross, money.Zero(gross.Currency)
	}
	// The net nearest gross / (1 + rate), rounded half away from zero.
	n := gross.Minor * 10000
	den := 10000 + rateBP
	guess := n / den
	if r := n % den; 2*r >= den {
		guess++
	} else if r < 0 && -2*r >= den {
		guess--
	}
	for _, c := range []int64{guess, guess - 1, guess + 1, guess - 2, guess + 2} {
		m := money.New(c, gross.Currency)
		if c+m.BasisPoints(rateBP).Minor == gross.Minor {
			return m, money.New(gross.Minor-c, gross.Currency)
		}
	}
	return money.New(guess, gross.Currency), money.New(gross.Minor-guess, gross.Currency)
}

// PrintedPaymentReference is PaymentReference as printed: a creditor
// reference in groups of four ("RF36 INV2 0260 0042"), a number as it is.
func (d Document) PrintedPaymentReference() string {
	if creditref.Valid(d.PaymentReference) {
		return creditref.Format(d.PaymentReference)
	}
	return d.PaymentReference
}
