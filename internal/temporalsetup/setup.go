// Package temporalsetup prepares a Temporal namespace for orderflow: the
// namespace itself and the custom search attributes every order carries.
// Each step is idempotent, so `orderflow temporal-setup` may run on every
// deploy, and the dev server uses the same code.
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrTypeClash: a search attribute exists with another type than orderflow
// needs. Temporal cannot change an attribute's type; it takes a new name or
// a new namespace, so this is never retried.
var ErrTypeClash = errors.New("search attribute exists with another type")

// EnsureNamespace registers ns with the given retention when it does not
// exist; created says whether this call registered it. An existing
// namespace is left as it is, whatever its retention.
func EnsureNamespace(ctx context.Context, c client.Client, ns string, retention time.Duration) (created bool, err error) {
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &notFound):
		return false, fmt.Errorf("describe namespace %s: %w", ns, err)
	}
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        ns,
		Description:                      "orderflow: one workflow per B2B order",
		WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case errors.As(err, &exists): // registered meanwhile by another process
		return false, nil
	case err != nil:
		return false, fmt.Errorf("register namespace %s: %w", ns, err)
	}
	return true, nil
}

// EnsureSearchAttributes adds to ns the search attributes of want it lacks
// and returns their names, sorted. One that exists with another type is
// ErrTypeClash, and nothing is added.
func EnsureSearchAttributes(ctx context.Context, c client.Client, ns string, want map[string]enums.IndexedValueType) (added []string, err error) {
	if len(want) == 0 {
		return nil, nil
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", ns, err)
	}
	have := resp.GetCustomAttributes()
	missing := make(map[string]enums.IndexedValueType)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, ok := have[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case got != want[name]:
			return nil, fmt.Errorf("%s exists in namespace %s as %s, orderflow needs %s (use another namespace): %w",
				name, ns, got, want[name], ErrTypeClash)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	// Adding an attribute that exists is a no-op, so a retry after a lost
	// answer is safe.
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: missing,
	}); err != nil {
		return nil, fmt.Errorf("add search attributes to namespace %s: %w", ns, err)
	}
	return slices.Sorted(maps.Keys(missing)), nil
}
