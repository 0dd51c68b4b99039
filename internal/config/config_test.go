package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	t.Setenv("ORDERFLOW_SMTP_PORT", "2626")
	t.Setenv("ORDERFLOW_BREAKER_OPEN_FOR", "1m")
	t.Setenv("ORDERFLOW_ERP_URL", "https://erp.internal")
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeScale != 1 {
		t.Fatalf("ORDERFLOW_TIME_SCALE defaults to 1 (real time), got %v", c.TimeScale)
	}
	if c.WorkerCache != 1000 {
		t.Fatalf("ORDERFLOW_WORKER_CACHE defaults to 1000, got %d", c.WorkerCache)
	}
	if c.AuditSealInterval != time.Minute {
		t.Fatalf("ORDERFLOW_AUDIT_SEAL_INTERVAL defaults to 1m, got %s", c.AuditSealInterval)
	}
	if c.SMTPPort != 2626 || c.BreakerOpenFor != time.Minute || c.ERPURL != "https://erp.internal" {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || !c.UsesDevSecrets() || !c.SimAutoRestock || c.AllowDevSecrets ||
		c.BankURL != "http://127.0.0.1:8083" || c.Seller.Country != "DE" || c.Seller.IBAN == "" ||
		!strings.Contains(c.Seller.Name, "demo") {
		t.Fatalf("defaults wrong: %+v", c)
	}
}

func TestFromEnvRejectsBadValues(t *testing.T) {
	for key, val := range map[string]string{
		"ORDERFLOW_SMTP_PORT":           "twenty",
		"ORDERFLOW_BREAKER_OPEN_FOR":    "soon",
		"ORDERFLOW_TOKEN_SECRET":        "short",
		"ORDERFLOW_SMTP_TLS":            "maybe",
		"TEMPORAL_TLS_CERT":             "/only/the/cert.pem",
		"ORDERFLOW_SIM_AUTO_RESTOCK":    "sometimes",
		"ORDERFLOW_SELLER_COUNTRY":      "Germany",
		"ORDERFLOW_AUDIT_SEAL_INTERVAL": "0s",
		"ORDERFLOW_WORKER_CACHE":        "0",
		"ORDERFLOW_TIME_SCALE":          "0.5",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, val)
			if _, err := FromEnv(); err == nil {
				t.Fatalf("%s=%q accepted", key, val)
			}
		})
	}
}

func TestTimeScale(t *testing.T) {
	t.Setenv("ORDERFLOW_TIME_SCALE", "5760")
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeScale != 5760 {
		t.Fatalf("ORDERFLOW_TIME_SCALE=5760 read as %v", c.TimeScale)
	}
	for _, bad := range []string{"0", "-2", "NaN", "Inf", "fast"} {
		t.Setenv("ORDERFLOW_TIME_SCALE", bad)
		if _, err := FromEnv(); err == nil {
			t.Errorf("ORDERFLOW_TIME_SCALE=%q accepted", bad)
		}
	}
}

func TestVarsSayWhoReadsThem(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars() {
		if seen[v.Name] || v.Usage == "" || len(v.Commands) == 0 {
			t.Errorf("%s: listed twice, or without usage or commands: %+v", v.Name, v)
		}
		seen[v.Name] = true
		if v.Secret && v.DefaultText() == v.Default {
			t.Errorf("%s: help would print the secret", v.Name)
		}
	}
	var token []string
	for _, v := range VarsFor("token") {
		token = append(token, v.Name)
	}
	// Minting reads the keys; revoking writes to the database.
	if want := []string{"DATABASE_URL", "ORDERFLOW_TOKEN_SECRET", "ORDERFLOW_TOKEN_KEYS"}; !slices.Equal(token, want) {
		t.Errorf("token reads %v, want %v", token, want)
	}
}
