package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/metrics"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/worker"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
)

// temporalOptions are the client options of the worker and api processes:
// address, namespace, logger, metrics, and TLS/mTLS or an API key when the
// cluster needs them (Temporal Cloud, a self-hosted cluster with mTLS).
func temporalOptions(cfg config.Config, log zerolog.Logger, metrics client.MetricsHandler) (client.Options, error) {
	o := client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: worker.Logger(log), MetricsHandler: metrics,
	}
	if !cfg.TemporalTLS() {
		return o, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSServerName}
	if cfg.TemporalTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			return client.Options{}, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return client.Options{}, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return client.Options{}, fmt.Errorf("TEMPORAL_TLS_CA: no PEM certificate in %s", cfg.TemporalTLSCA)
		}
		t.RootCAs = pool
	}
	o.ConnectionOptions.TLS = t
	if cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return o, nil
}

// backends are what the worker and api processes both connect to.
type backends struct {
	pool     *pgxpool.Pool
	store    *store.Store
	metrics  *metrics.Metrics
	temporal client.Client
	closers  []func()
}

// connect opens the database, the metrics registry (with the SDK's metrics
// and the gauges read from the database: orders by status, worklists, NPS)
// and the Temporal client.
func connect(ctx context.Context, cfg config.Config, log zerolog.Logger) (_ *backends, err error) {
	b := &backends{metrics: metrics.New()}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.pool, err = pgdb.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, b.pool.Close)
	b.store = store.New(b.pool)
	b.metrics.SetLogger(log.With().Str("component", "metrics").Logger())
	worker.ObserveStore(b.metrics, b.store)
	sdkMetrics, closer := b.metrics.SDKHandler()
	b.closers = append(b.closers, func() { _ = closer.Close() })
	opts, err := temporalOptions(cfg, log, sdkMetrics)
	if err != nil {
		return nil, err
	}
	if b.temporal, err = client.DialContext(ctx, opts); err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	b.closers = append(b.closers, b.temporal.Close)
	return b, nil
}

// Close releases everything connect opened, in reverse order.
func (b *backends) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
}
