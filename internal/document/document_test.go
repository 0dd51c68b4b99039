package document_test

import (
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

var (
	issued = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	seller = document.Party{Name: "Demo Seller GmbH", VATID: "DE123456789", Street: "Musterstraße 1", City: "Hamburg",
		Postcode: "20095", Country: "DE", Email: "billing@seller.example", IBAN: "DE89370400440532013000"}
	acme = document.Party{Name: "Acme Industrial GmbH", VATID: "DE987654321", Street: "Industriestraße 7",
		City: "München", Postcode: "80331", Country: "DE", Email: "purchasing@acme.example"}
	globex = document.Party{Name: "Globex Corporation", VATID: "FR40303265045", Street: "12 rue de la Paix",
		City: "Paris", Postcode: "75002", Country: "FR", Email: "procurement@globex.example"}
	initech = document.Party{Name: "Initech Ltd", Street: "4120 Freidrich Lane", City: "Austin", Postcode: "78744",
		Country: "US", Email: "ap@initech.example"}
)

// quote is a priced quote as order.Price makes it: 2 lines, a 3 % discount,
// VAT at rateBP (reverse charge when rc).
func quote(rateBP int64, rc bool) *order.Quote {
	q := &order.Quote{
		Revision: 1,
		Lines: []order.PricedLine{
			{SKU: "BOLT-M8", Quantity: 500, UnitPrice: eur(20), Total: eur(10000), Contract: true},
			{SKU: "DRILL-PRO-18V", Quantity: 3, UnitPrice: eur(24900), Total: eur(74700)},
		},
		Subtotal: eur(84700), DiscountBP: 300, Discount: eur(2541),
		TaxRateBP: rateBP, ReverseCharge: rc, PaymentTermsDays: 30,
	}
	q.Net = eur(84700 - 2541)
	q.Tax = q.Net.BasisPoints(rateBP)
	if rc {
		q.Tax = eur(0)
	}
	q.Total = eur(q.Net.Minor + q.Tax.Minor)
	return q
}

func invoiceFor(q *order.Quote) order.Invoice {
	return order.Invoice{InvoiceID: "inv_1", Number: "INV-2026-00042", Amount: q.Total, Net: q.Net, Tax: q.Tax,
		IssuedAt: issued, DueDate: order.DueDate(issued, 30)}
}

func TestNewInvoiceArithmetic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                          string
		in                                            document.InvoiceInput
		lines                                         int
		lineTotal, allowance, net, tax, gross, rateBP int64
		category                                      string
	}{
		{"German customer, 19 %, with the quote's discount",
			document.InvoiceInput{Invoice: invoiceFor(quote(1900, false)), Quote: quote(1900, false), Buyer: acme},
			2, 84700, 2541, 82159, 15610, 97769, 1900, "S"},
		{"intra-EU reverse charge: no VAT, category AE",
			document.InvoiceInput{Invoice: invoiceFor(quote(1900, true)), Quote: quote(1900, true), Buyer: globex},
			2, 84700, 2541, 82159, 0, 82159, 0, "AE"},
		{"no quote: one line at the net, the customer's rate",
			document.InvoiceInput{Invoice: invoiceFor(quote(1900, false)), Buyer: acme, TaxRateBP: 1900},
			1, 82159, 0, 82159, 15610, 97769, 1900, "S"},
		{"an invoice booked all net before tax was split: no VAT",
			document.InvoiceInput{Invoice: order.Invoice{Number: "INV-OLD", Amount: eur(85285), IssuedAt: issued},
				Quote: &order.Quote{Lines: []order.PricedLine{{SKU: "A", Quantity: 1, UnitPrice: eur(85285), Total: eur(85285)}}},
				Buyer: acme, TaxRateBP: 1900},
			1, 85285, 0, 85285, 0, 85285, 0, "Z"},
		{"a buyer outside the EU at no VAT: export, category G",
			document.InvoiceInput{Invoice: order.Invoice{Number: "INV-US", Amount: money.New(12345, "USD"),
				Net: money.New(12345, "USD"), Tax: money.Zero("USD"), IssuedAt: issued},
				Quote: &order.Quote{Lines: []order.PricedLine{{SKU: "A", Quantity: 5, UnitPrice: money.New(2469, "USD"), Total: money.New(12345, "USD")}},
					Net: money.New(12345, "USD"), Tax: money.Zero("USD")},
				Buyer: initech},
			1, 12345, 0, 12345, 0, 12345, 0, "G"},
		{"lines that add up to less than the net fall back to one line",
			document.InvoiceInput{Invoice: order.Invoice{Number: "INV-X", Amount: eur(11900), Net: eur(10000), Tax: eur(1900), IssuedAt: issued},
				Quote: &order.Quote{Lines: []order.PricedLine{{SKU: "A", Quantity: 1, UnitPrice: eur(5000), Total: eur(5000)}},
					Net: eur(10000), Tax: eur(1900), TaxRateBP: 1900},
				Buyer: acme},
			1, 10000, 0, 10000, 1900, 11900, 1900, "S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.Seller, tt.in.OrderID = seller, "ord_1"
			d, err := document.NewInvoice(tt.in)
			require.NoError(t, err)
			require.NoError(t, d.Check())
			require.Len(t, d.Lines, tt.lines)
			require.Equal(t, tt.lineTotal, d.LineTotal.Minor, "line total")
			require.Equal(t, tt.allowance, d.Allowance.Minor, "allowance")
			require.Equal(t, tt.net, d.Net.Minor, "net")
			require.Equal(t, tt.tax, d.Tax.Minor, "tax")
			require.Equal(t, tt.gross, d.Gross.Minor, "gross")
			require.Equal(t, tt.rateBP, d.TaxRateBP, "rate")
			require.Equal(t, tt.category, d.TaxCategory())
			require.True(t, creditref.Valid(d.PaymentReference), "the creditor reference of %s: %s", d.Number, d.PaymentReference)
			body, _ := creditref.Parse(d.PaymentReference)
			require.Equal(t, order.ReferenceBody(d.Number), body)
			require.Equal(t, document.KindInvoice, d.Kind)
		})
	}
}

