package workflows

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

func (o *orderState) reserve(ctx workflow.Context) error {
	key := activities.SalesOrderKey(o.in.OrderID)
	var res activities.ReserveResult
	err := o.attemptUndoable(ctx, "reserve stock", undo{Kind: undoCancelSalesOrder, Key: key,
		Label: "cancel the ERP sales order (if the ERP made one) and release its reservation"}, func(ctx workflow.Context) error {
		actx := o.outsideCtx(ctx)
		return workflow.ExecuteActivity(o.outside(actx, "Create ERP sales order and reserve stock"), a.Reserve,
			activities.ReserveInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Currency: o.d.Quote.Total.Currency,
				Lines: o.lines}).Get(actx, &res)
	})
	if err != nil {
		return err
	}
	o.d.SalesOrderID = res.SalesOrderID
	o.d.Shipments = res.Shipments
	o.madeUndo(undo{Kind: undoCancelSalesOrder, Key: key, Ref: res.SalesOrderID, Label: "cancel ERP sales order " + res.SalesOrderID + " and release its reservation"})
	o.d.Waiting = fmt.Sprintf("Sales order %s created; stock reserved in %d warehouse(s).", res.SalesOrderID, len(res.Shipments))
	o.transition(ctx, order.StatusConfirmed, order.System, "order.confirmed", "sales order "+res.SalesOrderID)
	o.notify(ctx, "confirmed", mail.KindOrderConfirmed, activities.AudienceBuyer, mail.Data{Quote: o.d.Quote, Shipments: o.d.Shipments})
	if o.gate(ctx, changeRepKnows) {
		o.notify(ctx, "rep-confirmed", mail.KindRepConfirmed, activities.AudienceRep, mail.Data{Quote: o.d.Quote, Shipments: o.d.Shipments})
	}
	return nil
}

func (o *orderState) ship(ctx workflow.Context) error {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.ShipmentID != "" {
			continue
		}
		key := activities.ShipmentKey(o.in.OrderID, s.Warehouse)
		var res activities.BookShipmentResult
		err := o.attemptUndoable(ctx, "book shipment from "+s.Warehouse, undo{Kind: undoCancelShipment, Key: key,
			Label: "cancel the shipment from " + s.Warehouse + " (if the carrier booked it)"}, func(ctx workflow.Context) error {
			actx := o.outsideCtx(ctx)
			return workflow.ExecuteActivity(o.outside(actx, "Book carrier from "+s.Warehouse), a.BookShipment,
				activities.BookShipmentInput{OrderID: o.in.OrderID, Warehouse: s.Warehouse, Lines: s.Lines}).Get(actx, &res)
		})
		if err != nil {
			return err
		}
		// The carrier's promise counts from the booking; a scaled order
		// keeps it on its own clock (businessDate).
		s.ShipmentID, s.TrackingNumber, s.PromisedDate, s.Carrier = res.ShipmentID, res.TrackingNumber, o.businessDate(workflow.Now(ctx), res.PromisedDate), res.Carrier
		o.madeUndo(undo{Kind: undoCancelShipment, Key: key, Ref: res.ShipmentID, Label: "cancel shipment " + res.ShipmentID + " from " + s.Warehouse})
		o.record(ctx, order.System, "shipment.booked", fmt.Sprintf("%s from %s, tracking %s, promised %s",
			res.ShipmentID, s.Warehouse, res.TrackingNumber, s.PromisedDate.Format("2006-01-02")))
		o.notify(ctx, "shipment-"+s.Warehouse, mail.KindShipmentBooked, activities.AudienceBuyer, mail.Data{Shipment: s})
	}
	// Webhooks that beat their booking's result apply now.
	for _, ev := range o.earlyDelivered {
		o.markDelivered(ctx, ev.ShipmentID, ev.DeliveredAt, "webhook "+ev.EventID)
	}
	o.earlyDelivered = nil
	o.d.Waiting = o.deliveryWaiting()
	o.transition(ctx, order.StatusShipping, order.System, "order.shipping", fmt.Sprintf("%d shipment(s) booked", len(o.d.Shipments)))
	return nil
}

func (o *orderState) deliveryWaiting() string {
	open, latest := 0, ""
	for _, s := range o.d.Shipments {
		if !s.Delivered && !s.Replaced {
			open++
			if d := s.PromisedDate.Format("2006-01-02"); d > latest {
				latest = d
			}
		}
	}
	if open == 0 {
		return fmt.Sprintf("All %d shipment(s) delivered.", len(o.d.Shipments))
	}
	w := fmt.Sprintf("Waiting for proof of delivery of %d of %d shipment(s), promised by %s.", open, len(o.d.Shipments), latest)
	for _, s := range o.d.Shipments {
		if !s.Delivered && !s.Replaced && s.Exception != "" {
			w += fmt.Sprintf(" Carrier reports a problem with %s: %s (CS has been alerted).", s.ShipmentID, s.Exception)
		}
	}
	if o.d.DeliveryOverdue {
		w += " DELIVERY OVERDUE: CS has been alerted."
	}
	if o.perShipment() && len(o.invoices()) > 0 {
		w += " Invoiced per shipment so far: " + o.describeInvoices() + "."
		if d := o.d.Dispute; d != nil {
			w += fmt.Sprintf(" Disputed by %s since %s: %s. No reminders until the dispute is resolved.", d.By.Subject, d.Since.Format("2006-01-02"), d.Reason)
		}
	}
	return w
}

