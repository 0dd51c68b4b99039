package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
)

// The benchmarks run against the local PostgreSQL, each in a throw-away
// database created and seeded before timing starts (b.Loop runs a benchmark
// function once per -count, so once per run, not once per iteration).
// Writes commit one by one, as the activities do, so their time is mostly
// PostgreSQL's commit (WAL flush) on this machine's disk.

// benchOrders is how many orders newSeededStore writes: 100 per customer and status.
const benchOrders = 3 * 7 * 100

var (
	benchCustomers = []string{"ACME-001", "GLOBEX-002", "INITECH-003"}
	benchStatuses  = []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusConfirmed,
		order.StatusShipping, order.StatusAwaitingPayment, order.StatusCompleted, order.StatusCancelled}
)

func benchOrderID(i int) string { return fmt.Sprintf("ord_%026d", i) }

// newSeededStore returns a store on a fresh database holding benchOrders
// orders, spread evenly over three customers and seven statuses, with the
// planner's statistics up to date.
func newSeededStore(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(b, store.Migrate)
	s := store.New(pool)
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for i := range benchOrders {
		id := benchOrderID(i)
		_, created, err := s.CreateOrder(ctx, store.NewOrder{
			IdempotencyScope: "storefront",
			IdempotencyKey:   "seed-" + id,
			RequestHash:      "hash-" + id,
			Order: store.OrderRecord{ID: id, CustomerID: benchCustomers[i%len(benchCustomers)], PONumber: "PO-" + strconv.Itoa(40_000+i),
				Status: benchStatuses[(i/len(benchCustomers))%len(benchStatuses)], Total: money.New(int64(10_000+i*137), "EUR"),
				Details: "waiting for the customer's payment", CreatedAt: start.Add(time.Duration(i) * 7 * time.Minute)},
			Actor: buyer,
		})
		if err != nil || !created {
			b.Fatalf("seed order %s: created %v, %v", id, created, err)
		}
	}
	// Autovacuum would analyze the fresh table at a moment of its choosing,
	// in the middle of a measurement.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAppendAudit: the cost of one audit entry written outside the workflow (e.g. finance allocating a payment), a single-row INSERT with jsonb that commits on its own.
func BenchmarkAppendAudit(b *testing.B) {
	s := newSeededStore(b)
	ctx := context.Background()
	finance := order.Actor{Subject: "fiona@seller.example", Role: order.RoleFinance}
	data := json.RawMessage(`{"bank_transaction_id":"BTX-20261125-DEUTDEFF-0004711223","invoice_number":"INV-000042","amount":{"minor":483060,"currency":"EUR"},"match":"exact"}`)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		err := s.AppendAudit(ctx, store.AuditEntry{
			OrderID: benchOrderID(i % benchOrders), At: t0.Add(time.Duration(i) * time.Second), Actor: finance,
			Action: "payment.allocated", Reason: "payer wrote the PO number instead of the invoice number", Data: data,
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRecordTransition: the cost of one workflow transition reaching the projection (one transaction: lock the order row, insert the audit entry, update the projection), which every order pays about ten times.
func BenchmarkRecordTransition(b *testing.B) {
	s := newSeededStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Round robin over the orders, each seq new for its order, so that
		// every call updates the projection rather than being a replay.
		seq := int64(i/benchOrders) + 1
		status := benchStatuses[int(seq)%len(benchStatuses)]
		err := s.RecordTransition(ctx, store.Transition{
			OrderID: benchOrderID(i % benchOrders), Seq: seq, Status: status,
			Total: money.New(483_060, "EUR"), QuoteRevision: 1, Details: "now " + string(status),
			Action: "status.changed", Data: json.RawMessage(`{"revision":1}`), At: t0.Add(time.Duration(i) * time.Second),
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkListOrdersByCustomerStatus: one page of 50 (of 100 matches) by customer and status from a projection of 2,100 orders, the query behind GET /v1/orders?customer_id=…&status=….
func BenchmarkListOrdersByCustomerStatus(b *testing.B) {
	s := newSeededStore(b)
	ctx := context.Background()
	f := store.OrderFilter{CustomerID: "ACME-001", Status: order.StatusAwaitingPayment, Limit: store.DefaultListLimit}
	b.ReportAllocs()
	for b.Loop() {
		recs, err := s.ListOrders(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != store.DefaultListLimit || recs[0].CustomerID != f.CustomerID || recs[0].Status != f.Status {
			b.Fatalf("got %d orders, want a full page of %d of %s in %s", len(recs), store.DefaultListLimit, f.CustomerID, f.Status)
		}
	}
}
