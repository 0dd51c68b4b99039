package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/loadgen"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// TestConcurrentOrdersCompleteThroughERPErrors runs what `orderflow bench`
// runs, small: orders from two customers, several at a time, each answered
// the moment the API shows it waiting (the race that once lost acceptances),
// while one ERP call in ten answers 503. Every order completes, and the ERP
// holds exactly one sales order and one invoice per order: retries never
// booked twice.
func TestConcurrentOrdersCompleteThroughERPErrors(t *testing.T) {
	t.Parallel()
	x := startWith(t, func(o *devstack.Options) {
		// Random 503s may trip the breaker; let it probe again soon.
		o.Breaker = downstream.BreakerSettings{ConsecutiveFailures: 5, OpenFor: time.Second}
	})
	ctx := context.Background()
	x.s.ERP.SetFaults([]erpsim.FaultRule{{Route: "*", ErrorRate: 0.1}})
	tok, err := x.s.Tokens.Mint(order.Actor{Subject: "load@storefront", Role: order.RoleStorefront}, time.Hour)
	require.NoError(t, err)

	const orders = 12
	rep, err := loadgen.Run(ctx, loadgen.Targets{API: x.s.APIURL, Carrier: x.s.CarrierURL, Bank: x.s.BankURL, Mail: x.s.MailURL, Token: tok},
		loadgen.Config{Orders: orders, Concurrency: 6, Customers: []string{"ACME-001", "INITECH-003"},
			Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 10}, {SKU: "NUT-M8", Quantity: 10}},
			Poll:  20 * time.Millisecond, StageTimeout: 2 * time.Minute, RunID: "e2e-load"})
	require.NoError(t, err)
	require.Equal(t, orders, rep.Completed, "errors: %v", rep.Errors)
	for _, s := range rep.Stages {
		require.Equal(t, orders, s.N, "stage %s timed for every order", s.Name)
	}

	calls, err := x.s.ERP.Calls(ctx)
	require.NoError(t, err)
	t.Logf("ERP calls by route (with 10%% 503s): %v", calls)
	sos, err := x.s.ERP.SalesOrders(ctx, "")
	require.NoError(t, err)
	invs, err := x.s.ERP.Invoices(ctx, "")
	require.NoError(t, err)
	salesOrders, invoices := map[string]int{}, map[string]int{}
	for _, so := range sos {
		salesOrders[so.OrderID]++
	}
	for _, inv := range invs {
		invoices[inv.OrderID]++
	}
	require.Len(t, salesOrders, orders)
	require.Len(t, invoices, orders)
	for id, n := range salesOrders {
		require.Equal(t, 1, n, "order %s: sales orders in the ERP", id)
		require.Equal(t, 1, invoices[id], "order %s: invoices in the ERP", id)
	}
	for _, inv := range invs {
		require.Equal(t, inv.Amount, inv.Paid, "the ERP imported the bank's payment of %s", inv.Number)
	}

	// Paid invoices left the receivables: the customers' exposure is back where it started.
	x.s.ERP.ClearFaults()
	for customer, want := range map[string]money.Money{"ACME-001": money.New(1_200_000, "EUR"), "INITECH-003": money.New(0, "USD")} {
		a := x.call(http.MethodGet, x.s.ERPURL+"/v1/customers/"+customer+"/exposure?currency="+want.Currency, "", nil, nil)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		var exp struct {
			OpenReceivables money.Money `json:"open_receivables"`
		}
		require.NoError(t, json.Unmarshal(a.body, &exp))
		require.Equal(t, want, exp.OpenReceivables, "%s's open receivables after every order was paid", customer)
	}
}
