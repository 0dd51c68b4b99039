// Package config reads orderflow's settings from the environment, once, at
// start. Every outside system's address is a setting, so the binary that runs
// against the simulators in dev mode runs against the real systems in
// production. The defaults are the dev-mode addresses on loopback.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/pgdb"
)

// Config is every setting of every subcommand.
type Config struct {
	DatabaseURL string // DATABASE_URL

	TemporalAddress   string // TEMPORAL_ADDRESS
	TemporalNamespace string // TEMPORAL_NAMESPACE
	// TLS to the Temporal frontend: a client certificate and key (mTLS), a CA
	// bundle for a private CA, a server name override. TEMPORAL_API_KEY
	// authenticates with an API key instead (and implies TLS).
	TemporalTLSCert       string // TEMPORAL_TLS_CERT (file)
	TemporalTLSKey        string // TEMPORAL_TLS_KEY (file)
	TemporalTLSCA         string // TEMPORAL_TLS_CA (file)
	TemporalTLSServerName string // TEMPORAL_TLS_SERVER_NAME
	TemporalAPIKey        string // TEMPORAL_API_KEY

	APIAddr   string // ORDERFLOW_API_ADDR: where the REST API listens
	PublicURL string // ORDERFLOW_PUBLIC_URL: how buyers reach the API (survey links)
	// TokenSecret signs bearer tokens (ORDERFLOW_TOKEN_SECRET, at least 32 bytes).
	TokenSecret string
	// WorkerMetricsAddr is where a worker process serves /metrics (ORDERFLOW_WORKER_METRICS_ADDR).
	WorkerMetricsAddr string

	ERPURL     string // ORDERFLOW_ERP_URL
	CarrierURL string // ORDERFLOW_CARRIER_URL

	SMTPHost     string // ORDERFLOW_SMTP_HOST
	SMTPPort     int    // ORDERFLOW_SMTP_PORT
	SMTPUsername string // ORDERFLOW_SMTP_USERNAME
	SMTPPassword string // ORDERFLOW_SMTP_PASSWORD
	SMTPTLS      string // ORDERFLOW_SMTP_TLS: none | starttls | tls
	MailFrom     string // ORDERFLOW_MAIL_FROM

	CSEmail            string // ORDERFLOW_CS_EMAIL
	FinanceEmail       string // ORDERFLOW_FINANCE_EMAIL
	SalesManagersEmail string // ORDERFLOW_SALES_MANAGERS_EMAIL

	// Webhook secrets shared with the carrier and the bank (HMAC-SHA256).
	LogisticsWebhookSecret string // ORDERFLOW_LOGISTICS_WEBHOOK_SECRET
	PaymentsWebhookSecret  string // ORDERFLOW_PAYMENTS_WEBHOOK_SECRET
	WebhookTolerance       time.Duration

	// Breakers: consecutive failures that open one, and how long it stays open.
	BreakerFailures uint32        // ORDERFLOW_BREAKER_FAILURES
	BreakerOpenFor  time.Duration // ORDERFLOW_BREAKER_OPEN_FOR

	LogLevel string // ORDERFLOW_LOG_LEVEL: debug | info | warn | error
}

// Dev-mode secrets. They are public (they are in this file): dev mode and
// tests only. Production must set its own; the api subcommand (the only
// process that checks tokens and webhook signatures) refuses to start with
// them unless ORDERFLOW_ALLOW_DEV_SECRETS=1.
const (
	DevTokenSecret     = "orderflow-dev-token-secret-not-for-production"
	DevLogisticsSecret = "orderflow-dev-logistics-webhook-secret"
	DevPaymentsSecret  = "orderflow-dev-payments-webhook-secret"
)

