package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// TestCheckCreditConcurrentOrdersOfOneCustomer: ten orders of one customer
// checked at once cannot all pass on the same room under the limit. Globex
// has a limit of 2000.00 and 1500.00 open in the ERP: 500.00 of room, five
// orders of 100.00. Each order's projection is in CREDIT_CHECK, as the
// workflow records before it calls the check.
func TestCheckCreditConcurrentOrdersOfOneCustomer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, patient)
	ctx := context.Background()

	const orders, fit = 10, 5
	ins := make([]activities.CheckCreditInput, orders)
	for i := range ins {
		ins[i] = activities.CheckCreditInput{OrderID: fmt.Sprintf("ord-globex-%02d", i), CustomerID: "GLOBEX-002", Total: eur(10000)}
		require.NoError(t, f.store.RecordTransition(ctx, store.Transition{OrderID: ins[i].OrderID, CustomerID: "GLOBEX-002",
			Seq: 1, Status: order.StatusCreditCheck, Total: eur(10000), Action: "credit.checking"}))
	}

	// Each call gets its own activity environment, as each would get its own
	// worker goroutine; the activities and the database are shared.
	results := make([]activities.CheckCreditResult, orders)
	errs := make([]error, orders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ins {
		env := newEnv(f.acts)
		wg.Go(func() {
			<-start
			val, err := env.ExecuteActivity(f.acts.CheckCredit, ins[i])
			if err == nil {
				err = val.Get(&results[i])
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()

	var within []string
	for i, res := range results {
		require.NoError(t, errs[i], "check of %s", ins[i].OrderID)
		e := res.Exposure
		assert.Equal(t, e.OpenReceivables.Minor+e.OpenOrders.Minor+e.ThisOrder.Minor, e.Total.Minor, "%s: exposure adds up", ins[i].OrderID)
		assert.Equal(t, e.Total.Minor <= e.Limit.Minor, e.WithinLimit, "%s: exposure %s, limit %s", ins[i].OrderID, e.Total, e.Limit)
		if e.WithinLimit {
			within = append(within, ins[i].OrderID)
		}
	}
	require.Len(t, within, fit, "orders within the limit: %v", within)

	t.Run("a retried check answers its first decision", func(t *testing.T) {
		for i, in := range ins {
			again := mustRun[activities.CheckCreditResult](t, f.env, f.acts.CheckCredit, in)
			if results[i].Exposure.WithinLimit {
				assert.Equal(t, results[i].Exposure, again.Exposure, "%s: the granted decision again", in.OrderID)
			} else {
				assert.False(t, again.Exposure.WithinLimit, "%s: still no room", in.OrderID)
			}
		}
	})
}