// shipmentException applies the carrier's report of a problem with a
// shipment: the shipment shows it, the audit log records it, CS is alerted.
// The order keeps waiting for delivery (or polling finds it). Repeats of an
// event change nothing.
func (o *orderState) shipmentException(ctx workflow.Context, e ShipmentExceptionSignal) {
	if o.seenExceptions[e.EventID] {
		return
	}
	o.seenExceptions[e.EventID] = true
	if o.gate(ctx, changeOrderedShipmentEvents) {
		if newer, ok := o.newerShipmentEvent(e.ShipmentID, e.OccurredAt); ok {
			o.record(ctx, order.System, "shipment.event-outdated", fmt.Sprintf("%s: exception %q of %s (event %s) is older than the shipment's %s; nothing changed",
				e.ShipmentID, e.Detail, e.OccurredAt.Format(time.RFC3339), e.EventID, newer))
			return
		}
		o.lastEventAt[e.ShipmentID] = e.OccurredAt
	}
	sh := order.Shipment{ShipmentID: e.ShipmentID}
	for i := range o.d.Shipments {
		if o.d.Shipments[i].ShipmentID == e.ShipmentID {
			o.d.Shipments[i].Exception = e.Detail
			sh = o.d.Shipments[i]
		}
	}
	if o.d.Status == order.StatusShipping {
		o.d.Waiting = o.deliveryWaiting()
	}
	o.record(ctx, order.System, "shipment.exception", fmt.Sprintf("%s: %s (event %s)", e.ShipmentID, e.Detail, e.EventID))
	o.notify(ctx, "shipment-exception-"+e.EventID, mail.KindCSAlert, activities.AudienceCS, mail.Data{Shipment: &sh,
		Error:  fmt.Sprintf("the carrier reports a problem with shipment %s: %s", e.ShipmentID, e.Detail),
		Reason: "contact the carrier and the customer; the order keeps waiting for proof of delivery"})
}

// newerShipmentEvent reports whether the shipment has news newer than at
// (its proof of delivery, or a later carrier event), and names it. Carrier
// events are ordered per shipment by when they happened, not by when they
// arrived: an older one changes nothing.
func (o *orderState) newerShipmentEvent(shipmentID string, at time.Time) (string, bool) {
	if at.IsZero() {
		return "", false
	}
	for _, s := range o.d.Shipments {
		if s.ShipmentID == shipmentID && s.Delivered && at.Before(s.DeliveredAt) {
			return "delivery at " + s.DeliveredAt.Format(time.RFC3339), true
		}
	}
	if last, ok := o.lastEventAt[shipmentID]; ok && at.Before(last) {
		return "event of " + last.Format(time.RFC3339), true
	}
	return "", false
}

// allDelivered reports whether every shipment is delivered or was
// replaced by a reship (which then must be delivered).
func (o *orderState) allDelivered() bool {
	for _, s := range o.d.Shipments {
		if !s.Delivered && !s.Replaced {
			return false
		}
	}
	return true
}

// awaitDelivery waits for the carrier's webhooks, looks at the carrier itself
// every CarrierPollEvery in case they went missing, and flags the order when a
// shipment is late.
//
// When the history grows long it continues the order as new
// (changeContinueAsNew); the next run waits on.
func (o *orderState) awaitDelivery(ctx workflow.Context) error {
	// Per shipment, a delivered shipment wakes the order to invoice it,
	// and its invoices are dunned while the rest is on its way.
	wake := func() bool { return o.allDelivered() || o.cancel != nil || o.billable() }
	for !o.allDelivered() {
		if o.billable() {
			if err := o.invoiceShipments(ctx); err != nil {
				return err
			}
			continue
		}
		next := workflow.Now(ctx).Add(o.pollEvery(workflow.Now(ctx)))
		timeout := next
		dunAt, dun := o.nextDunning()
		dun = dun && o.perShipment() && o.d.Dispute == nil
		if dun && dunAt.Before(timeout) {
			timeout = dunAt
		}
		wait := timeout.Sub(workflow.Now(ctx))
		if dun {
			wait = max(wait, time.Second) // a reminder already due goes out now
		}
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: "poll carrier"}},
			func() bool { return wake() || o.historyFull(ctx) })
		if err != nil {
			return err
		}
		if o.cancel != nil {
			return errCancelled
		}
		if ok && !wake() {
			// Continue as new at a quiet moment before the next poll is
			// due; if none comes, poll and try again after.
			if err := o.continueAsNew(ctx, stageDelivery, wake, timeout); err != nil {
				return err
			}
			if workflow.Now(ctx).Before(timeout) {
				continue
			}
		} else if ok {
			continue
		}
		if dun && !workflow.Now(ctx).Before(dunAt) {
			if o.d.Dispute == nil { // not disputed meanwhile
				o.dunDue(ctx)
			}
			if workflow.Now(ctx).Before(next) {
				continue
			}
		}
		o.pollCarrier(ctx)
		o.checkOverdue(ctx)
	}
	if o.d.DeliveryOverdue {
		o.showOverdue(ctx, false)
	}
	o.record(ctx, order.System, "order.delivered", "every shipment delivered")
	return nil
}

