package schema_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/schema"
)

const drop = "\n---- create above / drop below ----\n"

func columns(t *testing.T, pool *pgxpool.Pool, table string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, table)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		out = append(out, c)
	}
	require.NoError(t, rows.Err())
	return out
}

func version(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var v int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT version FROM `+table).Scan(&v))
	return v
}

func TestApplyRunsWhatIsNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, nil)
	files := fstest.MapFS{
		"migrations/001_things.sql": {Data: []byte(`CREATE TABLE things (id text PRIMARY KEY);` + drop + `DROP TABLE things;`)},
		// Files beside the directory are not migrations.
		"001_stray.sql": {Data: []byte(`CREATE TABLE stray (id text);` + drop + `DROP TABLE stray;`)},
	}
	require.NoError(t, schema.Apply(ctx, pool, files, "things_schema_version"))
	require.Equal(t, []string{"id"}, columns(t, pool, "things"))
	require.Empty(t, columns(t, pool, "stray"))
	require.Equal(t, 1, version(t, pool, "things_schema_version"))

	// A restart applies nothing again; a newer build applies only its new file.
	require.NoError(t, schema.Apply(ctx, pool, files, "things_schema_version"))
	files["migrations/002_name.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE things ADD COLUMN name text;` + drop +
		`ALTER TABLE things DROP COLUMN name;`)}
	require.NoError(t, schema.Apply(ctx, pool, files, "things_schema_version"))
	require.Equal(t, []string{"id", "name"}, columns(t, pool, "things"))
	require.Equal(t, 2, version(t, pool, "things_schema_version"))
}

// Two simulators on one database each keep their own version: one's
// migrations do not count as the other's.
func TestVersionTablesAreSeparate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, nil)
	erp := fstest.MapFS{"migrations/001_erp.sql": {Data: []byte(`CREATE TABLE erp_things (id text);` + drop + `DROP TABLE erp_things;`)}}
	carrier := fstest.MapFS{"migrations/001_carrier.sql": {Data: []byte(`CREATE TABLE carrier_things (id text);` + drop + `DROP TABLE carrier_things;`)}}
	require.NoError(t, schema.Apply(ctx, pool, erp, "erp_schema_version"))
	require.NoError(t, schema.Apply(ctx, pool, carrier, "carrier_schema_version"))
	require.Equal(t, []string{"id"}, columns(t, pool, "erp_things"))
	require.Equal(t, []string{"id"}, columns(t, pool, "carrier_things"))
	require.Equal(t, 1, version(t, pool, "erp_schema_version"))
	require.Equal(t, 1, version(t, pool, "carrier_schema_version"))
}

func TestApplyReportsABadMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, nil)
	files := fstest.MapFS{"migrations/001_bad.sql": {Data: []byte(`CREATE TABLE things (id nosuchtype);` + drop)}}
	err := schema.Apply(ctx, pool, files, "bad_schema_version")
	require.ErrorContains(t, err, "bad_schema_version")
	require.ErrorContains(t, err, "nosuchtype")
	require.Empty(t, columns(t, pool, "things"))
}
