package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/store"
)

// documentTokenLen is the length of a document token: 128 bits in URL-safe
// base64 without padding.
var documentTokenLen = base64.RawURLEncoding.EncodedLen(store.DocumentTokenBytes)

// errNoDocument answers every token that finds no document, malformed or
// unknown alike, so the answer says nothing that helps guessing.
var errNoDocument = notFound("no such document")

// loadDocument returns the document the path's token names.
func (s *server) loadDocument(r *http.Request) (store.Document, error) {
	token := mux.Vars(r)["token"]
	if len(token) != documentTokenLen {
		return store.Document{}, errNoDocument
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil {
		return store.Document{}, errNoDocument
	}
	d, err := s.store.DocumentByToken(r.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		return store.Document{}, errNoDocument
	}
	return d, err
}

// documentHeaders keep a document page private to its link: no caching on
// the way, no indexing, nothing loaded from elsewhere, and the token in the
// URL does not leave through a Referer.
func documentHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
}

// documentPage is GET /documents/{token}: the printable invoice or credit
// note, without a bearer token (the link in the buyer's mail).
func (s *server) documentPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDocument(r)
	if err != nil {
		return err
	}
	page, err := d.Body.HTML()
	if err != nil {
		return err
	}
	documentHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
	return nil
}

// documentUBL is GET /documents/{token}/ubl: the document as a UBL 2.1
// file to import into an accounts-payable system.
func (s *server) documentUBL(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDocument(r)
	if err != nil {
		return err
	}
	raw, err := d.Body.UBL()
	if err != nil {
		return err
	}
	documentHeaders(w)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(d.Number)+`.xml"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return nil
}

// fileName keeps the characters of a document number that are safe in a
// file name and a quoted header value.
func fileName(number string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, number)
	name = strings.TrimLeft(name, ".")
	if name == "" {
		return "document"
	}
	return name
}

// documentView is one entry of GET /v1/orders/{id}/documents.
type documentView struct {
	Kind     document.Kind `json:"kind"`
	Number   string        `json:"number"`
	IssuedAt time.Time     `json:"issued_at"`
	HTMLURL  string        `json:"html_url"`
	UBLURL   string        `json:"ubl_url"`
}

// orderDocuments is GET /v1/orders/{id}/documents: the order's invoices and
// credit notes with their links, for whoever may see the order (its buyer
// and the seller's staff).
func (s *server) orderDocuments(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	docs, err := s.store.Documents(r.Context(), rec.ID)
	if err != nil {
		return err
	}
	out := make([]documentView, len(docs))
	for i, d := range docs {
		page := s.publicURL + "/documents/" + d.Token
		out[i] = documentView{Kind: d.Kind, Number: d.Number, IssuedAt: d.IssuedAt, HTMLURL: page, UBLURL: page + "/ubl"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": rec.ID, "documents": out})
	return nil
}
