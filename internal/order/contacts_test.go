package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

func TestContactsForARole(t *testing.T) {
	contacts := []order.Contact{
		{Email: "pat@acme.example", Roles: []order.ContactRole{order.ContactPurchaser, order.ContactReceiving}},
		{Email: "ap@acme.example", Roles: []order.ContactRole{order.ContactAccountsPayable}},
		{Email: "gina@acme.example", Roles: []order.ContactRole{order.ContactReceiving}},
	}
	require.Equal(t, []string{"pat@acme.example", "gina@acme.example"}, order.ContactsFor(contacts, order.ContactReceiving))
	require.Equal(t, []string{"ap@acme.example"}, order.ContactsFor(contacts, order.ContactAccountsPayable))
	require.Empty(t, order.ContactsFor(contacts, order.ContactApprover))
}

func TestValidateContacts(t *testing.T) {
	ok := order.Contact{Email: "ap@acme.example", Roles: []order.ContactRole{order.ContactAccountsPayable}}
	for _, tc := range []struct {
		name     string
		contacts []order.Contact
		field    string
	}{
		{"fine", []order.Contact{ok}, ""},
		{"none at all", nil, ""},
		{"not an address", []order.Contact{{Email: "ap at acme", Roles: ok.Roles}}, "contacts[0].email"},
		{"a display name is not an address", []order.Contact{{Email: "AP <ap@acme.example>", Roles: ok.Roles}}, "contacts[0].email"},
		{"twice", []order.Contact{ok, ok}, "contacts[1].email"},
		{"no role", []order.Contact{{Email: "x@acme.example"}}, "contacts[0].roles"},
		{"unknown role", []order.Contact{{Email: "x@acme.example", Roles: []order.ContactRole{"ceo"}}}, "contacts[0].roles[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := order.ValidateContacts(tc.contacts)
			if tc.field == "" {
				require.Nil(t, fe)
				return
			}
			require.NotNil(t, fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
}
