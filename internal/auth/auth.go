// Package auth mints and verifies the bearer tokens callers of the REST API
// present: HS256 JWTs naming a subject, a role and, for buyer roles, the
// customer the caller acts for.
//
// Only HS256 is accepted. A token whose header names another algorithm
// ("none", RS256 with the secret used as a public key, …) is refused before
// its signature is even looked at, which closes the classic algorithm
// confusion attacks.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// TokenIssuer is the "iss" claim of every orderflow token.
const TokenIssuer = "orderflow"

// MinSecretLen is the shortest HMAC secret NewIssuer accepts: HS256 keys
// shorter than the hash output weaken the signature.
const MinSecretLen = 32

// leeway absorbs clock skew between the host that minted a token and the one
// that checks it.
const leeway = 30 * time.Second

// ErrInvalidToken wraps every reason Verify refuses a token; callers answer
// 401 for all of them and need not tell the reasons apart.
var ErrInvalidToken = errors.New("invalid bearer token")

// claims is the token body. Role and customer ride beside the registered claims.
type claims struct {
	Role       order.Role `json:"role"`
	CustomerID string     `json:"customer_id,omitempty"`
	jwt.RegisteredClaims
}

// Key is one HMAC key of the issuer's keyring, named by the "kid" header
// of the tokens it signs.
type Key struct {
	ID     string
	Secret []byte
}

// DefaultKeyID names the key NewIssuer makes of a single secret; a token
// without a "kid" header (minted before keys were named) is checked
// against it.
const DefaultKeyID = "default"

// Issuer mints tokens with the first key of its keyring and verifies them
// with any key the token's "kid" names, so keys rotate without downtime:
// add the new key second, roll out, move it first, roll out, and drop the
// old one once the tokens it signed have expired.
type Issuer struct {
	keys   []Key
	parser *jwt.Parser
	now    func() time.Time
}

// NewIssuer returns an Issuer with one key, DefaultKeyID, of secret, which
// must be at least MinSecretLen bytes.
func NewIssuer(secret []byte) (*Issuer, error) {
	return NewKeyring([]Key{{ID: DefaultKeyID, Secret: secret}})
}

// NewKeyring returns an Issuer signing with keys[0] and verifying with any
// of keys: each named once, each at least MinSecretLen bytes.
func NewKeyring(keys []Key) (*Issuer, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: no token key")
	}
	seen := map[string]bool{}
	i := &Issuer{now: time.Now}
	for _, k := range keys {
		switch {
		case k.ID == "" || seen[k.ID]:
			return nil, fmt.Errorf("auth: token key ids must be set and distinct (%q)", k.ID)
		case len(k.Secret) < MinSecretLen:
			return nil, fmt.Errorf("auth: token key %q is %d bytes, need at least %d", k.ID, len(k.Secret), MinSecretLen)
		}
		seen[k.ID] = true
		i.keys = append(i.keys, Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)})
	}
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return i.now() }),
	)
	return i, nil
}

// Mint returns a token for a valid for ttl, signed with the first key and
// carrying a random token id ("jti") a revocation can name.
func (i *Issuer) Mint(a order.Actor, ttl time.Duration) (string, error) {
	if err := checkActor(a); err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: mint: ttl %s must be positive", ttl)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("auth: token id: %w", err)
	}
	now := i.now()
	c := claims{
		Role:       a.Role,
		CustomerID: a.CustomerID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   a.Subject,
			ID:        hex.EncodeToString(id[:]),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = i.keys[0].ID
	s, err := t.SignedString(i.keys[0].Secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verified is what a verified token says: who, and the token's id and
// expiry (a revocation names the id).
type Verified struct {
	Actor   order.Actor
	TokenID string
	Expires time.Time
}

// Verify checks the token's algorithm, key, signature, issuer, expiry and
// claims and returns the actor it names. Every failure wraps
// ErrInvalidToken.
func (i *Issuer) Verify(token string) (order.Actor, error) {
	v, err := i.VerifyToken(token)
	return v.Actor, err
}

// VerifyToken is Verify with the token's id and expiry.
func (i *Issuer) VerifyToken(token string) (Verified, error) {
	var c claims
	_, err := i.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			kid = DefaultKeyID
		}
		for _, k := range i.keys {
			if k.ID == kid {
				return k.Secret, nil
			}
		}
		return nil, fmt.Errorf("no token key %q", kid)
	})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	a := order.Actor{Subject: c.Subject, Role: c.Role, CustomerID: c.CustomerID}
	if err := checkActor(a); err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	v := Verified{Actor: a, TokenID: c.ID}
	if c.ExpiresAt != nil {
		v.Expires = c.ExpiresAt.Time
	}
	return v, nil
}

// ParseKeys reads a keyring from "id=secret,id=secret" (the first signs).
func ParseKeys(spec string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.Split(spec, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("token keys: %q is not id=secret", part)
		}
		keys = append(keys, Key{ID: id, Secret: []byte(secret)})
	}
	return keys, nil
}

// checkActor enforces what every token must carry: a subject, a known role,
// and a customer exactly when the role acts for one customer.
func checkActor(a order.Actor) error {
	switch {
	case a.Subject == "":
		return errors.New("subject is empty")
	case !a.Role.Valid():
		return fmt.Errorf("unknown role %q", a.Role)
	case a.Role.CustomerScoped() && a.CustomerID == "":
		return fmt.Errorf("role %s needs a customer_id", a.Role)
	case !a.Role.CustomerScoped() && a.CustomerID != "":
		return fmt.Errorf("role %s acts for no single customer; customer_id must be empty", a.Role)
	}
	return nil
}
