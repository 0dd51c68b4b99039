package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Invoicing per shipment: a customer whose terms say so is invoiced for
// each shipment when it is delivered, for its lines' share of the quote,
// under the shipment's own idempotency key. The last invoice bills what
// is left of the quote, so the invoices add up to it to the minor unit,
// and it comes only after the three-way match of the whole order. A
// reship of a shipment already billed is not billed again; the reship of
// a shipment lost before it was billed bills its goods on delivery.

// chainBilled reports whether the goods of shipment s were billed: by its
// own invoice or, for a reship, by the invoice of the shipment it
// replaces.
func (o *orderState) chainBilled(s order.Shipment) bool {
	for range o.d.Shipments { // a chain is never longer than the shipments
		if s.Invoice != "" || s.BilledLater {
			return true
		}
		if s.Replaces == "" {
			return false
		}
		found := false
		for _, prev := range o.d.Shipments {
			if prev.ShipmentID == s.Replaces {
				s, found = prev, true
			}
		}
		if !found {
			return false
		}
	}
	return false
}

// billingDue names the next shipment to invoice (-1 when none) and
// whether its invoice is the order's last: every shipment is delivered
// and no other waits to be billed. When only shipments whose own invoice
// was skipped are left, the first of them carries the last invoice.
func (o *orderState) billingDue() (int, bool) {
	var pending, later []int
	for i, s := range o.d.Shipments {
		switch {
		case s.BilledLater && s.Invoice == "":
			later = append(later, i)
		case s.Delivered && !o.chainBilled(s):
			pending = append(pending, i)
		}
	}
	switch {
	case len(pending) > 0:
		return pending[0], o.allDelivered() && len(pending) == 1
	case len(later) > 0 && o.allDelivered():
		return later[0], true
	}
	return -1, false
}

// billable reports whether a delivered shipment waits for its invoice.
func (o *orderState) billable() bool {
	i, _ := o.billingDue()
	return o.perShipment() && i >= 0
}

// invoiceShipments invoices every delivered shipment that waits for its
// invoice. A shipment whose lines the quote does not hold stops for CS,
// who may skip its invoice: the order's last invoice then bills it.
func (o *orderState) invoiceShipments(ctx workflow.Context) error {
	for {
		i, last := o.billingDue()
		if i < 0 {
			return nil
		}
		s := o.d.Shipments[i]
		var part order.Quote
		if last {
			if o.deliveredMismatch() != "" {
				if err := o.matchDelivered(ctx); err != nil {
					return err
				}
			}
			part = o.d.Quote.Remainder(o.invoices())
			if part.Total.Minor <= 0 {
				// The invoices before billed the whole quote.
				o.billedBy(i, "none: the earlier invoices billed the whole order")
				o.record(ctx, order.System, "invoice.not-needed", fmt.Sprintf("shipment %s: the invoices %s billed the whole order", s.ShipmentID, o.invoiceNumbers()))
				continue
			}
		} else {
			p, fe := o.d.Quote.Part(s.Lines)
			if fe != nil {
				skipped, err := o.attemptStep(ctx, "three-way match of shipment "+s.ShipmentID, true, nil, func(workflow.Context) error {
					return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
						"three-way match: shipment %s holds %s, which the quote does not (%s), so it cannot be billed alone; skip this step to bill it with the order's last invoice, which stops at the three-way match of the whole order if what was delivered is not what was ordered",
						s.ShipmentID, describeLines(s.Lines), fe.Reason), ErrTypeInvalidState, nil)
				})
				if err != nil {
					return err
				}
				if skipped {
					o.d.Shipments[i].BilledLater = true
				}
				continue
			}
			part = p
		}
		inv, err := o.raiseInvoice(ctx, invoiceRequest{Key: activities.ShipmentInvoiceKey(o.in.OrderID, s.ShipmentID), Part: part, Shipment: &s})
		if err != nil {
			return err
		}
		o.addInvoice(ctx, i, last, inv, part)
	}
}

// billedBy marks shipment i billed by invoice number, and with the
// order's last invoice every shipment whose own was skipped.
func (o *orderState) billedBy(i int, number string) {
	o.d.Shipments[i].Invoice = number
	for j := range o.d.Shipments {
		if o.d.Shipments[j].BilledLater && o.d.Shipments[j].Invoice == "" {
			o.d.Shipments[j].Invoice = number
		}
	}
}

// addInvoice books one shipment's invoice into the order's ledger and
// mails it to the buyer.
func (o *orderState) addInvoice(ctx workflow.Context, i int, last bool, inv order.Invoice, part order.Quote) {
	if o.d.Invoice == nil {
		first := inv
		o.d.Invoice = &first
		o.paid = money.Zero(inv.Amount.Currency)
	}
	o.d.Invoices = append(o.d.Invoices, inv)
	o.dunning = append(o.dunning, DunState{Invoice: inv.Number})
	if last {
		o.billedBy(i, inv.Number)
	} else {
		o.d.Shipments[i].Invoice = inv.Number
	}
	s := o.d.Shipments[i]
	o.refreshPaymentWaiting()
	o.record(ctx, order.System, "invoice.issued", fmt.Sprintf("%s for shipment %s (%s): %s, due %s",
		inv.Number, s.ShipmentID, describeLines(inv.Lines), inv.Amount, inv.DueDate.Format("2006-01-02")))
	o.notify(ctx, "invoice-"+inv.Number, mail.KindInvoice, activities.AudienceBuyer, mail.Data{Invoice: &inv, Quote: &part, Shipment: &s})
}

// invoicedPerShipment ends the invoicing of an order invoiced per
// shipment: every shipment is delivered and billed.
func (o *orderState) invoicedPerShipment(ctx workflow.Context) error {
	if err := o.invoiceShipments(ctx); err != nil {
		return err
	}
	o.d.Waiting = fmt.Sprintf("Every shipment invoiced: %s.", o.invoiceNumbers())
	o.transition(ctx, order.StatusInvoiced, order.System, "invoice.all-issued", o.invoiceNumbers())
	return nil
}
