package workflows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// The after-sales actions: a reship replaces lost or damaged goods, a
// return takes goods back and credits them. Both are CS updates that make
// their outside changes before they answer; a return then waits, beside
// the order's main path, for the carrier's "returned" event, and the order
// completes only once every reship is delivered and every return settled.

// shipmentIndex is the position of shipment id in the order's shipments,
// -1 if it has none.
func (o *orderState) shipmentIndex(id string) int {
	return slices.IndexFunc(o.d.Shipments, func(s order.Shipment) bool { return s.ShipmentID == id })
}

// canReship: CS replaces a booked shipment that is lost (the carrier
// reported a problem, or it is overdue) or was delivered damaged, once.
func (o *orderState) canReship(in ReshipInput) error {
	if err := o.may(in.Actor, order.RoleCS); err != nil {
		return err
	}
	if in.Reason == "" {
		return invalidArgument("reason: required (lost, damaged, and what the carrier or the customer said)")
	}
	if err := o.inStatus(order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid); err != nil {
		return err
	}
	i := o.shipmentIndex(in.ShipmentID)
	if in.ShipmentID == "" || i < 0 {
		return invalidArgument("shipment_id: not a shipment of this order")
	}
	s := o.d.Shipments[i]
	switch {
	case s.Replaced:
		return invalidState("shipment %s was reshipped already: %s", s.ShipmentID, s.Resolution)
	case o.reshipping[s.ShipmentID]:
		return invalidState("shipment %s is being reshipped by another request", s.ShipmentID)
	case !s.Delivered && s.Exception == "" && !s.Overdue:
		return invalidState("shipment %s is on its way with no problem reported; reship once the carrier reports it lost or it is overdue", s.ShipmentID)
	}
	return nil
}

