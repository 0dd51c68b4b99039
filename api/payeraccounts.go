package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// Audit actions on the customer's chain (store.CustomerAuditID) when a
// payer account is put on file or taken off it by hand.
const (
	ActionPayerAccountAdded   = "customer.payer-account.added"
	ActionPayerAccountRemoved = "customer.payer-account.removed"
)

// payerAccountReaders may read a customer's payer accounts; the writers
// may change them.
var (
	payerAccountReaders = []order.Role{order.RoleSalesAdmin, order.RoleSalesManager, order.RoleFinance}
	payerAccountWriters = []order.Role{order.RoleSalesAdmin, order.RoleFinance}
)

// payerAccountRequest is the body of PUT /v1/customers/{id}/payer-accounts/{account}.
type payerAccountRequest struct {
	Reason string `json:"reason"`
}

// getPayerAccounts is GET /v1/customers/{id}/payer-accounts: the accounts
// on file as paying for the customer, which the matcher uses for payments
// without a usable reference.
func (s *server) getPayerAccounts(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), payerAccountReaders...); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if err := s.knownCustomer(r, id); err != nil {
		return err
	}
	return s.writePayerAccounts(w, r, id)
}

func (s *server) writePayerAccounts(w http.ResponseWriter, r *http.Request, id string) error {
	accts, err := s.store.PayerAccounts(r.Context(), id)
	if err != nil {
		return err
	}
	if accts == nil {
		accts = []store.PayerAccount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer_id": id, "payer_accounts": accts})
	return nil
}

// knownCustomer is nil for a customer with terms, else a 404.
func (s *server) knownCustomer(r *http.Request, id string) error {
	if fe := checkID("id", id, true); fe != nil {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	_, err := s.store.Terms(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no customer %q", id))
	}
	return err
}

// checkAccount checks an account named in a path.
func checkAccount(v string) *order.FieldError {
	if fe := checkPayerAccount(v); fe != nil {
		fe.Field = "account"
		return fe
	}
	// Spaces and hyphens group the characters of an account as printed;
	// anything else is not part of one (and would be dropped silently).
	clean := !strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' || r == '-')
	})
	if !clean || store.NormalizeAccount(v) == "" {
		return &order.FieldError{Field: "account", Reason: "an IBAN or account number: letters and digits (spaces and hyphens allowed between them)"}
	}
	return nil
}

// putPayerAccount is PUT /v1/customers/{id}/payer-accounts/{account}: a
// sales admin or finance puts an account on file for the customer (with a
// reason, audited on the customer's chain). Putting one on file already
// changes nothing.
func (s *server) putPayerAccount(w http.ResponseWriter, r *http.Request) error {
	return s.changePayerAccount(w, r, true)
}

// deletePayerAccount is DELETE /v1/customers/{id}/payer-accounts/{account}?reason=…:
// the account is no longer taken as the customer's.
func (s *server) deletePayerAccount(w http.ResponseWriter, r *http.Request) error {
	return s.changePayerAccount(w, r, false)
}

func (s *server) changePayerAccount(w http.ResponseWriter, r *http.Request, add bool) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, payerAccountWriters...); err != nil {
		return err
	}
	id, account := mux.Vars(r)["id"], mux.Vars(r)["account"]
	var in payerAccountRequest
	if add {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	} else {
		in.Reason = r.URL.Query().Get("reason")
	}
	if err := collect(checkAccount(account), checkText("reason", in.Reason, true)); err != nil {
		return err
	}
	if err := s.knownCustomer(r, id); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]string{"account": store.NormalizeAccount(account)})
	audit := store.AuditEntry{OrderID: store.CustomerAuditID(id), At: s.now().UTC(), Actor: a,
		Action: ActionPayerAccountAdded, Reason: in.Reason, Data: data}
	var err error
	if add {
		_, err = s.store.AddPayerAccount(ctx, id, account, store.PayerAccountAPI, a.Subject, &audit)
	} else {
		audit.Action = ActionPayerAccountRemoved
		_, err = s.store.RemovePayerAccount(ctx, id, account, &audit)
	}
	if err != nil {
		return err
	}
	return s.writePayerAccounts(w, r, id)
}
