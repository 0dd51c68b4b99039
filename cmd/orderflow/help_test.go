package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// flagsOf are the flags each subcommand's help must name.
var flagsOf = map[string][]string{
	"worker":         nil,
	"api":            nil,
	"migrate":        {"-seed-demo"},
	"temporal-setup": {"-retention", "-skip-namespace"},
	"token":          {"-role", "-customer", "-subject", "-ttl"},
	"audit":          {"-order", "-head", "-json"},
	"sim":            {"-erp-addr", "-carrier-addr", "-bank-addr", "-mail-addr", "-smtp-addr", "-auto-deliver", "-auto-return"},
	"dev":            {"-data-dir", "-temporal-store", "-auto-deliver", "-auto-return"},
	"simulate":       {"-scenario", "-time-scale", "-poll", "-timeout", "-temporal-store", "-keep-db", "-json", "-report", "-chart"},
	"bench":          {"-orders", "-concurrency", "-customers", "-lines", "-api", "-temporal-store", "-erp-error-rate", "-keep-db", "-json", "-cost", "-temporal", "-dashboard", "-dashboard-db", "-runs", "-rate", "-duration", "-arrivals", "-live-reads", "-sizing", "-sticky-cache"},
}

// TestEveryCommandAnswersHelpAndStartsNothing runs every subcommand with -h
// and --help in an environment where starting anything would fail: Temporal
// and PostgreSQL on a closed port and a token secret config.FromEnv refuses.
// Help must still answer at once, on stdout, with the flags and the
// environment variables, and succeed.
func TestEveryCommandAnswersHelpAndStartsNothing(t *testing.T) {
	closed := closedAddr(t)
	t.Setenv("TEMPORAL_ADDRESS", closed)
	t.Setenv("DATABASE_URL", "postgres://postgres@"+closed+"/nowhere?sslmode=disable")
	t.Setenv("ORDERFLOW_TOKEN_SECRET", "too short: reading the config fails")
	t.Setenv("ORDERFLOW_API_ADDR", closed)

	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	for name := range flagsOf {
		if name != "dev" && name != "bench" && name != "simulate" { // not in the production build
			require.Contains(t, names, name)
		}
	}
	for _, c := range commands() {
		want, ok := flagsOf[c.name]
		require.True(t, ok, "add %s to flagsOf", c.name)
		vars := config.VarsFor(c.name)
		require.NotEmpty(t, vars, "%s reads no environment variable?", c.name)
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {c.name, "-help"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				began := time.Now()
				err := run(ctx, args, &stdout, &stderr)
				require.NoError(t, err, "help must succeed (exit 0) without reading the config; stderr: %s", stderr.String())
				assert.Less(t, time.Since(began), 2*time.Second, "help returns at once")
				assert.Empty(t, stderr.String(), "nothing logged: nothing started")
				out := stdout.String()
				assert.Contains(t, out, "usage: orderflow "+c.name)
				assert.Contains(t, out, c.summary)
				for _, f := range want {
					assert.Regexp(t, "(?m)^  "+regexp.QuoteMeta(f)+"( |$)", out, "flag %s", f)
				}
				if len(want) == 0 {
					assert.Contains(t, out, "flags:\n  none")
				}
				for _, v := range vars {
					assert.Contains(t, out, v.Name, "variable %s", v.Name)
				}
				assert.NotContains(t, out, config.DevTokenSecret, "help shows no secret")
			})
		}
	}

	// The variables the table names belong to commands that exist.
	for _, v := range config.Vars() {
		for _, c := range v.Commands {
			if c != "dev" && c != "bench" {
				assert.Contains(t, names, c, "%s names command %s", v.Name, c)
			}
		}
	}
	for name, must := range map[string][]string{
		"worker":  {"TEMPORAL_ADDRESS", "ORDERFLOW_ERP_URL", "ORDERFLOW_SMTP_HOST", "DATABASE_URL"},
		"api":     {"TEMPORAL_ADDRESS", "ORDERFLOW_API_ADDR", "ORDERFLOW_ALLOW_DEV_SECRETS", "ORDERFLOW_TOKEN_SECRET"},
		"migrate": {"DATABASE_URL"},
		"audit":   {"DATABASE_URL"},
		"token":   {"ORDERFLOW_TOKEN_SECRET"},
		"sim":     {"DATABASE_URL", "ORDERFLOW_PUBLIC_URL", "ORDERFLOW_SIM_AUTO_RESTOCK"},
	} {
		var got []string
		for _, v := range config.VarsFor(name) {
			got = append(got, v.Name)
		}
		for _, m := range must {
			assert.True(t, slices.Contains(got, m), "%s must list %s: %v", name, m, got)
		}
	}
}

func TestBadArgumentsAreRefusedBeforeAnythingStarts(t *testing.T) {
	closed := closedAddr(t)
	t.Setenv("TEMPORAL_ADDRESS", closed)
	t.Setenv("DATABASE_URL", "postgres://postgres@"+closed+"/nowhere?sslmode=disable")
	for _, args := range [][]string{{"worker", "-nope"}, {"api", "help"}, {"migrate", "--seed-demo", "now"}, {"token", "-ttl", "forever"}, {"audit", "verify", "--head"}, {"audit", "seal", "now"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), "orderflow "+args[0]+" -h", "%v: the error points at the help", args)
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "commands:")
	require.Error(t, run(context.Background(), nil, &stdout, &stderr), "no command is an error")
}

func TestMigrateSaysWhatItDid(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	url, err := pgdb.WithDatabase(pgtest.AdminURL(), "orderflow_test_"+hex.EncodeToString(b))
	require.NoError(t, err)
	t.Cleanup(func() { _ = pgdb.DropDatabase(context.Background(), url) })
	t.Setenv("DATABASE_URL", url)
	name := "orderflow_test_" + hex.EncodeToString(b)

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"migrate"}, &out, &out))
	assert.Contains(t, out.String(), `created database "`+name+`"`)
	m := regexp.MustCompile(`applied (\d+) migration\(s\): 001_init\.sql[^;]*; schema at version (\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	assert.Equal(t, m[1], m[2], "every migration applied, the schema at the last")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"migrate", "--seed-demo"}, &out, &out))
	assert.Contains(t, out.String(), `database "`+name+`"`)
	assert.Contains(t, out.String(), " exists")
	assert.Contains(t, out.String(), "schema already up to date (version "+m[2]+")")
	assert.Contains(t, out.String(), "demo customers and their terms upserted")
}

func TestTokenGivesEachMintedPersonADistinctSubject(t *testing.T) {
	iss, err := auth.NewIssuer([]byte(config.DevTokenSecret))
	require.NoError(t, err)
	mint := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"token"}, args...), &out, &out))
		a, err := iss.Verify(strings.TrimSpace(out.String()))
		require.NoError(t, err)
		return a.Subject
	}
	first := mint("--role", "buyer", "--customer", "ACME-001")
	second := mint("--role", "buyer", "--customer", "ACME-001")
	assert.NotEqual(t, first, second, "two buyers minted without --subject are two people")
	assert.Regexp(t, `^buyer-[0-9a-f]{6}@acme-001\.dev$`, first)
	assert.NotEqual(t, mint("--role", "sales_manager"), mint("--role", "sales_manager"))
	assert.Regexp(t, `^cs-[0-9a-f]{6}@dev$`, mint("--role", "cs"))
	assert.Equal(t, "pat@acme.example", mint("--role", "buyer", "--customer", "ACME-001", "--subject", "pat@acme.example"))
}