// FromEnv reads the environment; unset variables take the dev defaults.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL:            env("DATABASE_URL", pgdb.DefaultURL),
		TemporalAddress:        env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace:      env("TEMPORAL_NAMESPACE", "default"),
		TemporalTLSCert:        env("TEMPORAL_TLS_CERT", ""),
		TemporalTLSKey:         env("TEMPORAL_TLS_KEY", ""),
		TemporalTLSCA:          env("TEMPORAL_TLS_CA", ""),
		TemporalTLSServerName:  env("TEMPORAL_TLS_SERVER_NAME", ""),
		TemporalAPIKey:         env("TEMPORAL_API_KEY", ""),
		APIAddr:                env("ORDERFLOW_API_ADDR", "127.0.0.1:8080"),
		PublicURL:              env("ORDERFLOW_PUBLIC_URL", "http://127.0.0.1:8080"),
		TokenSecret:            env("ORDERFLOW_TOKEN_SECRET", DevTokenSecret),
		WorkerMetricsAddr:      env("ORDERFLOW_WORKER_METRICS_ADDR", "127.0.0.1:9091"),
		ERPURL:                 env("ORDERFLOW_ERP_URL", "http://127.0.0.1:8081"),
		CarrierURL:             env("ORDERFLOW_CARRIER_URL", "http://127.0.0.1:8082"),
		SMTPHost:               env("ORDERFLOW_SMTP_HOST", "127.0.0.1"),
		SMTPUsername:           env("ORDERFLOW_SMTP_USERNAME", ""),
		SMTPPassword:           env("ORDERFLOW_SMTP_PASSWORD", ""),
		SMTPTLS:                env("ORDERFLOW_SMTP_TLS", "none"),
		MailFrom:               env("ORDERFLOW_MAIL_FROM", "orders@seller.example"),
		CSEmail:                env("ORDERFLOW_CS_EMAIL", "cs@seller.example"),
		FinanceEmail:           env("ORDERFLOW_FINANCE_EMAIL", "finance@seller.example"),
		SalesManagersEmail:     env("ORDERFLOW_SALES_MANAGERS_EMAIL", "sales-managers@seller.example"),
		LogisticsWebhookSecret: env("ORDERFLOW_LOGISTICS_WEBHOOK_SECRET", DevLogisticsSecret),
		PaymentsWebhookSecret:  env("ORDERFLOW_PAYMENTS_WEBHOOK_SECRET", DevPaymentsSecret),
		LogLevel:               env("ORDERFLOW_LOG_LEVEL", "info"),
	}
	var err error
	if c.SMTPPort, err = envInt("ORDERFLOW_SMTP_PORT", 2525); err != nil {
		return Config{}, err
	}
	failures, err := envInt("ORDERFLOW_BREAKER_FAILURES", 5)
	if err != nil {
		return Config{}, err
	}
	c.BreakerFailures = uint32(failures)
	if c.BreakerOpenFor, err = envDuration("ORDERFLOW_BREAKER_OPEN_FOR", 30*time.Second); err != nil {
		return Config{}, err
	}
	if c.WebhookTolerance, err = envDuration("ORDERFLOW_WEBHOOK_TOLERANCE", 5*time.Minute); err != nil {
		return Config{}, err
	}
	if len(c.TokenSecret) < 32 {
		return Config{}, fmt.Errorf("ORDERFLOW_TOKEN_SECRET: at least 32 bytes")
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return Config{}, fmt.Errorf("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both or neither")
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		return Config{}, fmt.Errorf("ORDERFLOW_SMTP_TLS: one of none, starttls, tls; got %q", c.SMTPTLS)
	}
	return c, nil
}

// TemporalTLS reports whether the Temporal connection uses TLS.
func (c Config) TemporalTLS() bool {
	return c.TemporalTLSCert != "" || c.TemporalTLSCA != "" || c.TemporalTLSServerName != "" || c.TemporalAPIKey != ""
}

// UsesDevSecrets reports whether any secret is still the public dev default.
func (c Config) UsesDevSecrets() bool {
	return c.TokenSecret == DevTokenSecret || c.LogisticsWebhookSecret == DevLogisticsSecret ||
		c.PaymentsWebhookSecret == DevPaymentsSecret
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func envInt(key string, def int) (int, error) {
	v := env(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a whole number, got %q", key, v)
	}
	return n, nil
}

func envDuration(key string, def time.Duration) (time.Duration, error) {
	v := env(key, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a duration like 30s, got %q", key, v)
	}
	return d, nil
}
