// Package devstack assembles the whole of orderflow in one process: an
// embedded Temporal server and UI, the simulators of the ERP, the carrier and
// the bank, the dev mail sink, the worker and the REST API, against one
// PostgreSQL database (and, with the postgres Temporal store, Temporal's two
// databases beside it). `orderflow dev` runs it for people; the end-to-end
// tests run it with free ports and an in-memory Temporal, so what the tests
// prove is what a newcomer starts.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/auditseal"
	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/metrics"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/sim/simulators"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/worker"
	"github.com/orderflow/orderflow/workflows"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// Options place the stack. Addresses "127.0.0.1:0" pick free ports.
type Options struct {
	DatabaseURL string
	// TemporalStore is where the embedded Temporal keeps its data: "" or
	// devserver.StoreSQLite, a SQLite file under DataDir; devserver.StorePostgres,
	// two databases beside DatabaseURL's (see devserver.PostgresDatabaseURLs).
	TemporalStore devserver.Store
	// DataDir keeps the Temporal SQLite file; "" keeps Temporal in memory.
	// Unused by Temporal with the postgres store.
	DataDir      string
	TemporalAddr string
	UIAddr       string // "" = no Temporal UI
	APIAddr      string
	ERPAddr      string
	CarrierAddr  string
	BankAddr     string
	MailAddr     string // the sink's web page
	SMTPAddr     string
	// CarrierAutoDeliverAfter makes the carrier deliver on its own; 0 = only on request.
	CarrierAutoDeliverAfter time.Duration
	// CarrierAutoReturnAfter makes the carrier bring return pickups back on
	// their own; 0 = only on request.
	CarrierAutoReturnAfter time.Duration
	// ERPAutoRestock makes the ERP simulator refill a seeded SKU when less
	// than half its seed level is available; off, stock runs out.
	ERPAutoRestock bool
	// Breaker tunes every outside system's breaker (zero = downstream.DefaultBreaker).
	Breaker downstream.BreakerSettings
	// StepBudget, when set, replaces ORDERFLOW_STEP_BUDGET for new orders.
	StepBudget time.Duration
	// HistoryLimit, when set, is the history length past which new orders
	// continue as new in their long waits (workflows.ContinueAsNewAfter).
	HistoryLimit int
	// TimeScale, when set (> 0), replaces ORDERFLOW_TIME_SCALE: new orders
	// run their business time that many times faster (simulations;
	// workflows.OrderInput.TimeScale). The API warns at its start when it
	// is not 1.
	TimeScale float64
	Logger    zerolog.Logger
}

// DefaultOptions are the dev-mode ports, documented in docs/design.md.
func DefaultOptions(databaseURL, dataDir string) Options {
	return Options{
		DatabaseURL: databaseURL, DataDir: dataDir,
		TemporalAddr: "127.0.0.1:7233", UIAddr: "127.0.0.1:8233",
		APIAddr: "127.0.0.1:8080", ERPAddr: "127.0.0.1:8081", CarrierAddr: "127.0.0.1:8082", BankAddr: "127.0.0.1:8083",
		MailAddr: "127.0.0.1:8025", SMTPAddr: "127.0.0.1:2525",
	}
}

// Stack is the running system.
type Stack struct {
	opts     Options
	log      zerolog.Logger
	Pool     *pgxpool.Pool
	Store    *store.Store
	Temporal *devserver.Server
	Client   client.Client
	ERP      *erpsim.Sim
	Carrier  *carriersim.Sim
	Bank     *banksim.Sim
	Mail     *mailsink.Sink
	Tokens   *auth.Issuer
	Metrics  *metrics.Metrics
	acts     *activities.Activities

	// URLs of everything that listens.
	APIURL, ERPURL, CarrierURL, BankURL, MailURL, UIURL string

	mu      sync.Mutex
	worker  sdkworker.Worker
	servers []*http.Server
	cancel  context.CancelFunc
	closers []func()
	bg      sync.WaitGroup
}

