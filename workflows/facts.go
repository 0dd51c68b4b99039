package workflows

import (
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// facts is what the dashboard and the worklists read of the order now; each
// record carries them to the store, which keeps the newest.
func (o *orderState) facts(now time.Time) *order.Facts {
	f := &order.Facts{}
	if o.d.Failure != nil {
		f.AttentionStep = o.d.Failure.Step
	}
	if q := o.d.Quote; q != nil {
		days := q.LeadTimeDays
		f.LeadTimeDays = &days
	}
	for _, s := range o.d.Shipments {
		if s.ShipmentID == "" {
			continue
		}
		sf := order.ShipmentFact{
			ShipmentID: s.ShipmentID, Warehouse: s.Warehouse, Carrier: s.Carrier, PromisedDate: s.PromisedDate,
			Overdue: s.Overdue && !s.Delivered, Exception: s.Exception, Replaced: s.Replaced,
		}
		if s.Delivered {
			sf.DeliveredAt = s.DeliveredAt
		}
		for _, l := range s.Lines {
			sf.SKUs = append(sf.SKUs, l.SKU)
		}
		f.Shipments = append(f.Shipments, sf)
	}
	for _, inv := range o.invoices() {
		open := o.balanceOf(inv)
		fi := order.InvoiceFact{Number: inv.Number, Open: open, Disputed: o.d.Dispute != nil}
		if st := o.dunStateOf(inv.Number); st != nil {
			fi.DunningLevel, fi.Escalated = st.Reminded, st.Escalated
		}
		if open.Minor <= 0 {
			fi.SettledAt = now
		}
		f.Invoices = append(f.Invoices, fi)
	}
	return f
}

// dunStateOf is the dunning of one invoice: the order's one invoice keeps
// it in o.dun, invoices per shipment each in o.dunning; nil before any.
func (o *orderState) dunStateOf(number string) *DunState {
	if !o.perShipment() {
		return &o.dun
	}
	for i := range o.dunning {
		if o.dunning[i].Invoice == number {
			return &o.dunning[i]
		}
	}
	return nil
}
