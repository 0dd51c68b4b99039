// Package pgdb opens PostgreSQL pools, creates a missing database and runs
// embedded migrations. The store and each simulator keep their own migrations
// and version table; this package is the one place that knows how to apply them.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

// DefaultURL is the local development server: the one a fresh machine runs.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable"

// EnsureDatabase creates the database named in url when it does not exist,
// connecting to the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, url string) error {
	_, err := CreateDatabase(ctx, url)
	return err
}

// CreateDatabase is EnsureDatabase that also says whether it created the
// database (false: it existed, or another process created it meanwhile).
func CreateDatabase(ctx context.Context, url string) (created bool, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	if name == "" {
		return false, errors.New("database url names no database")
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connect to %s:%d to create database %q: %w", cfg.Host, cfg.Port, name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return false, nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create database %q: %w", name, err)
	}
	return true, nil
}

// Open returns a pool for url after checking that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// Migrate applies every migration in migrations (files named 001_name.sql, in
// tern's format) not yet recorded in versionTable. Concurrent callers are
// serialised by an advisory lock, so several processes may start at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS, versionTable string) error {
	_, err := MigrateReport(ctx, pool, migrations, versionTable)
	return err
}

// Migrated is what MigrateReport did: the migrations it applied, by file
// name, in order (none when the schema was up to date), and the schema's
// version afterwards.
type Migrated struct {
	Applied []string
	Version int32
}

// MigrateReport is Migrate that says what it applied.
func MigrateReport(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS, versionTable string) (Migrated, error) {
	var done Migrated
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return done, fmt.Errorf("acquire connection for migrations: %w", err)
	}
	defer conn.Release()
	const lockID = 7_212_450_001 // any constant unique to orderflow's migrations
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return done, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) //nolint:errcheck // released with the session anyway
	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return done, fmt.Errorf("migrator for %s: %w", versionTable, err)
	}
	if err := m.LoadMigrations(migrations); err != nil {
		return done, fmt.Errorf("load migrations for %s: %w", versionTable, err)
	}
	m.OnStart = func(_ int32, name, direction, _ string) {
		if direction == "up" {
			done.Applied = append(done.Applied, name)
		}
	}
	if err := m.Migrate(ctx); err != nil {
		return done, fmt.Errorf("migrate %s: %w", versionTable, err)
	}
	if done.Version, err = m.GetCurrentVersion(ctx); err != nil {
		return done, fmt.Errorf("version of %s: %w", versionTable, err)
	}
	return done, nil
}

// WithDatabase returns url naming another database on the same server.
func WithDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops the database named in url, closing its connections
// first, connecting to the server's "postgres" database to do so. A missing
// database is not an error.
func DropDatabase(ctx context.Context, rawURL string) error {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return fmt.Errorf("refusing to drop database %q", name)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s:%d to drop database %q: %w", cfg.Host, cfg.Port, name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}
