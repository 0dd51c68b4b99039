package erpsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// env is a seeded simulator on its own database, served over HTTP.
type env struct {
	pool *pgxpool.Pool
	sim  *erpsim.Sim
	url  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := pgtest.NewPool(t, nil)
	return startSim(t, pool)
}

// startSim starts a Sim on pool as a process would: New, Migrate, Seed, serve.
func startSim(t *testing.T, pool *pgxpool.Pool) *env {
	t.Helper()
	ctx := context.Background()
	sim := erpsim.New(pool, zerolog.Nop())
	require.NoError(t, sim.Migrate(ctx))
	require.NoError(t, sim.Seed(ctx))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{pool: pool, sim: sim, url: srv.URL}
}

// reply is an HTTP answer as a caller sees it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a fresh map for field checks.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body %s", r.body)
	return m
}

// do sends body (JSON-encoded unless it is already []byte) with key as the
// Idempotency-Key when not empty.
func (e *env) do(t *testing.T, method, path, key string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// line is a sales order line on the wire.
type line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// soBody is a POST /v1/sales-orders body.
func soBody(orderID, customerID, currency string, lines ...line) map[string]any {
	return map[string]any{"order_id": orderID, "customer_id": customerID, "currency": currency, "lines": lines}
}

// createSO creates a sales order and returns its id, failing the test otherwise.
func (e *env) createSO(t *testing.T, key, orderID string, lines ...line) string {
	t.Helper()
	r := e.do(t, http.MethodPost, "/v1/sales-orders", key, soBody(orderID, "ACME-001", "EUR", lines...))
	require.Equal(t, http.StatusCreated, r.status, "create sales order: %s", r.body)
	return r.json(t)["sales_order_id"].(string)
}

// available maps "WAREHOUSE/SKU" to what can still be reserved.
func (e *env) available(t *testing.T) map[string]int64 {
	t.Helper()
	levels, err := e.sim.Stock(context.Background())
	require.NoError(t, err)
	out := make(map[string]int64, len(levels))
	for _, l := range levels {
		out[l.Warehouse+"/"+l.SKU] = l.Available
	}
	return out
}

// receivables asks the ERP for a customer's open receivables in minor units.
func (e *env) receivables(t *testing.T, customer, currency string) int64 {
	t.Helper()
	r := e.do(t, http.MethodGet, "/v1/customers/"+customer+"/exposure?currency="+currency, "", nil)
	require.Equal(t, http.StatusOK, r.status, "exposure: %s", r.body)
	var out struct {
		OpenReceivables struct {
			Minor    int64  `json:"minor"`
			Currency string `json:"currency"`
		} `json:"open_receivables"`
	}
	require.NoError(t, json.Unmarshal(r.body, &out))
	require.Equal(t, currency, out.OpenReceivables.Currency)
	return out.OpenReceivables.Minor
}