func TestNewInvoiceRefusesWhatDoesNotAddUp(t *testing.T) {
	t.Parallel()
	inv := invoiceFor(quote(1900, false))
	inv.Tax = eur(15000) // net + tax is no longer the amount
	_, err := document.NewInvoice(document.InvoiceInput{Invoice: inv, Quote: quote(1900, false), Seller: seller, Buyer: acme, OrderID: "o"})
	require.ErrorIs(t, err, document.ErrInconsistent)
	require.ErrorContains(t, err, "BR-CO-15")

	inv = invoiceFor(quote(1900, false))
	inv.Number = ""
	_, err = document.NewInvoice(document.InvoiceInput{Invoice: inv, Quote: quote(1900, false), Seller: seller, Buyer: acme})
	require.ErrorIs(t, err, document.ErrInconsistent)

	_, err = document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(quote(1900, false)), Quote: quote(1900, false), Buyer: acme})
	require.ErrorContains(t, err, "names", "no seller")
}

func TestNewCreditNoteArithmetic(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	inv := invoiceFor(q)
	tests := []struct {
		name                                          string
		cn                                            order.CreditNote
		quote                                         *order.Quote
		rateBP                                        int64
		rc                                            bool
		lines                                         int
		lineTotal, allowance, net, tax, gross, wantBP int64
	}{
		{"an amount split at the invoice's rate",
			order.CreditNote{Number: "CN-1", Amount: eur(10000), Reason: "damaged in transit"}, q, 0, false,
			1, 8403, 0, 8403, 1597, 10000, 1900},
		{"the ERP's split is kept",
			order.CreditNote{Number: "CN-2", Amount: eur(11900), Net: eur(10000), Tax: eur(1900)}, q, 0, false,
			1, 10000, 0, 10000, 1900, 11900, 1900},
		{"by lines at the quote's prices, less the discount",
			order.CreditNote{Number: "CN-3", Amount: eur(2309), Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 100}}}, q, 0, false,
			1, 2000, 60, 1940, 369, 2309, 1900},
		{"reverse charge: all net",
			order.CreditNote{Number: "CN-4", Amount: eur(5000)}, quote(1900, true), 0, false,
			1, 5000, 0, 5000, 0, 5000, 0},
		{"no quote: the customer's rate",
			order.CreditNote{Number: "CN-5", Amount: eur(1190)}, nil, 1900, false,
			1, 1000, 0, 1000, 190, 1190, 1900},
		{"lines the quote does not price: one line",
			order.CreditNote{Number: "CN-6", Amount: eur(1190), Lines: []order.Line{{SKU: "NOPE", Quantity: 1}}}, q, 0, false,
			1, 1000, 0, 1000, 190, 1190, 1900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cn.IssuedAt, tt.cn.InvoiceNumber = issued.AddDate(0, 0, 3), inv.Number
			d, err := document.NewCreditNote(document.CreditNoteInput{CreditNote: tt.cn, Invoice: inv, Quote: tt.quote,
				OrderID: "ord_1", Seller: seller, Buyer: acme, TaxRateBP: tt.rateBP, ReverseCharge: tt.rc})
			require.NoError(t, err)
			require.Len(t, d.Lines, tt.lines)
			require.Equal(t, tt.lineTotal, d.LineTotal.Minor, "line total")
			require.Equal(t, tt.allowance, d.Allowance.Minor, "allowance")
			require.Equal(t, tt.net, d.Net.Minor, "net")
			require.Equal(t, tt.tax, d.Tax.Minor, "tax")
			require.Equal(t, tt.gross, d.Gross.Minor, "gross")
			require.Equal(t, tt.wantBP, d.TaxRateBP)
			require.Equal(t, inv.Number, d.InvoiceNumber)
			require.Empty(t, d.PaymentReference)
			require.Empty(t, d.Seller.IBAN, "a credit note asks for no payment")
			require.True(t, d.DueDate.IsZero())
		})
	}
}

