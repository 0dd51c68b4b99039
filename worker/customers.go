package worker

import (
	"context"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// customerTeller hands order milestones to the customers' workflows with
// signal-with-start: the customer's workflow starts with the customer's
// first milestone when nothing started it before (activities.CustomerTeller).
type customerTeller struct{ c client.Client }

// TellCustomer signals ev to its customer's workflow, starting the
// workflow when none is running.
func (t customerTeller) TellCustomer(ctx context.Context, ev order.Event) error {
	_, err := t.c.SignalWithStartWorkflow(ctx, workflows.CustomerWorkflowID(ev.CustomerID), workflows.SignalOrderEvent, ev,
		client.StartWorkflowOptions{
			ID:        workflows.CustomerWorkflowID(ev.CustomerID),
			TaskQueue: workflows.TaskQueue,
			// One workflow per customer for ever: a customer whose workflow
			// ended (terminated by an operator) gets a new one.
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary:         "Customer " + ev.CustomerID + " between orders",
		},
		workflows.CustomerWorkflowName, workflows.CustomerInput{CustomerID: ev.CustomerID})
	return err
}
