package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/store"
)

// documentURL is the buyer's link to a stored document's printable page
// (GET /documents/{token}); its UBL export is the same link + "/ubl".
func (a *Activities) documentURL(token string) string {
	return strings.TrimRight(a.PublicURL, "/") + "/documents/" + token
}

// attachDocument gives a buyer's mail about an invoice or a credit note the
// link to its document. For an invoice or credit-note mail it builds the
// document from the mail's data, the customer's terms and the seller, and
// stores it: the first store of a number wins, so a retry or a resend links
// the same, unchanged document. A dunning mail links the invoice's document
// when one is stored. A mail that has its link already (a resend) keeps it.
//
// A document that cannot be built (amounts that do not add up, no seller
// configured) leaves the mail without its link rather than holding the mail
// back: the mail carries the amounts and the payment reference itself.
func (a *Activities) attachDocument(ctx context.Context, in *SendMailInput) error {
	d := &in.Data
	if in.Audience != AudienceBuyer || d.Invoice == nil || d.DocumentURL != "" {
		return nil
	}
	switch in.Kind {
	case mail.KindDunning, mail.KindDunningSecond, mail.KindDunningFinal:
		doc, err := a.Store.DocumentByNumber(ctx, in.OrderID, document.KindInvoice, d.Invoice.Number)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return classify(ctx, "find the document of invoice "+d.Invoice.Number, err)
		}
		d.DocumentURL = a.documentURL(doc.Token)
		return nil
	case mail.KindInvoice, mail.KindCreditNote:
	default:
		return nil
	}
	if in.Kind == mail.KindCreditNote && d.CreditNote == nil {
		return nil // Render refuses the mail
	}
	terms, err := a.Store.Terms(ctx, in.CustomerID)
	if err != nil {
		return classify(ctx, "find customer "+in.CustomerID+" for the document", err)
	}
	buyer := document.BuyerFromTerms(terms)
	var doc document.Document
	if in.Kind == mail.KindInvoice {
		doc, err = document.NewInvoice(document.InvoiceInput{Invoice: *d.Invoice, Quote: d.Quote,
			OrderID: in.OrderID, PONumber: d.PONumber, Seller: a.Seller, Buyer: buyer,
			TaxRateBP: terms.VATRateBP, ReverseCharge: terms.ReverseCharge})
	} else {
		doc, err = document.NewCreditNote(document.CreditNoteInput{CreditNote: *d.CreditNote, Invoice: *d.Invoice, Quote: d.Quote,
			OrderID: in.OrderID, PONumber: d.PONumber, Seller: a.Seller, Buyer: buyer,
			TaxRateBP: terms.VATRateBP, ReverseCharge: terms.ReverseCharge})
	}
	if err != nil {
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("document not built; the mail goes without its link",
				"Kind", in.Kind, "OrderID", in.OrderID, "Error", err)
		}
		return nil
	}
	stored, err := a.Store.SaveDocument(ctx, in.OrderID, in.CustomerID, doc)
	if err != nil {
		return classify(ctx, "store "+doc.Title(), err)
	}
	d.DocumentURL = a.documentURL(stored.Token)
	if in.Kind == mail.KindCreditNote && d.CreditNote.Net.Currency == "" {
		// The mail shows the split the document states.
		cn := *d.CreditNote
		cn.Net, cn.Tax = stored.Body.Net, stored.Body.Tax
		d.CreditNote = &cn
	}
	return nil
}
