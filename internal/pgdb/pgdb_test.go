package pgdb_test

import (
	"context"
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