func TestSplitGross(t *testing.T) {
	t.Parallel()
	tests := []struct{ gross, bp, net, tax int64 }{
		{11900, 1900, 10000, 1900},
		{10000, 1900, 8403, 1597},
		{1, 1900, 1, 0},
		{0, 1900, 0, 0},
		{5000, 0, 5000, 0},
		{10700, 700, 10000, 700},
		{99999, 2000, 83333, 16666},
	}
	for _, tt := range tests {
		net, tax := document.SplitGross(eur(tt.gross), tt.bp)
		require.Equal(t, tt.net, net.Minor, "net of %d at %d bp", tt.gross, tt.bp)
		require.Equal(t, tt.tax, tax.Minor, "tax of %d at %d bp", tt.gross, tt.bp)
	}
	// Every gross splits into parts that add up, with the tax within a
	// cent of the net at the rate (BR-CO-17).
	for _, bp := range []int64{700, 1900, 2000, 2500} {
		for g := int64(0); g < 5000; g++ {
			net, tax := document.SplitGross(eur(g), bp)
			require.Equal(t, g, net.Minor+tax.Minor)
			diff := net.BasisPoints(bp).Minor - tax.Minor
			require.True(t, diff >= -1 && diff <= 1, "gross %d at %d bp: net %d tax %d", g, bp, net.Minor, tax.Minor)
		}
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	for minor, want := range map[int64]string{0: "0.00", 5: "0.05", 100: "1.00", 123456: "1234.56", -1999: "-19.99"} {
		require.Equal(t, want, document.Decimal(eur(minor)))
	}
}

// node is parsed XML as an AP system reads it: every element with its
// namespace, so a wrong namespace is a missing field.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

var prefixes = map[string]string{"cac": document.NamespaceCAC, "cbc": document.NamespaceCBC}

// all returns the elements at path, each step "cac:Name" or "cbc:Name".
func (n node) all(path ...string) []node {
	if len(path) == 0 {
		return []node{n}
	}
	prefix, local, _ := strings.Cut(path[0], ":")
	var out []node
	for _, c := range n.Nodes {
		if c.XMLName.Space == prefixes[prefix] && c.XMLName.Local == local {
			out = append(out, c.all(path[1:]...)...)
		}
	}
	return out
}

// text is the trimmed text of the first element at path, "" when none.
func (n node) text(path ...string) string {
	if all := n.all(path...); len(all) > 0 {
		return strings.TrimSpace(all[0].Text)
	}
	return ""
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// minor reads the UBL amount at path back into minor units, insisting on
// exactly two decimals and the document currency; ok is false when the
// element is missing.
func minor(t *testing.T, n node, currency string, path ...string) (m int64, ok bool) {
	t.Helper()
	all := n.all(path...)
	if len(all) == 0 {
		return 0, false
	}
	require.Len(t, all, 1, "one %v", path)
	v := strings.TrimSpace(all[0].Text)
	require.Equal(t, currency, all[0].attr("currencyID"), "currencyID of %v %q", path, v)
	whole, frac, dot := strings.Cut(strings.TrimPrefix(v, "-"), ".")
	require.True(t, dot && len(frac) == 2 && whole != "", "%v: %q has two decimals", path, v)
	p, err := money.Parse(v + " " + currency)
	require.NoError(t, err)
	return p.Minor, true
}

func mustMinor(t *testing.T, n node, currency string, path ...string) int64 {
	t.Helper()
	m, ok := minor(t, n, currency, path...)
	require.True(t, ok, "%v is missing", path)
	return m
}

// checkBusinessRules parses UBL and checks the EN 16931 rules the export
// implements; it returns the parsed document.
func checkBusinessRules(t *testing.T, raw []byte) node {
	t.Helper()
	var u node
	require.NoError(t, xml.Unmarshal(raw, &u), "%s", raw)
	credit := u.XMLName.Local == "CreditNote"
	if credit {
		require.Equal(t, document.NamespaceCreditNote, u.XMLName.Space)
	} else {
		require.Equal(t, xml.Name{Space: document.NamespaceInvoice, Local: "Invoice"}, u.XMLName)
	}
	cur := u.text("cbc:DocumentCurrencyCode")
	require.Equal(t, document.CustomizationID, u.text("cbc:CustomizationID"), "BR-01 / BT-24")
	require.NotEmpty(t, u.text("cbc:ID"), "BR-02 number")
	_, err := time.Parse("2006-01-02", u.text("cbc:IssueDate"))
	require.NoError(t, err, "BR-03 issue date")
	if credit {
		require.Equal(t, document.TypeCodeCreditNote, u.text("cbc:CreditNoteTypeCode"), "BR-04")
	} else {
		require.Equal(t, document.TypeCodeInvoice, u.text("cbc:InvoiceTypeCode"), "BR-04")
	}
	require.True(t, money.ValidCurrency(cur), "BR-05 currency %q", cur)
	seller := u.all("cac:AccountingSupplierParty", "cac:Party")
	buyer := u.all("cac:AccountingCustomerParty", "cac:Party")
	require.Len(t, seller, 1)
	require.Len(t, buyer, 1)
	require.NotEmpty(t, seller[0].text("cac:PartyLegalEntity", "cbc:RegistrationName"), "BR-06 seller name")
	require.NotEmpty(t, buyer[0].text("cac:PartyLegalEntity", "cbc:RegistrationName"), "BR-07 buyer name")
	require.NotEmpty(t, seller[0].text("cac:PostalAddress", "cac:Country", "cbc:IdentificationCode"), "BR-09 seller country")
	require.NotEmpty(t, buyer[0].text("cac:PostalAddress", "cac:Country", "cbc:IdentificationCode"), "BR-11 buyer country")
	require.NotEmpty(t, u.text("cbc:BuyerReference"), "BT-10 buyer reference")
	lineName, qtyName := "cac:InvoiceLine", "cbc:InvoicedQuantity"
	if credit {
		lineName, qtyName = "cac:CreditNoteLine", "cbc:CreditedQuantity"
	}
	lines := u.all(lineName)
	require.NotEmpty(t, lines, "BR-16 at least one line")

	sumLines := int64(0)
	for _, l := range lines {
		require.NotEmpty(t, l.text("cbc:ID"), "BR-21")
		q := l.all(qtyName)
		require.Len(t, q, 1, "BR-22 quantity")
		require.Equal(t, document.UnitCodeEach, q[0].attr("unitCode"), "BR-23 unit code")
		qty, err := strconv.ParseInt(strings.TrimSpace(q[0].Text), 10, 64)
		require.NoError(t, err, "BR-22 quantity")
		net := mustMinor(t, l, cur, "cbc:LineExtensionAmount")
		require.Equal(t, qty*mustMinor(t, l, cur, "cac:Price", "cbc:PriceAmount"), net, "BR-LIN-04 line net = quantity × price")
		require.NotEmpty(t, l.text("cac:Item", "cbc:Name"), "BR-25 item name")
		require.NotEmpty(t, l.text("cac:Item", "cac:ClassifiedTaxCategory", "cbc:ID"), "BR-CO-04 line VAT category")
		sumLines += net
	}
	total := u.all("cac:LegalMonetaryTotal")
	require.Len(t, total, 1)
	tot := total[0]
	lineExt := mustMinor(t, tot, cur, "cbc:LineExtensionAmount")
	require.Equal(t, sumLines, lineExt, "BR-CO-10: LineExtensionAmount = Σ line nets")

	allowances := int64(0)
	for _, a := range u.all("cac:AllowanceCharge") {
		require.Equal(t, "false", a.text("cbc:ChargeIndicator"))
		require.NotEmpty(t, a.text("cbc:AllowanceChargeReasonCode"), "BR-33 reason")
		require.NotEmpty(t, a.text("cac:TaxCategory", "cbc:ID"), "BR-32 VAT category")
		allowances += mustMinor(t, a, cur, "cbc:Amount")
	}
	if m, ok := minor(t, tot, cur, "cbc:AllowanceTotalAmount"); ok {
		require.Equal(t, allowances, m, "BR-CO-11 Σ allowances")
	} else {
		require.Zero(t, allowances)
	}
	charges, _ := minor(t, tot, cur, "cbc:ChargeTotalAmount")
	prepaid, _ := minor(t, tot, cur, "cbc:PrepaidAmount")
	taxExcl := mustMinor(t, tot, cur, "cbc:TaxExclusiveAmount")
	require.Equal(t, lineExt-allowances+charges, taxExcl, "BR-CO-13: TaxExclusive = LineExtension − allowances + charges")

	taxTotals := u.all("cac:TaxTotal")
	require.Len(t, taxTotals, 1, "one TaxTotal in the document currency")
	tax := mustMinor(t, taxTotals[0], cur, "cbc:TaxAmount")
	subs := taxTotals[0].all("cac:TaxSubtotal")
	require.NotEmpty(t, subs, "BR-CO-18 at least one VAT breakdown")
	subTax, subTaxable := int64(0), int64(0)
	for _, s := range subs {
		taxable, stax := mustMinor(t, s, cur, "cbc:TaxableAmount"), mustMinor(t, s, cur, "cbc:TaxAmount")
		subTax += stax
		subTaxable += taxable
		require.Equal(t, "VAT", s.text("cac:TaxCategory", "cac:TaxScheme", "cbc:ID"))
		pct, err := money.Parse(s.text("cac:TaxCategory", "cbc:Percent") + " EUR") // two decimals: basis points
		require.NoError(t, err, "percent")
		want := money.New(taxable, cur).BasisPoints(pct.Minor).Minor
		require.InDelta(t, want, stax, 1, "BR-CO-17: tax = taxable × rate, rounded")
		exemption := s.text("cac:TaxCategory", "cbc:TaxExemptionReason") + s.text("cac:TaxCategory", "cbc:TaxExemptionReasonCode")
		switch id := s.text("cac:TaxCategory", "cbc:ID"); id {
		case "S":
			require.Positive(t, pct.Minor, "BR-S-05")
		case "AE", "G":
			require.Zero(t, pct.Minor, "BR-AE-05 / BR-G-05")
			require.Zero(t, stax, "BR-AE-09 / BR-G-09")
			require.NotEmpty(t, exemption, "BR-AE-10 / BR-G-10")
			if id == "AE" {
				require.NotEmpty(t, seller[0].text("cac:PartyTaxScheme", "cbc:CompanyID"), "BR-AE-02 seller VAT id")
				require.NotEmpty(t, buyer[0].text("cac:PartyTaxScheme", "cbc:CompanyID"), "BR-AE-02 buyer VAT id")
			}
		case "Z":
			require.Zero(t, pct.Minor)
			require.Zero(t, stax)
		default:
			t.Fatalf("category %q", id)
		}
	}
	require.Equal(t, subTax, tax, "BR-CO-14: TaxTotal = Σ subtotal tax")
	require.Equal(t, taxExcl, subTaxable, "BR-CO-18: the breakdown covers the tax-exclusive amount")
	taxIncl := mustMinor(t, tot, cur, "cbc:TaxInclusiveAmount")
	require.Equal(t, taxExcl+tax, taxIncl, "BR-CO-15: TaxInclusive = TaxExclusive + tax")
	require.Equal(t, taxIncl-prepaid, mustMinor(t, tot, cur, "cbc:PayableAmount"), "BR-CO-16: Payable = TaxInclusive − prepaid")
	return u
}

func TestUBLInvoice(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	d, err := document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(q), Quote: q, OrderID: "ord_1",
		PONumber: "PO-4711", Seller: seller, Buyer: acme})
	require.NoError(t, err)
	raw, err := d.UBL()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), `<?xml version="1.0" encoding="UTF-8"?>`))
	u := checkBusinessRules(t, raw)
	for path, want := range map[string]string{
		"cbc:ID":                                "INV-2026-00042",
		"cbc:IssueDate":                         "2026-12-01",
		"cbc:DueDate":                           "2026-12-31",
		"cbc:InvoiceTypeCode":                   "380",
		"cbc:DocumentCurrencyCode":              "EUR",
		"cbc:BuyerReference":                    "PO-4711",
		"cac:OrderReference/cbc:ID":             "PO-4711",
		"cac:PaymentMeans/cbc:PaymentMeansCode": "58",
		"cac:PaymentMeans/cbc:PaymentID":        "RF36INV202600042", // the creditor reference
		"cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID":                                          seller.IBAN,
		"cac:AccountingSupplierParty/cac:Party/cbc:EndpointID":                                       seller.Email,
		"cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name":                               seller.Name,
		"cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:StreetName":                     seller.Street,
		"cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:CityName":                       seller.City,
		"cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:PostalZone":                     seller.Postcode,
		"cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode": "DE",
		"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":                     seller.VATID,
		"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID":              "VAT",
		"cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName":            seller.Name,
		"cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:ElectronicMail":                       seller.Email,
		"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID":                     acme.VATID,
		"cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:CityName":                       "München",
		"cac:AllowanceCharge/cbc:Amount":                                                             "25.41",
		"cac:AllowanceCharge/cbc:AllowanceChargeReason":                                              "Discount 3.00%",
		"cac:TaxTotal/cbc:TaxAmount":                                                                 "156.10",
		"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID":                                        "S",
		"cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent":                                   "19.00",
		"cac:LegalMonetaryTotal/cbc:LineExtensionAmount":                                             "847.00",
		"cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount":                                              "821.59",
		"cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount":                                              "977.69",
		"cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount":                                            "25.41",
		"cac:LegalMonetaryTotal/cbc:PayableAmount":                                                   "977.69",
		"cac:InvoiceLine/cbc:InvoicedQuantity":                                                       "500",
		"cac:InvoiceLine/cbc:LineExtensionAmount":                                                    "100.00",
		"cac:InvoiceLine/cac:Price/cbc:PriceAmount":                                                  "0.20",
		"cac:InvoiceLine/cac:Item/cac:SellersItemIdentification/cbc:ID":                              "BOLT-M8",
	} {
		require.Equal(t, want, u.text(strings.Split(path, "/")...), path)
	}
	require.Len(t, u.all("cac:InvoiceLine"), 2)
	require.Equal(t, "EM", u.all("cac:AccountingSupplierParty", "cac:Party", "cbc:EndpointID")[0].attr("schemeID"))
}

