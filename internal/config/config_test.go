package config

import (
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
	if c.SMTPPort != 2626 || c.BreakerOpenFor != time.Minute || c.ERPURL != "https://erp.internal" {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || !c.UsesDevSecrets() {
		t.Fatalf("defaults wrong: %+v", c)
	}
}

func TestFromEnvRejectsBadValues(t *testing.T) {
	for key, val := range map[string]string{
		"ORDERFLOW_SMTP_PORT":        "twenty",
		"ORDERFLOW_BREAKER_OPEN_FOR": "soon",
		"ORDERFLOW_TOKEN_SECRET":     "short",
		"ORDERFLOW_SMTP_TLS":         "maybe",
		"TEMPORAL_TLS_CERT":          "/only/the/cert.pem",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, val)
			if _, err := FromEnv(); err == nil {
				t.Fatalf("%s=%q accepted", key, val)
			}
		})
	}
}
