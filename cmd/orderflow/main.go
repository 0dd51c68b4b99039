// Command orderflow runs B2B orders from quote to cash on Temporal.
//
//	orderflow dev        everything in one process, for trying it out and developing
//	orderflow worker     the Temporal worker (production)
//	orderflow api        the REST API (production)
//	orderflow migrate    create the database if missing and apply migrations
//	orderflow temporal-setup  register the Temporal namespace and the search attributes
//	orderflow token      mint a bearer token for a role
//	orderflow audit      verify the audit log's hash chains, or seal it now
//	orderflow sim        the ERP, carrier and bank simulators and the mail sink, standalone
//	orderflow bench      drive orders from quote to cash under load and report latencies
//
// Settings come from the environment (see internal/config and
// docs/operations.md); `orderflow <command> -h` lists a command's flags and
// the variables it reads, and starts nothing.
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
	"text/tabwriter"
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

// command is one subcommand. Each run parses its flags with parseArgs before
// anything else, so -h and a bad flag answer without reading the environment
// or touching the network.
type command struct {
	name, summary string
	// about says more in the subcommand's -h, after the summary.
	about string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return append(devCommands(), []command{
		{name: "worker", summary: "run the Temporal worker against TEMPORAL_ADDRESS", run: runWorker,
			about: "Polls the orders task queue of the Temporal cluster at TEMPORAL_ADDRESS and runs the order\n" +
				"workflows and their activities against the ERP, the carrier and the SMTP server. Runs until\n" +
				"interrupted; any number of workers may share the queue."},
		{name: "api", summary: "serve the REST API on ORDERFLOW_API_ADDR", run: runAPI,
			about: "Serves the REST API, the webhooks, the survey pages, /healthz, /readyz and /metrics. Refuses to\n" +
				"start with the public dev secrets unless ORDERFLOW_ALLOW_DEV_SECRETS=1."},
		{name: "temporal-setup", summary: "register the Temporal namespace and orderflow's search attributes (idempotent)", run: runTemporalSetup,
			about: "Registers TEMPORAL_NAMESPACE on the cluster at TEMPORAL_ADDRESS when it does not exist, and adds\n" +
				"the custom search attributes every order carries (CustomerId, OrderStatus, OrderTotal,\n" +
				"NeedsAttention, PONumber, DeliveryOverdue) that it lacks. Safe to run on every deploy; an\n" +
				"attribute that exists with another type is an error. Needs operator rights on the cluster."},
		{name: "migrate", summary: "create the database if missing and apply migrations (--seed-demo adds the demo customers)", run: runMigrate,
			about: "Creates the database DATABASE_URL names when it is missing, applies orderflow's migrations\n" +
				"and says what it did. Safe to run again, and from several processes at once."},
		{name: "token", summary: "mint a bearer token: token --role R [--customer C] [--subject S] [--ttl 24h]", run: runToken,
			about: "Prints a bearer token signed with ORDERFLOW_TOKEN_SECRET. Without --subject every token is\n" +
				"a new person (<role>-<6 random hex digits>@<customer in lower case>.dev, or @dev), so two\n" +
				"buyers or two approvers minted one after the other are two people; give --subject to mint\n" +
				"for the same person again."},
		{name: "audit", summary: "verify the audit log's hash chains (audit verify [--order ID] [--head N:HEX]) or seal it now (audit seal)", run: runAudit,
			about: "orderflow audit verify walks every order's chain of audit entries and every seal in DATABASE_URL,\n" +
				"recomputing each hash, and names the first entry or seal that does not verify (exit status 2);\n" +
				"with --head, the seal of a head published earlier (the `head` of an \"audit chain head\" log line)\n" +
				"must still have that hash. orderflow audit seal seals what was written since the last seal and\n" +
				"prints the head to keep; workers do that every ORDERFLOW_AUDIT_SEAL_INTERVAL."},
		{name: "sim", summary: "run the ERP, carrier and bank simulators and the mail sink standalone", run: runSim,
			about: "Serves the simulators and the mail sink on their own (a staging setup), their state in\n" +
				"DATABASE_URL; webhooks go to ORDERFLOW_PUBLIC_URL."},
	}...)
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("missing command")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				return run(ctx, []string{c.name, "-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		return nil
	}
	c, ok := lookup(args[0])
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the help is printed; asking for it is no failure
	}
	return err
}

// newFlagSet is a subcommand's flag set; parseArgs reports its errors.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseArgs parses a subcommand's flags and only then reads the settings.
// On -h or --help it writes the subcommand's help to stdout and returns
// flag.ErrHelp (run turns that into success): nothing has been read,
// refused or started by then.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer) (config.Config, error) {
	name := fs.Name()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c, _ := lookup(name)
			help(stdout, c, fs)
			return config.Config{}, flag.ErrHelp
		}
		return config.Config{}, fmt.Errorf("%s: %w (orderflow %s -h lists its flags)", name, err, name)
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%s: unexpected argument %q (orderflow %s -h lists its flags)", name, fs.Arg(0), name)
	}
	return config.FromEnv()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: orderflow <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`orderflow <command> -h` shows a command's flags and the environment variables it reads.")
}

// help is a subcommand's -h: what it does, its flags, and the environment
// variables it reads (from internal/config, so the list stays true).
func help(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: orderflow %s [flags]\n\n%s.\n", c.name, c.summary)
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", c.about)
	}
	fmt.Fprintln(w, "\nflags:")
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fmt.Fprintln(w, "\nenvironment:")
	vars := config.VarsFor(c.name)
	if len(vars) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vars {
		fmt.Fprintf(tw, "  %s\t%s (default: %s)\n", v.Name, v.Usage, v.DefaultText())
	}
	_ = tw.Flush()
}

// newLogger writes JSON lines; ORDERFLOW_LOG_FORMAT=console gives colour for people.
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(strings.ToLower(cfg.LogLevel))
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	if cfg.LogFormat == "console" {
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
