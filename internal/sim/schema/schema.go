// Package schema applies a simulator's embedded migrations. Each simulator
// (and the shared outbox) records its migrations in a tern version table of
// its own, so all of them can share one database with orderflow and each
// evolves on its own.
package schema

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/pgdb"
)

// Dir is the directory of files that holds the migrations: the packages embed
// it with //go:embed migrations/*.sql.
const Dir = "migrations"

// Apply runs the migrations in files' Dir not yet recorded in versionTable.
// Running it again is harmless.
func Apply(ctx context.Context, pool *pgxpool.Pool, files fs.FS, versionTable string) error {
	// tern looks for its files at the root of the FS it is given.
	sub, err := fs.Sub(files, Dir)
	if err != nil {
		return fmt.Errorf("migrations for %s: %w", versionTable, err)
	}
	return pgdb.Migrate(ctx, pool, sub, versionTable)
}
