package document

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

// UBL namespaces and the EN 16931 customization.
const (
	NamespaceInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	NamespaceCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	NamespaceCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
	NamespaceCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
	CustomizationID     = "urn:cen.eu:en16931:2017"
)

// Codes the export uses.
const (
	TypeCodeInvoice    = "380" // UNCL 1001 commercial invoice
	TypeCodeCreditNote = "381" // UNCL 1001 credit note
	PaymentMeansSEPA   = "58"  // UNCL 4461 SEPA credit transfer
	UnitCodeEach       = "C62" // UN/ECE Rec 20 "one"
	allowanceDiscount  = "95"  // UNCL 5189 discount
)

// The UBL elements, in the order the UBL 2.1 schemas require. Prefixed
// names (cbc:, cac:) marshal as written; the root declares the prefixes.

type ublDocument struct {
	XMLName  xml.Name
	Xmlns    string `xml:"xmlns,attr"`
	XmlnsCAC string `xml:"xmlns:cac,attr"`
	XmlnsCBC string `xml:"xmlns:cbc,attr"`

	CustomizationID    string          `xml:"cbc:CustomizationID"`
	ID                 string          `xml:"cbc:ID"`
	IssueDate          string          `xml:"cbc:IssueDate"`
	DueDate            string          `xml:"cbc:DueDate,omitempty"`
	InvoiceTypeCode    string          `xml:"cbc:InvoiceTypeCode,omitempty"`
	CreditNoteTypeCode string          `xml:"cbc:CreditNoteTypeCode,omitempty"`
	Note               string          `xml:"cbc:Note,omitempty"`
	Currency           string          `xml:"cbc:DocumentCurrencyCode"`
	BuyerReference     string          `xml:"cbc:BuyerReference,omitempty"`
	OrderReference     *ublReference   `xml:"cac:OrderReference,omitempty"`
	BillingReference   *ublBilling     `xml:"cac:BillingReference,omitempty"`
	Supplier           ublPartyWrap    `xml:"cac:AccountingSupplierParty"`
	Customer           ublPartyWrap    `xml:"cac:AccountingCustomerParty"`
	PaymentMeans       *ublPayment     `xml:"cac:PaymentMeans,omitempty"`
	AllowanceCharge    *ublAllowance   `xml:"cac:AllowanceCharge,omitempty"`
	TaxTotal           ublTaxTotal     `xml:"cac:TaxTotal"`
	MonetaryTotal      ublMonetary     `xml:"cac:LegalMonetaryTotal"`
	InvoiceLines       []ublLine       `xml:"cac:InvoiceLine,omitempty"`
	CreditNoteLines    []ublCreditLine `xml:"cac:CreditNoteLine,omitempty"`
}

type ublReference struct {
	ID string `xml:"cbc:ID"`
}

type ublBilling struct {
	Invoice ublReference `xml:"cac:InvoiceDocumentReference"`
}

type ublPartyWrap struct {
	Party ublParty `xml:"cac:Party"`
}

type ublEndpoint struct {
	Scheme string `xml:"schemeID,attr"`
	Value  string `xml:",chardata"`
}

type ublParty struct {
	Endpoint  *ublEndpoint   `xml:"cbc:EndpointID,omitempty"`
	Name      ublPartyName   `xml:"cac:PartyName"`
	Address   ublAddress     `xml:"cac:PostalAddress"`
	TaxScheme *ublPartyTax   `xml:"cac:PartyTaxScheme,omitempty"`
	Legal     ublLegalEntity `xml:"cac:PartyLegalEntity"`
	Contact   *ublContact    `xml:"cac:Contact,omitempty"`
}

type ublPartyName struct {
	Name string `xml:"cbc:Name"`
}

type ublAddress struct {
	Street   string     `xml:"cbc:StreetName,omitempty"`
	City     string     `xml:"cbc:CityName,omitempty"`
	Postcode string     `xml:"cbc:PostalZone,omitempty"`
	Country  ublCountry `xml:"cac:Country"`
}

type ublCountry struct {
	Code string `xml:"cbc:IdentificationCode"`
}

type ublPartyTax struct {
	CompanyID string       `xml:"cbc:CompanyID"`
	TaxScheme ublTaxScheme `xml:"cac:TaxScheme"`
}

type ublTaxScheme struct {
	ID string `xml:"cbc:ID"`
}

type ublLegalEntity struct {
	Name string `xml:"cbc:RegistrationName"`
}

