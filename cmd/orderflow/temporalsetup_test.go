//go:build !nodev

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/temporalsetup"
	"github.com/orderflow/orderflow/workflows"
)

// TestTemporalSetupIsIdempotent: against a bare Temporal server,
// temporal-setup registers the namespace and adds every search attribute
// an order carries; run again, it changes nothing and says so; an
// attribute that exists with another type stops it with an error naming it.
func TestTemporalSetupIsIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{FrontendAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	t.Setenv("TEMPORAL_ADDRESS", srv.FrontendAddr())
	t.Setenv("TEMPORAL_NAMESPACE", "orders")

	setup := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := run(ctx, append([]string{"temporal-setup"}, args...), &out, &errs)
		return out.String(), err
	}
	out, err := setup("-retention", "72h")
	require.NoError(t, err)
	require.Contains(t, out, "registered namespace orders (retention 72h0m0s)")
	require.Contains(t, out, "added search attribute(s) to namespace orders: CustomerId, DeliveryOverdue, NeedsAttention, OrderStatus, OrderTotal, PONumber")

	c, err := client.DialContext(ctx, client.Options{HostPort: srv.FrontendAddr(), Namespace: "orders"})
	require.NoError(t, err)
	defer c.Close()
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "orders"})
	require.NoError(t, err)
	require.Equal(t, 72*time.Hour, desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), "retention of the registered namespace")
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "orders"})
	require.NoError(t, err)
	for name, typ := range workflows.SearchAttributes() {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], name)
	}

	out, err = setup()
	require.NoError(t, err, "a second run")
	require.Contains(t, out, "namespace orders exists")
	require.Contains(t, out, "search attributes of namespace orders complete")

	// -skip-namespace with a namespace that someone else made, holding
	// OrderTotal as a keyword: refused, naming it.
	created, err := temporalsetup.EnsureNamespace(ctx, c, "clash", 24*time.Hour)
	require.NoError(t, err)
	require.True(t, created)
	require.Eventually(t, func() bool { // once the new namespace reached the frontend's cache
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: "clash", SearchAttributes: map[string]enums.IndexedValueType{"OrderTotal": enums.INDEXED_VALUE_TYPE_KEYWORD}})
		return err == nil
	}, time.Minute, 200*time.Millisecond, "add OrderTotal as a keyword: %v", err)
	t.Setenv("TEMPORAL_NAMESPACE", "clash")
	_, err = setup("-skip-namespace")
	require.ErrorIs(t, err, temporalsetup.ErrTypeClash)
	require.ErrorContains(t, err, "OrderTotal exists in namespace clash as Keyword, orderflow needs Double")

	_, err = setup("-retention", "1h")
	require.ErrorContains(t, err, "at least a day")
}