// reship replaces a shipment's goods (the update's handler; ctx is
// detached): a replacement order in the ERP, which reserves the stock and
// bills nothing, and a booking of its own per warehouse it ships from.
// The old shipment's exception is closed as reshipped.
func (o *orderState) reship(ctx workflow.Context, in ReshipInput) (DecisionResult, error) {
	o.afterSalesInFlight++
	defer func() { o.afterSalesInFlight-- }()
	o.reshipping[in.ShipmentID] = true
	defer delete(o.reshipping, in.ShipmentID)
	o.reships++
	n := o.reships
	i := o.shipmentIndex(in.ShipmentID)
	old := o.d.Shipments[i]
	key := activities.ReplacementOrderKey(o.in.OrderID, n)
	o.pushUndo(undo{Kind: undoCancelReplacement, Key: key, Label: "cancel the ERP replacement order for " + old.ShipmentID + " (if the ERP made one)"})
	var so activities.CreateReplacementOrderResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Create ERP replacement order for "+old.ShipmentID), a.CreateReplacementOrder,
		activities.CreateReplacementOrderInput{Key: key, OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
			Replaces: o.d.SalesOrderID, Lines: old.Lines, Reason: in.Reason}).Get(ctx, &so)
	if err != nil {
		o.dropUndo(key)
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "reship.failed", fmt.Sprintf("%s: the ERP made no replacement order: %s", old.ShipmentID, line))
		return DecisionResult{}, invalidState("the ERP did not create the replacement order: %s", line)
	}
	o.madeUndo(undo{Kind: undoCancelReplacement, Key: key, Ref: so.SalesOrderID, Label: "cancel ERP replacement order " + so.SalesOrderID})
	var booked []order.Shipment
	for _, planned := range so.Shipments {
		bkey := activities.ReshipKey(o.in.OrderID, planned.Warehouse, n)
		o.pushUndo(undo{Kind: undoCancelShipment, Key: bkey, Label: "cancel the reship from " + planned.Warehouse + " (if the carrier booked it)"})
		var res activities.BookShipmentResult
		err := workflow.ExecuteActivity(o.outside(ctx, "Book reship from "+planned.Warehouse), a.BookShipment,
			activities.BookShipmentInput{OrderID: o.in.OrderID, Warehouse: planned.Warehouse, Lines: planned.Lines, Key: bkey}).Get(ctx, &res)
		if err != nil {
			// What was booked stays with the order: its undos are registered.
			o.dropUndo(bkey)
			line := describeFailure(err, 0)
			o.record(ctx, in.Actor, "reship.failed", fmt.Sprintf("%s: replacement order %s made, the carrier booked no reship from %s: %s",
				old.ShipmentID, so.SalesOrderID, planned.Warehouse, line))
			o.notify(ctx, fmt.Sprintf("reship-failed-%d", n), mail.KindCSAlert, activities.AudienceCS, mail.Data{Shipment: &old,
				Step: "reship", Error: fmt.Sprintf("the carrier did not book the reship of %s from %s: %s", old.ShipmentID, planned.Warehouse, line),
				Reason: fmt.Sprintf("replacement order %s is in the ERP; book the goods by hand or cancel it", so.SalesOrderID)})
			return DecisionResult{}, invalidState("replacement order %s was made, but the carrier did not book the reship from %s: %s; CS has been alerted",
				so.SalesOrderID, planned.Warehouse, line)
		}
		o.madeUndo(undo{Kind: undoCancelShipment, Key: bkey, Ref: res.ShipmentID, Label: "cancel reship " + res.ShipmentID + " from " + planned.Warehouse})
		s := order.Shipment{Warehouse: planned.Warehouse, Lines: planned.Lines, ShipmentID: res.ShipmentID,
			TrackingNumber: res.TrackingNumber, PromisedDate: o.businessDate(workflow.Now(ctx), res.PromisedDate), Carrier: res.Carrier, Replaces: old.ShipmentID}
		booked = append(booked, s)
	}
	var ids []string
	for _, s := range booked {
		ids = append(ids, s.ShipmentID)
	}
	sh := &o.d.Shipments[i]
	sh.Replaced = true
	sh.Resolution = fmt.Sprintf("reshipped as %s (replacement order %s): %s", strings.Join(ids, ", "), so.SalesOrderID, in.Reason)
	o.d.Shipments = append(o.d.Shipments, booked...)
	if o.d.Status == order.StatusShipping {
		o.d.Waiting = o.deliveryWaiting()
	}
	o.afterSalesChanged()
	o.record(ctx, in.Actor, "shipment.reshipped", fmt.Sprintf("%s %s", old.ShipmentID, sh.Resolution))
	// Per shipment, goods lost before they were billed are billed when
	// their reship is delivered; otherwise the reship is free.
	billedOnDelivery := o.perShipment() && !o.chainBilled(old)
	charge, invoice := "at no charge", "no new invoice"
	if billedOnDelivery {
		charge = "invoiced when it is delivered, as " + old.ShipmentID + " was never invoiced"
		invoice = "invoiced on delivery, as " + old.ShipmentID + " was never invoiced"
	}
	for _, s := range booked {
		o.notify(ctx, fmt.Sprintf("reship-%d-%s", n, s.Warehouse), mail.KindShipmentBooked, activities.AudienceBuyer, mail.Data{Shipment: &s,
			Reason: fmt.Sprintf("This shipment replaces %s (%s), %s.", old.ShipmentID, in.Reason, charge)})
	}
	msg := fmt.Sprintf("Shipment %s reshipped as %s (replacement order %s, %s)", old.ShipmentID, strings.Join(ids, ", "), so.SalesOrderID, invoice)
	if len(booked) > 0 {
		msg += fmt.Sprintf(", promised %s", booked[0].PromisedDate.Format("2006-01-02"))
	}
	return DecisionResult{Status: o.d.Status, Message: msg + ". " + o.d.Waiting}, nil
}

// returning is what open returns are taking back, so a second return
// cannot take the same goods.
func (o *orderState) returning() []order.Line {
	var out []order.Line
	for _, st := range o.returnsStarting {
		out = append(out, st.lines...)
	}
	for _, r := range o.d.Returns {
		if r.Status != ReturnExpired {
			out = append(out, r.Lines...)
		}
	}
	return out
}

