package player

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/scenario"
	"github.com/orderflow/orderflow/workflows"
)

// view is the part of GET /v1/orders/{id} (a staff token) the player
// reads: the projection, a row read with no workflow query, so that
// following hundreds of orders costs the workers nothing. The workflow's
// live details (?live=true) are read only where nothing else tells: the
// approvals an order asks for, and where every order stands at the end.
type view struct {
	ID             string             `json:"id"`
	Status         order.Status       `json:"status"`
	NeedsAttention bool               `json:"needs_attention"`
	Details        string             `json:"details"`
	QuoteRevision  int                `json:"quote_revision"`
	Live           *workflows.Details `json:"live"`
}

// shipment is a shipment as the carrier simulator lists it.
type shipment struct {
	ID       string    `json:"shipment_id"`
	Kind     string    `json:"kind"`
	Status   string    `json:"status"`
	BookedAt time.Time `json:"booked_at"`
}

// lockState is what a walker holds of its customer's credit lock.
type lockState int

const (
	lockNone lockState = iota
	lockShared
	lockExclusive
)

// walker follows one planned order.
type walker struct {
	p    *player
	run  *OrderRun
	plan scenario.Order
	cust *customer
	// buyer requests and answers the quote.
	buyer order.Actor
	id    string

	status order.Status
	// lastChange is when the order last moved or the walker last took a
	// step on it.
	lastChange time.Time
	// seen is when the walker first saw a step ("quote:1", "approval",
	// "hold", "invoiced", "ship:<id>", …); done the steps it took.
	seen map[string]time.Time
	done map[string]bool
	// next is the earliest step still to take; zero when none is planned.
	next time.Time

	lock   lockState
	bumped bool
	// joined: the order told its payment group what it brings.
	joined bool
	// links are the survey links found in the order's mails; mails the
	// mail ids read.
	links []string
	mails map[int64]bool
	// group is the payment group to pay, when this order was its last
	// member to bring its invoices; firstOpen what was open on each
	// invoice when the walker first saw it.
	group     *group
	firstOpen map[string]money.Money
	// first is the order's first parcel, which meets the plan's carrier
	// outcome; delivered counts the parcels delivered; carrierDone: the
	// carrier has nothing more to do.
	first       string
	delivered   int
	carrierDone bool
	// owedList are the invoices owed as read when the order was in
	// status owedAt.
	owedList []dueInvoice
	owedAt   order.Status
}

func (w *walker) walk(ctx context.Context) error {
	p := w.p
	w.cust = p.customers[w.plan.CustomerID]
	w.seen, w.done = map[string]time.Time{}, map[string]bool{}
	w.buyer = order.Actor{Subject: fmt.Sprintf("buyer%02d@%s.example", w.plan.Buyer, strings.ToLower(w.plan.CustomerID)),
		Role: order.RoleBuyer, CustomerID: w.plan.CustomerID}
	defer w.release(context.WithoutCancel(ctx))
	if err := sleep(ctx, time.Until(p.start.Add(p.wall(w.plan.RequestAt)))); err != nil {
		return nil
	}
	if err := w.requestQuote(ctx); err != nil {
		w.leaveGroup(ctx)
		return err
	}
	w.lastChange = time.Now()
	for {
		v, err := w.read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if v.Status != w.status {
			w.status, w.lastChange = v.Status, time.Now()
		}
		if v.Status.Terminal() {
			w.leaveGroup(ctx)
			return nil
		}
		w.next = time.Time{}
		if err := w.act(ctx, v); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if why := w.parked(v); why != "" {
			w.run.Parked = why
			w.leaveGroup(ctx)
			return nil
		}
		if sleep(ctx, p.opts.Poll) != nil {
			return nil
		}
	}
}

// since is when the walker first saw step, now if this is the first time.
func (w *walker) since(step string) time.Time {
	t, ok := w.seen[step]
	if !ok {
		t = time.Now()
		w.seen[step] = t
	}
	return t
}

