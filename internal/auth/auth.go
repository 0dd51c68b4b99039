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
	"errors"
	"fmt"
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

// Issuer mints and verifies tokens with one shared secret.
type Issuer struct {
	secret []byte
	parser *jwt.Parser
	now    func() time.Time
}

// NewIssuer returns an Issuer signing with secret, which must be at least
// MinSecretLen bytes.
func NewIssuer(secret []byte) (*Issuer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: token secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	i := &Issuer{secret: append([]byte(nil), secret...), now: time.Now}
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

// Mint returns a token for a valid for ttl.
func (i *Issuer) Mint(a order.Actor, ttl time.Duration) (string, error) {
	if err := checkActor(a); err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: mint: ttl %s must be positive", ttl)
	}
	now := i.now()
	c := claims{
		Role:       a.Role,
		CustomerID: a.CustomerID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   a.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verify checks the token's algorithm, signature, issuer, expiry and claims and
// returns the actor it names. Every failure wraps ErrInvalidToken.
func (i *Issuer) Verify(token string) (order.Actor, error) {
	var c claims
	_, err := i.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return i.secret, nil })
	if err != nil {
		return order.Actor{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	a := order.Actor{Subject: c.Subject, Role: c.Role, CustomerID: c.CustomerID}
	if err := checkActor(a); err != nil {
		return order.Actor{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return a, nil
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
