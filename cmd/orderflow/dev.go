//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/order"
)

// devTokens are the roles dev mode mints a token for, with the demo customer
// the buyer roles act for.
var devTokens = []order.Actor{
	{Subject: "storefront@dev", Role: order.RoleStorefront},
	{Subject: "purchasing@acme.example", Role: order.RoleBuyer, CustomerID: "ACME-001"},
	{Subject: "cfo@acme.example", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"},
	{Subject: "rita.rep@seller.example", Role: order.RoleSalesRep},
	{Subject: "mia.manager@seller.example", Role: order.RoleSalesManager},
	{Subject: "max.manager@seller.example", Role: order.RoleSalesManager},
	{Subject: "finance@seller.example", Role: order.RoleFinance},
	{Subject: "cs@seller.example", Role: order.RoleCS},
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev")
	dataDir := fs.String("data-dir", ".data", "where dev writes tokens.env and the embedded Temporal keeps its SQLite file; a restart resumes from it")
	temporalStore := fs.String("temporal-store", string(devserver.StoreSQLite), "where the embedded Temporal keeps its data: sqlite (a file in -data-dir) or postgres (databases <name>_temporal and <name>_temporal_visibility on DATABASE_URL's server)")
	autoDeliver := fs.Duration("auto-deliver", 0, "let the carrier simulator deliver every shipment this long after booking (0: only on request)")
	autoReturn := fs.Duration("auto-return", 0, "let the carrier simulator bring every return pickup back this long after booking (0: only on request)")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	store, err := devserver.ParseStore(*temporalStore)
	if err != nil {
		return fmt.Errorf("-temporal-store: %w", err)
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	log := newLogger(cfg, stderr)
	o := devstack.DefaultOptions(cfg.DatabaseURL, *dataDir)
	o.CarrierAutoDeliverAfter, o.CarrierAutoReturnAfter = *autoDeliver, *autoReturn
	o.ERPAutoRestock = cfg.SimAutoRestock
	o.TimeScale = cfg.TimeScale // ORDERFLOW_TIME_SCALE; the API warns when it is not 1
	o.TemporalStore = store
	o.Logger = log
	log.Info().Str("database", redact(cfg.DatabaseURL)).Str("data_dir", *dataDir).Str("temporal_store", string(store)).Msg("starting orderflow dev (the first start takes a few seconds)")
	s, err := devstack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer s.Stop()

	var tokens strings.Builder
	for _, a := range devTokens {
		tok, err := s.Tokens.Mint(a, 30*24*time.Hour)
		if err != nil {
			return err
		}
		name := strings.ToUpper(string(a.Role))
		if a.Role == order.RoleSalesManager && strings.HasPrefix(a.Subject, "max") {
			name += "_2"
		}
		fmt.Fprintf(&tokens, "export TOKEN_%s=%s\n", name, tok)
	}
	tokenFile := filepath.Join(*dataDir, "tokens.env")
	if err := os.WriteFile(tokenFile, []byte(tokens.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tokenFile, err)
	}
	fmt.Fprintf(stdout, `
orderflow dev is running. Ctrl-C stops it; running it again resumes every order.

  REST API          %s        (OpenAPI: %s/openapi.yaml)
  Dashboard         %s/dashboard        (log in with a staff token below, e.g. TOKEN_FINANCE)
  Temporal UI       %s
  Temporal gRPC     %s        (namespace %s)
  Mail sink         %s        (SMTP %s)
  ERP simulator     %s
  Carrier simulator %s
  Bank simulator    %s
  Metrics           %s/metrics

Bearer tokens (also in %s; load them with: source %s):
%s
Demo customers: ACME-001 (EUR), GLOBEX-002 (EUR, small credit limit), INITECH-003 (USD, invoiced per shipment).
Products: BOLT-M8, NUT-M8, VALVE-50, PUMP-200, MOTOR-7K. README.md walks one order to COMPLETED.
`, s.APIURL, s.APIURL, s.APIURL, s.UIURL, s.Temporal.FrontendAddr(), s.Temporal.Namespace(), s.MailURL, s.Mail.Addr(),
		s.ERPURL, s.CarrierURL, s.BankURL, s.APIURL, tokenFile, tokenFile, tokens.String())

	<-ctx.Done()
	log.Info().Msg("stopping orderflow dev")
	return nil
}