// due reports whether a step planned for at has come; one that has not
// becomes the walker's next.
func (w *walker) due(at time.Time) bool {
	if !time.Now().Before(at) {
		// The step is taken now: the order's stillness is counted from it.
		w.lastChange = time.Now()
		return true
	}
	if w.next.IsZero() || at.Before(w.next) {
		w.next = at
	}
	return false
}

// requestQuote starts the order as the storefront does for the buyer.
func (w *walker) requestQuote(ctx context.Context) error {
	tok, err := w.p.token(w.buyer)
	if err != nil {
		return err
	}
	lines := make([]order.Line, 0, len(w.plan.Lines))
	for _, l := range w.plan.Lines {
		lines = append(lines, order.Line{SKU: l.SKU, Quantity: int64(l.Quantity)})
	}
	var ans struct {
		ID string `json:"id"`
	}
	_, err = w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.API + "/v1/quotes", token: tok,
		header: map[string]string{"Idempotency-Key": w.p.plan.Name + "-" + w.plan.Ref, "Prefer": "respond-async"},
		body:   map[string]any{"customer_id": w.plan.CustomerID, "po_number": w.plan.Ref, "lines": lines}}, &ans)
	if err != nil {
		return fmt.Errorf("request the quote: %w", err)
	}
	w.id, w.run.OrderID = ans.ID, ans.ID
	return nil
}

// read is the order as staff see it, with the workflow's live details.
func (w *walker) read(ctx context.Context) (view, error) {
	tok, err := w.p.token(actorCS)
	if err != nil {
		return view{}, err
	}
	var v view
	_, err = w.p.c.do(ctx, request{method: http.MethodGet, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id), token: tok}, &v)
	return v, err
}

// live is the order with the workflow's live details.
func (w *walker) live(ctx context.Context) (view, error) {
	tok, err := w.p.token(actorCS)
	if err != nil {
		return view{}, err
	}
	var v view
	_, err = w.p.c.do(ctx, request{method: http.MethodGet, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id) + "?live=true", token: tok}, &v)
	if err == nil && v.Live == nil {
		err = fmt.Errorf("order %s: the workflow did not answer its details query", w.id)
	}
	return v, err
}

// act takes the steps the order's state and the plan call for now.
func (w *walker) act(ctx context.Context, v view) error {
	if w.lock != lockNone && v.Status != order.StatusAwaitingAcceptance && v.Status != order.StatusCreditCheck {
		w.release(ctx)
	}
	switch v.Status {
	case order.StatusAwaitingAcceptance:
		return w.answerQuote(ctx, v)
	case order.StatusAwaitingApproval:
		w.run.ApprovalAsked = true
		return w.approve(ctx, v)
	case order.StatusCreditHold:
		w.run.CreditHeld = true
		return w.decideCredit(ctx)
	}
	if err := w.carrier(ctx, v); err != nil {
		return err
	}
	if err := w.surveys(ctx); err != nil {
		return err
	}
	return w.pay(ctx, v)
}