func TestUBLReverseChargeAndExport(t *testing.T) {
	t.Parallel()
	q := quote(1900, true)
	d, err := document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(q), Quote: q, OrderID: "ord_2", Seller: seller, Buyer: globex})
	require.NoError(t, err)
	raw, err := d.UBL()
	require.NoError(t, err)
	u := checkBusinessRules(t, raw)
	require.Equal(t, "ord_2", u.text("cbc:BuyerReference"), "no PO number: the order id")
	require.Empty(t, u.all("cac:OrderReference"))
	c := u.all("cac:TaxTotal", "cac:TaxSubtotal", "cac:TaxCategory")[0]
	require.Equal(t, "AE", c.text("cbc:ID"))
	require.Equal(t, "0.00", c.text("cbc:Percent"))
	require.Equal(t, "VATEX-EU-AE", c.text("cbc:TaxExemptionReasonCode"))
	require.Equal(t, "Reverse charge", c.text("cbc:TaxExemptionReason"))

	usd := func(m int64) money.Money { return money.New(m, "USD") }
	d, err = document.NewInvoice(document.InvoiceInput{
		Invoice: order.Invoice{Number: "INV-US-1", Amount: usd(4200), Net: usd(4200), Tax: usd(0), IssuedAt: issued, DueDate: order.DueDate(issued, 45)},
		Quote:   &order.Quote{Lines: []order.PricedLine{{SKU: "X", Quantity: 2, UnitPrice: usd(2100), Total: usd(4200)}}, Net: usd(4200), Tax: usd(0)},
		OrderID: "ord_3", Seller: seller, Buyer: initech})
	require.NoError(t, err)
	raw, err = d.UBL()
	require.NoError(t, err)
	u = checkBusinessRules(t, raw)
	require.Equal(t, "USD", u.text("cbc:DocumentCurrencyCode"))
	require.Equal(t, "G", u.text("cac:TaxTotal", "cac:TaxSubtotal", "cac:TaxCategory", "cbc:ID"))
	require.Empty(t, u.all("cac:AccountingCustomerParty", "cac:Party", "cac:PartyTaxScheme"), "no VAT id, no tax scheme")
}