// canReturn: CS takes back delivered goods the customer still holds, with
// a reason, while the order has an invoice to credit.
func (o *orderState) canReturn(in ReturnInput) error {
	if err := o.may(in.Actor, order.RoleCS); err != nil {
		return err
	}
	if in.Reason == "" {
		return invalidArgument("reason: required")
	}
	if err := o.inStatus(order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid); err != nil {
		return err
	}
	if fe := order.ValidateLines(in.Lines); fe != nil {
		return invalidArgument("%s", fe.Error())
	}
	held := order.Returnable(o.d.Shipments, o.returning())
	for i, l := range in.Lines {
		j := slices.IndexFunc(held, func(h order.Line) bool { return h.SKU == l.SKU })
		if j < 0 || held[j].Quantity < l.Quantity {
			have := int64(0)
			if j >= 0 {
				have = held[j].Quantity
			}
			return invalidArgument("lines[%d].quantity: the customer holds %d of %s delivered and not returned", i, have, l.SKU)
		}
	}
	return nil
}

// warehouseOf is where a returned SKU goes back to: the warehouse that
// delivered it.
func (o *orderState) warehouseOf(sku string) string {
	for _, s := range o.d.Shipments {
		if s.Delivered && slices.ContainsFunc(s.Lines, func(l order.Line) bool { return l.SKU == sku }) {
			return s.Warehouse
		}
	}
	return o.d.Shipments[0].Warehouse
}

// startReturn authorises a return (the update's handler; ctx is
// detached): the RMA in the ERP, the pickup with the carrier to the
// warehouse that shipped the first line. It answers with both, and leaves
// a watcher waiting for the goods.
func (o *orderState) startReturn(ctx workflow.Context, in ReturnInput) (DecisionResult, error) {
	o.afterSalesInFlight++
	// Until the return is made, its lines count as returning, so a second
	// request for the same goods is refused.
	o.returns++
	o.returnsStarting = append(o.returnsStarting, startingReturn{n: o.returns, lines: in.Lines})
	defer func(n int) {
		o.afterSalesInFlight--
		o.returnsStarting = slices.DeleteFunc(o.returnsStarting, func(st startingReturn) bool { return st.n == n })
	}(o.returns)
	n := o.returns
	var rma activities.CreateRMAResult
	err := workflow.ExecuteActivity(o.outside(ctx, "Authorise the return in the ERP"), a.CreateRMA, activities.CreateRMAInput{
		Key: activities.RMAKey(o.in.OrderID, n), OrderID: o.in.OrderID, CustomerID: o.in.CustomerID,
		SalesOrderID: o.d.SalesOrderID, Lines: in.Lines, Reason: in.Reason}).Get(ctx, &rma)
	if err != nil {
		line := describeFailure(err, 0)
		o.record(ctx, in.Actor, "return.failed", "the ERP authorised no return: "+line)
		return DecisionResult{}, invalidState("the ERP did not authorise the return: %s", line)
	}
	wh := o.warehouseOf(in.Lines[0].SKU)
	var pickup activities.BookReturnPickupResult
	err = workflow.ExecuteActivity(o.outside(ctx, "Book the return pickup"), a.BookReturnPickup, activities.BookReturnPickupInput{
		Key: activities.ReturnPickupKey(o.in.OrderID, rma.RMAID), OrderID: o.in.OrderID, RMAID: rma.RMAID,
		Warehouse: wh, Lines: in.Lines}).Get(ctx, &pickup)
	if err != nil {
		line := describeFailure(err, 0)
		cerr := workflow.ExecuteActivity(o.outside(ctx, "Cancel return authorisation "+rma.RMAID), a.CancelRMA,
			activities.CancelRMAInput{OrderID: o.in.OrderID, RMAID: rma.RMAID}).Get(ctx, nil)
		undone := "cancelled"
		if cerr != nil {
			undone = "NOT cancelled (" + describeFailure(cerr, 0) + ")"
		}
		o.record(ctx, in.Actor, "return.failed", fmt.Sprintf("the carrier booked no pickup: %s; RMA %s %s", line, rma.RMAID, undone))
		return DecisionResult{}, invalidState("the carrier did not book the return pickup: %s; RMA %s %s", line, rma.RMAID, undone)
	}
	pickup.PickupDate = o.businessDate(workflow.Now(ctx), pickup.PickupDate) // on a scaled order's clock
	r := Return{RMAID: rma.RMAID, ReturnID: pickup.ReturnID, TrackingNumber: pickup.TrackingNumber, Warehouse: wh,
		PickupDate: pickup.PickupDate, Lines: in.Lines, Status: ReturnAwaitingGoods, By: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)}
	o.d.Returns = append(o.d.Returns, r)
	o.afterSalesChanged()
	o.record(ctx, in.Actor, "return.authorised", fmt.Sprintf("RMA %s for %s, pickup %s (tracking %s) on %s to %s: %s",
		rma.RMAID, describeLines(in.Lines), pickup.ReturnID, pickup.TrackingNumber, pickup.PickupDate.Format("2006-01-02"), wh, in.Reason))
	o.notify(ctx, "return-"+rma.RMAID, mail.KindReturnAuthorised, activities.AudienceBuyer, mail.Data{RMA: rma.RMAID, Reason: in.Reason,
		Shipment: &order.Shipment{Warehouse: wh, Lines: in.Lines, ShipmentID: pickup.ReturnID, TrackingNumber: pickup.TrackingNumber, PromisedDate: pickup.PickupDate}})
	workflow.Go(ctx, func(ctx workflow.Context) { o.watchReturn(ctx, len(o.d.Returns)-1) })
	return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf(
		"Return %s authorised for %s; the carrier collects on %s (tracking %s). The credit note follows when the goods are back in %s. %s",
		rma.RMAID, describeLines(in.Lines), pickup.PickupDate.Format("2006-01-02"), pickup.TrackingNumber, wh, o.d.Waiting)}, nil
}