// answerQuote answers the quote as planned.
func (w *walker) answerQuote(ctx context.Context, v view) error {
	q := w.plan.Quote
	rev := v.QuoteRevision
	if rev <= 0 {
		return nil
	}
	seen := w.since(fmt.Sprintf("quote:%d", rev))
	tok, err := w.p.token(w.buyer)
	if err != nil {
		return err
	}
	base := w.p.t.API + "/v1/orders/" + url.PathEscape(w.id)
	accept := func() error {
		w.done["accept"], w.done["answer"] = true, true
		return w.intoCredit(ctx, func() error {
			_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: base + "/accept", token: tok,
				header: map[string]string{"Idempotency-Key": fmt.Sprintf("%s-accept-%d", w.id, rev)},
				body:   map[string]any{"revision": rev}}, nil)
			return ignoreConflict(err)
		})
	}
	if rev > 1 {
		// The revision the buyer asked for: accepted after its own delay.
		if q.Outcome != scenario.QuoteRevisedThenAccepted || w.done["accept"] || !w.due(seen.Add(w.p.wall(q.AcceptRevised))) {
			return nil
		}
		return accept()
	}
	if w.done["answer"] || q.Outcome == scenario.QuoteSilent || !w.due(seen.Add(w.p.wall(q.Decide))) {
		return nil
	}
	w.done["answer"] = true
	switch q.Outcome {
	case scenario.QuoteRejected:
		_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: base + "/reject", token: tok,
			header: map[string]string{"Idempotency-Key": w.id + "-reject"},
			body:   map[string]any{"reason": "we ordered elsewhere this time"}}, nil)
		return ignoreConflict(err)
	case scenario.QuoteRevisedThenAccepted:
		lines := make([]order.Line, 0, len(w.plan.Lines))
		for _, l := range w.plan.Lines {
			lines = append(lines, order.Line{SKU: l.SKU, Quantity: int64(l.Quantity + max(1, l.Quantity/10))})
		}
		_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: base + "/revise", token: tok,
			header: map[string]string{"Idempotency-Key": w.id + "-revise"},
			body:   map[string]any{"lines": lines}}, nil)
		return ignoreConflict(err)
	}
	return accept()
}

// intoCredit takes the step that leads the order into its credit check
// (an acceptance, the last approval) under the customer's credit lock:
// alone, with the ERP's receivables raised by the credit limit, when the
// plan sends the order over the limit; shared otherwise. The walker lets
// go once the order has left the check (act).
func (w *walker) intoCredit(ctx context.Context, step func() error) error {
	if w.plan.Credit.Outcome == scenario.CreditOverLimit && !w.run.CreditHeld {
		w.cust.credit.Lock()
		w.lock = lockExclusive
		if err := w.adjustReceivables(ctx, w.cust.CreditLimit); err != nil {
			w.release(ctx)
			return err
		}
		w.bumped = true
	} else {
		w.cust.credit.RLock()
		w.lock = lockShared
	}
	if err := step(); err != nil {
		w.release(ctx)
		return err
	}
	return nil
}

// release takes back a raised receivable and lets go of the credit lock.
func (w *walker) release(ctx context.Context) {
	if w.bumped {
		w.bumped = false
		neg := w.cust.CreditLimit
		neg.Minor = -neg.Minor
		if err := w.adjustReceivables(ctx, neg); err != nil {
			w.p.fail("order %s: take back the raised receivables of %s: %v", w.plan.Ref, w.cust.ID, err)
		}
	}
	switch w.lock {
	case lockExclusive:
		w.cust.credit.Unlock()
	case lockShared:
		w.cust.credit.RUnlock()
	}
	w.lock = lockNone
}

func (w *walker) adjustReceivables(ctx context.Context, m money.Money) error {
	_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.ERP + "/sim/receivables",
		body: map[string]any{"customer_id": w.cust.ID, "amount": m}}, nil)
	return err
}