// showOverdue sets the DeliveryOverdue search attribute
// (changeDeliveryOverdueAttribute): true while a shipment is late, false
// once everything is delivered.
func (o *orderState) showOverdue(ctx workflow.Context, late bool) {
	if !o.gate(ctx, changeDeliveryOverdueAttribute) {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, KeyDeliveryOverdue.ValueSet(late)); err != nil {
		o.logger.Error("upsert DeliveryOverdue", "Error", err)
	}
}

func (o *orderState) pollCarrier(ctx workflow.Context) {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.Delivered || s.Replaced {
			continue
		}
		var res activities.TrackShipmentResult
		// Best effort: the next poll tries again, so no CS alert for this one.
		err := workflow.ExecuteActivity(polling(ctx, "Track shipment "+s.ShipmentID), a.TrackShipment,
			activities.TrackShipmentInput{ShipmentID: s.ShipmentID}).Get(ctx, &res)
		if err != nil {
			o.logger.Warn("carrier poll failed", "ShipmentID", s.ShipmentID, "Error", err)
			continue
		}
		if res.Status == "delivered" {
			o.markDelivered(ctx, s.ShipmentID, res.DeliveredAt, "carrier poll")
		}
	}
}

func (o *orderState) checkOverdue(ctx workflow.Context) {
	if o.d.DeliveryOverdue {
		return
	}
	now := workflow.Now(ctx)
	for _, s := range o.d.Shipments {
		if !s.Delivered && !s.Replaced && now.After(s.PromisedDate.Add(o.business(DeliveryGrace))) {
			o.d.DeliveryOverdue = true
			o.overdueSince = now
			o.showOverdue(ctx, true)
			for i := range o.d.Shipments {
				if !o.d.Shipments[i].Delivered {
					o.d.Shipments[i].Overdue = true
				}
			}
			o.d.Waiting = o.deliveryWaiting()
			o.record(ctx, order.System, "delivery.overdue", fmt.Sprintf("shipment %s promised %s", s.ShipmentID, s.PromisedDate.Format("2006-01-02")))
			o.notify(ctx, "delivery-overdue", mail.KindCSAlert, activities.AudienceCS, mail.Data{Shipment: &s, Step: "delivery",
				Error: fmt.Sprintf("DELIVERY_OVERDUE: shipment %s was promised for %s", s.ShipmentID, s.PromisedDate.Format("2006-01-02"))})
			return
		}
	}
}

// markDelivered applies one proof of delivery; repeats change nothing.
func (o *orderState) markDelivered(ctx workflow.Context, shipmentID string, at time.Time, via string) {
	for i := range o.d.Shipments {
		s := &o.d.Shipments[i]
		if s.ShipmentID != shipmentID || s.Delivered {
			continue
		}
		s.Delivered, s.DeliveredAt = true, at
		if at.IsZero() {
			s.DeliveredAt = workflow.Now(ctx)
		}
		if o.d.Status == order.StatusPaid {
			o.afterSalesChanged() // a reship, delivered after the money
		} else if o.d.Invoice == nil || o.d.Status == order.StatusShipping {
			o.d.Waiting = o.deliveryWaiting()
		}
		// The survey first: it is open (in the order's state) before
		// anything can wait, so its answer always finds it.
		o.surveyDelivered(ctx, *s)
		o.record(ctx, order.System, "shipment.delivered", fmt.Sprintf("%s delivered %s (via %s)", shipmentID, s.DeliveredAt.Format(time.RFC3339), via))
	}
}

// pollEvery is how long the order waits for a webhook before it looks at the
// carrier again. Orders started before changeBoundedCadence look every
// CarrierPollEvery for as long as a shipment is open, which grows a lost
// shipment's history by some 1,500 activities a year. Since: every
// CarrierPollEvery until the order flags the delivery overdue, daily for
// PollDailyFor after that, then weekly, each spread by up to a tenth by
// the order id so thousands of orders do not poll in step.
func (o *orderState) pollEvery(now time.Time) time.Duration {
	if !o.boundedCadence {
		return o.business(CarrierPollEvery)
	}
	every := CarrierPollEvery
	switch late := now.Sub(o.overdueSince); {
	case o.overdueSince.IsZero():
	case late < o.business(PollDailyFor):
		every = 24 * time.Hour
	default:
		every = 7 * 24 * time.Hour
	}
	every = o.business(every)
	return every + spread(o.in.OrderID, every/10)
}

// spread is a duration in [0, span) fixed by the order id: deterministic,
// and different from order to order.
func spread(orderID string, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	return time.Duration(uint64(h.Sum32()) % uint64(span))
}
