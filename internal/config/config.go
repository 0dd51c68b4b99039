// Package config reads orderflow's settings from the environment, once, at
// start. Every outside system's address is a setting, so the binary that runs
// against the simulators in dev mode runs against the real systems in
// production. The defaults are the dev-mode addresses on loopback.
package config

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/pgdb"
)

// Config is every setting of every subcommand; Vars lists the environment
// variables behind it and which subcommand reads which.
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
	PublicURL string // ORDERFLOW_PUBLIC_URL: how buyers reach the API (survey and document links)
	// TokenSecret signs bearer tokens (ORDERFLOW_TOKEN_SECRET, at least 32 bytes).
	TokenSecret string
	// LinkSecret signs the links in buyer mails (ORDERFLOW_LINK_SECRET, at
	// least 32 bytes): the worker signs, the API checks.
	LinkSecret string
	// TokenKeys, when set, is the keyring "id=secret,id=secret"
	// (ORDERFLOW_TOKEN_KEYS): the first signs, all verify, by the
	// token's kid. It replaces TokenSecret.
	TokenKeys string
	// OIDC* accept tokens of the seller's identity provider beside
	// orderflow's own (ORDERFLOW_OIDC_*; off without an issuer).
	OIDCIssuer, OIDCAudience, OIDCJWKSURL, OIDCRoleClaim, OIDCCustomerClaim string
	// AllowDevSecrets lets the api subcommand start with the public dev
	// secrets (ORDERFLOW_ALLOW_DEV_SECRETS=1).
	AllowDevSecrets bool
	// WorkerMetricsAddr is where a worker process serves /metrics (ORDERFLOW_WORKER_METRICS_ADDR).
	WorkerMetricsAddr string
	// WorkerCache is how many open orders a worker process keeps in the
	// SDK's sticky workflow cache (ORDERFLOW_WORKER_CACHE); each costs
	// about 100 KiB (docs/operations.md, "Sizing the worker").
	WorkerCache int

	ERPURL     string // ORDERFLOW_ERP_URL
	CarrierURL string // ORDERFLOW_CARRIER_URL
	BankURL    string // ORDERFLOW_BANK_URL: outgoing transfers (refunds)

	SMTPHost     string // ORDERFLOW_SMTP_HOST
	SMTPPort     int    // ORDERFLOW_SMTP_PORT
	SMTPUsername string // ORDERFLOW_SMTP_USERNAME
	SMTPPassword string // ORDERFLOW_SMTP_PASSWORD
	SMTPTLS      string // ORDERFLOW_SMTP_TLS: none | starttls | tls
	MailFrom     string // ORDERFLOW_MAIL_FROM

	// Seller is the seller's identity on invoices and credit notes.
	Seller Seller

	CSEmail            string // ORDERFLOW_CS_EMAIL
	FinanceEmail       string // ORDERFLOW_FINANCE_EMAIL
	SalesManagersEmail string // ORDERFLOW_SALES_MANAGERS_EMAIL

	// Webhook secrets shared with the carrier and the bank (HMAC-SHA256).
	LogisticsWebhookSecret string // ORDERFLOW_LOGISTICS_WEBHOOK_SECRET
	PaymentsWebhookSecret  string // ORDERFLOW_PAYMENTS_WEBHOOK_SECRET
	WebhookTolerance       time.Duration
	// QuoteWait bounds how long POST /v1/quotes waits for the priced quote
	// before it answers 202 (ORDERFLOW_QUOTE_WAIT).
	QuoteWait time.Duration
	// StepBudget is how long an order's outside step may go without success
	// before the order is flagged (it keeps retrying); orders carry it from
	// their start (ORDERFLOW_STEP_BUDGET).
	StepBudget time.Duration
	// TimeScale is how many business seconds pass per wall second in the
	// orders the API starts (ORDERFLOW_TIME_SCALE): 1 is real time; more
	// compresses every business wait of an order (quote validity,
	// reminders, survey window, dunning) for simulations and demos.
	// Orders carry it from their start (workflows.OrderInput.TimeScale).
	TimeScale float64

	// Breakers: consecutive failures that open one, and how long it stays open.
	BreakerFailures uint32        // ORDERFLOW_BREAKER_FAILURES
	BreakerOpenFor  time.Duration // ORDERFLOW_BREAKER_OPEN_FOR

	LogLevel  string // ORDERFLOW_LOG_LEVEL: debug | info | warn | error
	LogFormat string // ORDERFLOW_LOG_FORMAT: json | console

	// AuditSealInterval is how often a worker seals the audit log and
	// publishes its head (ORDERFLOW_AUDIT_SEAL_INTERVAL).
	AuditSealInterval time.Duration

	// Customer are the customer workflow's rules (ORDERFLOW_CUSTOMER_*):
	// each run of a customer workflow reads them from its worker.
	Customer customer.Settings

	// SimAutoRestock makes the ERP simulator refill low shelves
	// (ORDERFLOW_SIM_AUTO_RESTOCK; dev, sim and bench).
	SimAutoRestock bool
}

