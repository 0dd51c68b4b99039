package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// OIDCConfig says which tokens of an external identity provider orderflow
// accepts, and where their role and customer ride.
type OIDCConfig struct {
	// Issuer is the provider's "iss"; Audience the "aud" it gives
	// orderflow's API; JWKSURL where it publishes its signing keys.
	Issuer, Audience, JWKSURL string
	// RoleClaim and CustomerClaim name the claims with orderflow's role
	// and, for buyers, their customer id ("role" and "customer_id" when
	// empty).
	RoleClaim, CustomerClaim string
	// HTTP fetches the keys (http.DefaultClient's settings with a 10 s
	// timeout when nil).
	HTTP *http.Client
}

// OIDC verifies tokens an external OIDC provider signed (RS256/384/512,
// PS256, ES256/384), with the keys of its JWKS, fetched when a token
// names a key not seen yet (at most once a minute).
type OIDC struct {
	cfg     OIDCConfig
	parser  *jwt.Parser
	mu      sync.Mutex
	keys    map[string]any
	fetched time.Time
	now     func() time.Time
}

// jwksRefetchEvery bounds how often an unknown key id makes the verifier
// fetch the provider's keys again.
const jwksRefetchEvery = time.Minute

// NewOIDC returns a verifier for cfg's provider.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.JWKSURL == "" {
		return nil, errors.New("auth: OIDC needs an issuer, an audience and a JWKS URL")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "role"
	}
	if cfg.CustomerClaim == "" {
		cfg.CustomerClaim = "customer_id"
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	o := &OIDC{cfg: cfg, keys: map[string]any{}, now: time.Now}
	o.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return o.now() }),
	)
	return o, nil
}

// Issuer is the provider's "iss".
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// VerifyToken checks a provider token and maps its claims to an actor.
// Every failure wraps ErrInvalidToken.
func (o *OIDC) VerifyToken(ctx context.Context, token string) (Verified, error) {
	c := jwt.MapClaims{}
	_, err := o.parser.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return o.key(ctx, kid)
	})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	str := func(name string) string { s, _ := c[name].(string); return s }
	a := order.Actor{Subject: str("sub"), Role: order.Role(str(o.cfg.RoleClaim)), CustomerID: str(o.cfg.CustomerClaim)}
	if err := checkActor(a); err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	v := Verified{Actor: a, TokenID: str("jti")}
	if exp, err := c.GetExpirationTime(); err == nil && exp != nil {
		v.Expires = exp.Time
	}
	return v, nil
}

// key finds the provider's key kid, fetching the JWKS again when it is
// not known and the last fetch is a minute old.
func (o *OIDC) key(ctx context.Context, kid string) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if k, ok := o.keys[kid]; ok {
		return k, nil
	}
	if !o.fetched.IsZero() && o.now().Sub(o.fetched) < jwksRefetchEvery {
		return nil, fmt.Errorf("the provider has no key %q", kid)
	}
	keys, err := o.fetch(ctx)
	o.fetched = o.now()
	if err != nil {
		return nil, err
	}
	o.keys = keys
	if k, ok := o.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("the provider has no key %q", kid)
}

// jwk is one key of a JWKS, as RFC 7517/7518 spell it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func (o *OIDC) fetch(ctx context.Context) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS request: %w", err)
	}
	resp, err := o.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: %s", resp.Status)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := map[string]any{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if pub, err := k.public(); err == nil {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}

// public is the key's public half: RSA or EC (P-256, P-384).
func (k jwk) public() (any, error) {
	b := func(s string) (*big.Int, error) {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) == 0 {
			return nil, fmt.Errorf("bad key parameter")
		}
		return new(big.Int).SetBytes(raw), nil
	}
	switch k.Kty {
	case "RSA":
		n, err := b(k.N)
		if err != nil {
			return nil, err
		}
		e, err := b(k.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 {
			return nil, fmt.Errorf("bad RSA exponent")
		}
		if n.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too short", n.BitLen())
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, fmt.Errorf("curve %q", k.Crv)
		}
		x, err := b(k.X)
		if err != nil {
			return nil, err
		}
		y, err := b(k.Y)
		if err != nil {
			return nil, err
		}
		if !curve.IsOnCurve(x, y) { //nolint:staticcheck // a point check before use; crypto/ecdh has no ECDSA keys
			return nil, fmt.Errorf("the point is not on %s", k.Crv)
		}
		return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, nil
	}
	return nil, fmt.Errorf("key type %q", k.Kty)
}
