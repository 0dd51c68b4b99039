package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/auditseal"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
)

// errAuditFailed is what `audit verify` returns when the log does not
// verify: the report is printed, the exit status is non-zero.
var errAuditFailed = errors.New("the audit log does not verify")

// runAudit is `orderflow audit verify|seal [flags]`.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit")
	orderID := fs.String("order", "", "verify: only this order's chain (the seals, which span all orders, are not checked)")
	head := fs.String("head", "", "verify: a head published earlier, `N:HEX` (the head field of an \"audit chain head\" log line); seal N must still have that hash")
	asJSON := fs.Bool("json", false, "print the report as JSON (the body of GET /v1/audit/verify)")
	verb := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	opts := store.AuditVerifyOptions{OrderID: *orderID}
	switch verb {
	case "verify":
		if *head != "" {
			ref, err := store.ParseSealRef(*head)
			if err != nil {
				return fmt.Errorf("--head: %w", err)
			}
			opts.Head = &ref
		}
	case "seal":
		if *orderID != "" || *head != "" {
			return errors.New("audit seal: --order and --head are for verify (orderflow audit -h)")
		}
	case "":
		return errors.New("audit: verify or seal? (orderflow audit -h)")
	default:
		return fmt.Errorf("audit: unknown action %q, want verify or seal (orderflow audit -h)", verb)
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)

	if verb == "seal" {
		h, err := auditseal.Once(ctx, st, zerolog.Nop(), nil)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(h)
		}
		if h.SealNo == 0 {
			fmt.Fprintf(stdout, "nothing sealed yet (%d entries wait for the transactions older than them to end)\n", h.Unsealed)
			return nil
		}
		fmt.Fprintf(stdout, "audit chain head %s\nseal %d, sealed %s, covers %d entries; %d not sealed yet\n",
			h.Ref(), h.SealNo, h.SealedAt.Format("2006-01-02T15:04:05Z"), h.Sealed, h.Unsealed)
		return nil
	}

	rep, err := st.VerifyAudit(ctx, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		printAuditReport(stdout, rep)
	}
	if !rep.OK {
		return fmt.Errorf("%w: %s", errAuditFailed, rep.Problem.Message)
	}
	return nil
}

func printAuditReport(w io.Writer, rep store.AuditReport) {
	if rep.OrderID != "" {
		fmt.Fprintf(w, "order %s: %d entries checked (its chain only; seals not checked)\n", rep.OrderID, rep.Entries)
	} else {
		fmt.Fprintf(w, "%d entries of %d orders and %d seals checked; %d entries not sealed yet\n",
			rep.Entries, rep.Orders, rep.Seals, rep.Unsealed)
		if rep.Head != nil {
			fmt.Fprintf(w, "head %s (seal %d covers the entries up to %s)\n",
				rep.Head.Ref(), rep.Head.SealNo, rep.Head.SealedAt.Format("2006-01-02T15:04:05Z"))
		}
	}
	if rep.OK {
		fmt.Fprintln(w, "OK")
		return
	}
	p := rep.Problem
	fmt.Fprintf(w, "FAILED (%s): %s\n", p.Kind, p.Message)
	var at []string
	if p.OrderID != "" {
		at = append(at, "order "+p.OrderID)
	}
	if p.ChainIndex != 0 {
		at = append(at, fmt.Sprintf("chain index %d", p.ChainIndex))
	}
	if p.EntryID != 0 {
		at = append(at, fmt.Sprintf("entry id %d", p.EntryID))
	}
	if p.SealNo != 0 {
		at = append(at, fmt.Sprintf("seal %d", p.SealNo))
	}
	if len(at) > 0 {
		fmt.Fprintf(w, "  at %s\n", strings.Join(at, ", "))
	}
	if rep.Problems > 1 {
		fmt.Fprintf(w, "  %d problems in all; the first is shown\n", rep.Problems)
	}
}
