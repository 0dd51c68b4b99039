package devserver

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/log"
	schemaversion "go.temporal.io/server/schema/postgresql/v12"
	schematool "go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

// dropTemporalDatabases drops the databases a postgres store derives from
// stem when the test ends.
func dropTemporalDatabases(t *testing.T, stem string) (mainURL, visURL string) {
	t.Helper()
	mainURL, visURL, err := PostgresDatabaseURLs(stem)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, u := range []string{mainURL, visURL} {
			if err := pgdb.DropDatabase(ctx, u); err != nil {
				t.Logf("drop %s: %v", u, err)
			}
		}
	})
	return mainURL, visURL
}

// schemaState is a database's Temporal schema version and how many steps its
// update history records.
func schemaState(t *testing.T, rawURL string) (version string, steps int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, rawURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, `SELECT curr_version FROM schema_version`).Scan(&version))
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM schema_update_history`).Scan(&steps))
	return version, steps
}

// A first start creates both databases with the schemas this server version
// ships; a second start leaves them as they are.
func TestOpenPostgresCreatesThenLeavesCurrentSchemas(t *testing.T) {
	stem := pgtest.NewURL(t)
	mainURL, visURL := dropTemporalDatabases(t, stem)
	ctx := context.Background()

	store, err := openPostgres(ctx, stem)
	require.NoError(t, err)
	require.Equal(t, "postgres12_pgx", store.main.PluginName)
	require.Equal(t, store.main.DatabaseName+"_visibility", store.visibility.DatabaseName)

	mainVersion, mainSteps := schemaState(t, mainURL)
	visVersion, visSteps := schemaState(t, visURL)
	require.Equal(t, schemaversion.Version, mainVersion)
	require.Equal(t, schemaversion.VisibilityVersion, visVersion)

	_, err = openPostgres(ctx, stem)
	require.NoError(t, err, "second start")
	v, steps := schemaState(t, mainURL)
	require.Equal(t, [2]any{mainVersion, mainSteps}, [2]any{v, steps}, "main schema touched")
	v, steps = schemaState(t, visURL)
	require.Equal(t, [2]any{visVersion, visSteps}, [2]any{v, steps}, "visibility schema touched")
}

// A database left at an older schema version (an older server's) is brought
// up to date, step by step.
func TestEnsureSchemaUpdatesAnOlderSchema(t *testing.T) {
	stem := pgtest.NewURL(t)
	mainURL, _ := dropTemporalDatabases(t, stem)
	require.NoError(t, pgdb.EnsureDatabase(context.Background(), mainURL))
	conf, err := postgresConfig(mainURL, 2)
	require.NoError(t, err)

	// What the sql tool does for `setup-schema -v 0.0` and
	// `update-schema --version 1.17`.
	conn, err := sqltool.NewConnection(conf, log.NewNoopLogger())
	require.NoError(t, err)
	require.NoError(t, schematool.NewSetupSchemaTask(conn, &schematool.SetupConfig{InitialVersion: "0.0"}, log.NewNoopLogger()).Run())
	require.NoError(t, schematool.NewUpdateSchemaTask(conn, &schematool.UpdateConfig{
		DBName: conf.DatabaseName, SchemaName: temporalSchema, TargetVersion: "1.17",
	}, log.NewNoopLogger()).Run())
	conn.Close()
	old, oldSteps := schemaState(t, mainURL)
	require.Equal(t, "1.17", old)

	require.NoError(t, ensureSchema(conf, temporalSchema))
	version, steps := schemaState(t, mainURL)
	require.Equal(t, schemaversion.Version, version)
	require.Equal(t, oldSteps+2, steps, "1.18 and 1.19 applied") // 1.19 is this server's
}

func TestPostgresConfigFromDatabaseURL(t *testing.T) {
	conf, err := postgresConfig("postgres://app:s3cret@db.example:6543/orders_temporal?sslmode=verify-full&pool_max_conns=5", 7)
	require.NoError(t, err)
	require.Equal(t, "db.example:6543", conf.ConnectAddr)
	require.Equal(t, "app", conf.User)
	require.Equal(t, "s3cret", conf.Password)
	require.Equal(t, "orders_temporal", conf.DatabaseName)
	require.Equal(t, map[string]string{"sslmode": "verify-full"}, conf.ConnectAttributes, "only the TLS settings reach the server's driver")
	require.Equal(t, 7, conf.MaxConns)

	_, err = postgresConfig("postgres:///orders?host=/var/run/postgresql", 7)
	require.ErrorContains(t, err, "Unix socket")

	_, _, err = PostgresDatabaseURLs("postgres://127.0.0.1:5432")
	require.ErrorContains(t, err, "names no database")
	main, vis, err := PostgresDatabaseURLs("postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable")
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/orderflow_temporal?sslmode=disable", main)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/orderflow_temporal_visibility?sslmode=disable", vis)
}
