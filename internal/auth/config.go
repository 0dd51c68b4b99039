package auth

import (
	"github.com/orderflow/orderflow/internal/config"
)

// FromConfig builds the token keyring (ORDERFLOW_TOKEN_KEYS, else
// ORDERFLOW_TOKEN_SECRET as the default key) and the API's Authenticator:
// those tokens, the OIDC provider's when ORDERFLOW_OIDC_ISSUER is set,
// and revoked (nil: none) as the revocation list.
func FromConfig(cfg config.Config, revoked Revocations) (*Issuer, *Authenticator, error) {
	keys := []Key{{ID: DefaultKeyID, Secret: []byte(cfg.TokenSecret)}}
	if cfg.TokenKeys != "" {
		var err error
		if keys, err = ParseKeys(cfg.TokenKeys); err != nil {
			return nil, nil, err
		}
	}
	iss, err := NewKeyring(keys)
	if err != nil {
		return nil, nil, err
	}
	a := &Authenticator{Own: iss, Revoked: revoked}
	if cfg.OIDCIssuer != "" {
		if a.OIDC, err = NewOIDC(OIDCConfig{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, JWKSURL: cfg.OIDCJWKSURL,
			RoleClaim: cfg.OIDCRoleClaim, CustomerClaim: cfg.OIDCCustomerClaim}); err != nil {
			return nil, nil, err
		}
	}
	return iss, a, nil
}
