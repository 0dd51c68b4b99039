package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate")
	seed := fs.Bool("seed-demo", false, "also upsert the demo customers and their terms")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	name := cfg.DatabaseURL
	if pc, err := pgx.ParseConfig(cfg.DatabaseURL); err == nil {
		name = fmt.Sprintf("%q on %s:%d", pc.Database, pc.Host, pc.Port)
	}
	created, err := pgdb.CreateDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created database %s\n", name)
	} else {
		fmt.Fprintf(stdout, "database %s exists\n", name)
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	done, err := store.MigrateReport(ctx, pool)
	if err != nil {
		return err
	}
	if len(done.Applied) == 0 {
		fmt.Fprintf(stdout, "schema already up to date (version %d)\n", done.Version)
	} else {
		fmt.Fprintf(stdout, "applied %d migration(s): %s; schema at version %d\n",
			len(done.Applied), strings.Join(done.Applied, ", "), done.Version)
	}
	if *seed {
		if err := store.New(pool).SeedDemo(ctx); err != nil {
			return fmt.Errorf("seed demo customers: %w", err)
		}
		fmt.Fprintln(stdout, "demo customers and their terms upserted")
	}
	return nil
}
