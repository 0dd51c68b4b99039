// Command orderflow runs B2B orders from quote to cash on Temporal.
//
//	orderflow dev        everything in one process, for trying it out and developing
//	orderflow worker     the Temporal worker (production)
//	orderflow api        the REST API (production)
//	orderflow migrate    create the database if missing and apply migrations
//	orderflow token      mint a bearer token for a role
//	orderflow sim        the ERP, carrier and bank simulators and the mail sink, standalone
//	orderflow bench      drive orders from quote to cash under load and report latencies
//
// Settings come from the environment (see internal/config and docs/operations.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/rs/zerolog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "orderflow:", err)
		}
		os.Exit(2)
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return append(devCommands(), []command{
		{"worker", "run the Temporal worker against TEMPORAL_ADDRESS", runWorker},
		{"api", "serve the REST API on ORDERFLOW_API_ADDR", runAPI},
		{"migrate", "create the database if missing and apply migrations (--seed-demo adds the demo customers)", runMigrate},
		{"token", "mint a bearer token: token --role R [--customer C] [--subject S] [--ttl 24h]", runToken},
		{"sim", "run the ERP, carrier and bank simulators and the mail sink standalone", runSim},
	}...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("missing command")
		}
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, cfg, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: orderflow <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// newLogger writes JSON lines; ORDERFLOW_LOG_FORMAT=console gives colour for people.
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(strings.ToLower(cfg.LogLevel))
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	if os.Getenv("ORDERFLOW_LOG_FORMAT") == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// redact hides a password in a database URL for logs.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 {
		return url
	}
	creds := url[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return url[:scheme+3] + user + ":***" + url[at:]
	}
	return url
}
