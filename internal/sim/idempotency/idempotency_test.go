package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// keysTable is the key table as a simulator's migration creates it, for a
// name that must be quoted: the store quotes it itself.
const keysTable = `CREATE TABLE %s (
	key          text        PRIMARY KEY,
	request_hash bytea       NOT NULL,
	status       integer,
	answer       bytea,
	created_at   timestamptz NOT NULL
)`

// newPool returns a database with a things table (the effects' work) and
// the key tables named, with room for concurrent transactions.
func newPool(t *testing.T, tables ...string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	require.NoError(t, err)
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `CREATE TABLE things (id bigserial PRIMARY KEY, name text NOT NULL)`)
	require.NoError(t, err)
	for _, table := range tables {
		_, err := pool.Exec(ctx, fmt.Sprintf(keysTable, pgx.Identifier{table}.Sanitize()))
		require.NoError(t, err)
	}
	return pool
}

type thing struct {
	Name string `json:"name"`
}

// server serves POST under one store; its effect inserts a thing.
type server struct {
	url  string
	runs atomic.Int64 // effects run
	// outcome says how the next effect ends after its insert: 0 answers 201,
	// a status refuses with it, -1 fails with an error.
	outcome atomic.Int64
	// hold, when set, is waited on by the effect after its write: the
	// transaction stays open with the key claimed.
	hold chan struct{}
}

func serve(t *testing.T, pool *pgxpool.Pool, table string) *server {
	t.Helper()
	store := idempotency.New(pool, table, zerolog.New(zerolog.NewTestWriter(t)), nil)
	srv := &server{}
	handler := func(w http.ResponseWriter, r *http.Request) {
		if !idempotency.RequireKey(w, r) {
			return
		}
		var req thing
		if !jsonapi.Decode(w, r, 1<<10, &req) {
			return
		}
		store.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			srv.runs.Add(1)
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO things (name) VALUES ($1) RETURNING id`, req.Name).Scan(&id); err != nil {
				return 0, nil, fmt.Errorf("insert thing: %w", err)
			}
			if srv.hold != nil {
				<-srv.hold
			}
			switch outcome := srv.outcome.Load(); {
			case outcome < 0:
				return 0, nil, errors.New("the disk is full")
			case outcome > 0:
				return int(outcome), jsonapi.Error{Error: "refused", Detail: req.Name}, nil
			}
			return http.StatusCreated, map[string]any{"id": id, "name": req.Name}, nil
		})
	}
	hs := httptest.NewServer(http.HandlerFunc(handler))
	t.Cleanup(hs.Close)
	srv.url = hs.URL
	return srv
}

type reply struct {
	status   int
	body     string
	replayed string
}

func post(t *testing.T, url, key, body string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set(idempotency.Header, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	return reply{resp.StatusCode, string(data), resp.Header.Get(idempotency.ReplayedHeader)}
}

func countThings(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM things`).Scan(&n))
	return n
}

func TestSameRequestReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")

	first := post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`)
	require.Equal(t, reply{201, `{"id":1,"name":"bolt"}`, ""}, first)
	// The same request written otherwise is the same request.
	again := post(t, srv.url+"/things", "k-1", "{ \"name\" :\n \"bolt\" }")
	require.Equal(t, reply{201, `{"id":1,"name":"bolt"}`, "true"}, again)

	require.Equal(t, int64(1), srv.runs.Load(), "the effect ran once")
	require.Equal(t, 1, countThings(t, pool))

	// Another key is another request.
	other := post(t, srv.url+"/things", "k-2", `{"name":"bolt"}`)
	require.Equal(t, reply{201, `{"id":2,"name":"bolt"}`, ""}, other)
}

func TestKeyReusedForAnotherRequestIsRefused(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	require.Equal(t, 201, post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`).status)

	const reused = `{"error":"idempotency_key_reused","detail":"the key was first used with another request"}`
	tests := []struct{ name, path, body string }{
		{"another body", "/things", `{"name":"nut"}`},
		{"another path", "/things/1/cancel", `{"name":"bolt"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, reply{422, reused, ""}, post(t, srv.url+tc.path, "k-1", tc.body))
		})
	}
	require.Equal(t, int64(1), srv.runs.Load())
	require.Equal(t, 1, countThings(t, pool))
}

func TestOnlySuccessIsStored(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")

	srv.outcome.Store(http.StatusConflict)
	refused := post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`)
	require.Equal(t, reply{409, `{"error":"refused","detail":"bolt"}`, ""}, refused)
	require.Zero(t, countThings(t, pool), "a refusal's writes are rolled back")

	srv.outcome.Store(-1)
	failed := post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`)
	require.Equal(t, reply{500, `{"error":"internal","detail":"the disk is full"}`, ""}, failed)
	require.Zero(t, countThings(t, pool), "a failure's writes are rolled back")

	// The cause is fixed: the same key is evaluated afresh, not refused again.
	srv.outcome.Store(0)
	created := post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`)
	require.Equal(t, 201, created.status, created.body)
	require.Empty(t, created.replayed)
	require.Equal(t, int64(3), srv.runs.Load())
	require.Equal(t, 1, countThings(t, pool))

	// And from now on it is replayed, even if the effect would refuse.
	srv.outcome.Store(http.StatusConflict)
	require.Equal(t, reply{201, created.body, "true"}, post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`))
}

func TestKeyIsRequired(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	tests := []struct {
		name, key string
		want      reply
	}{
		{"no key", "", reply{400, `{"error":"idempotency_key_required","detail":"the Idempotency-Key header is required"}`, ""}},
		{"key too long", strings.Repeat("k", idempotency.MaxKeyLen+1),
			reply{400, `{"error":"idempotency_key_too_long","detail":"at most 255 characters"}`, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Refused before the body is read: this one is not even JSON.
			require.Equal(t, tc.want, post(t, srv.url+"/things", tc.key, `{`))
		})
	}
	require.Zero(t, srv.runs.Load())

	longest := post(t, srv.url+"/things", strings.Repeat("k", idempotency.MaxKeyLen), `{"name":"bolt"}`)
	require.Equal(t, 201, longest.status, longest.body)
}

// Routes without a body (cancel, void) leave the key check to Run.
func TestRunChecksTheKeyItself(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	store := idempotency.New(pool, "sim_keys", zerolog.Nop(), nil)
	ran := false
	rec := httptest.NewRecorder()
	store.Run(rec, httptest.NewRequest(http.MethodPost, "/things/1/cancel", nil), nil,
		func(context.Context, pgx.Tx) (int, any, error) {
			ran = true
			return http.StatusOK, nil, nil
		})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, `{"error":"idempotency_key_required","detail":"the Idempotency-Key header is required"}`, rec.Body.String())
	require.False(t, ran)
}

// Retries that arrive while the first request is still running wait for it
// and then replay its answer: the effect runs once.
func TestConcurrentRetriesTakeEffectOnce(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	srv.hold = make(chan struct{})

	const retries = 5
	replies := make([]reply, retries+1)
	var wg sync.WaitGroup
	wg.Go(func() { replies[0] = post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`) })
	// Start the retries once the first holds the key, so none of them can claim it.
	waitFor(t, func() bool { return srv.runs.Load() == 1 })
	for i := 1; i <= retries; i++ {
		wg.Go(func() { replies[i] = post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`) })
	}
	// Every retry blocks on the claimed key inside PostgreSQL.
	waitFor(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
		return waiting == retries
	})
	close(srv.hold)
	wg.Wait()

	require.Equal(t, reply{201, `{"id":1,"name":"bolt"}`, ""}, replies[0])
	for _, r := range replies[1:] {
		require.Equal(t, reply{201, `{"id":1,"name":"bolt"}`, "true"}, r)
	}
	require.Equal(t, int64(1), srv.runs.Load())
	require.Equal(t, 1, countThings(t, pool))
}

// Each simulator keeps its keys in its own table: a key in one is unknown to
// the other. The second name needs quoting to be a table at all.
func TestEachTableHasItsOwnKeys(t *testing.T) {
	t.Parallel()
	odd := `Odd "keys"; DROP TABLE things`
	pool := newPool(t, "erp_keys", odd)
	erp := serve(t, pool, "erp_keys")
	carrier := serve(t, pool, odd)

	require.Equal(t, reply{201, `{"id":1,"name":"bolt"}`, ""}, post(t, erp.url+"/things", "k-1", `{"name":"bolt"}`))
	require.Equal(t, reply{201, `{"id":2,"name":"nut"}`, ""}, post(t, carrier.url+"/things", "k-1", `{"name":"nut"}`))
	require.Equal(t, reply{201, `{"id":2,"name":"nut"}`, "true"}, post(t, carrier.url+"/things", "k-1", `{"name":"nut"}`))

	var keys int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM `+pgx.Identifier{odd}.Sanitize()+` WHERE key = 'k-1' AND status = 201`).Scan(&keys))
	require.Equal(t, 1, keys)
	require.Equal(t, 2, countThings(t, pool))
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
