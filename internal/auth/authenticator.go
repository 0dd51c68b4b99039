package auth

import (
	"context"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// Revocations says whether a token, by its id ("jti"), was revoked.
type Revocations interface {
	TokenRevoked(ctx context.Context, tokenID string) (bool, error)
}

// Authenticator verifies the bearer tokens the API accepts: orderflow's
// own (the Issuer's keyring) and, when configured, those of the seller's
// OIDC provider, told apart by their "iss"; then it refuses revoked ones.
type Authenticator struct {
	Own     *Issuer
	OIDC    *OIDC       // nil: orderflow's own tokens only
	Revoked Revocations // nil: no revocation list
	unsafe  *jwt.Parser
}

// Authenticate returns the actor of a valid, unrevoked token. Every
// refusal wraps ErrInvalidToken; a revocation list that cannot be read is
// an error of its own (the API answers 503, not 401).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (order.Actor, error) {
	var v Verified
	var err error
	if a.OIDC != nil && a.issuer(token) == a.OIDC.Issuer() {
		v, err = a.OIDC.VerifyToken(ctx, token)
	} else {
		v, err = a.Own.VerifyToken(token)
	}
	if err != nil {
		return order.Actor{}, err
	}
	if a.Revoked != nil && v.TokenID != "" {
		revoked, err := a.Revoked.TokenRevoked(ctx, v.TokenID)
		if err != nil {
			return order.Actor{}, fmt.Errorf("auth: read the revocation list: %w", err)
		}
		if revoked {
			return order.Actor{}, fmt.Errorf("%w: token %s is revoked", ErrInvalidToken, v.TokenID)
		}
	}
	return v.Actor, nil
}

// issuer reads a token's "iss" without checking anything: it only picks
// the verifier, which then checks everything.
func (a *Authenticator) issuer(token string) string {
	p := a.unsafe
	if p == nil {
		p = jwt.NewParser()
	}
	var c jwt.RegisteredClaims
	if _, _, err := p.ParseUnverified(token, &c); err != nil {
		return ""
	}
	return c.Issuer
}

// Authenticate lets an Issuer serve where an Authenticator is expected:
// its own tokens, no revocation list.
func (i *Issuer) Authenticate(_ context.Context, token string) (order.Actor, error) {
	return i.Verify(token)
}
