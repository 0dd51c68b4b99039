package player

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/internal/order"
)

// WaitingOn names who an order in a non-terminal status waits for, ""
// when the status waits on no person (the system or a carrier should move
// it on by itself).
func WaitingOn(s order.Status, needsAttention bool) string {
	if needsAttention {
		return "CS (the order needs attention)"
	}
	switch s {
	case order.StatusAwaitingAcceptance:
		return "the buyer (the quote)"
	case order.StatusAwaitingApproval:
		return "the approvers"
	case order.StatusCreditHold:
		return "finance (the credit hold)"
	case order.StatusInvoiced, order.StatusAwaitingPayment:
		return "the payer (dunning; finance once escalated)"
	case order.StatusPaid:
		return "the buyer (the survey, until its window closes)"
	}
	return ""
}

// final reads where each order stands at the end of the run.
func (p *player) final(ctx context.Context) {
	tok, err := p.token(actorCS)
	if err != nil {
		p.fail("final read: %v", err)
		return
	}
	for i := range p.res.Orders {
		r := &p.res.Orders[i]
		if r.OrderID == "" {
			continue
		}
		var v view
		if _, err := p.c.do(ctx, request{method: http.MethodGet, url: p.t.API + "/v1/orders/" + url.PathEscape(r.OrderID) + "?live=true", token: tok}, &v); err != nil {
			p.fail("final read of %s: %v", r.OrderID, err)
			continue
		}
		r.Status, r.Waiting, r.NeedsAttention = v.Status, v.Details, v.NeedsAttention
		if v.Live == nil {
			continue
		}
		r.DeliveryOverdue = v.Live.DeliveryOverdue
		r.Invoices, r.PaymentIDs, r.Shipments = nil, nil, nil
		for _, inv := range v.Live.Invoices {
			r.Invoices = append(r.Invoices, inv.Number)
		}
		for _, pay := range v.Live.Payments {
			r.PaymentIDs = append(r.PaymentIDs, pay.BankTransactionID)
		}
		for _, s := range v.Live.Shipments {
			if s.ShipmentID != "" {
				r.Shipments = append(r.Shipments, s.ShipmentID)
			}
		}
	}
}