type ublContact struct {
	Email string `xml:"cbc:ElectronicMail"`
}

type ublPayment struct {
	Code      string      `xml:"cbc:PaymentMeansCode"`
	PaymentID string      `xml:"cbc:PaymentID,omitempty"`
	Account   *ublAccount `xml:"cac:PayeeFinancialAccount,omitempty"`
}

type ublAccount struct {
	ID string `xml:"cbc:ID"`
}

type ublAmount struct {
	Currency string `xml:"currencyID,attr"`
	Value    string `xml:",chardata"`
}

type ublQuantity struct {
	Unit  string `xml:"unitCode,attr"`
	Value string `xml:",chardata"`
}

type ublAllowance struct {
	ChargeIndicator bool           `xml:"cbc:ChargeIndicator"`
	ReasonCode      string         `xml:"cbc:AllowanceChargeReasonCode"`
	Reason          string         `xml:"cbc:AllowanceChargeReason,omitempty"`
	Amount          ublAmount      `xml:"cbc:Amount"`
	BaseAmount      ublAmount      `xml:"cbc:BaseAmount"`
	TaxCategory     ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublTaxCategory struct {
	ID              string       `xml:"cbc:ID"`
	Percent         string       `xml:"cbc:Percent"`
	ExemptionCode   string       `xml:"cbc:TaxExemptionReasonCode,omitempty"`
	ExemptionReason string       `xml:"cbc:TaxExemptionReason,omitempty"`
	TaxScheme       ublTaxScheme `xml:"cac:TaxScheme"`
}

type ublTaxTotal struct {
	TaxAmount ublAmount      `xml:"cbc:TaxAmount"`
	Subtotal  ublTaxSubtotal `xml:"cac:TaxSubtotal"`
}

type ublTaxSubtotal struct {
	Taxable  ublAmount      `xml:"cbc:TaxableAmount"`
	Tax      ublAmount      `xml:"cbc:TaxAmount"`
	Category ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublMonetary struct {
	LineExtension  ublAmount  `xml:"cbc:LineExtensionAmount"`
	TaxExclusive   ublAmount  `xml:"cbc:TaxExclusiveAmount"`
	TaxInclusive   ublAmount  `xml:"cbc:TaxInclusiveAmount"`
	AllowanceTotal *ublAmount `xml:"cbc:AllowanceTotalAmount,omitempty"`
	Payable        ublAmount  `xml:"cbc:PayableAmount"`
}

type ublLine struct {
	ID       string      `xml:"cbc:ID"`
	Quantity ublQuantity `xml:"cbc:InvoicedQuantity"`
	ublLineBody
}

type ublCreditLine struct {
	ID       string      `xml:"cbc:ID"`
	Quantity ublQuantity `xml:"cbc:CreditedQuantity"`
	ublLineBody
}

type ublLineBody struct {
	Net   ublAmount `xml:"cbc:LineExtensionAmount"`
	Item  ublItem   `xml:"cac:Item"`
	Price ublPrice  `xml:"cac:Price"`
}

type ublItem struct {
	Name        string          `xml:"cbc:Name"`
	SellersItem *ublReference   `xml:"cac:SellersItemIdentification,omitempty"`
	Category    ublItemCategory `xml:"cac:ClassifiedTaxCategory"`
}

type ublItemCategory struct {
	ID        string       `xml:"cbc:ID"`
	Percent   string       `xml:"cbc:Percent"`
	TaxScheme ublTaxScheme `xml:"cac:TaxScheme"`
}

type ublPrice struct {
	Amount ublAmount `xml:"cbc:PriceAmount"`
}

// UBL renders the document as a UBL 2.1 Invoice or CreditNote with the
// EN 16931 core fields. It refuses a document that fails Check.
func (d Document) UBL() ([]byte, error) {
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("UBL of %s: %w", d.Title(), err)
	}
	vat := ublTaxScheme{ID: "VAT"}
	code, reason := d.exemption()
	category := ublTaxCategory{ID: d.TaxCategory(), Percent: basisPoints(d.categoryPercentBP()),
		ExemptionCode: code, ExemptionReason: reason, TaxScheme: vat}
	amt := func(m money.Money) ublAmount { return ublAmount{Currency: d.Currency, Value: Decimal(m)} }

	u := ublDocument{
		XmlnsCAC: NamespaceCAC, XmlnsCBC: NamespaceCBC,
		CustomizationID: CustomizationID,
		ID:              d.Number,
		IssueDate:       date(d.IssueDate),
		Currency:        d.Currency,
		BuyerReference:  strings.TrimSpace(d.PONumber),
		Supplier:        ublPartyWrap{Party: ublPartyOf(d.Seller)},
		Customer:        ublPartyWrap{Party: ublPartyOf(d.Buyer)},
		TaxTotal: ublTaxTotal{TaxAmount: amt(d.Tax), Subtotal: ublTaxSubtotal{
			Taxable: amt(d.Net), Tax: amt(d.Tax), Category: category}},
		MonetaryTotal: ublMonetary{
			LineExtension: amt(d.LineTotal), TaxExclusive: amt(d.Net), TaxInclusive: amt(d.Gross),
			Payable: amt(d.Gross)},
	}
	if u.BuyerReference != "" {
		u.OrderReference = &ublReference{ID: u.BuyerReference}
	} else {
		u.BuyerReference = d.OrderID
	}
	if d.Allowance.Minor > 0 {
		u.AllowanceCharge = &ublAllowance{ReasonCode: allowanceDiscount, Reason: d.AllowanceReason,
			Amount: amt(d.Allowance), BaseAmount: amt(d.LineTotal), TaxCategory: category}
		total := amt(d.Allowance)
		u.MonetaryTotal.AllowanceTotal = &total
	}
	lineCategory := ublItemCategory{ID: category.ID, Percent: category.Percent, TaxScheme: vat}
	for i, l := range d.Lines {
		body := ublLineBody{Net: amt(l.Net), Item: ublItem{Name: l.Description, Category: lineCategory},
			Price: ublPrice{Amount: amt(l.UnitPrice)}}
		if l.SKU != "" {
			body.Item.SellersItem = &ublReference{ID: l.SKU}
		}
		q := ublQuantity{Unit: UnitCodeEach, Value: strconv.FormatInt(l.Quantity, 10)}
		id := strconv.Itoa(i + 1)
		if d.Kind == KindCreditNote {
			u.CreditNoteLines = append(u.CreditNoteLines, ublCreditLine{ID: id, Quantity: q, ublLineBody: body})
		} else {
			u.InvoiceLines = append(u.InvoiceLines, ublLine{ID: id, Quantity: q, ublLineBody: body})
		}
	}
	if d.Kind == KindCreditNote {
		u.XMLName = xml.Name{Local: "CreditNote"}
		u.Xmlns = NamespaceCreditNote
		u.CreditNoteTypeCode = TypeCodeCreditNote
		u.Note = d.Reason
		u.BillingReference = &ublBilling{Invoice: ublReference{ID: d.InvoiceNumber}}
	} else {
		u.XMLName = xml.Name{Local: "Invoice"}
		u.Xmlns = NamespaceInvoice
		u.InvoiceTypeCode = TypeCodeInvoice
		if !d.DueDate.IsZero() {
			u.DueDate = date(d.DueDate)
		}
		u.PaymentMeans = &ublPayment{Code: PaymentMeansSEPA, PaymentID: d.PaymentReference}
		if d.Seller.IBAN != "" {
			u.PaymentMeans.Account = &ublAccount{ID: d.Seller.IBAN}
		}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(u); err != nil {
		return nil, fmt.Errorf("UBL of %s: %w", d.Title(), err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func ublPartyOf(p Party) ublParty {
	u := ublParty{
		Name:    ublPartyName{Name: p.Name},
		Address: ublAddress{Street: p.Street, City: p.City, Postcode: p.Postcode, Country: ublCountry{Code: p.Country}},
		Legal:   ublLegalEntity{Name: p.Name},
	}
	if p.Email != "" {
		// EAS code EM: an electronic address that is a mail address.
		u.Endpoint = &ublEndpoint{Scheme: "EM", Value: p.Email}
		u.Contact = &ublContact{Email: p.Email}
	}
	if p.VATID != "" {
		u.TaxScheme = &ublPartyTax{CompanyID: p.VATID, TaxScheme: ublTaxScheme{ID: "VAT"}}
	}
	return u
}

// Decimal prints an amount in major units with two decimals and no
// currency, "1234.50": every currency orderflow trades in (money.Money's
// String has the same rule) has two.
func Decimal(m money.Money) string {
	sign := ""
	v := m.Minor
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// basisPoints prints basis points as a percentage number, 1900 → "19.00".
func basisPoints(bp int64) string {
	return fmt.Sprintf("%d.%02d", bp/100, bp%100)
}

// date prints a day as UBL wants it, in UTC like the mails.
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }
