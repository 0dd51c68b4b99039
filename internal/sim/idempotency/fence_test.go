package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/sim/idempotency"
)

// fence runs Store.Fence for key in a transaction of its own and commits it.
func fence(t *testing.T, pool *pgxpool.Pool, store *idempotency.Store, key string) (string, bool) {
	t.Helper()
	var answer []byte
	var found bool
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		answer, found, err = store.Fence(context.Background(), tx, key)
		return err
	})
	require.NoError(t, err)
	return string(answer), found
}

func TestFenceFindsTheStoredAnswer(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	store := idempotency.New(pool, "sim_keys", zerolog.Nop(), nil)

	created := post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`)
	require.Equal(t, 201, created.status)
	answer, found := fence(t, pool, store, "k-1")
	require.True(t, found)
	require.Equal(t, created.body, answer)
	// Fencing changes nothing for a key in use: the write still replays.
	require.Equal(t, reply{201, created.body, "true"}, post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`))
}

func TestFenceOfAnUnusedKeyRefusesLaterWrites(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	store := idempotency.New(pool, "sim_keys", zerolog.Nop(), nil)

	_, found := fence(t, pool, store, "k-1")
	require.False(t, found, "nothing was written under k-1")
	const fenced = `{"error":"undone_by_key","detail":"an undo named this key before a write was made under it; a write under it takes no effect"}`
	for range 2 {
		require.Equal(t, reply{409, fenced, ""}, post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`))
	}
	require.Zero(t, srv.runs.Load(), "the write never ran")
	require.Zero(t, countThings(t, pool))
	_, found = fence(t, pool, store, "k-1")
	require.False(t, found, "fencing again still finds nothing")
}

func TestFenceWaitsForAWriteInFlight(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "sim_keys")
	srv := serve(t, pool, "sim_keys")
	store := idempotency.New(pool, "sim_keys", zerolog.Nop(), nil)
	srv.hold = make(chan struct{})

	posted := make(chan reply, 1)
	go func() { posted <- post(t, srv.url+"/things", "k-1", `{"name":"bolt"}`) }()
	require.Eventually(t, func() bool { return srv.runs.Load() == 1 }, 10*time.Second, 5*time.Millisecond,
		"the write claims its key")

	type fenced struct {
		answer string
		found  bool
	}
	done := make(chan fenced, 1)
	go func() {
		a, f := fence(t, pool, store, "k-1")
		done <- fenced{a, f}
	}()
	// The fence queues behind the write's claim instead of fencing a key
	// whose write is about to commit.
	require.Eventually(t, func() bool {
		var waiting int
		err := pool.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 5*time.Millisecond)
	close(srv.hold)

	created := <-posted
	require.Equal(t, 201, created.status)
	got := <-done
	require.True(t, got.found)
	require.Equal(t, created.body, got.answer)
}
