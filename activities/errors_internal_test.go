package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/downstream"
)

// TestClassifyRetryDelays: outside calls that may succeed later carry a
// jittered NextRetryDelay; permanent failures and our own database's
// errors carry none (the latter follow the workflow's retry policy).
func TestClassifyRetryDelays(t *testing.T) {
	t.Parallel()
	ctx := context.Background() // not an activity: counts as the first attempt
	appErr := func(err error) *temporal.ApplicationError {
		t.Helper()
		var a *temporal.ApplicationError
		require.True(t, errors.As(err, &a), "%v carries no ApplicationError", err)
		return a
	}

	transient := appErr(classify(ctx, "reserve", &downstream.Error{System: "erp", Op: "create", Status: 503}))
	require.Equal(t, ErrTypeUnavailable, transient.Type())
	require.False(t, transient.NonRetryable())
	require.GreaterOrEqual(t, transient.NextRetryDelay(), 500*time.Millisecond)
	require.LessOrEqual(t, transient.NextRetryDelay(), time.Second)

	open := appErr(classify(ctx, "reserve", &downstream.Error{System: "erp", Op: "create", BreakerOpen: true, RetryAfter: 30 * time.Second}))
	require.Equal(t, ErrTypeBreakerOpen, open.Type())
	require.GreaterOrEqual(t, open.NextRetryDelay(), 30*time.Second)
	require.LessOrEqual(t, open.NextRetryDelay(), time.Minute)

	permanent := appErr(classify(ctx, "reserve", &downstream.Error{System: "erp", Op: "create", Status: 409, Permanent: true}))
	require.True(t, permanent.NonRetryable())
	require.Zero(t, permanent.NextRetryDelay())

	db := classify(ctx, "record transition", &pgconn.PgError{Code: "57P01", Message: "terminating connection"})
	var a *temporal.ApplicationError
	require.False(t, errors.As(db, &a), "a database error stays a plain retryable error: %v", db)
}
