package order

import (
	"fmt"
	"net/mail"
	"slices"
)

// ContactRole is what a customer's contact takes care of, and so which
// mails they get.
type ContactRole string

// The roles a buyer contact may hold.
const (
	ContactPurchaser       ContactRole = "purchaser"        // quotes, confirmations, cancellations
	ContactApprover        ContactRole = "approver"         // approval requests and reminders
	ContactAccountsPayable ContactRole = "accounts_payable" // invoices, reminders, credit notes
	ContactReceiving       ContactRole = "receiving"        // shipments, returns, the delivery survey
)

// ContactRoles lists every role, in the order documents show them.
func ContactRoles() []ContactRole {
	return []ContactRole{ContactPurchaser, ContactApprover, ContactAccountsPayable, ContactReceiving}
}

// Contact is one person at a customer and the mails they get.
type Contact struct {
	Name  string        `json:"name,omitempty"`
	Email string        `json:"email"`
	Roles []ContactRole `json:"roles"`
}

// ContactsFor lists the addresses of the contacts holding role, in the
// order given; none when nobody does (the customer's main address then).
func ContactsFor(contacts []Contact, role ContactRole) []string {
	var out []string
	for _, c := range contacts {
		if slices.Contains(c.Roles, role) && !slices.Contains(out, c.Email) {
			out = append(out, c.Email)
		}
	}
	return out
}

// ValidateContacts checks a customer's contacts: each a valid address,
// once, with at least one known role.
func ValidateContacts(contacts []Contact) *FieldError {
	seen := map[string]bool{}
	for i, c := range contacts {
		field := fmt.Sprintf("contacts[%d]", i)
		a, err := mail.ParseAddress(c.Email)
		switch {
		case err != nil || a.Address != c.Email:
			return &FieldError{Field: field + ".email", Reason: "a plain mail address (name@example.com)"}
		case seen[c.Email]:
			return &FieldError{Field: field + ".email", Reason: c.Email + " is listed twice"}
		case len(c.Roles) == 0:
			return &FieldError{Field: field + ".roles", Reason: fmt.Sprintf("at least one of %v", ContactRoles())}
		case len(c.Name) > 200:
			return &FieldError{Field: field + ".name", Reason: "at most 200 characters"}
		}
		seen[c.Email] = true
		for j, r := range c.Roles {
			if !slices.Contains(ContactRoles(), r) {
				return &FieldError{Field: fmt.Sprintf("%s.roles[%d]", field, j), Reason: fmt.Sprintf("one of %v", ContactRoles())}
			}
		}
	}
	return nil
}
