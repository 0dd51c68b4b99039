package links_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/links"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestSignAndCheck(t *testing.T) {
	s, err := links.New(key)
	require.NoError(t, err)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	l := links.Link{Purpose: links.Accept, OrderID: "ord_1", CustomerID: "ACME-001", To: "purchasing@acme.example", Revision: 2, Expires: now.Add(time.Hour)}
	tok, err := s.Sign(l)
	require.NoError(t, err)
	got, err := s.Check(tok, now)
	require.NoError(t, err)
	require.Equal(t, l.OrderID, got.OrderID)
	require.Equal(t, links.Accept, got.Purpose)
	require.Equal(t, 2, got.Revision)
	require.NotEmpty(t, got.Nonce)

	again, err := s.Sign(l)
	require.NoError(t, err)
	require.NotEqual(t, tok, again, "each link is its own")

	_, err = s.Check(tok, now.Add(time.Hour))
	require.ErrorIs(t, err, links.ErrExpired)
	require.ErrorIs(t, err, links.ErrInvalid)

	// Another key, a changed payload (another order, another purpose), garbage.
	other, _ := links.New([]byte("fedcba9876543210fedcba9876543210"))
	_, err = other.Check(tok, now)
	require.ErrorIs(t, err, links.ErrInvalid)
	p, sig, _ := strings.Cut(tok, ".")
	forged := strings.Replace(p, p[:10], strings.Repeat("A", 10), 1) + "." + sig
	_, err = s.Check(forged, now)
	require.ErrorIs(t, err, links.ErrInvalid)
	for _, bad := range []string{"", ".", "abc", "a.b", tok + "x"} {
		_, err := s.Check(bad, now)
		require.True(t, errors.Is(err, links.ErrInvalid), bad)
	}

	_, err = s.Sign(links.Link{Purpose: "delete", OrderID: "o", CustomerID: "c", Expires: now})
	require.Error(t, err)
	_, err = s.Sign(links.Link{Purpose: links.Accept, OrderID: "o", CustomerID: "c", Expires: now})
	require.Error(t, err, "an accept link names its revision")
	_, err = links.New([]byte("short"))
	require.Error(t, err)
}

func FuzzCheck(f *testing.F) {
	s, _ := links.New(key)
	tok, _ := s.Sign(links.Link{Purpose: links.View, OrderID: "o", CustomerID: "c", Expires: time.Now().Add(time.Hour)})
	f.Add(tok)
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		l, err := s.Check(token, time.Now())
		if err == nil && (l.OrderID == "" || l.Nonce == "") {
			t.Fatalf("accepted a link without order or nonce: %q", token)
		}
	})
}

func TestReorderAndUnsubscribeLinks(t *testing.T) {
	s, err := links.New(key)
	require.NoError(t, err)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	l := links.Link{Purpose: links.Reorder, OrderID: "customer-ACME-001", CustomerID: "ACME-001", To: "pat@acme.example",
		Lines: []links.Line{{SKU: "GLOVES", Quantity: 12}}, Expires: now.Add(time.Hour)}
	tok, err := s.Sign(l)
	require.NoError(t, err)
	got, err := s.Check(tok, now)
	require.NoError(t, err)
	require.Equal(t, links.Reorder, got.Purpose)
	require.Equal(t, l.Lines, got.Lines)
	require.Equal(t, "pat@acme.example", got.To)

	_, err = s.Sign(links.Link{Purpose: links.Reorder, OrderID: "customer-ACME-001", CustomerID: "ACME-001", To: "pat@acme.example", Expires: now})
	require.Error(t, err, "a reorder link without lines")
	_, err = s.Sign(links.Link{Purpose: links.Unsubscribe, OrderID: "customer-ACME-001", CustomerID: "ACME-001", Expires: now})
	require.Error(t, err, "an unsubscribe link without its recipient")
	u, err := s.Sign(links.Link{Purpose: links.Unsubscribe, OrderID: "customer-ACME-001", CustomerID: "ACME-001", To: "pat@acme.example", Expires: now.Add(time.Hour)})
	require.NoError(t, err)
	got, err = s.Check(u, now)
	require.NoError(t, err)
	require.Equal(t, links.Unsubscribe, got.Purpose)
}
