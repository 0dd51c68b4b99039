package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Error types of the ApplicationErrors activities return; workflows and
// operators read them in failures.
const (
	// ErrTypeRejected: an outside system refused the request and will refuse it again.
	ErrTypeRejected = "OutsideSystemRejected"
	// ErrTypeBreakerOpen: the system's circuit breaker is open; retried after it cools down.
	ErrTypeBreakerOpen = "BreakerOpen"
	// ErrTypeUnavailable: the outside system did not answer or answered 5xx.
	ErrTypeUnavailable = "OutsideSystemUnavailable"
	// ErrTypeInvalidInput: the activity's input cannot succeed (unknown customer, bad line).
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeConflict: the call contradicts what is already recorded (a payment
	// applied to another invoice, an invoice number stored for another order,
	// open orders in another currency); the same call would meet it again.
	ErrTypeConflict = "Conflict"
	// ErrTypeLinesRefused: the ERP will not price requested lines (unknown
	// SKU, no price in the customer's currency). The error's details are the
	// []order.FieldError naming each refused line, for the buyer's 422.
	ErrTypeLinesRefused = "LinesRefused"
)

// Failure is the readable account of a failed outside call, carried as the
// details of the ApplicationErrors classify returns: which system, which
// call, what it answered. Staff read it in the order's details, the CS mail
// and the Temporal UI; the raw error chain stays in the worker's logs.
type Failure struct {
	// System is the outside system by the name staff know it: "ERP",
	// "carrier", "mail server".
	System string `json:"system"`
	// Call is what orderflow asked of it, e.g. "create ERP sales order and
	// reserve stock".
	Call string `json:"call"`
	// Answer is what it answered, in one line: "HTTP 409: insufficient_stock
	// (sku MOTOR-7K)", "no answer: connection refused", "not called: circuit
	// breaker open".
	Answer string `json:"answer"`
	// Permanent is true when the same call cannot succeed on retry.
	Permanent bool `json:"permanent"`
}

// systemNames are the outside systems as staff name them.
var systemNames = map[string]string{"erp": "ERP", "carrier": "carrier", "bank": "bank", "mail": "mail server"}

// failureOf describes a downstream error for staff.
func failureOf(what string, e *downstream.Error) Failure {
	f := Failure{System: e.System, Call: what, Permanent: e.Permanent}
	if n, ok := systemNames[e.System]; ok {
		f.System = n
	}
	switch {
	case e.BreakerOpen:
		f.Answer = "not called: its circuit breaker is open after repeated failures"
	case e.Status != 0:
		f.Answer = fmt.Sprintf("HTTP %d", e.Status)
		if a := answerLine(e.Detail); a != "" {
			f.Answer += ": " + a
		}
	default:
		f.Answer = "no answer: " + oneLine(e.Detail)
	}
	return f
}

// answerLine sums up an answer body in one line: the code, detail and SKU
// of a JSON error object, or the text itself.
func answerLine(body string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(body), &obj) != nil {
		return oneLine(body)
	}
	var parts []string
	for _, k := range []string{"error", "title", "detail", "message"} {
		if v, ok := obj[k].(string); ok && v != "" {
			parts = append(parts, oneLine(v))
		}
	}
	if v, ok := obj["sku"].(string); ok && v != "" {
		parts = append(parts, "sku "+oneLine(v))
	}
	if len(parts) == 0 {
		return oneLine(body)
	}
	return strings.Join(parts, ", ")
}

// oneLine folds whitespace and bounds the length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// Backoff of retryable outside calls (RetryDelay).
const (
	// RetryBase is the delay before the second attempt, before jitter.
	RetryBase = time.Second
	// RetryCap bounds the exponential delay, like the workflow's retry
	// policy (workflows.RetryCap); an open breaker may ask for more.
	RetryCap = 5 * time.Minute
)

// RetryDelay is how long an outside call that failed on the given attempt
// (1 for the first) waits before the next: RetryBase doubled per attempt,
// capped at RetryCap, with "equal jitter": half of it fixed and a random
// half on top, so orders that failed together (an outage, a breaker that
// opened under all of them) do not come back in lockstep.
//
// breakerWait is the open breaker's RetryAfter (0 when the breaker let the
// call through). The delay is never less than it: before the jitter the
// delay is raised to twice breakerWait, so it lands between breakerWait and
// twice breakerWait instead of on the moment the breaker lets its one probe
// through.
func RetryDelay(attempt int32, breakerWait time.Duration) time.Duration {
	d := RetryCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 { // 2^19 s is far past the cap; no overflow beyond
		d = min(RetryBase<<(attempt-1), RetryCap)
	}
	d = max(d, 2*breakerWait)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// attempt is the running activity's attempt number, 1 outside an activity.
func attempt(ctx context.Context) int32 {
	if ctx == nil || !activity.IsActivity(ctx) {
		return 1
	}
	return max(activity.GetInfo(ctx).Attempt, 1)
}

// classify turns a client or store error into the error Temporal should see.
// A retryable outside-call error carries its NextRetryDelay (RetryDelay by
// the attempt that failed); store and other local errors are left to the
// retry policy.
func classify(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := downstream.AsError(err); ok {
		f := failureOf(what, e)
		msg := fmt.Sprintf("%s: %v", what, err)
		switch {
		case e.BreakerOpen:
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeBreakerOpen,
				temporal.ApplicationErrorOptions{NextRetryDelay: RetryDelay(attempt(ctx), e.RetryAfter), Cause: err, Details: []any{f}})
		case e.Permanent:
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRejected,
				temporal.ApplicationErrorOptions{NonRetryable: true, Cause: err, Details: []any{f}})
		default:
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable,
				temporal.ApplicationErrorOptions{NextRetryDelay: RetryDelay(attempt(ctx), 0), Cause: err, Details: []any{f}})
		}
	}
	var fe *order.FieldError
	if errors.As(err, &fe) || errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), ErrTypeInvalidInput, err)
	}
	if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrPaymentMatched) ||
		errors.Is(err, store.ErrSurveyClosed) || errors.Is(err, money.ErrCurrencyMismatch) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), ErrTypeConflict, err)
	}
	// Database and other local faults: worth retrying, on the policy's backoff.
	return fmt.Errorf("%s: %w", what, err)
}