// Seller is who issues the invoices and credit notes: the documents'
// seller party and the account buyers pay into. The defaults are a demo
// company, fine for dev mode and tests only.
type Seller struct {
	Name     string // ORDERFLOW_SELLER_NAME
	VATID    string // ORDERFLOW_SELLER_VAT_ID
	Street   string // ORDERFLOW_SELLER_STREET
	City     string // ORDERFLOW_SELLER_CITY
	Postcode string // ORDERFLOW_SELLER_POSTCODE
	Country  string // ORDERFLOW_SELLER_COUNTRY: ISO 3166-1 alpha-2
	IBAN     string // ORDERFLOW_SELLER_IBAN
	Email    string // ORDERFLOW_SELLER_EMAIL
}

// Dev-mode secrets. They are public (they are in this file): dev mode and
// tests only. Production must set its own; the api subcommand (the only
// process that checks tokens and webhook signatures) refuses to start with
// them unless ORDERFLOW_ALLOW_DEV_SECRETS=1.
const (
	DevTokenSecret     = "orderflow-dev-token-secret-not-for-production"
	DevLinkSecret      = "orderflow-dev-link-secret-not-for-production"
	DevLogisticsSecret = "orderflow-dev-logistics-webhook-secret"
	DevPaymentsSecret  = "orderflow-dev-payments-webhook-secret"
)

// Var is one environment variable orderflow reads: its name, its default,
// what it means and which subcommands read it. The list is the one place
// that knows them; FromEnv takes its defaults from it, and each subcommand's
// -h prints its part of it.
type Var struct {
	Name    string
	Default string // "" when unset means nothing (or "off")
	Usage   string
	// Secret hides the default in help texts: it is a public dev secret.
	Secret bool
	// Commands are the subcommands that read the variable.
	Commands []string
}

// DefaultText is the default as a help text shows it.
func (v Var) DefaultText() string {
	switch {
	case v.Default == "":
		return "unset"
	case v.Secret:
		return "a public dev secret"
	}
	return v.Default
}

// Subcommands that read settings, named as on the command line.
var (
	servers  = []string{"dev", "worker", "api", "bench", "simulate"}        // run orderflow's own processes
	loggers  = []string{"dev", "worker", "api", "sim", "bench", "simulate"} // write logs
	databank = []string{"dev", "worker", "api", "migrate", "sim", "bench", "simulate"}
	workers  = []string{"dev", "worker", "bench", "simulate"}     // send mails and call the outside systems
	signers  = []string{"dev", "api", "sim", "bench", "simulate"} // sign or check webhooks
	temporal = []string{"worker", "api", "temporal-setup"}        // dial a Temporal cluster
)

