package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// contactsRequest is the body of PUT /v1/customers/{id}/contacts.
type contactsRequest struct {
	Contacts []order.Contact `json:"contacts"`
}

// putContacts is PUT /v1/customers/{id}/contacts: a sales admin, who
// keeps the customer's terms, sets its contacts and what each takes care
// of; the next mail goes by them.
func (s *server) putContacts(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), order.RoleSalesAdmin); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	var in contactsRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Contacts == nil {
		return invalidField("contacts", "required: a list, empty for none")
	}
	if fe := order.ValidateContacts(in.Contacts); fe != nil {
		return invalid(*fe)
	}
	err := s.store.SetContacts(r.Context(), id, in.Contacts)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	if err != nil {
		return err
	}
	return s.writeContacts(w, r, id)
}

// getContacts is GET /v1/customers/{id}/contacts: for the seller's staff,
// and for the customer's own buyers.
func (s *server) getContacts(w http.ResponseWriter, r *http.Request) error {
	a := actorFrom(r.Context())
	id := mux.Vars(r)["id"]
	if a.Role.CustomerScoped() && a.CustomerID != id {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	return s.writeContacts(w, r, id)
}

func (s *server) writeContacts(w http.ResponseWriter, r *http.Request, id string) error {
	t, err := s.store.Terms(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	if err != nil {
		return err
	}
	contacts := t.Contacts
	if contacts == nil {
		contacts = []order.Contact{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer_id": id, "main_email": t.BuyerEmail, "contacts": contacts})
	return nil
}
