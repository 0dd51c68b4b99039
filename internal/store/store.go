package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// VersionTable records which of the store's migrations have run.
const VersionTable = "orderflow_schema_version"

// Migrate brings the store's schema up to date. It is safe to run on every
// start and from several processes at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := MigrateReport(ctx, pool)
	return err
}

// MigrateReport is Migrate that says which migrations it applied.
func MigrateReport(ctx context.Context, pool *pgxpool.Pool) (pgdb.Migrated, error) {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return pgdb.Migrated{}, fmt.Errorf("open embedded store migrations: %w", err)
	}
	return pgdb.MigrateReport(ctx, pool, migrations, VersionTable)
}

// Store reads and writes orderflow's tables. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// Now is the store's clock: when a terms version comes into force
	// (time.Now; tests set their own).
	Now func() time.Time
}

// New returns a Store on pool; the caller owns the pool and closes it.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, Now: time.Now} }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping store database: %w", err)
	}
	return nil
}

// dbError turns pgx's no-rows and PostgreSQL's unique violation into the
// package's sentinels and says what failed; other errors are wrapped as they are.
func dbError(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%s: %w (%s)", what, ErrDuplicate, pgErr.ConstraintName)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	// Rollback after Commit is a no-op; on an early return it undoes the work.
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // the error that matters is fn's or Commit's
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// orNow returns t, or the current time when t is zero: callers with a clock
// pass their time, others get the moment of the write.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// nullIfEmpty maps "" to SQL NULL for optional text columns.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// jsonOrNull passes JSON bytes to a jsonb column, empty as SQL NULL.
func jsonOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
