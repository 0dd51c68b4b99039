package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/mocks"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
)

// The benchmarks here measure the API in-process: a request goes through
// httptest into the handler, with the real router, middleware, token check,
// webhook verification, JSON and PostgreSQL (a throw-away database per
// benchmark, created before timing starts). Temporal is a mock with no
// expectations at all: a benchmarked path that reached Temporal would panic in
// the mock and answer 500, and the benchmark would fail. So only the paths that
// do not reach Temporal are measured here; creating an order and signalling a
// delivery or a matched payment need a real server (the e2e package, or the
// load generator).
//
// The access log and the handlers' logs are encoded as in production (JSON,
// info level, with a timestamp) and written to io.Discard.

// newBenchEnv is newEnv for benchmarks: the same API over a fresh database
// with the demo customers, but a Temporal mock that refuses every call and
// logs encoded as in production, then thrown away.
func newBenchEnv(b *testing.B) *env {
	b.Helper()
	return newEnv(b, withClient(&mocks.Client{}), withLogsTo(io.Discard))
}

// requireStatus fails the benchmark unless w answered status with a body
// containing want.
func requireStatus(b *testing.B, w *responseRecorder, status int, want string) {
	if w.Code != status || !bytes.Contains(w.Body.Bytes(), []byte(want)) {
		b.Fatalf("answered %d %s, want %d with %s", w.Code, w.Body.String(), status, want)
	}
}

// BenchmarkCreateQuoteRefused20Lines: what the API spends (token check, strict JSON decoding, validation, problem+json) to refuse a 20-line quote with one bad field, before touching PostgreSQL or Temporal.
func BenchmarkCreateQuoteRefused20Lines(b *testing.B) {
	e := newBenchEnv(b)
	lines := make([]map[string]any, 20)
	for i := range lines {
		lines[i] = map[string]any{"sku": fmt.Sprintf("PART-%04d-M%d", 1000+i*7, 4+i%9), "quantity": 10 + i*25}
	}
	body, err := json.Marshal(map[string]any{
		"customer_id": acme,
		"po_number":   "PO-2026-004711",
		"lines":       lines,
		"discount_bp": 25_000, // 250 %: the one bad field
	})
	if err != nil {
		b.Fatal(err)
	}
	r := req{method: http.MethodPost, path: "/v1/quotes", token: e.token(order.RoleSalesRep), body: body,
		header: map[string]string{api.IdempotencyKeyHeader: "quote-bench-1", "Content-Type": "application/json"}}
	// Once, fully: the refusal names discount_bp and nothing else.
	if p := requireProblem(b, e.do(r), http.StatusUnprocessableEntity); len(p.fields()) != 1 || p.fields()[0] != "discount_bp" {
		b.Fatalf("refused for %v, want [discount_bp]", p.fields())
	}

	b.ReportAllocs()
	for b.Loop() {
		w := e.do(r)
		requireStatus(b, w, http.StatusUnprocessableEntity, `"field":"discount_bp"`)
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			b.Fatalf("Content-Type %q", ct)
		}
	}
}

// benchOrders is how many orders seedOrders writes: 100 per customer and status.
const benchOrders = 3 * 7 * 100

