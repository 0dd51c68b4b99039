package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// Bounds of POST /v1/actions/bulk.
const (
	// DefaultBulkLimit and MaxBulkLimit bound the orders one call selects;
	// more matching orders are left for the next call (more, next_after).
	DefaultBulkLimit = 100
	MaxBulkLimit     = 500
	// BulkConcurrency is how many orders are queried or acted on at once:
	// a bulk call must not flood the workers that run the orders.
	BulkConcurrency = 8
	// MaxBulkScan bounds the candidates one call reads the details of when
	// it filters by failed step (the step is only in the workflow's details).
	MaxBulkScan = 2000
	// maxStepLen bounds filter.step; step names are short ("reserve stock",
	// "book shipment from WH-NORTH", "undo: …").
	maxStepLen = 200
)

// bulkFilter selects orders: every field given must match.
type bulkFilter struct {
	NeedsAttention *bool        `json:"needs_attention"`
	Status         order.Status `json:"status"`
	// Step matches the failed step the order's details name (failure.step).
	Step       string `json:"step"`
	CustomerID string `json:"customer_id"`
}

// bulkRequest is the body of POST /v1/actions/bulk.
type bulkRequest struct {
	Filter bulkFilter       `json:"filter"`
	Action workflows.Action `json:"action"`
	Reason string           `json:"reason"`
	Limit  *int             `json:"limit"`
	// After continues a previous call: the orders after this id (its next_after).
	After string `json:"after"`
}

// bulkActed is an order the action was run on, with the workflow's answer.
type bulkActed struct {
	OrderID string       `json:"order_id"`
	Status  order.Status `json:"status"`
	Message string       `json:"message"`
}

// bulkRefusal is a selected order the action was not run on: skipped
// before it was sent, or refused by the order's workflow.
type bulkRefusal struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// bulkFailure is a selected order whose outcome is unknown or that could
// not be asked: no answer in time, no running workflow, Temporal down.
type bulkFailure struct {
	OrderID string `json:"order_id"`
	Error   string `json:"error"`
}

// bulkResult is the answer of POST /v1/actions/bulk. Every selected order
// is in exactly one of results (acted), skipped, refused and failed:
// selected = acted + len(skipped) + len(refused) + len(failed).
type bulkResult struct {
	Action   workflows.Action `json:"action"`
	Selected int              `json:"selected"`
	Acted    int              `json:"acted"`
	Results  []bulkActed      `json:"results"`
	Skipped  []bulkRefusal    `json:"skipped"`
	Refused  []bulkRefusal    `json:"refused"`
	Failed   []bulkFailure    `json:"failed"`
	// More says the filter may select orders this call did not look at;
	// send the same request with after = NextAfter for them.
	More      bool   `json:"more"`
	NextAfter string `json:"next_after,omitempty"`
}

// bulkCandidate is one selected order and what the selection decided for it.
type bulkCandidate struct {
	rec     store.OrderRecord
	skip    string // why it is not acted on (skipped), or ""
	failure string // why it could not be looked at (failed), or ""
}

