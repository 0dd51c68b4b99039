package activities

import (
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
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
	// applied to another invoice, a quote revision stored with other contents,
	// open orders in another currency); the same call would meet it again.
	ErrTypeConflict = "Conflict"
)

// classify turns a client or store error into the error Temporal should see.
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := downstream.AsError(err); ok {
		switch {
		case e.BreakerOpen:
			return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s: %v", what, err), ErrTypeBreakerOpen,
				temporal.ApplicationErrorOptions{NextRetryDelay: e.RetryAfter, Cause: err})
		case e.Permanent:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), ErrTypeRejected, err)
		default:
			return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s: %v", what, err), ErrTypeUnavailable,
				temporal.ApplicationErrorOptions{Cause: err})
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
	// Database and other local faults: worth retrying.
	return fmt.Errorf("%s: %w", what, err)
}