var vars = []Var{
	{Name: "DATABASE_URL", Default: pgdb.DefaultURL, Usage: "orderflow's PostgreSQL database (created if missing by dev, migrate and sim)", Commands: append(slices.Clone(databank), "token", "audit")},
	{Name: "TEMPORAL_ADDRESS", Default: "127.0.0.1:7233", Usage: "the Temporal frontend (host:port)", Commands: temporal},
	{Name: "TEMPORAL_NAMESPACE", Default: "default", Usage: "the Temporal namespace", Commands: append(slices.Clone(servers), "temporal-setup")},
	{Name: "TEMPORAL_TLS_CERT", Usage: "mTLS client certificate (file; with TEMPORAL_TLS_KEY)", Commands: temporal},
	{Name: "TEMPORAL_TLS_KEY", Usage: "mTLS client key (file; with TEMPORAL_TLS_CERT)", Commands: temporal},
	{Name: "TEMPORAL_TLS_CA", Usage: "CA bundle of a private CA for the frontend (file)", Commands: temporal},
	{Name: "TEMPORAL_TLS_SERVER_NAME", Usage: "TLS server name of the frontend", Commands: temporal},
	{Name: "TEMPORAL_API_KEY", Usage: "API-key authentication to Temporal (implies TLS)", Commands: temporal},
	{Name: "ORDERFLOW_API_ADDR", Default: "127.0.0.1:8080", Usage: "where the REST API listens", Commands: []string{"api"}},
	{Name: "ORDERFLOW_PUBLIC_URL", Default: "http://127.0.0.1:8080", Usage: "how buyers and the simulators' webhooks reach the API (survey and document links)", Commands: []string{"worker", "api", "sim"}},
	{Name: "ORDERFLOW_TOKEN_SECRET", Default: DevTokenSecret, Secret: true, Usage: "HMAC key of bearer tokens, at least 32 bytes", Commands: []string{"dev", "api", "token", "bench", "simulate"}},
	{Name: "ORDERFLOW_LINK_SECRET", Default: DevLinkSecret, Secret: true, Usage: "HMAC key of the order and accept links in buyer mails, at least 32 bytes (the worker signs, the API checks; rotating it ends the links sent)", Commands: []string{"dev", "worker", "api", "bench", "simulate"}},
	{Name: "ORDERFLOW_TOKEN_KEYS", Secret: true, Usage: "token keyring id=secret,id=secret (each at least 32 bytes): the first signs, each verifies the tokens naming it (kid); replaces ORDERFLOW_TOKEN_SECRET, for rotation without downtime", Commands: []string{"dev", "api", "token", "bench", "simulate"}},
	{Name: "ORDERFLOW_OIDC_ISSUER", Usage: "accept bearer tokens of this OIDC provider (its iss) beside orderflow's own; empty: off", Commands: []string{"api"}},
	{Name: "ORDERFLOW_OIDC_AUDIENCE", Usage: "the aud the provider's tokens for this API carry", Commands: []string{"api"}},
	{Name: "ORDERFLOW_OIDC_JWKS_URL", Usage: "where the provider publishes its signing keys (JWKS)", Commands: []string{"api"}},
	{Name: "ORDERFLOW_OIDC_ROLE_CLAIM", Default: "role", Usage: "the claim holding the orderflow role", Commands: []string{"api"}},
	{Name: "ORDERFLOW_OIDC_CUSTOMER_CLAIM", Default: "customer_id", Usage: "the claim holding a buyer's customer id", Commands: []string{"api"}},
	{Name: "ORDERFLOW_ALLOW_DEV_SECRETS", Usage: "1 lets `orderflow api` start with the public dev secrets (test setups only)", Commands: []string{"api"}},
	{Name: "ORDERFLOW_LOGISTICS_WEBHOOK_SECRET", Default: DevLogisticsSecret, Secret: true, Usage: "HMAC secret shared with the carrier", Commands: signers},
	{Name: "ORDERFLOW_PAYMENTS_WEBHOOK_SECRET", Default: DevPaymentsSecret, Secret: true, Usage: "HMAC secret shared with the bank", Commands: signers},
	{Name: "ORDERFLOW_WEBHOOK_TOLERANCE", Default: "5m", Usage: "oldest (and furthest future) webhook timestamp accepted", Commands: []string{"dev", "api", "bench", "simulate"}},
	{Name: "ORDERFLOW_QUOTE_WAIT", Default: "5s", Usage: "how long POST /v1/quotes waits for the priced quote before it answers 202", Commands: []string{"dev", "api", "bench", "simulate"}},
	{Name: "ORDERFLOW_TIME_SCALE", Default: "1", Usage: "for simulations and demos only: business seconds per wall second in new orders (a number ≥ 1; 5760 runs a business day in 15 s): quote validity, reminders, delivery grace, survey window and dunning run that much faster; 1 is real time. Operational timeouts and the customer workflow are not scaled", Commands: []string{"dev", "api", "bench"}},
	{Name: "ORDERFLOW_STEP_BUDGET", Default: "30m", Usage: "how long an outside step may fail before the order needs attention (it keeps retrying); new orders take it from their start", Commands: []string{"dev", "api", "bench", "simulate"}},
	{Name: "ORDERFLOW_WORKER_CACHE", Default: "1000", Usage: "open orders a worker process keeps in memory between their workflow tasks (the sticky workflow cache, about 100 KiB each); an order evicted is replayed from its history at its next task", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_ERP_URL", Default: "http://127.0.0.1:8081", Usage: "the ERP", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_CARRIER_URL", Default: "http://127.0.0.1:8082", Usage: "the carrier", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_BANK_URL", Default: "http://127.0.0.1:8083", Usage: "the bank, for outgoing transfers (refunds)", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_SMTP_HOST", Default: "127.0.0.1", Usage: "the SMTP server", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_SMTP_PORT", Default: "2525", Usage: "the SMTP server's port", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_SMTP_USERNAME", Usage: "SMTP user", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_SMTP_PASSWORD", Usage: "SMTP password", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_SMTP_TLS", Default: "none", Usage: "SMTP transport security: none, starttls or tls", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_MAIL_FROM", Default: "orders@seller.example", Usage: "sender of every mail", Commands: workers},
	{Name: "ORDERFLOW_SELLER_NAME", Default: "Orderflow Demo Seller GmbH (demo company)", Usage: "the seller's legal name on invoices and credit notes", Commands: workers},
	{Name: "ORDERFLOW_SELLER_VAT_ID", Default: "DE999999999", Usage: "the seller's VAT id on documents (demo default)", Commands: workers},
	{Name: "ORDERFLOW_SELLER_STREET", Default: "Musterstraße 1", Usage: "the seller's street on documents", Commands: workers},
	{Name: "ORDERFLOW_SELLER_CITY", Default: "Hamburg", Usage: "the seller's city on documents", Commands: workers},
	{Name: "ORDERFLOW_SELLER_POSTCODE", Default: "20095", Usage: "the seller's postcode on documents", Commands: workers},
	{Name: "ORDERFLOW_SELLER_COUNTRY", Default: "DE", Usage: "the seller's country, ISO 3166-1 alpha-2", Commands: workers},
	{Name: "ORDERFLOW_SELLER_IBAN", Default: "DE89370400440532013000", Usage: "the account invoices ask buyers to pay into (SEPA; demo default)", Commands: workers},
	{Name: "ORDERFLOW_SELLER_EMAIL", Default: "billing@seller.example", Usage: "the seller's billing address on documents", Commands: workers},
	{Name: "ORDERFLOW_CS_EMAIL", Default: "cs@seller.example", Usage: "who gets CS alerts", Commands: workers},
	{Name: "ORDERFLOW_FINANCE_EMAIL", Default: "finance@seller.example", Usage: "who gets finance alerts", Commands: workers},
	{Name: "ORDERFLOW_SALES_MANAGERS_EMAIL", Default: "sales-managers@seller.example", Usage: "who gets seller-side approval requests", Commands: workers},
	{Name: "ORDERFLOW_BREAKER_FAILURES", Default: "5", Usage: "consecutive failures that open an outside system's breaker", Commands: workers},
	{Name: "ORDERFLOW_BREAKER_OPEN_FOR", Default: "30s", Usage: "how long an open breaker stays open", Commands: workers},
	{Name: "ORDERFLOW_WORKER_METRICS_ADDR", Default: "127.0.0.1:9091", Usage: "where the worker serves /metrics", Commands: []string{"worker"}},
	{Name: "ORDERFLOW_AUDIT_SEAL_INTERVAL", Default: "1m", Usage: "how often the audit log is sealed and its head published (log line `audit chain head`, metric orderflow_audit_head_info)", Commands: []string{"dev", "worker"}},
	{Name: "ORDERFLOW_CUSTOMER_REMINDER_LEAD", Default: "120h", Usage: "a reorder reminder goes to the purchaser this long before the product's expected next order", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_DORMANT_FACTOR", Default: "2", Usage: "a customer is dormant when its silence exceeds this many times its median interval between orders (rep alert and one we-miss-you mail)", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_QUOTE_NUDGES", Default: "48h,120h", Usage: "nudges of an unanswered quote after it was sent, comma-separated ascending durations (none: no nudges)", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_FREQUENCY_CAP", Default: "1", Usage: "marketing mails (reorder reminders, we-miss-you, quote nudges) per contact per ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW", Default: "168h", Usage: "the window of the marketing frequency cap", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_MIN_ORDERS", Default: "3", Usage: "orders a customer needs before it can count as dormant (at least 3)", Commands: workers},
	{Name: "ORDERFLOW_CUSTOMER_MIN_INTERVAL", Default: "24h", Usage: "orders closer together than this count as one purchase for the customer's rhythm (their quantities add up)", Commands: workers},
	{Name: "ORDERFLOW_SIM_AUTO_RESTOCK", Default: "true", Usage: "the ERP simulator refills a seeded SKU to its seed level when less than half of it is available", Commands: []string{"dev", "sim", "bench", "simulate"}},
	{Name: "ORDERFLOW_LOG_LEVEL", Default: "info", Usage: "debug, info, warn or error", Commands: loggers},
	{Name: "ORDERFLOW_LOG_FORMAT", Default: "json", Usage: "json, or console for people", Commands: loggers},
}

// Vars lists every environment variable orderflow reads.
func Vars() []Var { return slices.Clone(vars) }

// VarsFor lists the environment variables the subcommand reads.
func VarsFor(command string) []Var {
	var out []Var
	for _, v := range vars {
		if slices.Contains(v.Commands, command) {
			out = append(out, v)
		}
	}
	return out
}

// FromEnv reads the environment; unset variables take the defaults of Vars.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL:           env("DATABASE_URL"),
		TemporalAddress:       env("TEMPORAL_ADDRESS"),
		TemporalNamespace:     env("TEMPORAL_NAMESPACE"),
		TemporalTLSCert:       env("TEMPORAL_TLS_CERT"),
		TemporalTLSKey:        env("TEMPORAL_TLS_KEY"),
		TemporalTLSCA:         env("TEMPORAL_TLS_CA"),
		TemporalTLSServerName: env("TEMPORAL_TLS_SERVER_NAME"),
		TemporalAPIKey:        env("TEMPORAL_API_KEY"),
		APIAddr:               env("ORDERFLOW_API_ADDR"),
		PublicURL:             env("ORDERFLOW_PUBLIC_URL"),
		TokenSecret:           env("ORDERFLOW_TOKEN_SECRET"),
		TokenKeys:             env("ORDERFLOW_TOKEN_KEYS"),
		LinkSecret:            env("ORDERFLOW_LINK_SECRET"),
		OIDCIssuer:            env("ORDERFLOW_OIDC_ISSUER"),
		OIDCAudience:          env("ORDERFLOW_OIDC_AUDIENCE"),
		OIDCJWKSURL:           env("ORDERFLOW_OIDC_JWKS_URL"),
		OIDCRoleClaim:         env("ORDERFLOW_OIDC_ROLE_CLAIM"),
		OIDCCustomerClaim:     env("ORDERFLOW_OIDC_CUSTOMER_CLAIM"),
		AllowDevSecrets:       env("ORDERFLOW_ALLOW_DEV_SECRETS") == "1",
		WorkerMetricsAddr:     env("ORDERFLOW_WORKER_METRICS_ADDR"),
		ERPURL:                env("ORDERFLOW_ERP_URL"),
		CarrierURL:            env("ORDERFLOW_CARRIER_URL"),
		BankURL:               env("ORDERFLOW_BANK_URL"),
		SMTPHost:              env("ORDERFLOW_SMTP_HOST"),
		SMTPUsername:          env("ORDERFLOW_SMTP_USERNAME"),
		SMTPPassword:          env("ORDERFLOW_SMTP_PASSWORD"),
		SMTPTLS:               env("ORDERFLOW_SMTP_TLS"),
		MailFrom:              env("ORDERFLOW_MAIL_FROM"),
		Seller: Seller{
			Name:     env("ORDERFLOW_SELLER_NAME"),
			VATID:    env("ORDERFLOW_SELLER_VAT_ID"),
			Street:   env("ORDERFLOW_SELLER_STREET"),
			City:     env("ORDERFLOW_SELLER_CITY"),
			Postcode: env("ORDERFLOW_SELLER_POSTCODE"),
			Country:  env("ORDERFLOW_SELLER_COUNTRY"),
			IBAN:     strings.ReplaceAll(env("ORDERFLOW_SELLER_IBAN"), " ", ""),
			Email:    env("ORDERFLOW_SELLER_EMAIL"),
		},
		CSEmail:                env("ORDERFLOW_CS_EMAIL"),
		FinanceEmail:           env("ORDERFLOW_FINANCE_EMAIL"),
		SalesManagersEmail:     env("ORDERFLOW_SALES_MANAGERS_EMAIL"),
		LogisticsWebhookSecret: env("ORDERFLOW_LOGISTICS_WEBHOOK_SECRET"),
		PaymentsWebhookSecret:  env("ORDERFLOW_PAYMENTS_WEBHOOK_SECRET"),
		LogLevel:               env("ORDERFLOW_LOG_LEVEL"),
		LogFormat:              env("ORDERFLOW_LOG_FORMAT"),
	}
	var err error
	if c.SMTPPort, err = envInt("ORDERFLOW_SMTP_PORT"); err != nil {
		return Config{}, err
	}
	failures, err := envInt("ORDERFLOW_BREAKER_FAILURES")
	if err != nil {
		return Config{}, err
	}
	c.BreakerFailures = uint32(failures)
	if c.BreakerOpenFor, err = envDuration("ORDERFLOW_BREAKER_OPEN_FOR"); err != nil {
		return Config{}, err
	}
	if c.WebhookTolerance, err = envDuration("ORDERFLOW_WEBHOOK_TOLERANCE"); err != nil {
		return Config{}, err
	}
	if c.QuoteWait, err = envDuration("ORDERFLOW_QUOTE_WAIT"); err != nil {
		return Config{}, err
	}
	if c.StepBudget, err = envDuration("ORDERFLOW_STEP_BUDGET"); err != nil {
		return Config{}, err
	}
	if c.TimeScale, err = envScale("ORDERFLOW_TIME_SCALE"); err != nil {
		return Config{}, err
	}
	if c.WorkerCache, err = envInt("ORDERFLOW_WORKER_CACHE"); err != nil {
		return Config{}, err
	}
	if c.WorkerCache < 1 {
		return Config{}, fmt.Errorf("ORDERFLOW_WORKER_CACHE: at least 1")
	}
	if c.AuditSealInterval, err = envDuration("ORDERFLOW_AUDIT_SEAL_INTERVAL"); err != nil {
		return Config{}, err
	}
	if c.SimAutoRestock, err = envBool("ORDERFLOW_SIM_AUTO_RESTOCK"); err != nil {
		return Config{}, err
	}
	if c.Customer, err = customerFromEnv(); err != nil {
		return Config{}, err
	}
	if len(c.TokenSecret) < 32 {
		return Config{}, fmt.Errorf("ORDERFLOW_TOKEN_SECRET: at least 32 bytes")
	}
	if len(c.LinkSecret) < 32 {
		return Config{}, fmt.Errorf("ORDERFLOW_LINK_SECRET: at least 32 bytes")
	}
	if c.OIDCIssuer != "" && (c.OIDCAudience == "" || c.OIDCJWKSURL == "") {
		return Config{}, fmt.Errorf("ORDERFLOW_OIDC_ISSUER: set ORDERFLOW_OIDC_AUDIENCE and ORDERFLOW_OIDC_JWKS_URL with it")
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return Config{}, fmt.Errorf("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both or neither")
	}
	if cc := c.Seller.Country; len(cc) != 2 || strings.ToUpper(cc) != cc {
		return Config{}, fmt.Errorf("ORDERFLOW_SELLER_COUNTRY: an ISO 3166-1 alpha-2 code like DE, got %q", cc)
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
	return (c.TokenSecret == DevTokenSecret && c.TokenKeys == "") || c.LinkSecret == DevLinkSecret || c.LogisticsWebhookSecret == DevLogisticsSecret ||
		c.PaymentsWebhookSecret == DevPaymentsSecret
}

