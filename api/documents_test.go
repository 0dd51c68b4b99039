package api_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// sampleInvoiceDocument is an issued invoice for acme on orderID.
func sampleInvoiceDocument(t testing.TB, orderID, number string) document.Document {
	t.Helper()
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	issued := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	q := &order.Quote{Lines: []order.PricedLine{{SKU: "BOLT-M8", Quantity: 100, UnitPrice: eur(20), Total: eur(2000)}},
		Net: eur(2000), TaxRateBP: 1900, Tax: eur(380), Total: eur(2380)}
	d, err := document.NewInvoice(document.InvoiceInput{
		Invoice: order.Invoice{Number: number, Amount: eur(2380), Net: eur(2000), Tax: eur(380), IssuedAt: issued,
			DueDate: order.DueDate(issued, 30)},
		Quote: q, OrderID: orderID, PONumber: "PO-4711",
		Seller: document.Party{Name: "Demo Seller GmbH", VATID: "DE999999999", Country: "DE", IBAN: "DE89370400440532013000"},
		Buyer:  document.Party{Name: "Acme Industrial GmbH", VATID: "DE811111111", Country: "DE"},
	})
	require.NoError(t, err)
	return d
}

func TestDocumentPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	stored, err := e.store.SaveDocument(ctx, "ord_DOCS", acme, sampleInvoiceDocument(t, "ord_DOCS", "INV-2026/00042"))
	require.NoError(t, err)

	private := func(t *testing.T, w *responseRecorder) {
		t.Helper()
		require.Equal(t, "private, no-store", w.Header().Get("Cache-Control"))
		require.Contains(t, w.Header().Get("X-Robots-Tag"), "noindex")
		require.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
		require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	}

	t.Run("the printable page, without a bearer token", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/documents/" + stored.Token})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
		csp := w.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'")
		require.Contains(t, csp, "style-src 'unsafe-inline'")
		private(t, w)
		body := w.Body.String()
		for _, want := range []string{"Invoice INV-2026/00042", "Acme Industrial GmbH", "BOLT-M8", "23.80", "DE89370400440532013000"} {
			require.Contains(t, body, want)
		}
		require.NotContains(t, body, "<script")
	})

	t.Run("the UBL download", func(t *testing.T) {
		w := e.do(req{method: http.MethodGet, path: "/documents/" + stored.Token + "/ubl"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "application/xml", w.Header().Get("Content-Type"))
		require.Equal(t, `attachment; filename="INV-2026_00042.xml"`, w.Header().Get("Content-Disposition"))
		private(t, w)
		var root struct {
			XMLName xml.Name
			ID      string `xml:"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2 ID"`
		}
		require.NoError(t, xml.Unmarshal(w.Body.Bytes(), &root))
		require.Equal(t, xml.Name{Space: document.NamespaceInvoice, Local: "Invoice"}, root.XMLName)
		require.Equal(t, "INV-2026/00042", root.ID)
	})

	t.Run("unknown and malformed tokens are the same 404", func(t *testing.T) {
		other := []byte(stored.Token)
		other[0] ^= 1 // another valid-looking token
		for _, tok := range []string{string(other), "x", strings.Repeat("A", 22) + "A", "!!!!!!!!!!!!!!!!!!!!!!",
			strings.Repeat("a", 500), "%00"} {
			for _, path := range []string{"/documents/" + tok, "/documents/" + tok + "/ubl"} {
				w := e.do(req{method: http.MethodGet, path: path})
				p := requireProblem(t, w, http.StatusNotFound)
				require.Equal(t, "no such document", p.Detail, path)
				require.Equal(t, "/documents/{token}", p.Instance, "the problem does not echo the token")
			}
		}
	})

	t.Run("only GET", func(t *testing.T) {
		w := e.do(req{method: http.MethodPost, path: "/documents/" + stored.Token})
		requireProblem(t, w, http.StatusMethodNotAllowed)
	})

	t.Run("the access log names the route, not the token", func(t *testing.T) {
		for _, l := range e.logs.lines(t) {
			for _, v := range l {
				if s, ok := v.(string); ok {
					require.NotContains(t, s, stored.Token)
				}
			}
		}
	})
}

func TestOrderDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	ctx := context.Background()
	id := e.createOrder("docs-1", quoteBody())
	path := "/v1/orders/" + id + "/documents"

	type listing struct {
		OrderID   string `json:"order_id"`
		Documents []struct {
			Kind     document.Kind `json:"kind"`
			Number   string        `json:"number"`
			IssuedAt time.Time     `json:"issued_at"`
			HTMLURL  string        `json:"html_url"`
			UBLURL   string        `json:"ubl_url"`
		} `json:"documents"`
	}
	w := e.do(req{method: http.MethodGet, path: path, token: e.token(order.RoleBuyer)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Empty(t, decode[listing](t, w).Documents, "none issued yet: an empty list")
	require.Contains(t, w.Body.String(), `"documents":[]`)

	inv, err := e.store.SaveDocument(ctx, id, acme, sampleInvoiceDocument(t, id, "INV-1"))
	require.NoError(t, err)
	cnDoc := sampleInvoiceDocument(t, id, "CN-1")
	cnDoc.Kind, cnDoc.InvoiceNumber, cnDoc.PaymentReference, cnDoc.DueDate = document.KindCreditNote, "INV-1", "", time.Time{}
	cnDoc.IssueDate = cnDoc.IssueDate.AddDate(0, 0, 3)
	cn, err := e.store.SaveDocument(ctx, id, acme, cnDoc)
	require.NoError(t, err)
	// Another order's document is not listed.
	_, err = e.store.SaveDocument(ctx, "ord_OTHER", acme, sampleInvoiceDocument(t, "ord_OTHER", "INV-2"))
	require.NoError(t, err)

	for _, role := range []order.Role{order.RoleBuyer, order.RoleBuyerApprover, order.RoleCS, order.RoleFinance, order.RoleSalesRep} {
		w := e.do(req{method: http.MethodGet, path: path, token: e.token(role)})
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", role, w.Body.String())
		l := decode[listing](t, w)
		require.Equal(t, id, l.OrderID)
		require.Len(t, l.Documents, 2, role)
		require.Equal(t, document.KindInvoice, l.Documents[0].Kind)
		require.Equal(t, "INV-1", l.Documents[0].Number)
		require.Equal(t, "https://orders.example/documents/"+inv.Token, l.Documents[0].HTMLURL)
		require.Equal(t, "https://orders.example/documents/"+inv.Token+"/ubl", l.Documents[0].UBLURL)
		require.Equal(t, document.KindCreditNote, l.Documents[1].Kind)
		require.Equal(t, "https://orders.example/documents/"+cn.Token, l.Documents[1].HTMLURL)
	}

	t.Run("another customer's buyer does not see the order", func(t *testing.T) {
		tok := e.tokenFor(order.Actor{Subject: "bob@globex", Role: order.RoleBuyer, CustomerID: globex})
		w := e.do(req{method: http.MethodGet, path: path, token: tok})
		requireProblem(t, w, http.StatusNotFound)
		require.NotContains(t, w.Body.String(), inv.Token)
	})
	t.Run("a bearer token is required", func(t *testing.T) {
		requireProblem(t, e.do(req{method: http.MethodGet, path: path}), http.StatusUnauthorized)
	})
	t.Run("an unknown order", func(t *testing.T) {
		requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/orders/ord_NOPE/documents", token: e.token(order.RoleCS)}),
			http.StatusNotFound)
	})
}

// FuzzDocumentToken sends arbitrary tokens to the document routes: the
// answer is the page of a stored token or the same 404, never a 500, and
// never another document.
func FuzzDocumentToken(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	stored, err := e.store.SaveDocument(context.Background(), "ord_FUZZ", acme, sampleInvoiceDocument(f, "ord_FUZZ", "INV-F"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{stored.Token, "", "x", strings.Repeat("A", 22), strings.Repeat("_", 22), "..", "%2e%2e",
		stored.Token + "/ubl", stored.Token + "/", "a/b", "\x00", "é", strings.Repeat("z", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		e := e.with(t)
		for _, suffix := range []string{"", "/ubl"} {
			path := "/documents/" + escapePath(token) + suffix
			w := e.do(req{method: http.MethodGet, path: path})
			switch w.Code {
			case http.StatusOK:
				require.Contains(t, w.Body.String(), "INV-F")
			case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMovedPermanently:
				if w.Header().Get("Content-Type") == "application/problem+json" {
					require.NotContains(t, w.Body.String(), "INV-F")
				}
			default:
				t.Fatalf("GET %q: %d %s", path, w.Code, w.Body.String())
			}
		}
	})
}

// escapePath makes s a path segment httptest accepts.
func escapePath(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
