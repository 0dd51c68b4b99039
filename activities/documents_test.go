package activities_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// invoicedQuote is a quote for ACME-001 (19 % VAT) with a 3 % discount,
// and the invoice the ERP raised for it.
func invoicedQuote() (*order.Quote, *order.Invoice) {
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	q := &order.Quote{Revision: 1,
		Lines: []order.PricedLine{
			{SKU: "BOLT-M8", Quantity: 500, UnitPrice: eur(20), Total: eur(10000), Contract: true},
			{SKU: "NUT-M8", Quantity: 100, UnitPrice: eur(10), Total: eur(1000)},
		},
		Subtotal: eur(11000), DiscountBP: 300, Discount: eur(330), Net: eur(10670), TaxRateBP: 1900, Tax: eur(2027),
		Total: eur(12697), PaymentTermsDays: 30}
	issued := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	inv := &order.Invoice{InvoiceID: "inv_1", Number: "INV-DOC-1", Amount: q.Total, Net: q.Net, Tax: q.Tax,
		IssuedAt: issued, DueDate: order.DueDate(issued, 30)}
	return q, inv
}

// linkIn returns the document link a mail text shows, "" when none.
func linkIn(text, label string) string {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, label+": "); ok {
			return rest
		}
	}
	return ""
}

func TestSendMailStoresAndLinksTheDocuments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const orderID = "ord-docs"
	q, inv := invoicedQuote()
	sent := map[mail.Kind]int{}
	send := func(key string, kind mail.Kind, d mail.Data) mailsink.Message {
		t.Helper()
		sent[kind]++
		d.PONumber = "PO-DOC"
		mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{Key: activities.Key(orderID, "mail", key),
			Kind: kind, OrderID: orderID, CustomerID: "ACME-001", Audience: activities.AudienceBuyer, Data: d})
		msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{OrderID: orderID, Kind: string(kind)}, sent[kind])
		require.NoError(t, err)
		for _, m := range msgs {
			if m.OrderflowID == activities.Key(orderID, "mail", key) {
				return m
			}
		}
		t.Fatalf("no mail %s", key)
		return mailsink.Message{}
	}

	// A dunning mail before any document is stored shows no link.
	balance := inv.Amount
	m := send("dunning-0", mail.KindDunning, mail.Data{Invoice: inv, Balance: &balance, DaysOverdue: 3})
	require.NotContains(t, m.Text, "View or print")

	m = send("invoice", mail.KindInvoice, mail.Data{Invoice: inv, Quote: q})
	link := linkIn(m.Text, "View or print the invoice")
	require.True(t, strings.HasPrefix(link, "https://orders.seller.example/documents/"), "link %q in\n%s", link, m.Text)
	require.Equal(t, link+"/ubl", linkIn(m.Text, "Import it into your AP system (UBL 2.1)"))
	token := strings.TrimPrefix(link, "https://orders.seller.example/documents/")

	doc, err := f.store.DocumentByToken(ctx, token)
	require.NoError(t, err)
	require.Equal(t, document.KindInvoice, doc.Kind)
	require.Equal(t, "INV-DOC-1", doc.Number)
	require.Equal(t, orderID, doc.OrderID)
	require.Equal(t, "ACME-001", doc.CustomerID)
	b := doc.Body
	require.Equal(t, testSeller, b.Seller)
	require.Equal(t, "Acme Industrial GmbH", b.Buyer.Name)
	require.Equal(t, "DE", b.Buyer.Country)
	require.NotEmpty(t, b.Buyer.VATID)
	require.Equal(t, "PO-DOC", b.PONumber)
	require.Equal(t, int64(330), b.Allowance.Minor)
	require.Equal(t, inv.Amount, b.Gross)
	require.NoError(t, b.Check())

	// A retried or resent mail links the same document, unchanged.
	m = send("invoice-again", mail.KindInvoice, mail.Data{Invoice: inv, Quote: q})
	require.Equal(t, link, linkIn(m.Text, "View or print the invoice"))
	res := mustRun[activities.ResendMailResult](t, f.env, f.acts.ResendMail, activities.ResendMailInput{
		Key: activities.Key(orderID, "mail", "invoice"), NewKey: activities.Key(orderID, "mail", "invoice-resend")})
	require.Equal(t, mail.KindInvoice, res.Kind)
	sent[mail.KindInvoice]++
	kept, err := f.store.Mail(ctx, activities.Key(orderID, "mail", "invoice"))
	require.NoError(t, err)
	var keptData mail.Data
	require.NoError(t, json.Unmarshal(kept.Data, &keptData))
	require.Equal(t, link, keptData.DocumentURL, "the kept mail has its link, for resends")
	docs, err := f.store.Documents(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, docs, 1)

	// Dunning of every level links the invoice now.
	for _, k := range []mail.Kind{mail.KindDunning, mail.KindDunningSecond, mail.KindDunningFinal} {
		m = send("level-"+string(k), k, mail.Data{Invoice: inv, Balance: &balance, DaysOverdue: 20})
		require.Equal(t, link, linkIn(m.Text, "View or print the invoice"), "%s:\n%s", k, m.Text)
	}

	// A credit note without the ERP's split gets the document's.
	cn := &order.CreditNote{CreditNoteID: "cn_1", Number: "CN-DOC-1", InvoiceNumber: inv.Number,
		IssuedAt: inv.IssuedAt.AddDate(0, 0, 4), Amount: money.New(1190, "EUR"), Reason: "goodwill"}
	m = send("credit-note-1", mail.KindCreditNote, mail.Data{Invoice: inv, Quote: q, CreditNote: cn})
	cnLink := linkIn(m.Text, "View or print the credit note")
	require.NotEmpty(t, cnLink, m.Text)
	require.NotEqual(t, link, cnLink)
	require.Contains(t, m.Text, "Net amount:         10.00 EUR")
	require.Contains(t, m.Text, "VAT:                1.90 EUR")
	cnDoc, err := f.store.DocumentByToken(ctx, strings.TrimPrefix(cnLink, "https://orders.seller.example/documents/"))
	require.NoError(t, err)
	require.Equal(t, document.KindCreditNote, cnDoc.Kind)
	require.Equal(t, inv.Number, cnDoc.Body.InvoiceNumber)
	require.Empty(t, cnDoc.Body.Seller.IBAN)
	raw, err := cnDoc.Body.UBL()
	require.NoError(t, err)
	require.Contains(t, string(raw), "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>")
}

func TestSendMailWithoutADocumentItCannotBuild(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const orderID = "ord-nodoc"
	q, inv := invoicedQuote()
	inv.Tax = money.New(1, "EUR") // net + tax is not the amount: no document says that
	mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{Key: activities.Key(orderID, "mail", "invoice"),
		Kind: mail.KindInvoice, OrderID: orderID, CustomerID: "ACME-001", Audience: activities.AudienceBuyer,
		Data: mail.Data{Invoice: inv, Quote: q}})
	msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{OrderID: orderID}, 1)
	require.NoError(t, err)
	require.Contains(t, msgs[0].Text, "Payment reference:  RF74 INVD OC1", "the mail goes out")
	require.NotContains(t, msgs[0].Text, "/documents/", "without a link")
	docs, err := f.store.Documents(ctx, orderID)
	require.NoError(t, err)
	require.Empty(t, docs)
}