// startingReturn is a return whose handler is making it: the n-th, and
// its lines.
type startingReturn struct {
	n     int
	lines []order.Line
}

func describeLines(lines []order.Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%d × %s", l.Quantity, l.SKU)
	}
	return strings.Join(parts, ", ")
}

// openReturns counts returns still under way.
func (o *orderState) openReturns() int {
	n := 0
	for _, r := range o.d.Returns {
		if r.Status == ReturnAwaitingGoods || r.Status == ReturnReceived {
			n++
		}
	}
	return n
}

// watchReturn waits for return i's goods and credits them: the ERP books
// the goods in, a credit note by lines credits them on the invoice, and
// what the credit note put on the customer's credit balance (the invoice
// was paid) goes back to the payer. Goods that do not come back within
// ReturnWindow cancel the pickup and the RMA, and CS is told.
func (o *orderState) watchReturn(ctx workflow.Context, i int) {
	id := o.d.Returns[i].ReturnID
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.business(ReturnWindow),
		TimerOptions: workflow.TimerOptions{Summary: "return " + o.d.Returns[i].RMAID}},
		func() bool { _, back := o.goodsBack[id]; return back })
	if err != nil {
		return
	}
	if !ok {
		o.expireReturn(ctx, i)
		return
	}
	ev := o.goodsBack[id]
	r := &o.d.Returns[i]
	r.Status, r.ReceivedAt = ReturnReceived, ev.OccurredAt
	o.record(ctx, order.System, "return.received", fmt.Sprintf("RMA %s: the goods are back in %s (event %s)", r.RMAID, r.Warehouse, ev.EventID))
	if err := workflow.ExecuteActivity(o.outside(ctx, "Receive the goods of "+r.RMAID), a.ReceiveRMA,
		activities.ReceiveRMAInput{OrderID: o.in.OrderID, RMAID: r.RMAID}).Get(ctx, nil); err != nil {
		o.returnNeedsCS(ctx, i, "the ERP did not book the returned goods in: "+describeFailure(err, 0))
		return
	}
	// One credit note per invoice that billed the goods (an order invoiced
	// per shipment may have billed them on several).
	var numbers []string
	var amount, toBalance money.Money
	for _, g := range o.creditGroups(r.Lines) {
		cn, err := o.issueCreditNote(ctx, CreditNoteInput{Actor: order.System, Lines: g.lines, InvoiceNumber: g.invoice,
			Reason: fmt.Sprintf("return %s: %s", r.RMAID, r.Reason)}, true)
		if err != nil {
			o.returnNeedsCS(ctx, i, err.Error())
			return
		}
		numbers = append(numbers, cn.Number)
		amount = addMoney(amount, cn.Amount)
		toBalance = addMoney(toBalance, cn.ToCreditBalance)
	}
	r = &o.d.Returns[i]
	r.CreditNote = strings.Join(numbers, ", ")
	if toBalance.Minor > 0 {
		refunded, problem := o.refundCredit(ctx, toBalance, fmt.Sprintf("return %s, credit note %s", r.RMAID, r.CreditNote))
		r = &o.d.Returns[i]
		if refunded.Minor > 0 {
			r.Refunded = &refunded
		}
		if problem != "" {
			o.returnNeedsCS(ctx, i, problem)
			return
		}
	}
	r.Status = ReturnCredited
	msg := fmt.Sprintf("RMA %s settled: credit note %s of %s", r.RMAID, r.CreditNote, amount)
	if r.Refunded != nil {
		msg += fmt.Sprintf(", %s refunded to the payer", *r.Refunded)
	}
	o.afterSalesChanged()
	o.record(ctx, order.System, "return.credited", msg)
}