// approve answers the approvals the order asks for, as planned: the
// customer's approvers for the buyer side, sales managers for the seller's.
func (w *walker) approve(ctx context.Context, v view) error {
	seen := w.since("approval")
	if w.done["approve"] || !w.due(seen.Add(w.p.wall(w.plan.Approval.Delay))) {
		return nil
	}
	v, err := w.live(ctx)
	if err != nil {
		return nil // asked again at the next poll
	}
	w.done["approve"] = true
	approve := w.plan.Approval.Outcome != scenario.ApprovalRejected
	type ask struct {
		actor order.Actor
		staff bool
	}
	var asks []ask
	for _, need := range v.Live.ApprovalsNeeded {
		have := 0
		for _, a := range v.Live.Approvals {
			if a.Side == need.Side && a.Approve {
				have++
			}
		}
		for i := have; i < need.Count; i++ {
			if need.Side == order.SideBuyer {
				asks = append(asks, ask{actor: order.Actor{Subject: fmt.Sprintf("approver%d@%s.example", i+1, strings.ToLower(w.cust.ID)),
					Role: order.RoleBuyerApprover, CustomerID: w.cust.ID}})
			} else {
				asks = append(asks, ask{actor: actorManagers[i%len(actorManagers)], staff: true})
			}
		}
	}
	if !approve && len(asks) > 0 {
		asks = asks[:1]
	}
	for i, a := range asks {
		tok, err := w.p.token(a.actor)
		if err != nil {
			return err
		}
		if a.staff {
			w.run.StaffSteps = append(w.run.StaffSteps, fmt.Sprintf("%s: approve=%t", a.actor.Role, approve))
		}
		post := func() error {
			_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id) + "/approvals", token: tok,
				header: map[string]string{"Idempotency-Key": fmt.Sprintf("%s-approval-%d", w.id, i)},
				body:   map[string]any{"approve": approve, "comment": "scenario " + w.p.plan.Name}}, nil)
			return ignoreConflict(err)
		}
		if approve && i == len(asks)-1 {
			if err := w.intoCredit(ctx, post); err != nil {
				return err
			}
			continue
		}
		if err := post(); err != nil {
			return err
		}
	}
	return nil
}

// decideCredit is finance's decision on a hold: the plan's for an order it
// sent over the limit, an override after Options.Staff for any other.
func (w *walker) decideCredit(ctx context.Context) error {
	seen := w.since("hold")
	planned := w.plan.Credit.Outcome == scenario.CreditOverLimit
	w.run.UnplannedHold = !planned
	delay, decision := w.p.opts.Staff, "override"
	if planned {
		delay = w.plan.Credit.Delay
		decision = map[scenario.CreditDecision]string{scenario.CreditOverride: "override",
			scenario.CreditPrepayment: "prepay", scenario.CreditDecline: "decline"}[w.plan.Credit.Decision]
	}
	if w.done["credit"] || !w.due(seen.Add(w.p.wall(delay))) {
		return nil
	}
	w.done["credit"] = true
	tok, err := w.p.token(actorFinance)
	if err != nil {
		return err
	}
	w.run.StaffSteps = append(w.run.StaffSteps, "finance: credit "+decision)
	_, err = w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id) + "/credit-decision", token: tok,
		header: map[string]string{"Idempotency-Key": w.id + "-credit"},
		body:   map[string]any{"decision": decision, "reason": "scenario " + w.p.plan.Name + ": finance looked at the exposure"}}, nil)
	return ignoreConflict(err)
}

