package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/temporalsetup"
	"github.com/orderflow/orderflow/workflows"
)

// defaultRetention is how long Temporal keeps a closed order's history in
// a namespace temporal-setup registers: long enough for CS to look at an
// order a month after it completed.
const defaultRetention = 30 * 24 * time.Hour

func runTemporalSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("temporal-setup")
	retention := fs.Duration("retention", defaultRetention, "how long closed orders' histories are kept, for a namespace this registers (an existing one keeps its own)")
	skipNamespace := fs.Bool("skip-namespace", false, "do not register the namespace (it is managed elsewhere, e.g. Temporal Cloud or the cluster's Helm chart)")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	if *retention < 24*time.Hour {
		return fmt.Errorf("temporal-setup: -retention %s: Temporal keeps histories at least a day", *retention)
	}
	opts, err := temporalOptions(cfg, zerolog.New(stderr).Level(zerolog.WarnLevel), nil)
	if err != nil {
		return err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	ns := cfg.TemporalNamespace
	if !*skipNamespace {
		created, err := temporalsetup.EnsureNamespace(ctx, c, ns, *retention)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "registered namespace %s (retention %s)\n", ns, *retention)
		} else {
			fmt.Fprintf(stdout, "namespace %s exists\n", ns)
		}
	}
	// A namespace just registered reaches the frontends' namespace cache a
	// few seconds later; until then it is "not found" to the operator API.
	var added []string
	for deadline := time.Now().Add(time.Minute); ; {
		added, err = temporalsetup.EnsureSearchAttributes(ctx, c, ns, workflows.SearchAttributes())
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return err
	}
	if len(added) == 0 {
		fmt.Fprintf(stdout, "search attributes of namespace %s complete\n", ns)
	} else {
		fmt.Fprintf(stdout, "added search attribute(s) to namespace %s: %s\n", ns, strings.Join(added, ", "))
	}
	return nil
}
