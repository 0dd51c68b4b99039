package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/sim/simulators"
)

// runSim serves the simulators and the mail sink on their own, for a staging
// setup where the worker and API run as separate processes but the outside
// systems are still simulated. Webhooks go to ORDERFLOW_PUBLIC_URL.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sim")
	erpAddr := fs.String("erp-addr", "127.0.0.1:8081", "ERP simulator address")
	carrierAddr := fs.String("carrier-addr", "127.0.0.1:8082", "carrier simulator address")
	bankAddr := fs.String("bank-addr", "127.0.0.1:8083", "bank simulator address")
	mailAddr := fs.String("mail-addr", "127.0.0.1:8025", "mail sink web page address")
	smtpAddr := fs.String("smtp-addr", "127.0.0.1:2525", "mail sink SMTP address")
	autoDeliver := fs.Duration("auto-deliver", 0, "deliver every shipment this long after booking (0: only on request)")
	autoReturn := fs.Duration("auto-return", 0, "bring every return pickup back this long after booking (0: only on request)")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := pgdb.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	sims, err := simulators.New(ctx, pool, simulators.Options{
		LogisticsWebhookURL: cfg.PublicURL + "/v1/webhooks/logistics", LogisticsSecret: cfg.LogisticsWebhookSecret,
		PaymentsWebhookURL: cfg.PublicURL + "/v1/webhooks/payments", PaymentsSecret: cfg.PaymentsWebhookSecret,
		CarrierAutoDeliverAfter: *autoDeliver, CarrierAutoReturnAfter: *autoReturn, ERPAutoRestock: cfg.SimAutoRestock, Logger: log,
	})
	if err != nil {
		return err
	}
	sink := mailsink.New(mailsink.Options{SMTPAddr: *smtpAddr, DB: pool, Logger: log.With().Str("component", "mail-sink").Logger()})
	if err := sink.Start(); err != nil {
		return err
	}
	defer sink.Close()

	var wg sync.WaitGroup
	servers := []*http.Server{
		{Addr: *erpAddr, Handler: sims.ERP.Handler()},
		{Addr: *carrierAddr, Handler: sims.Carrier.Handler()},
		{Addr: *bankAddr, Handler: sims.Bank.Handler()},
		{Addr: *mailAddr, Handler: sink.Handler()},
	}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		srv.ReadHeaderTimeout = 10 * time.Second
		wg.Go(func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("listen on %s: %w", srv.Addr, err)
			}
		})
	}
	wg.Go(func() { _ = sims.Carrier.Run(ctx) })
	wg.Go(func() { _ = sims.Bank.Run(ctx) })
	fmt.Fprintf(stdout, "ERP http://%s  carrier http://%s  bank http://%s  mail http://%s (SMTP %s); webhooks to %s\n",
		*erpAddr, *carrierAddr, *bankAddr, *mailAddr, sink.Addr(), cfg.PublicURL)
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	stop()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	wg.Wait()
	return err
}
