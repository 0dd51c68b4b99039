package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/order"
)

var (
	oldKey = auth.Key{ID: "2026-06", Secret: []byte("old-secret-old-secret-old-secret-1")}
	newKey = auth.Key{ID: "2026-12", Secret: []byte("new-secret-new-secret-new-secret-2")}
	buyer  = order.Actor{Subject: "pat@acme", Role: order.RoleBuyer, CustomerID: "ACME-001"}
)

// Rotation without downtime: tokens of the old key stay valid while the
// new one signs, until the old key leaves the ring; a token names its key.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	before, err := auth.NewKeyring([]auth.Key{oldKey})
	require.NoError(t, err)
	old, err := before.Mint(buyer, time.Hour)
	require.NoError(t, err)

	during, err := auth.NewKeyring([]auth.Key{newKey, oldKey})
	require.NoError(t, err)
	got, err := during.Verify(old)
	require.NoError(t, err, "the old key still verifies")
	require.Equal(t, buyer, got)
	fresh, err := during.Mint(buyer, time.Hour)
	require.NoError(t, err)
	tok, _, err := jwt.NewParser().ParseUnverified(fresh, &jwt.RegisteredClaims{})
	require.NoError(t, err)
	require.Equal(t, "2026-12", tok.Header["kid"], "the first key signs")

	after, err := auth.NewKeyring([]auth.Key{newKey})
	require.NoError(t, err)
	_, err = after.Verify(fresh)
	require.NoError(t, err)
	_, err = after.Verify(old)
	require.ErrorIs(t, err, auth.ErrInvalidToken, "the old key is gone")

	// A token without kid (minted before keys had names) is the default key's.
	legacy := sign(t, jwt.SigningMethodHS256, secret, validClaims())
	single := newIssuer(t)
	_, err = single.Verify(legacy)
	require.NoError(t, err)

	for _, bad := range [][]auth.Key{nil, {{ID: "", Secret: newKey.Secret}}, {newKey, newKey}, {{ID: "short", Secret: []byte("x")}}} {
		_, err := auth.NewKeyring(bad)
		require.Error(t, err, "%v", bad)
	}
	keys, err := auth.ParseKeys("2026-12=" + string(newKey.Secret) + ", 2026-06=" + string(oldKey.Secret))
	require.NoError(t, err)
	require.Equal(t, []auth.Key{newKey, oldKey}, keys)
	_, err = auth.ParseKeys("nokey")
	require.Error(t, err)
}

type revoked map[string]bool

func (r revoked) TokenRevoked(_ context.Context, id string) (bool, error) { return r[id], nil }

type brokenList struct{}

func (brokenList) TokenRevoked(context.Context, string) (bool, error) {
	return false, errors.New("db down")
}

func TestRevokedTokensAreRefused(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	tok, err := iss.Mint(buyer, time.Hour)
	require.NoError(t, err)
	v, err := iss.VerifyToken(tok)
	require.NoError(t, err)
	require.Len(t, v.TokenID, 32)

	list := revoked{}
	a := &auth.Authenticator{Own: iss, Revoked: list}
	got, err := a.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, buyer, got)
	list[v.TokenID] = true
	_, err = a.Authenticate(context.Background(), tok)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.ErrorContains(t, err, "revoked")

	_, err = (&auth.Authenticator{Own: iss, Revoked: brokenList{}}).Authenticate(context.Background(), tok)
	require.Error(t, err)
	require.NotErrorIs(t, err, auth.ErrInvalidToken, "an unreadable list is not the caller's fault")
}

// provider is a fake OIDC provider: an RSA and an EC key in its JWKS.
type provider struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	srv     *httptest.Server
	fetches atomic.Int32
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{}
	var err error
	p.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	keys := []map[string]string{
		{"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": enc(p.rsa.N.Bytes()), "e": enc(big.NewInt(int64(p.rsa.E)).Bytes())},
		{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": enc(p.ec.X.FillBytes(make([]byte, 32))), "y": enc(p.ec.Y.FillBytes(make([]byte, 32)))},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.fetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) token(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestOIDCTokensOfTheSellersProvider(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	oidc, err := auth.NewOIDC(auth.OIDCConfig{Issuer: "https://login.seller.example", Audience: "orderflow-api",
		JWKSURL: p.srv.URL, RoleClaim: "orderflow_role", CustomerClaim: "orderflow_customer"})
	require.NoError(t, err)
	a := &auth.Authenticator{Own: newIssuer(t), OIDC: oidc}
	now := time.Now()
	claims := jwt.MapClaims{"iss": "https://login.seller.example", "aud": "orderflow-api", "sub": "00u1a2b3",
		"orderflow_role": "cs", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "abc"}
	ctx := context.Background()

	got, err := a.Authenticate(ctx, p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims))
	require.NoError(t, err)
	require.Equal(t, order.Actor{Subject: "00u1a2b3", Role: order.RoleCS}, got)
	got, err = a.Authenticate(ctx, p.token(t, jwt.SigningMethodES256, "ec-1", p.ec,
		with(with(claims, "orderflow_role", "buyer"), "orderflow_customer", "ACME-001")))
	require.NoError(t, err)
	require.Equal(t, order.Actor{Subject: "00u1a2b3", Role: order.RoleBuyer, CustomerID: "ACME-001"}, got)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for name, tok := range map[string]string{
		"another audience":         p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, with(claims, "aud", "someone-else")),
		"expired":                  p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, with(claims, "exp", now.Add(-time.Hour).Unix())),
		"no role":                  p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, with(claims, "orderflow_role", nil)),
		"unknown role":             p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, with(claims, "orderflow_role", "admin")),
		"a buyer without customer": p.token(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, with(claims, "orderflow_role", "buyer")),
		"signed by another key":    p.token(t, jwt.SigningMethodRS256, "rsa-1", other, claims),
		"a key not in the JWKS":    p.token(t, jwt.SigningMethodRS256, "rsa-9", p.rsa, claims),
		"HS256 with a guessed key": p.token(t, jwt.SigningMethodHS256, "rsa-1", []byte("0123456789abcdef0123456789abcdef"), claims),
	} {
		_, err := a.Authenticate(ctx, tok)
		require.ErrorIs(t, err, auth.ErrInvalidToken, name)
	}
	require.LessOrEqual(t, p.fetches.Load(), int32(2), "an unknown key id does not fetch the keys on every request")

	// orderflow's own tokens still work beside the provider's.
	own, err := newIssuer(t).Mint(buyer, time.Hour)
	require.NoError(t, err)
	got, err = a.Authenticate(ctx, own)
	require.NoError(t, err)
	require.Equal(t, buyer, got)
}
