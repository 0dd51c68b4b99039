package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// An order has two representations. Seller staff (sales, finance, CS) get
// orderView: the projection and everything the workflow knows, failures,
// credit exposure and approvers' comments included. Buyers, and the
// storefront that shows orders to buyers, get buyerOrder: what the buyer's
// own company may know, built field by field so nothing internal reaches
// it by accident.

// representation is either view; POST /v1/quotes adds the priced quote.
type representation interface {
	setQuote(res workflows.QuoteResult)
}

// orderView is an order as the seller's staff see it: the projection
// PostgreSQL keeps, plus what the workflow says right now when it was asked.
// Live is null when the workflow was not asked or cannot answer (Temporal
// down, no worker, closed past retention); the rest still answers.
type orderView struct {
	store.OrderRecord
	freshness
	// Quote is the priced quote in POST /v1/quotes' answer; GET has it in
	// live.quote.
	Quote *order.Quote       `json:"quote,omitempty"`
	Live  *workflows.Details `json:"live"`
}

// freshness says where an order's answer comes from and how new its
// projection part is.
type freshness struct {
	// Source is sourceProjection or sourceWorkflow.
	Source string `json:"source"`
	// Seq is the projection's last applied transition (0: none yet, or no
	// projection row); updated_at is when it was written.
	Seq int64 `json:"seq"`
}

func freshnessOf(rec store.OrderRecord, live *workflows.Details) freshness {
	f := freshness{Source: sourceProjection, Seq: rec.LastSeq}
	if live != nil {
		f.Source = sourceWorkflow
	}
	return f
}

// setQuote shows the workflow's answer: it is at least as new as the
// projection row read before it.
func (v *orderView) setQuote(res workflows.QuoteResult) {
	v.Source = sourceWorkflow
	v.Quote, v.Status, v.Details = res.Quote, res.Status, res.Waiting
	if res.Quote != nil {
		v.Total, v.QuoteRevision = res.Quote.Total, res.Quote.Revision
	}
}

// buyerOrder is an order as its buyer sees it.
type buyerOrder struct {
	ID         string       `json:"id"`
	CustomerID string       `json:"customer_id"`
	PONumber   string       `json:"po_number,omitempty"`
	Status     order.Status `json:"status"`
	// Details says in the buyer's words where the order stands.
	Details       string          `json:"details"`
	Total         money.Money     `json:"total"`
	QuoteRevision int             `json:"quote_revision"`
	InvoiceNumber string          `json:"invoice_number,omitempty"`
	CreatedAt     time.Time       `json:"created_at,omitzero"`
	UpdatedAt     time.Time       `json:"updated_at,omitzero"`
	Quote         *order.Quote    `json:"quote,omitempty"`
	Approvals     *buyerApprovals `json:"approvals,omitempty"`
	Prepayment    bool            `json:"prepayment"`
	Shipments     []buyerShipment `json:"shipments,omitempty"`
	// Invoice is the order's first invoice; Invoices all of them (one per
	// delivered shipment for a customer invoiced per shipment).
	Invoice  *buyerInvoice  `json:"invoice,omitempty"`
	Invoices []buyerInvoice `json:"invoices,omitempty"`
	Paid     *money.Money   `json:"paid,omitempty"`
	Survey   string         `json:"survey,omitempty"`
	freshness
	live *workflows.Details
}

func (v *buyerOrder) setQuote(res workflows.QuoteResult) {
	v.Source = sourceWorkflow
	v.Quote, v.Status = res.Quote, res.Status
	if res.Quote != nil {
		v.Total, v.QuoteRevision = res.Quote.Total, res.Quote.Revision
	}
	v.Details = buyerDetails(v.Status, v.live, v.Quote)
}

// buyerApprovals says what approval the order waits for: how many of the
// buyer's own approvers are still needed, and whether the seller still
// has to approve (who, and what they said, stays the seller's).
type buyerApprovals struct {
	BuyerApprovalsMissing int  `json:"buyer_approvals_missing"`
	SellerApprovalPending bool `json:"seller_approval_pending"`
}

// buyerShipment is one shipment as the buyer tracks it.
type buyerShipment struct {
	Warehouse      string       `json:"warehouse"`
	Lines          []order.Line `json:"lines"`
	TrackingNumber string       `json:"tracking_number,omitempty"`
	PromisedDate   time.Time    `json:"promised_date,omitzero"`
	Delivered      bool         `json:"delivered"`
	DeliveredAt    time.Time    `json:"delivered_at,omitzero"`
	// Invoice is the invoice that billed the shipment (per shipment).
	Invoice string `json:"invoice,omitempty"`
}

