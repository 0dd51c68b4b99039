package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/order"
)

// CustomerTeller hands an order's milestone to its customer's workflow,
// starting that workflow when it is not running (signal-with-start). The
// worker wires the Temporal client's; the activities know no workflow.
type CustomerTeller interface {
	TellCustomer(ctx context.Context, ev order.Event) error
}

// TellCustomerInput is one milestone of an order for its customer's
// workflow.
type TellCustomerInput struct {
	Event order.Event `json:"event"`
}

// TellCustomerResult is empty: the milestone was handed over.
type TellCustomerResult struct{}

// TellCustomer signals the milestone to the customer's workflow (a local
// activity of the order: one marker in the workflow task that reached the
// milestone, no activity task). A retry may signal it twice; the customer
// workflow keeps each milestone once, by its key.
func (a *Activities) TellCustomer(ctx context.Context, in TellCustomerInput) (TellCustomerResult, error) {
	ev := in.Event
	if ev.OrderID == "" || ev.CustomerID == "" || ev.Kind == "" {
		return TellCustomerResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("tell the customer: order %q, customer %q, milestone %q: all three are needed", ev.OrderID, ev.CustomerID, ev.Kind),
			ErrTypeInvalidInput, nil)
	}
	if a.Customers == nil {
		return TellCustomerResult{}, temporal.NewNonRetryableApplicationError(
			"tell the customer: this worker has no Temporal client to signal customer workflows with", ErrTypeInvalidInput,
			errors.New("Activities.Customers is not set"))
	}
	if err := a.Customers.TellCustomer(ctx, ev); err != nil {
		// Temporal's frontend is this system's own: a failure is an
		// outage or a deploy, never the milestone's fault.
		return TellCustomerResult{}, fmt.Errorf("tell customer %s of order %s %s: %w", ev.CustomerID, ev.OrderID, ev.Kind, err)
	}
	return TellCustomerResult{}, nil
}