// seedOrders writes benchOrders orders through the store, spread evenly over
// the three demo customers and seven statuses, ids in creation order, and
// brings the planner's statistics up to date.
func seedOrders(b *testing.B, st *store.Store, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	customers := []string{acme, globex, "INITECH-003"}
	statuses := []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusConfirmed,
		order.StatusShipping, order.StatusAwaitingPayment, order.StatusCompleted, order.StatusCancelled}
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for i := range benchOrders {
		id := fmt.Sprintf("ord_%026d", i)
		at := start.Add(time.Duration(i) * 7 * time.Minute)
		_, _, err := st.CreateOrder(ctx, store.NewOrder{
			IdempotencyScope: "storefront",
			IdempotencyKey:   "seed-" + id,
			RequestHash:      "hash-" + id,
			Order: store.OrderRecord{ID: id, CustomerID: customers[i%len(customers)], PONumber: "PO-" + strconv.Itoa(40_000+i),
				Status: statuses[(i/len(customers))%len(statuses)], Total: money.New(int64(10_000+i*137), "EUR"),
				Details: "waiting for the customer's payment", CreatedAt: at},
			Actor: order.Actor{Subject: "storefront", Role: order.RoleStorefront},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// Autovacuum would analyze the fresh table at a moment of its choosing,
	// in the middle of a measurement.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListOrdersPage: one page (50 of 100 matches) of GET /v1/orders?customer_id=…&status=… from the projection of 2,100 orders, as a CS dashboard asks it.
func BenchmarkListOrdersPage(b *testing.B) {
	e := newBenchEnv(b)
	seedOrders(b, e.store, e.pool)
	r := req{method: http.MethodGet, path: "/v1/orders?customer_id=" + acme + "&status=AWAITING_PAYMENT&limit=50", token: e.token(order.RoleCS)}
	w := e.do(r)
	page := decode[struct {
		Orders    []store.OrderRecord `json:"orders"`
		NextAfter string              `json:"next_after"`
	}](b, w)
	if len(page.Orders) != 50 || page.NextAfter == "" {
		b.Fatalf("first page has %d orders and next_after %q, want a full page of 50 and more", len(page.Orders), page.NextAfter)
	}
	idKey := []byte(`"id":"`)

	b.ReportAllocs()
	for b.Loop() {
		w := e.do(r)
		requireStatus(b, w, http.StatusOK, `"next_after":"`)
		if n := bytes.Count(w.Body.Bytes(), idKey); n != 50 {
			b.Fatalf("page has %d orders, want 50", n)
		}
	}
}

// signedReq is the webhook request e.hook sends, signed once up front so
// that a benchmark repeating it measures the receiver only.
func signedReq(path string, secret []byte, ts time.Time, body []byte) req {
	return req{method: http.MethodPost, path: path, body: body,
		header: map[string]string{webhook.SignatureHeader: webhook.Sign(secret, ts, body), "Content-Type": "application/json"}}
}

// logisticsEvent is an in-transit scan as the carrier sends it.
func logisticsEvent(e *env, eventID string) webhook.LogisticsEvent {
	return webhook.LogisticsEvent{EventID: eventID, Type: webhook.LogisticsInTransit, ShipmentID: "SHP-4C2E91A07B3D8F56",
		TrackingNumber: "1Z999AA10123456784", Reference: "ord_01KBX3Q8M4ZP7R2T6V9W0Y5N1C", OccurredAt: e.now.Add(-2 * time.Minute),
		Detail: "Departed sorting centre DE-HAM-07, in transit to delivery depot DE-MUC-02"}
}

// BenchmarkLogisticsWebhookNew: one new in-transit webhook end to end in the API: signature check, decoding, validation, dedup lookup and the dedup insert in PostgreSQL.
//
// Each iteration also builds and signs its body (a new event id each time),
// the sender's part, a few microseconds of the total.
func BenchmarkLogisticsWebhookNew(b *testing.B) {
	e := newBenchEnv(b)
	benchNewEvents(b, e, "/v1/webhooks/logistics", logisticsSecret, api.WebhookAccepted, func(n string) any {
		return logisticsEvent(e, "EVT-NEW-"+n)
	})
}

// benchNewEvents posts a new signed event (built from the iteration number)
// each iteration and requires the webhook status want.
func benchNewEvents(b *testing.B, e *env, path string, secret []byte, want string, event func(n string) any) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body, err := json.Marshal(event(strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		requireStatus(b, e.hook(path, secret, e.now, body), http.StatusOK, `"status":"`+want+`"`)
	}
}

// BenchmarkLogisticsWebhookDuplicate: what a carrier's redelivery of an event already handled costs: signature check, decoding, validation and one dedup lookup in PostgreSQL.
func BenchmarkLogisticsWebhookDuplicate(b *testing.B) {
	e := newBenchEnv(b)
	const path = "/v1/webhooks/logistics"
	body, err := json.Marshal(logisticsEvent(e, "EVT-7F3A9C21B04D5E68"))
	if err != nil {
		b.Fatal(err)
	}
	r := signedReq(path, logisticsSecret, e.now, body)
	requireStatus(b, e.do(r), http.StatusOK, `"status":"`+api.WebhookAccepted+`"`)

	b.ReportAllocs()
	for b.Loop() {
		requireStatus(b, e.do(r), http.StatusOK, `"status":"`+api.WebhookDuplicate+`"`)
	}
}

// BenchmarkPaymentWebhookUnmatched: one new bank payment whose reference names no invoice, end to end in the API: signature check, decoding, validation, dedup lookup, payment insert, invoice lookup and dedup insert (no Temporal signal on this path).
//
// Each iteration also builds and signs its body (new event and transaction
// ids each time), the sender's part, a few microseconds of the total.
func BenchmarkPaymentWebhookUnmatched(b *testing.B) {
	e := newBenchEnv(b)
	benchNewEvents(b, e, "/v1/webhooks/payments", paymentsSecret, api.WebhookUnmatched, func(n string) any {
		return webhook.PaymentEvent{EventID: "EVT-PAY-" + n, BankTransactionID: "BTX-20261125-DEUTDEFF-" + n,
			Amount: money.New(483_060, "EUR"), Reference: "PO-4711 pumps and motor, thank you",
			Payer: "Acme Industrial Components GmbH, Hamburg", ReceivedAt: e.now.Add(-time.Minute)}
	})
}

// BenchmarkWebhookForged: what a payment webhook with a forged signature costs the API before the 401, i.e. the price of junk traffic on the public webhook endpoints.
func BenchmarkWebhookForged(b *testing.B) {
	e := newBenchEnv(b)
	const path = "/v1/webhooks/payments"
	body, err := json.Marshal(webhook.PaymentEvent{EventID: "EVT-FORGED", BankTransactionID: "BTX-FORGED",
		Amount: money.New(483_060, "EUR"), Reference: "INV-000042", Payer: "Mallory", ReceivedAt: e.now})
	if err != nil {
		b.Fatal(err)
	}
	r := signedReq(path, []byte("not-the-banks-secret"), e.now, body)
	requireProblem(b, e.do(r), http.StatusUnauthorized)

	b.ReportAllocs()
	for b.Loop() {
		requireStatus(b, e.do(r), http.StatusUnauthorized, api.ProblemUnauthorized)
	}
}
