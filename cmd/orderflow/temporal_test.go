package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/rs/zerolog"
)

// selfSigned writes a certificate and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "orderflow-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTemporalOptions(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	base := config.Config{TemporalAddress: "orders.a1b2c.tmprl.cloud:7233", TemporalNamespace: "orders.a1b2c"}

	plain, err := temporalOptions(base, zerolog.Nop(), nil)
	if err != nil || plain.ConnectionOptions.TLS != nil || plain.Credentials != nil {
		t.Fatalf("no TLS settings should mean a plain connection: %+v, %v", plain.ConnectionOptions.TLS, err)
	}

	mtls := base
	mtls.TemporalTLSCert, mtls.TemporalTLSKey, mtls.TemporalTLSCA = cert, key, cert
	o, err := temporalOptions(mtls, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.HostPort != base.TemporalAddress || o.Namespace != base.TemporalNamespace {
		t.Fatalf("address or namespace lost: %s %s", o.HostPort, o.Namespace)
	}
	if tc := o.ConnectionOptions.TLS; tc == nil || len(tc.Certificates) != 1 || tc.RootCAs == nil {
		t.Fatalf("mTLS not configured: %+v", tc)
	}

	apiKey := base
	apiKey.TemporalAPIKey = "secret-key"
	o, err = temporalOptions(apiKey, zerolog.Nop(), nil)
	if err != nil || o.Credentials == nil || o.ConnectionOptions.TLS == nil {
		t.Fatalf("an API key needs credentials over TLS: %+v, %v", o, err)
	}

	for name, c := range map[string]config.Config{
		"missing cert file": func() config.Config { c := base; c.TemporalTLSCert, c.TemporalTLSKey = "/nope.pem", key; return c }(),
		"CA without PEM":    func() config.Config { c := base; c.TemporalTLSCA = key; return c }(),
	} {
		if _, err := temporalOptions(c, zerolog.Nop(), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
