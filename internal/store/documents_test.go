package store_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/store"
)

func sampleDocument(kind document.Kind, number string) document.Document {
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	return document.Document{
		Kind: kind, Number: number, IssueDate: t0, OrderID: "ord_DOC", Currency: "EUR",
		Seller: document.Party{Name: "Seller", Country: "DE"}, Buyer: document.Party{Name: "Acme", Country: "DE"},
		Lines:     []document.Line{{SKU: "A", Description: "A", Quantity: 2, UnitPrice: eur(500), Net: eur(1000)}},
		LineTotal: eur(1000), Allowance: eur(0), Net: eur(1000), TaxRateBP: 1900, Tax: eur(190), Gross: eur(1190),
		PaymentReference: number,
	}
}

func TestDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	inv := sampleDocument(document.KindInvoice, "INV-1")
	first, err := s.SaveDocument(ctx, "ord_DOC", "ACME-001", inv)
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(first.Token)
	require.NoError(t, err, "the token is URL-safe base64")
	require.Len(t, raw, store.DocumentTokenBytes, "128 bits")
	require.Equal(t, inv, first.Body, "the snapshot round-trips")
	require.Equal(t, t0, first.IssuedAt)
	require.Equal(t, "ACME-001", first.CustomerID)

	t.Run("a second store of the same number keeps the first", func(t *testing.T) {
		changed := inv
		changed.Buyer.Name = "Acme (renamed since)"
		again, err := s.SaveDocument(ctx, "ord_DOC", "ACME-001", changed)
		require.NoError(t, err)
		require.Equal(t, first.Token, again.Token)
		require.Equal(t, "Acme", again.Body.Buyer.Name, "an issued document is immutable")
	})

	t.Run("by token and by number", func(t *testing.T) {
		got, err := s.DocumentByToken(ctx, first.Token)
		require.NoError(t, err)
		require.Equal(t, first, got)
		got, err = s.DocumentByNumber(ctx, "ord_DOC", document.KindInvoice, "INV-1")
		require.NoError(t, err)
		require.Equal(t, first.Token, got.Token)
		for _, tok := range []string{"", "nope", first.Token + "x"} {
			_, err = s.DocumentByToken(ctx, tok)
			require.ErrorIs(t, err, store.ErrNotFound, tok)
		}
		_, err = s.DocumentByNumber(ctx, "ord_DOC", document.KindCreditNote, "INV-1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("an order's documents in issue order, each with its own token", func(t *testing.T) {
		cn := sampleDocument(document.KindCreditNote, "CN-1")
		cn.IssueDate = t0.AddDate(0, 0, 2)
		cn.InvoiceNumber, cn.PaymentReference = "INV-1", ""
		c, err := s.SaveDocument(ctx, "ord_DOC", "ACME-001", cn)
		require.NoError(t, err)
		require.NotEqual(t, first.Token, c.Token)
		docs, err := s.Documents(ctx, "ord_DOC")
		require.NoError(t, err)
		require.Len(t, docs, 2)
		require.Equal(t, []string{"INV-1", "CN-1"}, []string{docs[0].Number, docs[1].Number})
		none, err := s.Documents(ctx, "ord_OTHER")
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("refuses what is not a document", func(t *testing.T) {
		_, err := s.SaveDocument(ctx, "", "ACME-001", inv)
		require.Error(t, err)
		bad := inv
		bad.Number = ""
		_, err = s.SaveDocument(ctx, "ord_DOC", "ACME-001", bad)
		require.Error(t, err)
		bad = inv
		bad.Kind = "receipt"
		_, err = s.SaveDocument(ctx, "ord_DOC", "ACME-001", bad)
		require.Error(t, err)
	})
}

func TestCustomerAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	acme, err := s.Terms(ctx, "ACME-001")
	require.NoError(t, err)
	require.Equal(t, "DE", acme.Address.Country)
	require.NotEmpty(t, acme.VATID)
	require.NotEmpty(t, acme.Address.City)

	acme.Address.Country = "Germany"
	err = s.UpsertCustomer(ctx, acme)
	require.ErrorContains(t, err, "address.country")
}
