package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/internal/auditseal"
	"github.com/orderflow/orderflow/worker"
	sdkworker "go.temporal.io/sdk/worker"
)

// runWorker is the production worker: one process polling the orders task
// queue of a Temporal cluster.
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseArgs(newFlagSet("worker"), args, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr).With().Str("component", "worker").Logger()
	b, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	st, m, c := b.store, b.metrics, b.temporal

	srv := &http.Server{Addr: cfg.WorkerMetricsAddr, Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics server stopped")
		}
	}()
	defer srv.Close()

	// Every worker seals the audit log and publishes its head; the store
	// makes concurrent sealers take turns.
	sealerDone := make(chan struct{})
	go func() {
		defer close(sealerDone)
		_ = auditseal.Run(ctx, st, cfg.AuditSealInterval, log, m)
	}()
	defer func() { <-sealerDone }()

	// Process-wide, and before the worker starts (the SDK's rule).
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCache)
	w := worker.New(c, worker.NewActivities(cfg, st, m), m)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info().Str("temporal", cfg.TemporalAddress).Str("metrics", cfg.WorkerMetricsAddr).Int("cache", cfg.WorkerCache).Msg("worker started")
	<-ctx.Done()
	w.Stop()
	return nil
}