func TestUBLCreditNote(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	inv := invoiceFor(q)
	d, err := document.NewCreditNote(document.CreditNoteInput{
		CreditNote: order.CreditNote{Number: "CN-2026-00007", InvoiceNumber: inv.Number, IssuedAt: issued.AddDate(0, 0, 5),
			Amount: eur(2309), Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 100}}, Reason: "100 bolts damaged"},
		Invoice: inv, Quote: q, OrderID: "ord_1", PONumber: "PO-4711", Seller: seller, Buyer: acme})
	require.NoError(t, err)
	raw, err := d.UBL()
	require.NoError(t, err)
	u := checkBusinessRules(t, raw)
	require.Equal(t, "381", u.text("cbc:CreditNoteTypeCode"))
	require.Empty(t, u.all("cbc:InvoiceTypeCode"))
	require.Empty(t, u.all("cbc:DueDate"))
	require.Equal(t, "100 bolts damaged", u.text("cbc:Note"))
	require.Equal(t, inv.Number, u.text("cac:BillingReference", "cac:InvoiceDocumentReference", "cbc:ID"))
	require.Empty(t, u.all("cac:PaymentMeans"), "a credit note asks for no payment")
	require.Len(t, u.all("cac:CreditNoteLine"), 1)
	require.Equal(t, "100", u.text("cac:CreditNoteLine", "cbc:CreditedQuantity"))
	require.Equal(t, "23.09", u.text("cac:LegalMonetaryTotal", "cbc:PayableAmount"))
	require.Equal(t, "0.60", u.text("cac:AllowanceCharge", "cbc:Amount"))
}