// buyerInvoice is the invoice as the buyer received it.
type buyerInvoice struct {
	Number   string      `json:"number"`
	Amount   money.Money `json:"amount"`
	IssuedAt time.Time   `json:"issued_at"`
	DueDate  time.Time   `json:"due_date"`
	// DisputedSince is set while the invoice is disputed (no reminders).
	DisputedSince *time.Time `json:"disputed_since,omitempty"`
	// Shipment and Lines: what an invoice of one shipment bills.
	Shipment string       `json:"shipment,omitempty"`
	Lines    []order.Line `json:"lines,omitempty"`
	// Open is what is still to pay on it.
	Open *money.Money `json:"open,omitempty"`
}

// present builds the representation the actor may see from the projection
// row and, when not nil, the workflow's live details.
func present(a order.Actor, rec store.OrderRecord, live *workflows.Details) representation {
	if a.Role.Staff() {
		return &orderView{OrderRecord: rec, freshness: freshnessOf(rec, live), Live: live}
	}
	return newBuyerOrder(rec, live)
}

// setProjectedInvoices shows the order's invoices as the projection holds
// them: a buyer read without live details still says what to pay.
// disputed_since, shipment and lines are the workflow's only.
func (v *buyerOrder) setProjectedInvoices(invs []store.InvoiceState) {
	v.Invoices = nil
	for _, inv := range invs {
		bi := buyerInvoice{Number: inv.Number, Amount: inv.Amount, IssuedAt: inv.IssuedAt, DueDate: inv.DueDate}
		if inv.Open != nil {
			open := *inv.Open
			if open.Minor < 0 {
				open.Minor = 0 // an overpayment is the customer's credit balance
			}
			bi.Open = &open
		}
		v.Invoices = append(v.Invoices, bi)
	}
	v.Invoice = nil
	if len(v.Invoices) > 0 {
		first := v.Invoices[0]
		v.Invoice = &first
	}
}

// newBuyerOrder picks from the projection and the live details what the
// buyer may see.
func newBuyerOrder(rec store.OrderRecord, live *workflows.Details) *buyerOrder {
	v := &buyerOrder{
		ID: rec.ID, CustomerID: rec.CustomerID, PONumber: rec.PONumber, Status: rec.Status,
		Total: rec.Total, QuoteRevision: rec.QuoteRevision, InvoiceNumber: rec.InvoiceNumber,
		CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, live: live, freshness: freshnessOf(rec, live),
	}
	if live != nil {
		// The status stays the projection's, as in lists and the audit
		// log: a status the workflow shows before its audit entry is
		// written would send a client to an audit log without it.
		v.Quote = live.Quote
		v.Prepayment = live.Prepayment
		v.Paid = live.Paid
		if live.Status == order.StatusAwaitingApproval {
			v.Approvals = buyerApprovalsOf(live)
		}
		for _, sh := range live.Shipments {
			v.Shipments = append(v.Shipments, buyerShipment{Warehouse: sh.Warehouse, Lines: sh.Lines,
				TrackingNumber: sh.TrackingNumber, PromisedDate: sh.PromisedDate, Delivered: sh.Delivered, DeliveredAt: sh.DeliveredAt,
				Invoice: sh.Invoice})
		}
		invoices := live.Invoices
		if len(invoices) == 0 && live.Invoice != nil {
			invoices = []order.Invoice{*live.Invoice}
		}
		for _, inv := range invoices {
			bi := buyerInvoice{Number: inv.Number, Amount: inv.Amount, IssuedAt: inv.IssuedAt, DueDate: inv.DueDate,
				Shipment: inv.Shipment, Lines: inv.Lines}
			if d := live.Dispute; d != nil {
				bi.DisputedSince = &d.Since
			}
			for _, b := range live.Balances {
				if b.Number == inv.Number {
					open := b.Open
					if open.Minor < 0 {
						open.Minor = 0 // an overpayment is the customer's credit balance
					}
					bi.Open = &open
				}
			}
			v.Invoices = append(v.Invoices, bi)
		}
		if len(v.Invoices) > 0 {
			first := v.Invoices[0]
			v.Invoice = &first
		}
		switch {
		case live.SurveyState == "sent" || live.SurveyState == "reminded":
			v.Survey = "open"
		case live.SurveyState != "":
			v.Survey = "closed"
		}
	}
	v.Details = buyerDetails(v.Status, live, v.Quote)
	return v
}

func buyerApprovalsOf(d *workflows.Details) *buyerApprovals {
	out := &buyerApprovals{}
	for _, n := range d.ApprovalsNeeded {
		given := 0
		for _, ap := range d.Approvals {
			if ap.Side == n.Side && ap.Approve {
				given++
			}
		}
		switch n.Side {
		case order.SideBuyer:
			out.BuyerApprovalsMissing = max(n.Count-given, 0)
		default:
			out.SellerApprovalPending = out.SellerApprovalPending || given < n.Count
		}
	}
	return out
}