// carrier plays the carrier: each booked shipment is delivered after the
// transit time, the order's first shipment as the plan says (a failed
// attempt first, damaged on arrival, lost); CS reships a damaged or lost
// one. The carrier knows its shipments: the walker reads them from the
// carrier simulator, by the order's reference.
func (w *walker) carrier(ctx context.Context, v view) error {
	switch v.Status {
	case order.StatusConfirmed, order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid:
	default:
		return nil
	}
	if w.carrierDone {
		return nil
	}
	var list struct {
		Shipments []shipment `json:"shipments"`
	}
	if _, err := w.p.c.do(ctx, request{method: http.MethodGet, url: w.p.t.Carrier + "/sim/shipments?reference=" + url.QueryEscape(w.id)}, &list); err != nil {
		return fmt.Errorf("list the carrier's shipments: %w", err)
	}
	var ships []shipment
	for _, s := range list.Shipments {
		if s.Kind != "return" && s.Status != "cancelled" {
			ships = append(ships, s)
		}
	}
	slices.SortFunc(ships, func(a, b shipment) int { return cmp.Or(a.BookedAt.Compare(b.BookedAt), cmp.Compare(a.ID, b.ID)) })
	if w.first == "" && len(ships) > 0 {
		// The plan's outcome is the first parcel's; reships come later.
		w.first = ships[0].ID
	}
	transit := w.p.wall(w.p.opts.Transit)
	pending, delivered := false, 0
	for _, s := range ships {
		id := s.ID
		booked := w.since("ship:" + id)
		outcome := scenario.CarrierNone
		if id == w.first {
			outcome = w.plan.Carrier
		}
		if s.Status == "delivered" {
			delivered++
			if outcome == scenario.CarrierDamaged && !w.done["reship:"+id] {
				pending = true
				if w.due(w.since("delivered:" + id).Add(w.p.wall(w.p.opts.Staff))) {
					w.done["reship:"+id] = true
					if err := w.reship(ctx, id, "goods damaged on arrival, photos in the ticket"); err != nil {
						return err
					}
				}
			}
			continue
		}
		pending = true
		if w.done["deliver:"+id] {
			continue
		}
		switch outcome {
		case scenario.CarrierFailedAttempt:
			if !w.done["exception:"+id] && w.due(booked.Add(transit)) {
				w.done["exception:"+id] = true
				if err := w.carrierCall(ctx, id, "exception", map[string]string{"detail": "delivery attempt failed: nobody at the goods-in dock"}); err != nil {
					return err
				}
			}
			if w.done["exception:"+id] && w.due(booked.Add(2*transit)) {
				w.done["deliver:"+id] = true
				if err := w.carrierCall(ctx, id, "deliver", nil); err != nil {
					return err
				}
			}
		case scenario.CarrierLost:
			if !w.done["exception:"+id] && w.due(booked.Add(transit)) {
				w.done["exception:"+id] = true
				if err := w.carrierCall(ctx, id, "exception", map[string]string{"detail": "parcel lost: the carrier cannot trace it"}); err != nil {
					return err
				}
			}
			if w.done["exception:"+id] && !w.done["reship:"+id] && w.due(w.since("exception:"+id).Add(w.p.wall(w.p.opts.Staff))) {
				w.done["reship:"+id], w.done["deliver:"+id] = true, true
				if err := w.reship(ctx, id, "parcel lost in transit"); err != nil {
					return err
				}
			}
		default:
			if w.due(booked.Add(transit)) {
				w.done["deliver:"+id] = true
				if err := w.carrierCall(ctx, id, "deliver", nil); err != nil {
					return err
				}
			}
		}
	}
	w.delivered = delivered
	// Once the order is past shipping with every parcel delivered and no
	// reship to come, the carrier has nothing more to do.
	if len(ships) > 0 && !pending && v.Status != order.StatusConfirmed && v.Status != order.StatusShipping {
		w.carrierDone = true
	}
	return nil
}

func (w *walker) carrierCall(ctx context.Context, shipment, what string, body any) error {
	_, err := w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.Carrier + "/sim/shipments/" + url.PathEscape(shipment) + "/" + what, body: body}, nil)
	return err
}

// reship is CS replacing a shipment's goods.
func (w *walker) reship(ctx context.Context, shipment, reason string) error {
	tok, err := w.p.token(actorCS)
	if err != nil {
		return err
	}
	w.run.StaffSteps = append(w.run.StaffSteps, "cs: reship")
	_, err = w.p.c.do(ctx, request{method: http.MethodPost, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id) + "/reship", token: tok,
		header: map[string]string{"Idempotency-Key": w.id + "-reship-" + shipment},
		body:   map[string]any{"shipment_id": shipment, "reason": reason}}, nil)
	return ignoreConflict(err)
}