func TestUBLEscapesText(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	b := acme
	b.Name = `Smith & <Sons> "Ltd"`
	d, err := document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(q), Quote: q, OrderID: "o", PONumber: "PO</cbc:ID>",
		Seller: seller, Buyer: b})
	require.NoError(t, err)
	raw, err := d.UBL()
	require.NoError(t, err)
	u := checkBusinessRules(t, raw)
	require.Equal(t, b.Name, u.text("cac:AccountingCustomerParty", "cac:Party", "cac:PartyName", "cbc:Name"))
	require.Equal(t, "PO</cbc:ID>", u.text("cbc:BuyerReference"))
}

func TestUBLRefusesAnInconsistentDocument(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	d, err := document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(q), Quote: q, OrderID: "o", Seller: seller, Buyer: acme})
	require.NoError(t, err)
	d.Lines[0].Net = eur(1)
	_, err = d.UBL()
	require.True(t, errors.Is(err, document.ErrInconsistent), "got %v", err)
}

func TestHTML(t *testing.T) {
	t.Parallel()
	q := quote(1900, false)
	b := acme
	b.Name = `Acme <script>alert(1)</script>`
	d, err := document.NewInvoice(document.InvoiceInput{Invoice: invoiceFor(q), Quote: q, OrderID: "ord_1", PONumber: "PO-4711",
		Seller: seller, Buyer: b})
	require.NoError(t, err)
	raw, err := d.HTML()
	require.NoError(t, err)
	page := string(raw)
	for _, want := range []string{"<title>Invoice INV-2026-00042</title>", "Bill to", "Demo Seller GmbH", "DE123456789",
		"Industriestraße 7", "80331 München", "BOLT-M8", "500", "0.20", "100.00", "847.00", "Discount 3.00%", "−25.41",
		"821.59", "VAT 19.00 %", "156.10", "977.69", "2026-12-31", "DE89370400440532013000", "PO-4711", "@page", "@media print"} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "<script>", "escaped")
	require.Contains(t, page, "&lt;script&gt;")
	for _, bad := range []string{"<script", "http://", "https://", "<link", "<img", "<no value>"} {
		require.NotContains(t, page, bad, "self-contained, no scripts")
	}

	cq := quote(1900, true)
	cn, err := document.NewCreditNote(document.CreditNoteInput{
		CreditNote: order.CreditNote{Number: "CN-1", InvoiceNumber: "INV-9", IssuedAt: issued, Amount: eur(5000), Reason: "goodwill"},
		Quote:      cq, OrderID: "ord_2", Seller: seller, Buyer: globex})
	require.NoError(t, err)
	raw, err = cn.HTML()
	require.NoError(t, err)
	page = string(raw)
	for _, want := range []string{"<title>Credit note CN-1</title>", "Credited to", "Credits invoice", "INV-9", "Reason: goodwill",
		"VAT: reverse charge", "Reverse charge: VAT is accounted for by the customer", "Total credited", "50.00"} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "Due date")
	require.NotContains(t, page, "IBAN")

	// An invoice without a due date says nothing of one.
	inv := invoiceFor(q)
	inv.DueDate = time.Time{}
	d, err = document.NewInvoice(document.InvoiceInput{Invoice: inv, Quote: q, OrderID: "o", Seller: seller, Buyer: acme})
	require.NoError(t, err)
	raw, err = d.HTML()
	require.NoError(t, err)
	require.NotContains(t, string(raw), "0001-01-01")
	require.Contains(t, string(raw), "Please transfer 977.69 EUR to IBAN")
}

