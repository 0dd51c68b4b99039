package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// Kind names what a mail is for; it selects the template and travels in the
// X-Orderflow-Kind header.
type Kind string

// The mails orderflow sends.
const (
	KindQuote            Kind = "quote"               // a priced quote (or revision) to the buyer
	KindQuoteReminder    Kind = "quote-reminder"      // to the buyer: the quote expires soon
	KindQuoteExpired     Kind = "quote-expired"       // to the sales rep: follow up
	KindQuoteRejected    Kind = "quote-rejected"      // to the sales rep: follow up
	KindApprovalRequest  Kind = "approval-request"    // to approvers: what needs approving and why
	KindApprovalReminder Kind = "approval-reminder"   // to approvers: still waiting
	KindOrderConfirmed   Kind = "order-confirmed"     // to the buyer: sales order + shipments planned
	KindShipmentBooked   Kind = "shipment-booked"     // to the buyer: tracking number, promised date
	KindReturnAuthorised Kind = "return-authorised"   // to the buyer: the RMA, what goes back, the pickup date
	KindInvoice          Kind = "invoice"             // to the buyer: number, amount, due date, payment reference
	KindSurvey           Kind = "survey"              // to the buyer: NPS link
	KindSurveyReminder   Kind = "survey-reminder"     // to the buyer: NPS link, once more
	KindDunning          Kind = "dunning"             // to the buyer: a friendly reminder of an overdue invoice
	KindDunningSecond    Kind = "dunning-second"      // to the buyer: second notice, firmer, days overdue and balance
	KindDunningFinal     Kind = "dunning-final"       // to the buyer: final notice, finance takes the account over
	KindCreditNote       Kind = "credit-note"         // to the buyer: a credit note on the invoice, with its link
	KindOrderCancelled   Kind = "order-cancelled"     // to the buyer
	KindCSAlert          Kind = "cs-alert"            // to CS: an order needs attention (step, error, what to do)
	KindFinanceAlert     Kind = "finance-alert"       // to finance: credit hold, overpayment, unmatched payment
	KindRepConfirmed     Kind = "rep-order-confirmed" // to the sales rep: the customer's order is confirmed
	KindRepApproval      Kind = "rep-approval-needed" // to the sales rep: the order waits for approvals, and why
	KindRepDetractor     Kind = "rep-detractor"       // to the sales rep: a detractor's survey answer, follow-up opened
)

// Kinds lists every kind Render knows, in lifecycle order.
func Kinds() []Kind {
	return []Kind{
		KindQuote, KindQuoteReminder, KindQuoteExpired, KindQuoteRejected,
		KindApprovalRequest, KindApprovalReminder, KindOrderConfirmed, KindShipmentBooked, KindReturnAuthorised,
		KindInvoice, KindSurvey, KindSurveyReminder, KindDunning, KindDunningSecond, KindDunningFinal,
		KindCreditNote, KindOrderCancelled, KindCSAlert, KindFinanceAlert, KindRepConfirmed, KindRepApproval, KindRepDetractor,
	}
}

// Data is everything a template may show; fields a kind does not use stay zero.
type Data struct {
	OrderID, CustomerName, PONumber string

	Quote   *order.Quote
	Invoice *order.Invoice
	// CreditNote is the credit note of a credit-note mail; Invoice is the
	// invoice it credits.
	CreditNote *order.CreditNote
	Shipments  []order.Shipment
	Shipment   *order.Shipment
	Needs      []order.ApprovalNeed
	Exposure   *order.Exposure

	// SurveyURL and OrderURL are links on this system; AcceptURL, in a
	// quote mail, accepts that revision. Signed links the SendMail activity
	// sets for buyer mails.
	SurveyURL, OrderURL, AcceptURL string
	// ApproveURL, in a buyer's approval request, opens the page that
	// approves or rejects the order.
	ApproveURL string
	// DocumentURL is the printable page of the invoice or credit note the
	// mail is about (its UBL export is DocumentURL + "/ubl"). The SendMail
	// activity sets it for invoice and credit-note mails, and for dunning
	// when the invoice's document is stored; mails leave the link out when
	// it is empty.
	DocumentURL string

	// Reason, Step and Error explain cancellations and alerts.
	Reason, Step, Error string
	// Score and Comment are a survey's answer, for the rep's detractor mail.
	Score   *int
	Comment string
	// WaitsForCS says, in a CS alert, that the order is stopped until CS
	// acts on the failed Step (retry or cancel); otherwise it keeps going.
	WaitsForCS bool
	// CanSkip says that CS may skip the failed Step instead of retrying it.
	CanSkip bool
	// FollowUp says, in the rep's mail of a rejected or expired quote, that
	// the customer's workflow opens a quote-lost follow-up for it.
	FollowUp bool

	// Customer is what a customer workflow's mail is about (CustomerKinds).
	Customer *CustomerData

	// RMA is the return authorisation a return-authorised mail is about.
	RMA string

	// Balance is what stays open (dunning) or the credit (overpayment alerts).
	Balance     *money.Money
	DaysOverdue int
}

//go:embed templates/*.tmpl
var templateFS embed.FS

// requirement checks that Data holds what a kind's mail is about.
type requirement func(Data) error

func need(ok bool, field string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("Data.%s is required", field)
}

