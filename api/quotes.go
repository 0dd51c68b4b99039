package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// IdempotencyKeyHeader names the header POST /v1/quotes requires.
const IdempotencyKeyHeader = "Idempotency-Key"

// Field limits of the request bodies.
const (
	maxIDLen       = 64
	maxPONumberLen = 64
	maxReasonLen   = 1000
	maxIdemKeyLen  = 200
	maxDiscountBP  = 10000
)

// quoteRequest is the body of POST /v1/quotes. Its JSON encoding is also the
// canonical form hashed for idempotency: field order is fixed and an absent
// optional field encodes like its zero value.
type quoteRequest struct {
	CustomerID string       `json:"customer_id"`
	PONumber   string       `json:"po_number,omitempty"`
	Lines      []order.Line `json:"lines"`
	DiscountBP int64        `json:"discount_bp,omitempty"`
}

func (q quoteRequest) validate() []order.FieldError {
	var errs []order.FieldError
	add := func(fe *order.FieldError) {
		if fe != nil {
			errs = append(errs, *fe)
		}
	}
	if len(q.CustomerID) > maxIDLen {
		add(&order.FieldError{Field: "customer_id", Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
	} else {
		add(checkID("customer_id", q.CustomerID, true))
	}
	if utf8.RuneCountInString(q.PONumber) > maxPONumberLen {
		add(&order.FieldError{Field: "po_number", Reason: fmt.Sprintf("at most %d characters", maxPONumberLen)})
	} else {
		add(checkID("po_number", q.PONumber, false))
	}
	add(checkLines(q.Lines))
	if q.DiscountBP < 0 || q.DiscountBP > maxDiscountBP {
		add(&order.FieldError{Field: "discount_bp", Reason: fmt.Sprintf("between 0 and %d basis points", maxDiscountBP)})
	}
	return errs
}

// checkLines applies the domain's line rules and keeps control characters
// out of SKUs, which travel to the ERP and into PostgreSQL text.
func checkLines(lines []order.Line) *order.FieldError {
	if fe := order.ValidateLines(lines); fe != nil {
		return fe
	}
	for i, l := range lines {
		if fe := checkID(fmt.Sprintf("lines[%d].sku", i), l.SKU, true); fe != nil {
			return fe
		}
	}
	return nil
}

// hash is the digest stored with the idempotency key.
func (q quoteRequest) hash() string {
	b, _ := json.Marshal(q) // a struct of strings and integers always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// validIdempotencyKey accepts 1 to 200 printable ASCII characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdemKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// quoteBody is quoteRequest as it arrives: a discount_bp that is present,
// even 0, is a request for a discount, which only sales people may make.
type quoteBody struct {
	CustomerID string       `json:"customer_id"`
	PONumber   string       `json:"po_number"`
	Lines      []order.Line `json:"lines"`
	DiscountBP *int64       `json:"discount_bp"`
}

// discountForbidden is the 403 of a discount asked for by a role that may
// not discount.
func discountForbidden(a order.Actor) error {
	return &apiError{status: http.StatusForbidden, slug: ProblemForbidden,
		detail: fmt.Sprintf("role %s may not ask for a discount; only the seller's sales people (sales_rep, sales_manager) may", a.Role),
		fields: []order.FieldError{{Field: "discount_bp", Reason: "only sales_rep and sales_manager may send it"}}}
}

// parseQuote reads and checks a quote request the way POST /v1/quotes does,
// before anything touches the store: 400 for what does not decode, 403 for
// a discount the caller may not ask for, 422 for what breaks a rule.
func parseQuote(w http.ResponseWriter, r *http.Request, actor order.Actor) (quoteRequest, error) {
	key := r.Header.Get(IdempotencyKeyHeader)
	if !validIdempotencyKey(key) {
		return quoteRequest{}, badRequest("POST /v1/quotes needs an Idempotency-Key header",
			order.FieldError{Field: IdempotencyKeyHeader, Reason: fmt.Sprintf("required: 1 to %d printable ASCII characters", maxIdemKeyLen)})
	}
	var b quoteBody
	if err := decodeJSON(w, r, &b); err != nil {
		return quoteRequest{}, err
	}
	if b.DiscountBP != nil && !actor.Role.MayDiscount() {
		return quoteRequest{}, discountForbidden(actor)
	}
	q := quoteRequest{CustomerID: b.CustomerID, PONumber: b.PONumber, Lines: b.Lines}
	if b.DiscountBP != nil {
		q.DiscountBP = *b.DiscountBP
	}
	if errs := q.validate(); len(errs) > 0 {
		return quoteRequest{}, invalid(errs...)
	}
	return q, nil
}

// quoteRoles may request quotes: the storefront and buyers for their
// customer, the seller's sales people for any customer.
var quoteRoles = []order.Role{order.RoleStorefront, order.RoleBuyer, order.RoleSalesRep, order.RoleSalesManager}

// createQuote is POST /v1/quotes: it records the order, starts its workflow
// and waits, within quoteWait, for the priced quote.
//
//   - 201 with the priced quote: the order waits for the buyer's answer.
//   - 202 with the order id and the status it has reached: pricing takes
//     longer (a slow ERP) or failed and waits for CS; poll the Location.
//   - 422 naming the line: the ERP refuses to price a line; the order ended
//     QUOTE_REFUSED and is not listed.
//   - 200: a replay of the same key and body; the order as it stands.
func (s *server) createQuote(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	actor := actorFrom(ctx)
	if err := requireRole(actor, quoteRoles...); err != nil {
		return err
	}
	q, err := parseQuote(w, r, actor)
	if err != nil {
		return err
	}
	if actor.Role.CustomerScoped() && q.CustomerID != actor.CustomerID {
		return forbidden("a buyer may request quotes only for its own customer")
	}
	terms, err := s.store.Terms(ctx, q.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return invalidField("customer_id", fmt.Sprintf("no customer %q", q.CustomerID))
	}
	if err != nil {
		return err
	}
	now := s.now().UTC()
	rec, created, err := s.store.CreateOrder(ctx, store.NewOrder{
		// Keys are the caller's own, per customer: two callers, or one
		// sales rep quoting two customers, never collide.
		// (Length-prefixed, so no subject can pose as another's scope.)
		IdempotencyScope: fmt.Sprintf("%d:%s:%s", len(actor.Subject), actor.Subject, q.CustomerID),
		IdempotencyKey:   r.Header.Get(IdempotencyKeyHeader),
		RequestHash:      q.hash(),
		Order: store.OrderRecord{
			ID:         s.ids.next(now),
			CustomerID: q.CustomerID,
			PONumber:   q.PONumber,
			Status:     order.StatusQuoting,
			// The currency the quote will be priced in, from the terms.
			Total:     money.Zero(terms.Currency),
			Details:   "waiting for the quote to be priced",
			CreatedAt: now,
			UpdatedAt: now,
		},
		Actor: actor,
	})
	if err != nil {
		return err
	}
	if rec.Status == order.StatusQuoteRefused {
		return s.quoteRefused(ctx, rec, nil)
	}
	// Started on a replay too while the workflow has recorded nothing: the
	// first request may have died between the write above and this start
	// (starting a running order only waits for its quote). Once it has
	// recorded, it ran; a replay must not start a finished order again
	// after Temporal forgot it.
	if !created && rec.LastSeq > 0 {
		writeJSON(w, http.StatusOK, present(actor, rec, nil))
		return nil
	}
	if preferAsync(r.Header) {
		// The caller follows the Location: start the order and answer,
		// without waiting for a worker to take the first task.
		if err := s.startOrderAsync(ctx, rec, q, terms, actor); err != nil {
			return err
		}
		w.Header().Set("Preference-Applied", "respond-async")
		w.Header().Set("Location", s.publicURL+"/v1/orders/"+rec.ID)
		writeJSON(w, http.StatusAccepted, present(actor, rec, nil))
		return nil
	}
	res, priced, err := s.startOrder(ctx, rec, q, terms, actor)
	if err != nil {
		return err
	}
	if len(res.Refused) > 0 {
		return s.quoteRefused(ctx, rec, res.Refused)
	}
	status := http.StatusOK
	switch {
	case !priced:
		status = http.StatusAccepted
	case created:
		status = http.StatusCreated
	}
	if created || !priced {
		w.Header().Set("Location", s.publicURL+"/v1/orders/"+rec.ID)
	}
	if fresh, err := s.store.Order(ctx, rec.ID); err == nil {
		rec = fresh
	}
	// The answer is the projection with the quote the workflow priced; the
	// workflow is not queried (under load its first task is the slowest
	// part of the request).
	v := present(actor, rec, nil)
	if priced {
		v.setQuote(res)
	}
	writeJSON(w, status, v)
	return nil
}

// quoteRefused is the 422 of a quote request whose lines the ERP refuses.
// fields are the workflow's answer; on a replay they come from the audit log.
func (s *server) quoteRefused(ctx context.Context, rec store.OrderRecord, fields []order.FieldError) error {
	if fields == nil {
		var err error
		if fields, err = s.store.QuoteRefusal(ctx, rec.ID); err != nil {
			return err
		}
	}
	return &apiError{status: http.StatusUnprocessableEntity, slug: ProblemValidation,
		detail: "the ERP refuses to price the requested lines; no order was created", fields: fields}
}

// preferAsync reports whether the request asks for an answer before the
// work is done: RFC 7240's "Prefer: respond-async", in any of the request's
// Prefer headers, among other preferences (which are ignored).
func preferAsync(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for pref := range strings.SplitSeq(v, ",") {
			token, _, _ := strings.Cut(pref, ";")
			token, _, _ = strings.Cut(token, "=")
			if strings.EqualFold(strings.TrimSpace(token), "respond-async") {
				return true
			}
		}
	}
	return false
}

// orderStart is how every order is started: its workflow's options and
// input.
func (s *server) orderStart(rec store.OrderRecord, q quoteRequest, terms order.Terms, actor order.Actor) (client.StartWorkflowOptions, workflows.OrderInput) {
	po := "no PO"
	if rec.PONumber != "" {
		po = "PO " + rec.PONumber
	}
	var details strings.Builder
	fmt.Fprintf(&details, "Requested by %s (%s).\n\n", actor.Subject, actor.Role)
	for _, l := range q.Lines {
		fmt.Fprintf(&details, "- %d × %s\n", l.Quantity, l.SKU)
	}
	if q.DiscountBP > 0 {
		fmt.Fprintf(&details, "\nRequested discount: %d.%02d%%\n", q.DiscountBP/100, q.DiscountBP%100)
	}
	return client.StartWorkflowOptions{
			ID:                       rec.ID,
			TaskQueue:                workflows.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes:    workflows.StartSearchAttributes(rec.CustomerID, rec.PONumber),
			StaticSummary:            fmt.Sprintf("Order %s · %s · %s", rec.ID, terms.CustomerName, po),
			StaticDetails:            details.String(),
		}, workflows.OrderInput{
			OrderID:             rec.ID,
			CustomerID:          rec.CustomerID,
			PONumber:            rec.PONumber,
			Lines:               q.Lines,
			RequestedDiscountBP: q.DiscountBP,
			RequestedBy:         actor,
			StepBudget:          s.stepBudget,
			HistoryLimit:        s.historyLimit,
			TimeScale:           s.timeScale,
		}
}

// startOrderAsync starts the order workflow (or finds it started) and
// returns once Temporal has it: the workflow prices its quote by itself.
func (s *server) startOrderAsync(ctx context.Context, rec store.OrderRecord, q quoteRequest, terms order.Terms, actor order.Actor) error {
	opts, in := s.orderStart(rec, q, terms, actor)
	uctx, cancel := context.WithTimeout(ctx, s.updTimeout)
	defer cancel()
	run, err := s.temporal.ExecuteWorkflow(uctx, opts, workflows.OrderWorkflowName, in)
	if err != nil {
		// Recorded but maybe not started: a retry with the same key starts it.
		return fmt.Errorf("start workflow of order %s: %w", rec.ID, err)
	}
	zerolog.Ctx(ctx).Info().Str("order_id", rec.ID).Str("run_id", run.GetRunID()).Msg("order workflow started")
	return nil
}

// startOrder starts the order workflow (or finds it started) and waits, at
// most quoteWait, for its first quote. priced is false when the wait ran
// out or pricing waits for CS; the order goes on either way.
func (s *server) startOrder(ctx context.Context, rec store.OrderRecord, q quoteRequest, terms order.Terms, actor order.Actor) (res workflows.QuoteResult, priced bool, err error) {
	opts, in := s.orderStart(rec, q, terms, actor)
	start := s.temporal.NewWithStartWorkflowOperation(opts, workflows.OrderWorkflowName, in)
	// Accepted first, under the update bound: from then on the workflow
	// runs, whatever happens to this request.
	uctx, cancel := context.WithTimeout(ctx, s.updTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   workflows.UpdateQuote,
			Args:         []any{workflows.QuoteInput{Actor: actor}},
			WaitForStage: client.WorkflowUpdateStageAccepted,
		},
	})
	if err != nil {
		// Recorded but maybe not started: a retry with the same key starts it.
		return res, false, fmt.Errorf("start workflow of order %s: %w", rec.ID, err)
	}
	if run, err := start.Get(uctx); err == nil {
		zerolog.Ctx(ctx).Info().Str("order_id", rec.ID).Str("run_id", run.GetRunID()).Msg("order workflow started")
	}
	qctx, qcancel := context.WithTimeout(ctx, s.quoteWait)
	defer qcancel()
	if err := h.Get(qctx, &res); err != nil {
		if qctx.Err() != nil && ctx.Err() == nil {
			return res, false, nil // still pricing: 202
		}
		return res, false, fmt.Errorf("wait for the quote of order %s: %w", rec.ID, err)
	}
	return res, res.Quote != nil && !res.Status.Terminal() && res.Status != order.StatusQuoting, nil
}
