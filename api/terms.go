package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// termsRequest is the body of PUT /v1/customers/{id}/terms.
type termsRequest struct {
	Terms *order.Terms `json:"terms"`
	// EffectiveFrom is when the new terms come into force: now when
	// absent, never in the past.
	EffectiveFrom *time.Time `json:"effective_from"`
	Reason        string     `json:"reason"`
}

// putTerms is PUT /v1/customers/{id}/terms: a sales admin records a new
// version of the customer's terms (a new customer's first). Orders
// already quoted keep the terms they were priced under; revisions and new
// quotes are priced under the version in force.
func (s *server) putTerms(w http.ResponseWriter, r *http.Request) error {
	a := actorFrom(r.Context())
	if err := requireRole(a, order.RoleSalesAdmin); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	var in termsRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	now := s.now().UTC()
	effective := now
	var terms, when *order.FieldError
	switch {
	case in.Terms == nil:
		terms = &order.FieldError{Field: "terms", Reason: "required: the whole terms, as GET answers them"}
	case in.Terms.CustomerID != "" && in.Terms.CustomerID != id:
		terms = &order.FieldError{Field: "terms.customer_id", Reason: "the customer in the path, or empty"}
	}
	if in.EffectiveFrom != nil {
		effective = in.EffectiveFrom.UTC()
		if effective.Before(now.Add(-time.Minute)) {
			when = &order.FieldError{Field: "effective_from", Reason: "now or later: a change never reaches back"}
		}
	}
	if err := collect(checkID("id", id, true), terms, when, checkText("reason", in.Reason, true)); err != nil {
		return err
	}
	t := *in.Terms
	t.CustomerID = id
	v, err := s.store.ChangeTerms(r.Context(), t, effective, a.Subject, in.Reason, now)
	var fe *order.FieldError
	if errors.As(err, &fe) {
		return invalidField("terms."+fe.Field, fe.Reason)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// getTerms is GET /v1/customers/{id}/terms: the terms in force and every
// version, for sales admins and managers.
func (s *server) getTerms(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), order.RoleSalesAdmin, order.RoleSalesManager); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	t, err := s.store.Terms(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	if err != nil {
		return err
	}
	vs, err := s.store.TermsVersions(r.Context(), id)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []store.TermsVersion{}
	}
	accts, err := s.store.PayerAccounts(r.Context(), id)
	if err != nil {
		return err
	}
	if accts == nil {
		accts = []store.PayerAccount{}
	}
	// The accounts on file as paying for the customer (PUT and DELETE
	// /v1/customers/{id}/payer-accounts/{account} change them).
	writeJSON(w, http.StatusOK, map[string]any{"in_force": t, "versions": vs, "payer_accounts": accts})
	return nil
}
