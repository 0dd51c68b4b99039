package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/orderflow/orderflow/internal/config"
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