// Start brings everything up, in dependency order, and returns once the API answers.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	s := &Stack{opts: o, log: o.Logger}
	var listeners []net.Listener
	defer func() {
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			s.Stop()
		}
	}()
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel

	// Listeners first: every component must know every other's address.
	for _, l := range []struct{ addr, what string }{
		{o.APIAddr, "REST API"}, {o.ERPAddr, "ERP simulator"}, {o.CarrierAddr, "carrier simulator"},
		{o.BankAddr, "bank simulator"}, {o.MailAddr, "mail sink page"},
	} {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return nil, fmt.Errorf("%s cannot listen on %s (is another orderflow dev running?): %w", l.what, l.addr, err)
		}
		listeners = append(listeners, ln)
	}
	lAPI, lERP, lCarrier, lBank, lMail := listeners[0], listeners[1], listeners[2], listeners[3], listeners[4]
	s.APIURL, s.ERPURL, s.CarrierURL = "http://"+lAPI.Addr().String(), "http://"+lERP.Addr().String(), "http://"+lCarrier.Addr().String()
	s.BankURL, s.MailURL = "http://"+lBank.Addr().String(), "http://"+lMail.Addr().String()

	// PostgreSQL: orderflow's schema and the simulators' tables.
	if err := pgdb.EnsureDatabase(ctx, o.DatabaseURL); err != nil {
		return nil, err
	}
	if s.Pool, err = pgdb.Open(ctx, o.DatabaseURL); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Pool.Close)
	s.Store = store.New(s.Pool)
	if err := store.Migrate(ctx, s.Pool); err != nil {
		return nil, err
	}
	if err := s.Store.SeedDemo(ctx); err != nil {
		return nil, fmt.Errorf("seed demo customers: %w", err)
	}
	sims, err := simulators.New(ctx, s.Pool, simulators.Options{
		LogisticsWebhookURL: s.APIURL + "/v1/webhooks/logistics", LogisticsSecret: cfg.LogisticsWebhookSecret,
		PaymentsWebhookURL: s.APIURL + "/v1/webhooks/payments", PaymentsSecret: cfg.PaymentsWebhookSecret,
		CarrierAutoDeliverAfter: o.CarrierAutoDeliverAfter, CarrierAutoReturnAfter: o.CarrierAutoReturnAfter,
		ERPAutoRestock: o.ERPAutoRestock, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.ERP, s.Carrier, s.Bank = sims.ERP, sims.Carrier, sims.Bank

	// Mail sink, keeping its mails in the database across restarts.
	s.Mail = mailsink.New(mailsink.Options{SMTPAddr: o.SMTPAddr, DB: s.Pool, Logger: o.Logger.With().Str("component", "mail-sink").Logger()})
	if err := s.Mail.Start(); err != nil {
		return nil, fmt.Errorf("start mail sink on %s: %w", o.SMTPAddr, err)
	}
	s.closers = append(s.closers, func() { _ = s.Mail.Close() })

	// Temporal.
	to := devserver.Options{
		Store: o.TemporalStore, FrontendAddr: o.TemporalAddr, UIAddr: o.UIAddr, Namespace: cfg.TemporalNamespace,
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           slog.New(zerolog.NewSlogHandler(o.Logger.With().Str("component", "temporal").Logger())),
	}
	switch {
	case o.TemporalStore == devserver.StorePostgres:
		to.PostgresURL = o.DatabaseURL
	case o.DataDir != "":
		to.DataDir = filepath.Join(o.DataDir, "temporal")
	}
	s.Temporal, err = devserver.Start(ctx, to)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = s.Temporal.Stop() })
	s.UIURL = s.Temporal.UIURL()

	s.Metrics = metrics.New()
	sdkMetrics, metricsCloser := s.Metrics.SDKHandler()
	s.closers = append(s.closers, func() { _ = metricsCloser.Close() })
	s.Client, err = client.Dial(client.Options{
		HostPort: s.Temporal.FrontendAddr(), Namespace: s.Temporal.Namespace(),
		Logger: worker.Logger(o.Logger.With().Str("component", "temporal-sdk").Logger()), MetricsHandler: sdkMetrics,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to embedded Temporal: %w", err)
	}
	s.closers = append(s.closers, s.Client.Close)

	// The worker's outside clients point at the simulators, each behind its breaker.
	cfg.ERPURL, cfg.CarrierURL, cfg.BankURL, cfg.PublicURL = s.ERPURL, s.CarrierURL, s.BankURL, s.APIURL
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPUsername, cfg.SMTPPassword = host(s.Mail.Addr()), port(s.Mail.Addr()), "none", "", ""
	if o.Breaker.ConsecutiveFailures > 0 {
		cfg.BreakerFailures, cfg.BreakerOpenFor = o.Breaker.ConsecutiveFailures, o.Breaker.OpenFor
	}
	if o.StepBudget > 0 {
		cfg.StepBudget = o.StepBudget
	}
	if o.TimeScale > 0 {
		cfg.TimeScale = o.TimeScale
	}
	s.acts = worker.NewActivities(cfg, s.Store, s.Metrics)
	s.Metrics.SetLogger(o.Logger.With().Str("component", "metrics").Logger())
	worker.ObserveStore(s.Metrics, s.Store)
	if err := s.StartWorker(); err != nil {
		return nil, err
	}

	var authn *auth.Authenticator
	if s.Tokens, authn, err = auth.FromConfig(cfg, s.Store); err != nil {
		return nil, err
	}
	signer, err := links.New([]byte(cfg.LinkSecret))
	if err != nil {
		return nil, err
	}
	handler := api.New(api.Deps{
		Store: s.Store, Temporal: s.Client, Tokens: authn, Links: signer,
		LogisticsSecret: []byte(cfg.LogisticsWebhookSecret), PaymentsSecret: []byte(cfg.PaymentsWebhookSecret),
		PublicURL: s.APIURL, Logger: o.Logger.With().Str("component", "api").Logger(), Now: time.Now,
		WebhookTolerance: cfg.WebhookTolerance, QuoteWait: cfg.QuoteWait, StepBudget: cfg.StepBudget, HistoryLimit: o.HistoryLimit, TimeScale: cfg.TimeScale, Metrics: s.Metrics.Handler(),
	})
	s.serve(lAPI, handler)
	s.serve(lERP, s.ERP.Handler())
	s.serve(lCarrier, s.Carrier.Handler())
	s.serve(lBank, s.Bank.Handler())
	s.serve(lMail, s.Mail.Handler())
	s.background(bgCtx, "carrier simulator", s.Carrier.Run)
	s.background(bgCtx, "bank simulator", s.Bank.Run)
	sealLog := o.Logger.With().Str("component", "audit-seal").Logger()
	s.background(bgCtx, "audit sealer", func(ctx context.Context) error {
		return auditseal.Run(ctx, s.Store, cfg.AuditSealInterval, sealLog, s.Metrics)
	})
	return s, nil
}

// StartWorker starts a worker (again), as a restarted worker process would.
func (s *Stack) StartWorker() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.worker != nil {
		return errors.New("a worker is already running")
	}
	w := worker.New(s.Client, s.acts, s.Metrics)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	s.worker = w
	return nil
}

// StopWorker stops the worker, as a crashed or redeployed worker process would.
func (s *Stack) StopWorker() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
}

// Stop shuts everything down in reverse order.
func (s *Stack) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	s.StopWorker()
	if s.cancel != nil {
		s.cancel()
	}
	s.bg.Wait()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Str("addr", l.Addr().String()).Msg("HTTP server stopped")
		}
	}()
}

func (s *Stack) background(ctx context.Context, what string, run func(context.Context) error) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error().Err(err).Msg(what + " stopped")
		}
	}()
}

func host(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	var n int
	fmt.Sscanf(p, "%d", &n)
	return n
}
