package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/order"
)

func runToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token")
	role := fs.String("role", "", "one of storefront, buyer, buyer_approver, sales_manager, finance, cs")
	customer := fs.String("customer", "", "customer id (required for buyer and buyer_approver)")
	subject := fs.String("subject", "", "who the token is for (default: a new person each time, <role>-<6 random hex digits>@<customer>.dev or @dev)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	cfg, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
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
	iss, err := auth.NewIssuer([]byte(cfg.TokenSecret))
	if err != nil {
		return err
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
