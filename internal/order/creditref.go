package order

import (
	"strings"

	"github.com/orderflow/orderflow/internal/creditref"
)

// CreditorReference is the invoice's ISO 11649 creditor reference (RF,
// two check digits, the invoice number's letters and digits), without
// spaces: what a payer quotes with a transfer, and what a mistyped copy
// of is detected by. "" when the number has no letters or digits or more
// than the standard's 21.
func (inv Invoice) CreditorReference() string {
	return CreditorReferenceOf(inv.Number)
}

// CreditorReferenceOf is the creditor reference of invoice number n.
func CreditorReferenceOf(n string) string {
	ref, err := creditref.New(ReferenceBody(n))
	if err != nil {
		return ""
	}
	return ref
}

// PaymentReference is what the buyer is asked to quote: the creditor
// reference in print form ("RF47 INV0 0000 1"), or the invoice number
// when it has none.
func (inv Invoice) PaymentReference() string {
	if ref := inv.CreditorReference(); ref != "" {
		return creditref.Format(ref)
	}
	return inv.Number
}

// ReferenceBody is n with everything but letters and digits dropped,
// upper-cased: the body of its creditor reference, and the form in which
// an invoice number and a creditor reference's body compare.
func ReferenceBody(n string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(n) {
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}
