// Package pgtest gives each test its own throw-away PostgreSQL database on the
// local server, so tests run in parallel and leave nothing behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/pgdb"
)

// AdminURL is the server tests create databases on; ORDERFLOW_TEST_DATABASE_URL
// overrides it.
func AdminURL() string {
	if u := os.Getenv("ORDERFLOW_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewURL creates an empty database and returns its URL; the database is dropped
// when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	url, err := pgdb.WithDatabase(AdminURL(), "orderflow_test_"+hex.EncodeToString(b))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := pgdb.EnsureDatabase(ctx, url); err != nil {
		t.Fatalf("pgtest: %v (is PostgreSQL running?)", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pgdb.DropDatabase(ctx, url); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return url
}

// NewPool creates a throw-away database, applies setup (usually migrations)
// and returns a pool that is closed when the test ends.
func NewPool(t testing.TB, setup func(context.Context, *pgxpool.Pool) error) *pgxpool.Pool {
	t.Helper()
	url := NewURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if setup != nil {
		if err := setup(ctx, pool); err != nil {
			t.Fatalf("pgtest: setup: %v", err)
		}
	}
	return pool
}