// parseBulk validates a bulk request, naming every field at fault.
func parseBulk(in bulkRequest) (limit int, err error) {
	var errs []*order.FieldError
	f := in.Filter
	if f.NeedsAttention == nil && f.Status == "" && f.Step == "" && f.CustomerID == "" {
		errs = append(errs, &order.FieldError{Field: "filter",
			Reason: "name at least one of needs_attention, status, step, customer_id: a bulk action never selects every order"})
	}
	switch {
	case f.Status == "":
	case !f.Status.Valid():
		errs = append(errs, &order.FieldError{Field: "filter.status", Reason: fmt.Sprintf("%q is not an order status", f.Status)})
	case f.Status.Terminal():
		errs = append(errs, &order.FieldError{Field: "filter.status", Reason: fmt.Sprintf("%s is a final status: no action applies", f.Status)})
	}
	if len(f.CustomerID) > maxIDLen {
		errs = append(errs, &order.FieldError{Field: "filter.customer_id", Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
	} else {
		errs = append(errs, checkID("filter.customer_id", f.CustomerID, false))
	}
	if len(f.Step) > maxStepLen {
		errs = append(errs, &order.FieldError{Field: "filter.step", Reason: fmt.Sprintf("at most %d characters", maxStepLen)})
	} else if fe := checkText("filter.step", f.Step, false); fe != nil {
		errs = append(errs, fe)
	}
	switch in.Action {
	case workflows.ActionRetry, workflows.ActionCancel:
	default:
		errs = append(errs, &order.FieldError{Field: "action", Reason: "one of retry, cancel"})
	}
	errs = append(errs, checkText("reason", in.Reason, true))
	limit = DefaultBulkLimit
	if in.Limit != nil {
		limit = *in.Limit
		if limit < 1 || limit > MaxBulkLimit {
			errs = append(errs, &order.FieldError{Field: "limit", Reason: fmt.Sprintf("an integer from 1 to %d (default %d)", MaxBulkLimit, DefaultBulkLimit)})
		}
	}
	if len(in.After) > maxIDLen {
		errs = append(errs, &order.FieldError{Field: "after", Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
	} else {
		errs = append(errs, checkID("after", in.After, false))
	}
	return limit, collect(errs...)
}

// bulkAction is POST /v1/actions/bulk: CS runs retry or cancel on every
// open order a filter selects, as if it had posted the action to each.
// Each order gets the same action update as POST /v1/orders/{id}/actions,
// with the caller as actor and the request's reason, so each lands in that
// order's audit log; the workflow's validator decides for each order.
func (s *server) bulkAction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	actor := actorFrom(ctx)
	if err := requireRole(actor, order.RoleCS); err != nil {
		return err
	}
	key := r.Header.Get(IdempotencyKeyHeader)
	if key != "" && !validIdempotencyKey(key) {
		return badRequest("bad Idempotency-Key header",
			order.FieldError{Field: IdempotencyKeyHeader, Reason: fmt.Sprintf("1 to %d printable ASCII characters", maxIdemKeyLen)})
	}
	var in bulkRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.Filter.Step = strings.TrimSpace(in.Filter.Step)
	limit, err := parseBulk(in)
	if err != nil {
		return err
	}

	picked, more, next, err := s.selectBulk(ctx, in, limit)
	if err != nil {
		return err
	}
	out := bulkResult{Action: in.Action, Selected: len(picked), More: more, NextAfter: next,
		Results: []bulkActed{}, Skipped: []bulkRefusal{}, Refused: []bulkRefusal{}, Failed: []bulkFailure{}}

	type outcome struct {
		res workflows.DecisionResult
		err error
	}
	outcomes := make([]outcome, len(picked))
	inParallel(len(picked), func(i int) {
		c := picked[i]
		if c.skip != "" || c.failure != "" {
			return
		}
		arg := workflows.ActionInput{Actor: actor, Action: in.Action, Reason: in.Reason}
		outcomes[i].res, outcomes[i].err = s.actOn(ctx, c.rec, arg, key)
	})
	for i, c := range picked {
		switch {
		case c.skip != "":
			out.Skipped = append(out.Skipped, bulkRefusal{OrderID: c.rec.ID, Reason: c.skip})
		case c.failure != "":
			out.Failed = append(out.Failed, bulkFailure{OrderID: c.rec.ID, Error: c.failure})
		case outcomes[i].err == nil:
			out.Acted++
			out.Results = append(out.Results, bulkActed{OrderID: c.rec.ID, Status: outcomes[i].res.Status, Message: outcomes[i].res.Message})
		default:
			p := problemFor(outcomes[i].err)
			switch p.Status {
			case http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
				out.Refused = append(out.Refused, bulkRefusal{OrderID: c.rec.ID, Reason: p.Detail})
			default:
				zerolog.Ctx(ctx).Warn().Err(outcomes[i].err).Str("order_id", c.rec.ID).Msg("bulk action on an order failed")
				out.Failed = append(out.Failed, bulkFailure{OrderID: c.rec.ID, Error: p.Detail})
			}
		}
	}
	zerolog.Ctx(ctx).Info().Str("action", string(in.Action)).Int("selected", out.Selected).Int("acted", out.Acted).
		Int("skipped", len(out.Skipped)).Int("refused", len(out.Refused)).Int("failed", len(out.Failed)).
		Bool("more", out.More).Msg("bulk CS action")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// selectBulk pages through the open orders the projection filters select,
// after in.After, until limit orders are selected. When the action is a
// retry or the filter names a step, it reads each candidate's details
// (BulkConcurrency at a time): the failed step is only there, and a step
// that is still retrying by itself is skipped, not sent. It reads at most
// MaxBulkScan candidates; more says some were left, next is where to go on.
func (s *server) selectBulk(ctx context.Context, in bulkRequest, limit int) (picked []bulkCandidate, more bool, next string, err error) {
	f := in.Filter
	needDetails := f.Step != "" || in.Action == workflows.ActionRetry
	after, scanned := in.After, 0
	for len(picked) < limit {
		page := limit - len(picked)
		if f.Step != "" {
			page = min(limit, MaxBulkScan-scanned)
		}
		recs, err := s.store.OpenOrders(ctx, store.OrderFilter{CustomerID: f.CustomerID, Status: f.Status,
			NeedsAttention: f.NeedsAttention, After: after, Limit: page + 1})
		if err != nil {
			return nil, false, "", err
		}
		left := len(recs) > page
		if left {
			recs = recs[:page]
		}
		details := make([]*workflows.Details, len(recs))
		// Live: whether a retry applies depends on the failure as the
		// workflow holds it now (failure.retrying is not projected), and
		// a bulk action is a staff action, not a poll.
		if needDetails {
			inParallel(len(recs), func(i int) { details[i] = s.live(ctx, recs[i].ID) })
		}
		for i, rec := range recs {
			scanned++
			after = rec.ID
			c, ok := bulkSelect(rec, details[i], f.Step, in.Action, needDetails)
			if ok {
				picked = append(picked, c)
			}
			if len(picked) == limit {
				more = left || i < len(recs)-1
				break
			}
		}
		if len(picked) == limit {
			break
		}
		if !left {
			break
		}
		if scanned >= MaxBulkScan {
			more = true
			break
		}
	}
	if more {
		next = after
	}
	return picked, more, next, nil
}

// bulkSelect decides whether a candidate is selected, and whether it is to
// be acted on; d is its details, nil when they were not read or did not answer.
func bulkSelect(rec store.OrderRecord, d *workflows.Details, step string, action workflows.Action, needDetails bool) (bulkCandidate, bool) {
	c := bulkCandidate{rec: rec}
	if !needDetails {
		return c, true
	}
	if d == nil {
		// Without its details the order's failed step is unknown: it is
		// reported rather than guessed at.
		c.failure = "its details query did not answer (is a worker running?); not acted on"
		return c, true
	}
	if step != "" && (d.Failure == nil || d.Failure.Step != step) {
		return c, false
	}
	if action == workflows.ActionRetry {
		switch {
		case d.Failure == nil:
			c.skip = "no failed step waits for a retry"
		case d.Failure.Retrying:
			c.skip = fmt.Sprintf("%s is still retrying by itself (failure.retrying); the order moves on when the call succeeds", d.Failure.Step)
		}
	}
	return c, true
}

// actOn sends the action update to one order and waits for its answer, at
// most the update timeout. With the bulk call's Idempotency-Key, the
// update id is derived from it and the order, so a resent bulk call does
// not act twice on an order.
func (s *server) actOn(ctx context.Context, rec store.OrderRecord, arg workflows.ActionInput, key string) (workflows.DecisionResult, error) {
	opts := client.UpdateWorkflowOptions{
		WorkflowID:   rec.ID,
		UpdateName:   workflows.UpdateAction,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if key != "" {
		sum := sha256.Sum256([]byte(arg.Actor.Subject + "\x00bulk\x00" + workflows.UpdateAction + "\x00" + key + "\x00" + rec.ID))
		opts.UpdateID = "api-bulk-" + hex.EncodeToString(sum[:16])
	}
	ctx, cancel := context.WithTimeout(ctx, s.updTimeout)
	defer cancel()
	var res workflows.DecisionResult
	h, err := s.temporal.UpdateWorkflow(ctx, opts)
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return res, updateError(rec, err)
	}
	return res, nil
}

// inParallel runs fn(0) … fn(n-1), BulkConcurrency at a time, and waits.
func inParallel(n int, fn func(i int)) {
	sem := make(chan struct{}, BulkConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
