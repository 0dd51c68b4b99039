package pgdb_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

func TestEnsureDatabaseAndMigrateAreRepeatable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	// The database exists already: EnsureDatabase must accept that.
	if err := pgdb.EnsureDatabase(ctx, url); err != nil {
		t.Fatalf("EnsureDatabase on an existing database: %v", err)
	}
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	migrations := fstest.MapFS{
		"001_widgets.sql": {Data: []byte("CREATE TABLE widgets (id int PRIMARY KEY);\n---- create above / drop below ----\nDROP TABLE widgets;\n")},
	}
	for range 2 {
		if err := pgdb.Migrate(ctx, pool, migrations, "widget_version"); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM widgets`).Scan(&n); err != nil {
		t.Fatalf("migrated table missing: %v", err)
	}
}

func TestDropDatabaseRemovesItAndToleratesAMissingOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name := "orderflow_droptest_" + strings.ToLower(t.Name())
	url, err := pgdb.WithDatabase(pgtest.AdminURL(), name)
	if err != nil {
		t.Fatal(err)
	}
	if err := pgdb.EnsureDatabase(ctx, url); err != nil {
		t.Fatal(err)
	}
	pool, err := pgdb.Open(ctx, url) // an open connection must not stop the drop
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for range 2 {
		if err := pgdb.DropDatabase(ctx, url); err != nil {
			t.Fatalf("DropDatabase: %v", err)
		}
	}
	admin, err := pgdb.Open(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`,
		name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("the database is still there after DropDatabase")
	}
	if err := pgdb.DropDatabase(ctx, pgtest.AdminURL()); err == nil {
		t.Fatal(`DropDatabase of "postgres" must refuse`)
	}
}

func TestWithDatabaseKeepsServerAndOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, name, want string }{
		{"postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable", "bench_1", "postgres://postgres@127.0.0.1:5432/bench_1?sslmode=disable"},
		{"postgres://u:p%40ss@db.internal/app", "other", "postgres://u:p%40ss@db.internal/other"},
		{"postgres://h", "x", "postgres://h/x"},
	} {
		got, err := pgdb.WithDatabase(tc.in, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("WithDatabase(%q, %q) = %q, %v; want %q", tc.in, tc.name, got, err, tc.want)
		}
	}
	if _, err := pgdb.WithDatabase("postgres://bad host/x", "y"); err == nil {
		t.Error("an unparsable URL must be an error")
	}
}