// buyerDetails says where the order stands in words for the buyer: from
// the status and the facts the buyer may see, never from the staff's
// details text (which names credit limits, failures and approvers).
func buyerDetails(s order.Status, d *workflows.Details, q *order.Quote) string {
	switch s {
	case order.StatusQuoting:
		return "We are pricing your quote."
	case order.StatusAwaitingAcceptance:
		if q != nil {
			return fmt.Sprintf("Quote revision %d is ready: %s, valid until %s. Accept, revise or reject it.",
				q.Revision, q.Total, q.ValidUntil.Format("2006-01-02"))
		}
		return "Your quote is ready. Accept, revise or reject it."
	case order.StatusAwaitingApproval:
		if d != nil {
			if a := buyerApprovalsOf(d); a.BuyerApprovalsMissing > 0 {
				return fmt.Sprintf("Waiting for %d approval(s) by your company's approvers.", a.BuyerApprovalsMissing)
			}
		}
		return "Waiting for approval on our side."
	case order.StatusCreditCheck, order.StatusCreditHold:
		return "We are confirming your order."
	case order.StatusConfirmed:
		return "Confirmed: your goods are reserved and their shipment is being booked."
	case order.StatusShipping:
		if d != nil {
			delivered := 0
			for _, sh := range d.Shipments {
				if sh.Delivered {
					delivered++
				}
			}
			w := fmt.Sprintf("On its way: %d of %d shipment(s) delivered.", delivered, len(d.Shipments))
			if len(d.Invoices) > 0 {
				w += " Invoiced as delivered: " + describeOpen(d) + "."
			}
			return w
		}
		return "On its way."
	case order.StatusInvoiced, order.StatusAwaitingPayment:
		if d != nil && len(d.Invoices) > 1 {
			if d.Dispute != nil {
				return fmt.Sprintf("Your invoices are disputed since %s; we are settling it with you and send no reminders meanwhile.",
					d.Dispute.Since.Format("2006-01-02"))
			}
			return fmt.Sprintf("%d invoices, one per shipment: %s. Pay each quoting its payment reference (RF…, on the invoice) or its invoice number.",
				len(d.Invoices), describeOpen(d))
		}
		if d != nil && d.Invoice != nil {
			due := d.Invoice.Amount
			if d.Paid != nil {
				if b, err := d.Invoice.Amount.Sub(*d.Paid); err == nil {
					due = b
				}
			}
			for _, b := range d.Balances {
				if b.Number == d.Invoice.Number && b.Open.Currency == due.Currency {
					due = b.Open // the order's ledger: credit notes and write-offs too
				}
			}
			if d.Dispute != nil {
				return fmt.Sprintf("Invoice %s is disputed since %s; we are settling it with you and send no reminders meanwhile.",
					d.Invoice.Number, d.Dispute.Since.Format("2006-01-02"))
			}
			if d.Prepayment && !anyShipped(d) {
				return fmt.Sprintf("Waiting for your prepayment of %s on invoice %s; the goods ship once it is paid.", due, d.Invoice.Number)
			}
			return fmt.Sprintf("Invoice %s: %s to pay by %s, quoting the payment reference %s.",
				d.Invoice.Number, due, d.Invoice.DueDate.Format("2006-01-02"), d.Invoice.PaymentReference())
		}
		return "Invoiced."
	case order.StatusPaid:
		return "Delivered and paid. Thank you! Tell us how the delivery went: the survey link is in your mail."
	case order.StatusCompleted:
		return "Completed: delivered and paid. Thank you."
	case order.StatusCancelled:
		return "Cancelled."
	case order.StatusQuoteExpired:
		return "The quote expired without an answer."
	case order.StatusQuoteRejected:
		return "You rejected the quote."
	case order.StatusRejected:
		return "The order was not approved."
	case order.StatusCreditDeclined:
		return "We could not accept this order on the agreed payment terms; your account manager will contact you."
	case order.StatusQuoteRefused:
		return "We could not price the requested lines."
	}
	return string(s)
}

func anyShipped(d *workflows.Details) bool {
	for _, sh := range d.Shipments {
		if sh.TrackingNumber != "" {
			return true
		}
	}
	return false
}

// describeOpen says, per invoice, what is left to pay and by when.
func describeOpen(d *workflows.Details) string {
	parts := make([]string, 0, len(d.Invoices))
	for _, inv := range d.Invoices {
		open := inv.Amount
		for _, b := range d.Balances {
			if b.Number == inv.Number {
				open = b.Open
			}
		}
		if open.Minor <= 0 {
			parts = append(parts, fmt.Sprintf("invoice %s paid", inv.Number))
			continue
		}
		parts = append(parts, fmt.Sprintf("invoice %s, %s to pay by %s", inv.Number, open, inv.DueDate.Format("2006-01-02")))
	}
	return strings.Join(parts, "; ")
}
