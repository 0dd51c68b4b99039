package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/links"
)

// runAPI is the production REST API process.
func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseArgs(newFlagSet("api"), args, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr).With().Str("component", "api").Logger()
	if cfg.UsesDevSecrets() && !cfg.AllowDevSecrets {
		return errors.New("the token, link or webhook secrets are the public dev defaults: set ORDERFLOW_TOKEN_SECRET (or ORDERFLOW_TOKEN_KEYS), " +
			"ORDERFLOW_LINK_SECRET, ORDERFLOW_LOGISTICS_WEBHOOK_SECRET and ORDERFLOW_PAYMENTS_WEBHOOK_SECRET (or ORDERFLOW_ALLOW_DEV_SECRETS=1 for a test setup)")
	}
	b, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	st, m, c := b.store, b.metrics, b.temporal
	_, tokens, err := auth.FromConfig(cfg, st)
	if err != nil {
		return err
	}
	signer, err := links.New([]byte(cfg.LinkSecret))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr: cfg.APIAddr,
		Handler: api.New(api.Deps{Store: st, Temporal: c, Tokens: tokens, Links: signer,
			LogisticsSecret: []byte(cfg.LogisticsWebhookSecret), PaymentsSecret: []byte(cfg.PaymentsWebhookSecret),
			PublicURL: cfg.PublicURL, Logger: log, Now: time.Now, WebhookTolerance: cfg.WebhookTolerance, QuoteWait: cfg.QuoteWait, StepBudget: cfg.StepBudget, TimeScale: cfg.TimeScale, Metrics: m.Handler()}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info().Str("addr", cfg.APIAddr).Msg("API listening")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
