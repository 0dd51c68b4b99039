package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/links"
)

// The order page refuses what its link does not allow: an expired link
// says so (410), a link of another key or a changed one opens nothing
// (404), and a link names its order's customer.
func TestOrderPageLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	id := e.createOrder("page", quoteBody())
	sign := func(l links.Link) string {
		tok, err := e.links.Sign(l)
		require.NoError(t, err)
		return tok
	}
	get := func(tok string) *responseRecorder { return e.do(req{method: http.MethodGet, path: "/o/" + tok}) }

	w := get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, To: "link:x", Expires: e.now.Add(time.Hour)}))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), "Order "+id)
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	require.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")

	w = get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(time.Second)}))
	require.Equal(t, http.StatusOK, w.Code)
	expired := sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(-time.Second)})
	w = get(expired)
	require.Equal(t, http.StatusGone, w.Code)
	require.Contains(t, w.Body.String(), "This link has expired")

	other, err := links.New([]byte("another-key-another-key-another-key!"))
	require.NoError(t, err)
	forged, err := other.Sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: acme, Expires: e.now.Add(time.Hour)})
	require.NoError(t, err)
	for _, tok := range []string{forged, "nonsense", strings.Repeat("a", 3000)} {
		w := get(tok)
		require.Equal(t, http.StatusNotFound, w.Code)
		require.Contains(t, w.Body.String(), "This link is not valid")
		require.NotContains(t, w.Body.String(), id)
	}
	// Signed for another customer than the order's: nothing.
	w = get(sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: "GLOBEX-002", Expires: e.now.Add(time.Hour)}))
	require.Equal(t, http.StatusNotFound, w.Code)
	// An accept link's page without an order waiting for an answer shows no button.
	w = e.do(req{method: http.MethodPost, path: "/o/" + expired + "/accept"})
	require.Equal(t, http.StatusGone, w.Code)
}
