package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// view is the part of GET /v1/orders/{id} the driver reads. A storefront
// token gets the buyer's representation (no needs_attention); a staff token
// the projection. The driver reads the default answer, the projection's
// (source "projection"), as a polling storefront does.
type view struct {
	ID             string       `json:"id"`
	Source         string       `json:"source"`
	Status         order.Status `json:"status"`
	NeedsAttention bool         `json:"needs_attention"`
	Details        string       `json:"details"`
	InvoiceNumber  string       `json:"invoice_number"`
	Total          money.Money  `json:"total"`
	Shipments      []struct {
		TrackingNumber string `json:"tracking_number"`
	} `json:"shipments"`
	// Invoices (the buyer's view) and Live.Balances (the staff's) say what
	// is open on each invoice: one per shipment for a customer invoiced
	// per shipment.
	Invoices []struct {
		Number string       `json:"number"`
		Open   *money.Money `json:"open"`
	} `json:"invoices"`
	Live *struct {
		Shipments []order.Shipment `json:"shipments"`
		Balances  []struct {
			Number string      `json:"number"`
			Open   money.Money `json:"open"`
		} `json:"balances"`
	} `json:"live"`
}

// due is what the bank pays: each invoice with money open, by its number;
// the order's invoice and total when the view does not say.
func (v view) due() map[string]money.Money {
	out := map[string]money.Money{}
	for _, inv := range v.Invoices {
		if inv.Open != nil && inv.Open.Minor > 0 {
			out[inv.Number] = *inv.Open
		}
	}
	if v.Live != nil {
		for _, b := range v.Live.Balances {
			if b.Open.Minor > 0 {
				out[b.Number] = b.Open
			}
		}
	}
	if len(out) == 0 {
		out[v.InvoiceNumber] = v.Total
	}
	return out
}

// booked reports whether the order's shipments are booked with the carrier.
func (v view) booked() bool {
	switch {
	case v.Live != nil:
		return len(v.Live.Shipments) > 0
	case v.Source == "projection":
		// The workflow records SHIPPING once every shipment is booked.
		return v.Status == order.StatusShipping
	}
	return len(v.Shipments) > 0 && v.Shipments[0].TrackingNumber != ""
}

// one takes order i from quote to cash (to AWAITING_PAYMENT with
// Config.Park), times its stages and returns its id.
func (d *driver) one(ctx context.Context, i int) (string, timings, error) {
	tm := timings{}
	key := fmt.Sprintf("%s-%d", d.cfg.RunID, i)
	customer := d.cfg.Customers[i%len(d.cfg.Customers)]
	start := time.Now()

	// Quote.
	var created struct {
		ID string `json:"id"`
	}
	body := map[string]any{"customer_id": customer, "po_number": "PO-" + key, "lines": d.cfg.Lines}
	name, header := "POST /v1/quotes", map[string]string{"Idempotency-Key": key}
	if d.cfg.RespondAsync {
		name, header["Prefer"] = "POST /v1/quotes (respond-async)", "respond-async"
	}
	if _, err := d.do(ctx, name, http.MethodPost, d.t.API+"/v1/quotes", header, body, &created); err != nil {
		return "", nil, fmt.Errorf("quote: %w", err)
	}
	id := created.ID
	if _, err := d.await(ctx, id, order.StatusAwaitingAcceptance, nil); err != nil {
		return "", nil, err
	}
	tm[StageQuote] = time.Since(start)

	// Accept; credit, reservation and bookings follow.
	t := time.Now()
	if _, err := d.do(ctx, "POST /v1/orders/{id}/accept", http.MethodPost, d.t.API+"/v1/orders/"+id+"/accept",
		nil, map[string]any{"revision": 1}, nil); err != nil {
		return "", nil, fmt.Errorf("%s: accept: %w", id, err)
	}
	if _, err := d.await(ctx, id, order.StatusShipping, view.booked); err != nil {
		return "", nil, err
	}
	tm[StageConfirm] = time.Since(t)

	// The carrier delivers every shipment; its webhooks reach the API.
	t = time.Now()
	var shipments struct {
		Shipments []struct {
			ID string `json:"shipment_id"`
		} `json:"shipments"`
	}
	if _, err := d.do(ctx, "GET carrier /sim/shipments", http.MethodGet,
		d.t.Carrier+"/sim/shipments?reference="+url.QueryEscape(id), nil, nil, &shipments); err != nil {
		return "", nil, fmt.Errorf("%s: list shipments: %w", id, err)
	}
	if len(shipments.Shipments) == 0 {
		return "", nil, fmt.Errorf("%s: the carrier holds no shipment for the order", id)
	}
	for _, s := range shipments.Shipments {
		if _, err := d.do(ctx, "POST carrier /sim/shipments/{id}/deliver", http.MethodPost,
			d.t.Carrier+"/sim/shipments/"+url.PathEscape(s.ID)+"/deliver", nil, nil, nil); err != nil {
			return "", nil, fmt.Errorf("%s: deliver %s: %w", id, s.ID, err)
		}
	}
	invoiced, err := d.await(ctx, id, order.StatusAwaitingPayment, func(v view) bool { return v.InvoiceNumber != "" })
	if err != nil {
		return "", nil, err
	}
	tm[StageInvoice] = time.Since(t)
	if d.cfg.Park {
		tm[StageTotal] = time.Since(start)
		return id, tm, nil
	}

	// The buyer answers the survey and the bank pays the invoice.
	t = time.Now()
	if err := d.answerSurvey(ctx, id); err != nil {
		return "", nil, err
	}
	for number, amount := range invoiced.due() {
		pay := map[string]any{"reference": number, "amount": amount, "payer": "loadgen " + customer}
		if _, err := d.do(ctx, "POST bank /sim/payments", http.MethodPost, d.t.Bank+"/sim/payments", nil, pay, nil); err != nil {
			return "", nil, fmt.Errorf("%s: pay %s: %w", id, number, err)
		}
	}
	if _, err := d.await(ctx, id, order.StatusCompleted, nil); err != nil {
		return "", nil, err
	}
	tm[StageSettle] = time.Since(t)
	tm[StageTotal] = time.Since(start)
	return id, tm, nil
}

