package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/store"
)

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token")
	role := fs.String("role", "", "one of storefront, buyer, buyer_approver, sales_rep, sales_manager, sales_admin, finance, cs")
	customer := fs.String("customer", "", "customer id (required for buyer and buyer_approver)")
	subject := fs.String("subject", "", "who the token is for (default: a new person each time, <role>-<6 random hex digits>@<customer>.dev or @dev)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	revoke := fs.String("revoke", "", "instead of minting: put this token (or its id, jti) on the revocation list in DATABASE_URL; the API refuses it from the next request")
	reason := fs.String("reason", "", "with --revoke: why (kept with the revocation)")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	iss, _, err := auth.FromConfig(cfg, nil)
	if err != nil {
		return err
	}
	if *revoke != "" {
		return revokeToken(ctx, cfg, iss, *revoke, *reason, stdout)
	}
	r := order.Role(*role)
	if !r.Valid() {
		return fmt.Errorf("--role: one of %v", order.Roles)
	}
	if r.CustomerScoped() && *customer == "" {
		return fmt.Errorf("--customer: required for role %s", r)
	}
	if *subject == "" {
		*subject = defaultSubject(r, *customer)
	}
	tok, err := iss.Mint(order.Actor{Subject: *subject, Role: r, CustomerID: *customer}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// defaultSubject names a new person for a token minted without --subject:
// two buyers (or two approvers) minted one after the other must not be one
// person to the approval rules, which count distinct subjects.
func defaultSubject(r order.Role, customer string) string {
	domain := "dev"
	if customer != "" {
		domain = strings.ToLower(customer) + ".dev"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s@%s", r, hex.EncodeToString(b), domain)
}

// revokeToken puts a token on the revocation list: a whole token (its id
// and expiry read from it, checked against the keyring) or a bare token id.
func revokeToken(ctx context.Context, cfg config.Config, iss *auth.Issuer, tokenOrID, reason string, stdout io.Writer) error {
	if strings.TrimSpace(reason) == "" {
		return errors.New("--reason: required with --revoke")
	}
	id, expires := tokenOrID, time.Time{}
	if strings.Count(tokenOrID, ".") == 2 {
		v, err := iss.VerifyToken(tokenOrID)
		switch {
		case errors.Is(err, auth.ErrInvalidToken) && strings.Contains(err.Error(), "expired"):
			return errors.New("--revoke: the token has expired already; nothing to revoke")
		case err != nil:
			return fmt.Errorf("--revoke: %w (pass its id, jti, to revoke a token of another key)", err)
		case v.TokenID == "":
			return errors.New("--revoke: the token has no id (minted before tokens had one); rotate the key to end it")
		}
		id, expires = v.TokenID, v.Expires
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.New(pool).RevokeToken(ctx, id, "orderflow token --revoke", reason, time.Now().UTC(), expires); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return fmt.Errorf("%w (this database has no revocation list yet: run orderflow migrate)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "token %s revoked: %s\n", id, reason)
	return nil
}