// Check verifies a run's invariants against the system it ran on:
//   - every order is terminal or waits on a named person (WaitingOn, or CS
//     for a delivery overdue);
//   - every payment the bank sent is applied to an order or waits in
//     finance's worklist of unmatched payments;
//   - no effect is duplicated in a simulator: the ERP holds no invoice the
//     order does not know and at most one live sales order per order
//     (replacements aside), the carrier no live shipment the order does
//     not know, no payment is applied twice, and no order got two invoice
//     mails for one invoice.
//
// It returns the violations, each a sentence; none means the run holds.
func Check(ctx context.Context, res *Result, t Targets) ([]string, error) {
	c := &client{http: http.DefaultClient}
	var bad []string
	for _, r := range res.Orders {
		switch {
		case r.OrderID == "":
			bad = append(bad, fmt.Sprintf("order %s was never placed: %s", r.Plan.Ref, r.Error))
			continue
		case r.Status.Terminal():
		case r.DeliveryOverdue:
			// CS was alerted and the overdue-deliveries worklist lists it.
		case WaitingOn(r.Status, r.NeedsAttention) == "":
			bad = append(bad, fmt.Sprintf("order %s (%s) is %s and waits on no one: %s", r.OrderID, r.Plan.Ref, r.Status, r.Waiting))
		}
	}

	// Payments: applied, or in finance's worklist.
	tok, err := t.Mint(actorFinance)
	if err != nil {
		return nil, err
	}
	var unmatched struct {
		Payments []struct {
			BankTransactionID string `json:"bank_transaction_id"`
		} `json:"payments"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, url: t.API + "/v1/payments/unmatched", token: tok}, &unmatched); err != nil {
		return nil, fmt.Errorf("read finance's unmatched payments: %w", err)
	}
	applied := map[string]int{}
	for _, r := range res.Orders {
		for _, id := range r.PaymentIDs {
			applied[id]++
		}
	}
	for id, n := range applied {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("payment %s is applied %d times", id, n))
		}
	}
	queued := map[string]bool{}
	for _, u := range unmatched.Payments {
		queued[u.BankTransactionID] = true
	}
	handled := func(id string) bool {
		if applied[id] > 0 || queued[id] {
			return true
		}
		// A payment the matcher split over several invoices is applied
		// as parts named after it.
		for a := range applied {
			if strings.HasPrefix(a, id+":") {
				return true
			}
		}
		return false
	}
	for _, sp := range res.Payments {
		ids := sp.Parts
		if len(ids) == 0 {
			ids = []string{sp.BankTransactionID}
		}
		for _, id := range ids {
			if !handled(id) {
				bad = append(bad, fmt.Sprintf("payment %s (%s, %s for %s) is neither applied nor in finance's worklist",
					id, sp.Behaviour, sp.Amount, strings.Join(sp.Invoices, ", ")))
			}
		}
	}

	// The simulators.
	for _, r := range res.Orders {
		if r.OrderID == "" {
			continue
		}
		v, err := simEffects(ctx, c, t, r)
		if err != nil {
			return nil, err
		}
		bad = append(bad, v...)
	}
	return bad, nil
}

// simEffects compares what the simulators hold for one order with what the
// order knows.
func simEffects(ctx context.Context, c *client, t Targets, r OrderRun) ([]string, error) {
	var bad []string
	q := url.QueryEscape(r.OrderID)
	var inv struct {
		Invoices []struct {
			Number string `json:"number"`
			Status string `json:"status"`
		} `json:"invoices"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, url: t.ERP + "/sim/invoices?order_id=" + q}, &inv); err != nil {
		return nil, fmt.Errorf("read the ERP's invoices of %s: %w", r.OrderID, err)
	}
	for _, i := range inv.Invoices {
		if i.Status != "void" && !slices.Contains(r.Invoices, i.Number) {
			bad = append(bad, fmt.Sprintf("the ERP holds invoice %s of order %s, which the order does not know", i.Number, r.OrderID))
		}
	}
	var sos struct {
		SalesOrders []struct {
			ID       string `json:"sales_order_id"`
			Status   string `json:"status"`
			Replaces string `json:"replaces"`
		} `json:"sales_orders"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, url: t.ERP + "/sim/sales-orders?order_id=" + q}, &sos); err != nil {
		return nil, fmt.Errorf("read the ERP's sales orders of %s: %w", r.OrderID, err)
	}
	live := 0
	for _, so := range sos.SalesOrders {
		if so.Status != "cancelled" && so.Replaces == "" {
			live++
		}
	}
	if live > 1 {
		bad = append(bad, fmt.Sprintf("the ERP holds %d live sales orders for order %s", live, r.OrderID))
	}
	var ships struct {
		Shipments []struct {
			ID     string `json:"shipment_id"`
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"shipments"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, url: t.Carrier + "/sim/shipments?reference=" + q}, &ships); err != nil {
		return nil, fmt.Errorf("read the carrier's shipments of %s: %w", r.OrderID, err)
	}
	for _, s := range ships.Shipments {
		if s.Status != "cancelled" && s.Kind != "return" && !slices.Contains(r.Shipments, s.ID) {
			bad = append(bad, fmt.Sprintf("the carrier holds shipment %s (%s) of order %s, which the order does not know", s.ID, s.Status, r.OrderID))
		}
	}
	var mails []struct {
		Duplicate bool `json:"duplicate"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, url: t.Mail + "/messages?kind=invoice&order=" + q}, &mails); err != nil {
		return nil, fmt.Errorf("read the invoice mails of %s: %w", r.OrderID, err)
	}
	n := 0
	for _, m := range mails {
		if !m.Duplicate {
			n++
		}
	}
	if n > len(r.Invoices) {
		bad = append(bad, fmt.Sprintf("order %s got %d invoice mails for %d invoices", r.OrderID, n, len(r.Invoices)))
	}
	return bad, nil
}