// errStuck ends an order's wait early: it cannot reach the status waited for.
var errStuck = errors.New("cannot reach the status waited for")

// await polls the order until it is in status want (and ok, if given, holds).
// An order that ends elsewhere or needs attention fails at once.
func (d *driver) await(ctx context.Context, id string, want order.Status, ok func(view) bool) (view, error) {
	deadline := time.Now().Add(d.cfg.StageTimeout)
	name, target := "GET /v1/orders/{id}", d.t.API+"/v1/orders/"+id
	if d.cfg.LiveReads {
		name, target = name+"?live=true", target+"?live=true"
	}
	var v view
	for {
		if _, err := d.do(ctx, name, http.MethodGet, target, nil, nil, &v); err != nil {
			return v, fmt.Errorf("%s: read order: %w", id, err)
		}
		switch {
		case v.Status == want && (ok == nil || ok(v)):
			return v, nil
		case v.NeedsAttention:
			return v, fmt.Errorf("%s: waiting for %s: %w: it needs attention (%s)", id, want, errStuck, v.Details)
		case v.Status.Terminal():
			return v, fmt.Errorf("%s: waiting for %s: %w: it ended %s (%s)", id, want, errStuck, v.Status, v.Details)
		case time.Now().After(deadline):
			return v, fmt.Errorf("%s: still %s after %s, waiting for %s (%s)", id, v.Status, d.cfg.StageTimeout, want, v.Details)
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(d.cfg.Poll):
		}
	}
}

// answerSurvey finds the survey link in the order's survey mail, as the buyer
// would, and posts the form. The mail goes out beside the invoice, so it may
// land a moment after the order reads AWAITING_PAYMENT.
func (d *driver) answerSurvey(ctx context.Context, id string) error {
	deadline := time.Now().Add(d.cfg.StageTimeout)
	for {
		link, err := d.surveyLink(ctx, id)
		if err != nil {
			return err
		}
		if link != "" {
			form := url.Values{"score": {"9"}, "comment": {"load test"}}
			if _, err := d.do(ctx, "POST /survey/{token}", http.MethodPost, link, nil, form, nil); err != nil {
				return fmt.Errorf("%s: answer survey: %w", id, err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no survey mail with a link after %s", id, d.cfg.StageTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.cfg.Poll):
		}
	}
}

// surveyLink returns the link in the order's survey mail, "" while there is none.
func (d *driver) surveyLink(ctx context.Context, id string) (string, error) {
	var msgs []struct {
		ID int64 `json:"id"`
	}
	if _, err := d.do(ctx, "GET mail /messages", http.MethodGet,
		d.t.Mail+"/messages?kind=survey&order="+url.QueryEscape(id), nil, nil, &msgs); err != nil {
		return "", fmt.Errorf("%s: list survey mails: %w", id, err)
	}
	prefix := d.t.API + "/survey/"
	for _, m := range msgs {
		var msg struct {
			Text string `json:"text"`
		}
		if _, err := d.do(ctx, "GET mail /messages/{id}", http.MethodGet,
			fmt.Sprintf("%s/messages/%d", d.t.Mail, m.ID), map[string]string{"Accept": "application/json"}, nil, &msg); err != nil {
			return "", fmt.Errorf("%s: read survey mail %d: %w", id, m.ID, err)
		}
		if i := strings.Index(msg.Text, prefix); i >= 0 {
			return strings.Fields(msg.Text[i:])[0], nil
		}
	}
	return "", nil
}