// refundCredit pays back amount, which a credit note put on the
// customer's credit balance, to the payers of the order's payments, the
// latest first. It says what it paid and, if not all of it, why.
func (o *orderState) refundCredit(ctx workflow.Context, amount money.Money, reason string) (money.Money, string) {
	paid := money.Zero(amount.Currency)
	left := amount
	for j := len(o.d.Payments) - 1; j >= 0 && left.Minor > 0; j-- {
		txn := o.d.Payments[j].BankTransactionID
		can := o.refundable(txn)
		if can.Currency != amount.Currency || can.Minor <= 0 {
			continue
		}
		part := money.New(min(can.Minor, left.Minor), amount.Currency)
		if _, err := o.refund(ctx, RefundInput{Actor: order.System, Amount: part, BankTransactionID: txn, Reason: reason}); err != nil {
			return paid, fmt.Sprintf("%s of the credit balance was not refunded: %v", left, err)
		}
		paid, _ = paid.Add(part)
		left, _ = left.Sub(part)
	}
	if left.Minor > 0 {
		return paid, fmt.Sprintf("%s of the credit balance has no payment of this order to go back to", left)
	}
	return paid, ""
}

// returnNeedsCS stops return i at a problem only a person can solve.
func (o *orderState) returnNeedsCS(ctx workflow.Context, i int, problem string) {
	r := &o.d.Returns[i]
	r.Status, r.Problem = ReturnNeedsCS, problem
	o.afterSalesChanged()
	o.record(ctx, order.System, "return.needs-cs", fmt.Sprintf("RMA %s: %s", r.RMAID, problem))
	o.notify(ctx, "return-problem-"+r.RMAID, mail.KindCSAlert, activities.AudienceCS, mail.Data{Step: "return " + r.RMAID,
		Error: problem, Reason: "settle it with finance (a credit note or a refund through the API); the order does not wait for it"})
}

// expireReturn gives up on return i: the goods never came back.
func (o *orderState) expireReturn(ctx workflow.Context, i int) {
	r := o.d.Returns[i]
	var problems []string
	if err := workflow.ExecuteActivity(o.outside(ctx, "Cancel return pickup "+r.ReturnID), a.CancelReturnPickup,
		activities.CancelReturnPickupInput{OrderID: o.in.OrderID, ReturnID: r.ReturnID}).Get(ctx, nil); err != nil {
		problems = append(problems, "pickup "+r.ReturnID+" not cancelled: "+describeFailure(err, 0))
	}
	if err := workflow.ExecuteActivity(o.outside(ctx, "Cancel return authorisation "+r.RMAID), a.CancelRMA,
		activities.CancelRMAInput{OrderID: o.in.OrderID, RMAID: r.RMAID}).Get(ctx, nil); err != nil {
		problems = append(problems, "RMA not cancelled: "+describeFailure(err, 0))
	}
	o.d.Returns[i].Status = ReturnExpired
	why := fmt.Sprintf("RMA %s: the goods did not come back within %s; pickup and RMA cancelled", r.RMAID, inWords(ReturnWindow))
	if len(problems) > 0 {
		why = fmt.Sprintf("RMA %s: the goods did not come back within %s; %s", r.RMAID, inWords(ReturnWindow), strings.Join(problems, "; "))
	}
	o.d.Returns[i].Problem = why
	o.afterSalesChanged()
	o.record(ctx, order.System, "return.expired", why)
	o.notify(ctx, "return-expired-"+r.RMAID, mail.KindCSAlert, activities.AudienceCS, mail.Data{Step: "return " + r.RMAID,
		Error: why, Reason: "ask the customer; start a new return if the goods are to come back"})
}