// customerFromEnv reads the customer workflow's settings.
func customerFromEnv() (customer.Settings, error) {
	var s customer.Settings
	var err error
	if s.ReminderLead, err = envDuration("ORDERFLOW_CUSTOMER_REMINDER_LEAD"); err != nil {
		return s, err
	}
	f := env("ORDERFLOW_CUSTOMER_DORMANT_FACTOR")
	if s.DormantFactor, err = strconv.ParseFloat(f, 64); err != nil {
		return s, fmt.Errorf("ORDERFLOW_CUSTOMER_DORMANT_FACTOR: want a number like 2.5, got %q", f)
	}
	if n := env("ORDERFLOW_CUSTOMER_QUOTE_NUDGES"); n != "" && n != "none" {
		for part := range strings.SplitSeq(n, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil {
				return s, fmt.Errorf("ORDERFLOW_CUSTOMER_QUOTE_NUDGES: want durations like 48h,120h, got %q", n)
			}
			s.QuoteNudges = append(s.QuoteNudges, d)
		}
	}
	if s.FrequencyCap, err = envInt("ORDERFLOW_CUSTOMER_FREQUENCY_CAP"); err != nil {
		return s, err
	}
	if s.FrequencyWindow, err = envDuration("ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW"); err != nil {
		return s, err
	}
	if s.MinOrders, err = envInt("ORDERFLOW_CUSTOMER_MIN_ORDERS"); err != nil {
		return s, err
	}
	if s.MinInterval, err = envDuration("ORDERFLOW_CUSTOMER_MIN_INTERVAL"); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("ORDERFLOW_CUSTOMER_*: %w", err)
	}
	return s, nil
}

// env is the variable's value, or its default from vars. A name missing
// from vars is a bug in this file, caught by any test that reads the config.
func env(key string) string {
	i := slices.IndexFunc(vars, func(v Var) bool { return v.Name == key })
	if i < 0 {
		panic("config: " + key + " is not listed in vars")
	}
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return vars[i].Default
}

func envInt(key string) (int, error) {
	v := env(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a whole number, got %q", key, v)
	}
	return n, nil
}

func envDuration(key string) (time.Duration, error) {
	v := env(key)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a duration like 30s, got %q", key, v)
	}
	return d, nil
}

// envScale is a time scale: a finite number of at least 1.
func envScale(key string) (float64, error) {
	v := env(key)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 1 {
		return 0, fmt.Errorf("%s: want a number of at least 1 (business seconds per wall second; 1 is real time), got %q", key, v)
	}
	return f, nil
}

func envBool(key string) (bool, error) {
	v := env(key)
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: want true or false, got %q", key, v)
	}
	return b, nil
}