// FuzzUBL builds documents from arbitrary amounts and texts: whatever the
// builder accepts renders to XML that parses back and keeps the EN 16931
// sums; whatever it refuses is ErrInconsistent.
func FuzzUBL(f *testing.F) {
	f.Add(int64(85285), int64(1900), int64(300), false, "INV-1", "Acme & Co", "PO-1", int64(7))
	f.Add(int64(1), int64(0), int64(0), true, "X", "<b>", "", int64(1))
	f.Add(int64(-5), int64(10000), int64(10000), false, "", "", "\x00", int64(0))
	f.Fuzz(func(t *testing.T, unit, rateBP, discountBP int64, rc bool, number, buyer, po string, qty int64) {
		if unit < -1e9 || unit > 1e9 || qty < -1e6 || qty > 1e6 || rateBP < 0 || rateBP > 10000 || discountBP < 0 || discountBP > 10000 {
			t.Skip()
		}
		sub := eur(unit * qty)
		q := &order.Quote{Lines: []order.PricedLine{{SKU: "SKU", Quantity: qty, UnitPrice: eur(unit), Total: sub}},
			Subtotal: sub, DiscountBP: discountBP, Discount: sub.BasisPoints(discountBP), TaxRateBP: rateBP, ReverseCharge: rc}
		q.Net = eur(sub.Minor - q.Discount.Minor)
		q.Tax = q.Net.BasisPoints(rateBP)
		if rc {
			q.Tax = eur(0)
		}
		q.Total = eur(q.Net.Minor + q.Tax.Minor)
		inv := order.Invoice{Number: number, Amount: q.Total, Net: q.Net, Tax: q.Tax, IssuedAt: issued, DueDate: issued}
		b := acme
		b.Name = buyer
		d, err := document.NewInvoice(document.InvoiceInput{Invoice: inv, Quote: q, OrderID: "o", PONumber: po, Seller: seller, Buyer: b})
		if err != nil {
			require.ErrorIs(t, err, document.ErrInconsistent)
			return
		}
		raw, err := d.UBL()
		if err != nil {
			// Text XML cannot carry (control characters, invalid UTF-8).
			require.Contains(t, err.Error(), "xml")
			return
		}
		if q.Net.Minor < 0 {
			return // a negative invoice is not one EN 16931 reads; the sums still hold
		}
		checkBusinessRules(t, raw)
	})
}