// surveys answers each survey mail of the order as planned, from the link
// in the mail as the buyer would.
func (w *walker) surveys(ctx context.Context) error {
	s := w.plan.Survey
	if s.Band == scenario.SurveyUnanswered || s.Score < 0 || s.Band == "" {
		return nil
	}
	if w.delivered == 0 || w.answered() >= w.delivered {
		return nil
	}
	links, err := w.surveyLinks(ctx)
	if err != nil {
		return err
	}
	for _, link := range links {
		if w.done["survey:"+link] || !w.due(w.since("survey:"+link).Add(w.p.wall(s.Delay))) {
			continue
		}
		w.done["survey:"+link] = true
		form := url.Values{"score": {fmt.Sprint(s.Score)}, "comment": {"scenario " + w.p.plan.Name + ": " + string(s.Band)}}
		if _, err := w.p.c.do(ctx, request{method: http.MethodPost, url: link, body: form, ok: []int{200, 303, 409}}, nil); err != nil {
			return fmt.Errorf("answer the survey: %w", err)
		}
	}
	return nil
}

func (w *walker) answered() int {
	n := 0
	for k := range w.done {
		if strings.HasPrefix(k, "survey:") {
			n++
		}
	}
	return n
}

// surveyLinks are the survey links in the order's mails.
func (w *walker) surveyLinks(ctx context.Context) ([]string, error) {
	var msgs []struct {
		ID        int64 `json:"id"`
		Duplicate bool  `json:"duplicate"`
	}
	if _, err := w.p.c.do(ctx, request{method: http.MethodGet, url: w.p.t.Mail + "/messages?kind=survey&order=" + url.QueryEscape(w.id)}, &msgs); err != nil {
		return nil, fmt.Errorf("list survey mails: %w", err)
	}
	if w.mails == nil {
		w.mails = map[int64]bool{}
	}
	prefix := w.p.t.API + "/survey/"
	for _, m := range msgs {
		if m.Duplicate || w.mails[m.ID] {
			continue
		}
		var msg struct {
			Text string `json:"text"`
		}
		if _, err := w.p.c.do(ctx, request{method: http.MethodGet, url: fmt.Sprintf("%s/messages/%d", w.p.t.Mail, m.ID),
			header: map[string]string{"Accept": "application/json"}}, &msg); err != nil {
			return nil, fmt.Errorf("read survey mail %d: %w", m.ID, err)
		}
		w.mails[m.ID] = true
		if i := strings.Index(msg.Text, prefix); i >= 0 {
			if link := strings.Fields(msg.Text[i:])[0]; !slices.Contains(w.links, link) {
				w.links = append(w.links, link)
			}
		}
	}
	return w.links, nil
}

// parked says why the walker stops following an order that has not ended:
// it waits for someone the plan leaves silent, or waits on a person (not
// on the system) and has stalled with nothing planned. An order the system
// is still working on (pricing, checking credit, shipping) is never left.
func (w *walker) parked(v view) string {
	switch {
	case v.Status == order.StatusAwaitingAcceptance && w.plan.Quote.Outcome == scenario.QuoteSilent:
		return "the buyer stays silent: the quote waits for its expiry"
	case w.plan.Payment.Behaviour == scenario.PayNever && (v.Status == order.StatusAwaitingPayment || v.Status == order.StatusInvoiced) &&
		w.next.IsZero() && w.surveysSettled():
		return "the payer never pays: dunning, then finance"
	case w.next.IsZero() && WaitingOn(v.Status, v.NeedsAttention) != "" && w.lock == lockNone &&
		time.Since(w.lastChange) > w.p.wall(w.p.opts.Stall):
		return fmt.Sprintf("nothing planned and no move for %s in %s: %s", w.p.opts.Stall, v.Status, v.Details)
	}
	return ""
}

// surveysSettled: nothing is left for the buyer to answer.
func (w *walker) surveysSettled() bool {
	s := w.plan.Survey
	if s.Band == scenario.SurveyUnanswered || s.Score < 0 {
		return true
	}
	return w.answered() >= w.delivered
}

// ignoreConflict treats a 409 as done: the order moved on meanwhile (a
// retried call whose first attempt went through, an expiry).
func ignoreConflict(err error) error {
	if isStatus(err, http.StatusConflict) {
		return nil
	}
	return err
}
