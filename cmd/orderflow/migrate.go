package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
)

func runMigrate(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Bool("seed-demo", false, "also upsert the demo customers and their terms")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := pgdb.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	if *seed {
		if err := store.New(pool).SeedDemo(ctx); err != nil {
			return fmt.Errorf("seed demo customers: %w", err)
		}
	}
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}