// afterSalesDone reports whether every reship is delivered and every
// return settled.
func (o *orderState) afterSalesDone() bool {
	return o.allDelivered() && o.openReturns() == 0 && o.afterSalesInFlight == 0
}

// paidWaiting is what a paid order waits for: the survey, reships, returns.
func (o *orderState) paidWaiting() string {
	var parts []string
	if !o.surveysOver() {
		what := "the NPS survey"
		if o.surveyMode == surveyEach {
			what = "the NPS survey of each delivery"
		}
		parts = append(parts, fmt.Sprintf("%s to be answered or to close (at most %s)", what, inWords(SurveyWindow)))
	}
	if w := o.afterSalesWaiting(); w != "" {
		parts = append(parts, w)
	}
	return "Paid in full. Waiting for " + strings.Join(parts, "; ") + "."
}

// afterSalesChanged refreshes what a paid order waits for.
func (o *orderState) afterSalesChanged() {
	if o.d.Status == order.StatusPaid {
		o.d.Waiting = o.paidWaiting()
	}
}

// awaitAfterSales keeps a paid order open until its reships are delivered
// and its returns settled, looking at the carrier for the reships like
// the delivery wait does. Orders without either pass straight through.
func (o *orderState) awaitAfterSales(ctx workflow.Context) error {
	for !o.afterSalesDone() {
		o.d.Waiting = o.paidWaiting()
		if o.d.Status != order.StatusPaid {
			o.transition(ctx, order.StatusPaid, order.System, "order.paid", "paid in full; after-sales still open")
		} else {
			o.showDetails(ctx)
		}
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.pollEvery(workflow.Now(ctx)),
			TimerOptions: workflow.TimerOptions{Summary: "after-sales"}}, o.afterSalesDone)
		if err != nil {
			return err
		}
		if !ok && !o.allDelivered() {
			o.pollCarrier(ctx)
		}
	}
	return nil
}

func (o *orderState) afterSalesWaiting() string {
	var parts []string
	for _, s := range o.d.Shipments {
		if !s.Delivered && !s.Replaced {
			parts = append(parts, fmt.Sprintf("reship %s to be delivered (promised %s)", s.ShipmentID, s.PromisedDate.Format("2006-01-02")))
		}
	}
	for _, r := range o.d.Returns {
		if r.Status == ReturnAwaitingGoods || r.Status == ReturnReceived {
			parts = append(parts, fmt.Sprintf("the goods of return %s to come back (pickup %s)", r.RMAID, r.PickupDate.Format("2006-01-02")))
		}
	}
	return strings.Join(parts, "; ")
}

// goodsReturned applies the carrier's "returned" event; repeats change
// nothing, and an event for a pickup the order does not know is recorded.
func (o *orderState) goodsReturned(ctx workflow.Context, ev GoodsReturnedSignal) {
	if _, seen := o.goodsBack[ev.ReturnID]; seen {
		return
	}
	if !slices.ContainsFunc(o.d.Returns, func(r Return) bool { return r.ReturnID == ev.ReturnID && r.Status == ReturnAwaitingGoods }) {
		o.record(ctx, order.System, "return.event-ignored", fmt.Sprintf("returned event %s for %s: no return of this order waits for it", ev.EventID, ev.ReturnID))
		return
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = workflow.Now(ctx)
	}
	o.goodsBack[ev.ReturnID] = ev
}

// addMoney adds b to a; a zero a (no currency yet) takes b's currency.
func addMoney(a, b money.Money) money.Money {
	if a.Currency == "" {
		return b
	}
	if s, err := a.Add(b); err == nil {
		return s
	}
	return a
}