var (
	needQuote     requirement = func(d Data) error { return need(d.Quote != nil, "Quote") }
	needInvoice   requirement = func(d Data) error { return need(d.Invoice != nil, "Invoice") }
	needSurveyURL requirement = func(d Data) error { return need(d.SurveyURL != "", "SurveyURL") }
	needNeeds     requirement = func(d Data) error { return need(len(d.Needs) > 0, "Needs") }
	needBalance   requirement = func(d Data) error { return need(d.Balance != nil, "Balance") }
	needCredit    requirement = func(d Data) error { return need(d.CreditNote != nil, "CreditNote") }
)

// requirements per kind. OrderID is checked for every kind but the finance
// alert, which also covers payments no order claims.
var requirements = map[Kind][]requirement{
	KindQuote:            {needQuote},
	KindQuoteReminder:    {needQuote},
	KindQuoteExpired:     nil,
	KindQuoteRejected:    nil,
	KindApprovalRequest:  {needNeeds},
	KindApprovalReminder: {needNeeds},
	KindOrderConfirmed:   {func(d Data) error { return need(len(d.Shipments) > 0, "Shipments") }},
	KindShipmentBooked:   {func(d Data) error { return need(d.Shipment != nil, "Shipment") }},
	KindReturnAuthorised: {func(d Data) error { return need(d.Shipment != nil && d.RMA != "", "Shipment and RMA") }},
	KindInvoice:          {needInvoice},
	KindSurvey:           {needSurveyURL},
	KindSurveyReminder:   {needSurveyURL},
	KindDunning:          {needInvoice, needBalance},
	KindDunningSecond:    {needInvoice, needBalance},
	KindDunningFinal:     {needInvoice, needBalance},
	KindCreditNote:       {needCredit, needInvoice},
	KindOrderCancelled:   nil,
	KindCSAlert: {func(d Data) error {
		return need(d.Step != "" || d.Error != "" || d.Reason != "", "Step, Error or Reason")
	}},
	KindFinanceAlert: {func(d Data) error { return need(d.Reason != "" || d.Exposure != nil, "Reason or Exposure") }},
	KindRepConfirmed: {func(d Data) error { return need(len(d.Shipments) > 0, "Shipments") }},
	KindRepApproval:  {needNeeds},
	KindRepDetractor: {func(d Data) error { return need(d.Score != nil, "Score") }},
}

var templates = parseTemplates()

// parseTemplates parses each kind's file together with the shared helpers.
// A template that does not parse is a programming error caught by any test,
// so it panics at start-up rather than at the first mail.
func parseTemplates() map[Kind]*template.Template {
	funcs := template.FuncMap{
		"date":    formatDate,
		"percent": formatBasisPoints,
	}
	out := make(map[Kind]*template.Template, len(requirements)+len(customerRequirements))
	for _, k := range append(Kinds(), CustomerKinds()...) {
		t := template.Must(template.New(string(k)).Funcs(funcs).
			ParseFS(templateFS, "templates/common.tmpl", "templates/"+string(k)+".tmpl"))
		for _, name := range []string{"subject", "body"} {
			if t.Lookup(name) == nil {
				panic(fmt.Sprintf("mail: template %s.tmpl defines no %q", k, name))
			}
		}
		out[k] = t
	}
	return out
}

// ErrUnknownKind is returned by Render for a kind without a template.
var ErrUnknownKind = errors.New("unknown mail kind")

// Render produces the subject and plain-text body of a mail of kind k.
// It fails when k is unknown or d lacks what the kind needs.
func Render(k Kind, d Data) (subject, text string, err error) {
	t, ok := templates[k]
	if !ok {
		return "", "", fmt.Errorf("render %q mail: %w", k, ErrUnknownKind)
	}
	if _, ok := customerRequirements[k]; ok {
		if err := checkCustomerKind(k, d); err != nil {
			return "", "", err
		}
	} else if k != KindFinanceAlert && d.OrderID == "" {
		return "", "", fmt.Errorf("render %s mail: Data.OrderID is required", k)
	}
	for _, req := range requirements[k] {
		if err := req(d); err != nil {
			return "", "", fmt.Errorf("render %s mail: %w", k, err)
		}
	}
	var subj, body bytes.Buffer
	if err := t.ExecuteTemplate(&subj, "subject", d); err != nil {
		return "", "", fmt.Errorf("render %s mail subject: %w", k, err)
	}
	if err := t.ExecuteTemplate(&body, "body", d); err != nil {
		return "", "", fmt.Errorf("render %s mail body: %w", k, err)
	}
	// A subject is one header line: fold whatever the data brought in
	// (a PO number with a line break) into single spaces.
	subject = strings.Join(strings.Fields(subj.String()), " ")
	return subject, tidyBody(body.String()), nil
}

// tidyBody drops trailing spaces and runs of blank lines that optional
// template blocks leave behind, and ends the text with one newline.
func tidyBody(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading blank lines too
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// formatDate prints a day as 2006-01-02 in UTC: due dates are the end of a UTC
// day, and a worker's local zone must not move them.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "not yet known"
	}
	return t.UTC().Format("2006-01-02")
}

// formatBasisPoints prints basis points as a percentage, 1250 → "12.50%".
func formatBasisPoints(bp int64) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, bp/100, bp%100)
}

// Dunning reports whether k is a payment reminder, of any level.
func (k Kind) Dunning() bool {
	return k == KindDunning || k == KindDunningSecond || k == KindDunningFinal
}

// DunningKind is the kind of the n-th payment reminder of an invoice
// (1-based): a friendly reminder first, then second notices; once the
// invoice is escalated to finance, the final notice (it says finance has
// the account).
func DunningKind(n int, escalated bool) Kind {
	switch {
	case escalated:
		return KindDunningFinal
	case n <= 1:
		return KindDunning
	}
	return KindDunningSecond
}
