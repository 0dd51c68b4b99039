package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	schematool "go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/orderflow/orderflow/internal/pgdb"
)

// Store is where the dev server keeps Temporal's data.
type Store string

const (
	// StoreSQLite keeps it in one SQLite file under Options.DataDir, or in
	// memory when DataDir is empty. The default.
	StoreSQLite Store = "sqlite"
	// StorePostgres keeps it in two databases on the PostgreSQL server of
	// Options.PostgresURL (see PostgresDatabaseURLs).
	StorePostgres Store = "postgres"
)

// ParseStore reads a store's name as a flag gives it; "" is StoreSQLite.
func ParseStore(s string) (Store, error) {
	switch Store(s) {
	case "", StoreSQLite:
		return StoreSQLite, nil
	case StorePostgres:
		return StorePostgres, nil
	}
	return "", fmt.Errorf("Temporal store %q: want %s or %s", s, StoreSQLite, StorePostgres)
}

const (
	// postgresPlugin is the server's PostgreSQL plugin on the pgx driver.
	// The server registers two, postgres12 (lib/pq) and postgres12_pgx;
	// pgx is the driver orderflow itself uses and the one still developed
	// (lib/pq is in maintenance mode), and both read the same schema.
	postgresPlugin = postgresplugin.PluginNamePGX

	// temporalSchema and visibilitySchema name the server's embedded schema
	// directories (go.temporal.io/server/schema) for its two databases.
	temporalSchema   = "postgresql/v12/temporal"
	visibilitySchema = "postgresql/v12/visibility"

	// postgresShards is the history shard count of a PostgreSQL store. It
	// is fixed when the databases are first used (a server configured with
	// another count warns and keeps the stored one). Unlike SQLite's single
	// connection, PostgreSQL lets shards write in parallel; four keep two
	// cores busy without a crowd of idle shard queues.
	postgresShards = 4

	// schemaLockID serialises schema setup among dev servers starting at
	// once on the same databases (an advisory lock on the main database).
	schemaLockID = 7_212_450_233
)

// PostgresDatabaseURLs names the two databases a StorePostgres server keeps
// its data in, on the server of databaseURL: the main one (executions,
// task queues, namespaces) and the visibility one (what List and Count
// query), <name>_temporal and <name>_temporal_visibility after the
// database databaseURL names.
func PostgresDatabaseURLs(databaseURL string) (temporal, visibility string, err error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return "", "", fmt.Errorf("Temporal on PostgreSQL: parse database url: %w", err)
	}
	if cfg.Database == "" {
		return "", "", errors.New("Temporal on PostgreSQL: the database url names no database to name Temporal's after")
	}
	if temporal, err = pgdb.WithDatabase(databaseURL, cfg.Database+"_temporal"); err != nil {
		return "", "", err
	}
	if visibility, err = pgdb.WithDatabase(databaseURL, cfg.Database+"_temporal_visibility"); err != nil {
		return "", "", err
	}
	return temporal, visibility, nil
}

// openPostgres creates the two databases when they are missing, sets up or
// updates their schemas to the ones this server version ships, and returns
// the persistence config for them.
func openPostgres(ctx context.Context, databaseURL string) (persistence, error) {
	mainURL, visURL, err := PostgresDatabaseURLs(databaseURL)
	if err != nil {
		return persistence{}, err
	}
	main, err := postgresConfig(mainURL, 20)
	if err != nil {
		return persistence{}, err
	}
	vis, err := postgresConfig(visURL, 10)
	if err != nil {
		return persistence{}, err
	}
	for _, u := range []string{mainURL, visURL} {
		if err := pgdb.EnsureDatabase(ctx, u); err != nil {
			return persistence{}, fmt.Errorf("Temporal on PostgreSQL: %w", err)
		}
	}

	lock, err := pgx.Connect(ctx, mainURL)
	if err != nil {
		return persistence{}, fmt.Errorf("Temporal on PostgreSQL: connect to %s: %w", main.DatabaseName, err)
	}
	defer lock.Close(context.WithoutCancel(ctx))
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock($1)`, schemaLockID); err != nil {
		return persistence{}, fmt.Errorf("Temporal on PostgreSQL: lock %s for schema setup: %w", main.DatabaseName, err)
	}
	// Released with the session when lock closes.

	if err := ensureSchema(main, temporalSchema); err != nil {
		return persistence{}, err
	}
	if err := ensureSchema(vis, visibilitySchema); err != nil {
		return persistence{}, err
	}
	return persistence{main: main, visibility: vis, shards: postgresShards}, nil
}

// postgresConfig is the server's connection config for the database of
// rawURL, keeping the URL's TLS settings.
func postgresConfig(rawURL string, maxConns int) (*config.SQL, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("Temporal on PostgreSQL: parse database url: %w", err)
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return nil, fmt.Errorf("Temporal on PostgreSQL: host %s is a Unix socket; the server's plugin needs host:port", cfg.Host)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("Temporal on PostgreSQL: parse database url: %w", err)
	}
	attrs := map[string]string{}
	for _, key := range []string{"sslmode", "sslrootcert", "sslcert", "sslkey"} {
		if v := u.Query().Get(key); v != "" {
			attrs[key] = v
		}
	}
	return &config.SQL{
		PluginName:        postgresPlugin,
		ConnectAddr:       net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))),
		User:              cfg.User,
		Password:          cfg.Password,
		DatabaseName:      cfg.Database,
		ConnectAttributes: attrs,
		MaxConns:          maxConns,
		MaxIdleConns:      maxConns,
		MaxConnLifetime:   time.Hour,
	}, nil
}

// ensureSchema brings the database of conf to the newest version of the
// server's embedded schema dir, as `temporal-sql-tool setup-schema -v 0.0`
// then `update-schema` do: a database without Temporal's version table gets
// it at version 0.0, then every versioned step after the database's version
// is applied. A current schema is left alone.
func ensureSchema(conf *config.SQL, schemaDir string) error {
	logger := log.NewNoopLogger()
	conn, err := sqltool.NewConnection(conf, logger)
	if err != nil {
		return fmt.Errorf("Temporal on PostgreSQL: connect to %s: %w", conf.DatabaseName, err)
	}
	defer conn.Close()
	tables, err := conn.ListTables()
	if err != nil {
		return fmt.Errorf("Temporal on PostgreSQL: list tables of %s: %w", conf.DatabaseName, err)
	}
	if !slices.Contains(tables, "schema_version") {
		setup := schematool.NewSetupSchemaTask(conn, &schematool.SetupConfig{InitialVersion: "0.0"}, logger)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("Temporal on PostgreSQL: set up schema versioning in %s: %w", conf.DatabaseName, err)
		}
	}
	update := schematool.NewUpdateSchemaTask(conn, &schematool.UpdateConfig{DBName: conf.DatabaseName, SchemaName: schemaDir}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("Temporal on PostgreSQL: update schema of %s from %s: %w", conf.DatabaseName, schemaDir, err)
	}
	return nil
}
