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
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

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

// The search attributes every order carries from its start.
var (
	saCustomerID     = temporal.NewSearchAttributeKeyKeyword(workflows.SACustomerID)
	saOrderStatus    = temporal.NewSearchAttributeKeyKeyword(workflows.SAOrderStatus)
	saPONumber       = temporal.NewSearchAttributeKeyKeyword(workflows.SAPONumber)
	saNeedsAttention = temporal.NewSearchAttributeKeyBool(workflows.SANeedsAttention)
	saOrderTotal     = temporal.NewSearchAttributeKeyFloat64(workflows.SAOrderTotal)
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

// parseQuote reads and checks a quote request the way POST /v1/quotes does,
// before anything touches the store: 400 for what does not decode, 422 for
// what breaks a rule.
func parseQuote(w http.ResponseWriter, r *http.Request) (quoteRequest, error) {
	key := r.Header.Get(IdempotencyKeyHeader)
	if !validIdempotencyKey(key) {
		return quoteRequest{}, badRequest("POST /v1/quotes needs an Idempotency-Key header",
			order.FieldError{Field: IdempotencyKeyHeader, Reason: fmt.Sprintf("required: 1 to %d printable ASCII characters", maxIdemKeyLen)})
	}
	var q quoteRequest
	if err := decodeJSON(w, r, &q); err != nil {
		return quoteRequest{}, err
	}
	if errs := q.validate(); len(errs) > 0 {
		return quoteRequest{}, invalid(errs...)
	}
	return q, nil
}

// createQuote is POST /v1/quotes: it records the order and starts its workflow.
func (s *server) createQuote(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	actor := actorFrom(ctx)
	if err := requireRole(actor, order.RoleStorefront, order.RoleBuyer); err != nil {
		return err
	}
	q, err := parseQuote(w, r)
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
		IdempotencyScope: actor.Subject,
		IdempotencyKey:   r.Header.Get(IdempotencyKeyHeader),
		RequestHash:      q.hash(),
		Order: store.OrderRecord{
			ID:         s.ids.next(now),
			CustomerID: q.CustomerID,
			PONumber:   q.PONumber,
			Status:     order.StatusQuoting,
			Details:    "waiting for the quote to be priced",
			CreatedAt:  now,
			UpdatedAt:  now,
		},
		Actor: actor,
	})
	if err != nil {
		return err
	}
	// Started on a replay too while the workflow has recorded nothing: the
	// first request may have died between the write above and this start
	// (starting a running order is a no-op). Once it has recorded, it ran; a
	// replay must not start a finished order again after Temporal forgot it.
	if created || rec.LastSeq == 0 {
		if err := s.startOrder(ctx, rec, q, terms, actor); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", s.publicURL+"/v1/orders/"+rec.ID)
	}
	// The workflow has just started: asking it for its details would wait
	// for its first workflow task, which under load is the slowest part of
	// the request (`orderflow bench`: p50 1.5 s at 50 orders in flight).
	writeJSON(w, status, orderView{OrderRecord: rec})
	return nil
}

// startOrder starts the order workflow, or finds it started.
func (s *server) startOrder(ctx context.Context, rec store.OrderRecord, q quoteRequest, terms order.Terms, actor order.Actor) error {
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
	opts := client.StartWorkflowOptions{
		ID:                       rec.ID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			saCustomerID.ValueSet(rec.CustomerID),
			saOrderStatus.ValueSet(string(order.StatusQuoting)),
			saPONumber.ValueSet(rec.PONumber),
			saNeedsAttention.ValueSet(false),
			saOrderTotal.ValueSet(0),
		),
		StaticSummary: fmt.Sprintf("Order %s · %s · %s", rec.ID, terms.CustomerName, po),
		StaticDetails: details.String(),
	}
	in := workflows.OrderInput{
		OrderID:             rec.ID,
		CustomerID:          rec.CustomerID,
		PONumber:            rec.PONumber,
		Lines:               q.Lines,
		RequestedDiscountBP: q.DiscountBP,
		RequestedBy:         actor,
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, workflows.OrderWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return nil
	case err != nil:
		// Recorded but not started: a retry with the same key starts it.
		return fmt.Errorf("start workflow of order %s: %w", rec.ID, err)
	}
	zerolog.Ctx(ctx).Info().Str("order_id", rec.ID).Str("run_id", run.GetRunID()).Msg("order workflow started")
	return nil
}
