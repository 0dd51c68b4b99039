package api

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// The pages behind the links of the customer workflow's marketing mails
// (docs/design.md, "The customer between orders"): a reorder link opens a
// quote request pre-filled with the reminder's lines; an unsubscribe link
// opts its recipient out of marketing mails at once. Both are signed links
// (internal/links) naming the customer and the recipient.

//go:embed templates/head.html templates/customer.html
var customerTemplateFiles embed.FS

var customerTemplate = template.Must(template.ParseFS(customerTemplateFiles, "templates/customer.html", "templates/head.html"))

// Page kinds of the customer template.
const (
	pageReorder      = "reorder"
	pageUnsubscribed = "unsubscribed"
	pageProblem      = "problem"
)

// customerPageData is what the customer template renders.
type customerPageData struct {
	Kind         string
	Title        string
	CustomerName string
	Email        string
	Lines        []order.Line
	// Error says what to correct in the reorder form; Problem why a page
	// shows no form.
	Error   string
	Problem string
}

// customerLink checks the path's token for purpose: ErrInvalid for a
// token that is not ours or is another kind of link, ErrExpired past its
// expiry.
func (s *server) customerLink(r *http.Request, purpose links.Purpose) (links.Link, error) {
	l, err := s.checkLink(mux.Vars(r)["token"])
	if err != nil {
		return links.Link{}, err
	}
	if l.Purpose != purpose || l.CustomerID == "" || l.To == "" || (purpose == links.Reorder && len(l.Lines) == 0) {
		return links.Link{}, links.ErrInvalid
	}
	return l, nil
}

// customerFail renders a page for a link that opens nothing, or a
// failure: a clear 4xx for a bad or expired link, 503 when the database
// or Temporal does not answer, never a 500.
func customerFail(w http.ResponseWriter, r *http.Request, err error) {
	d := customerPageData{Kind: pageProblem, Title: "Link not valid",
		Problem: "This link is not valid. Please use the link from your latest mail, or ask your sales contact."}
	status := http.StatusNotFound
	switch {
	case errors.Is(err, links.ErrExpired):
		d.Title, d.Problem, status = "Link expired", "This link has expired. Your next mail from us will have a fresh one, or ask your sales contact.", http.StatusGone
	case errors.Is(err, links.ErrInvalid), errors.Is(err, store.ErrNotFound):
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("customer page failed")
		d.Title, d.Problem, status = "Try again", "We could not do this just now. Please try again in a minute.", http.StatusServiceUnavailable
	}
	writePage(w, r, status, customerTemplate, d)
}

// customerName is the customer's name for a page, or "" when unknown.
func (s *server) customerName(ctx context.Context, customerID string) string {
	if t, err := s.store.Terms(ctx, customerID); err == nil {
		return t.CustomerName
	}
	return ""
}

// reorderPage is GET /reorder/{token}: the reminder's lines with their
// typical quantities, which the buyer may change, and a button.
func (s *server) reorderPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.customerLink(r, links.Reorder)
	if err != nil {
		customerFail(w, r, err)
		return
	}
	writePage(w, r, http.StatusOK, customerTemplate, s.reorderData(r.Context(), l, linkLines(l), ""))
}

func (s *server) reorderData(ctx context.Context, l links.Link, lines []order.Line, problem string) customerPageData {
	return customerPageData{Kind: pageReorder, Title: "Request a quote", CustomerName: s.customerName(ctx, l.CustomerID),
		Email: l.To, Lines: lines, Error: problem}
}

func linkLines(l links.Link) []order.Line {
	out := make([]order.Line, len(l.Lines))
	for i, ll := range l.Lines {
		out[i] = order.Line{SKU: ll.SKU, Quantity: ll.Quantity}
	}
	return out
}

// parseReorderForm reads the posted quantities, one "quantity" per line of
// the link, in its order: the buyer changes quantities, not products. A
// quantity of 0 leaves the line out; at least one must stay. The lines
// then pass the rules of POST /v1/quotes (checkLines).
func parseReorderForm(w http.ResponseWriter, r *http.Request, l links.Link) ([]order.Line, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, tooLarge
		}
		return nil, badRequest("the form could not be read")
	}
	qs := r.PostForm["quantity"]
	if len(qs) != len(l.Lines) {
		return nil, badRequest("the form does not match the link",
			order.FieldError{Field: "quantity", Reason: fmt.Sprintf("give one quantity for each of the %d products", len(l.Lines))})
	}
	var lines []order.Line
	for i, raw := range qs {
		q, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || q < 0 {
			return nil, invalidField(fmt.Sprintf("quantity of %s", l.Lines[i].SKU), "a whole number, 0 to leave the product out")
		}
		if q > 0 {
			lines = append(lines, order.Line{SKU: l.Lines[i].SKU, Quantity: q})
		}
	}
	if len(lines) == 0 {
		return nil, invalidField("quantity", "order at least one product")
	}
	if fe := checkLines(lines); fe != nil {
		return nil, invalid(*fe)
	}
	return lines, nil
}

// reorderSubmit is POST /reorder/{token}: the quote request goes through
// POST /v1/quotes itself (createQuote), as the link's recipient, a buyer
// of the customer, with the link's nonce as its idempotency key: one link
// makes one order (the same form again shows it again; other quantities
// on a used link are refused). The buyer lands on the order's page.
func (s *server) reorderSubmit(w http.ResponseWriter, r *http.Request) {
	l, err := s.customerLink(r, links.Reorder)
	if err != nil {
		customerFail(w, r, err)
		return
	}
	lines, err := parseReorderForm(w, r, l)
	if err != nil {
		p := problemFor(err)
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fmt.Sprintf("Please check %s: %s.", p.Errors[0].Field, p.Errors[0].Reason)
		}
		writePage(w, r, p.Status, customerTemplate, s.reorderData(r.Context(), l, linkLines(l), msg))
		return
	}
	id, err := s.quoteAs(r.Context(), order.Actor{Subject: l.To, Role: order.RoleBuyer, CustomerID: l.CustomerID},
		"reorder-"+l.Nonce, quoteRequest{CustomerID: l.CustomerID, Lines: lines})
	if err != nil {
		p := problemFor(err)
		switch {
		case p.Status == http.StatusConflict:
			writePage(w, r, http.StatusConflict, customerTemplate, customerPageData{Kind: pageProblem, Title: "Link used",
				Problem: "This link has already requested a quote with other quantities. The quote comes by mail; for another one, ask your sales contact."})
		case p.Status >= 400 && p.Status < 500:
			msg := p.Detail
			if len(p.Errors) > 0 {
				msg = fmt.Sprintf("%s: %s.", p.Errors[0].Field, p.Errors[0].Reason)
			}
			writePage(w, r, p.Status, customerTemplate, s.reorderData(r.Context(), l, lines, msg))
		default:
			customerFail(w, r, err)
		}
		return
	}
	tok, err := s.links.Sign(links.Link{Purpose: links.View, OrderID: id, CustomerID: l.CustomerID, To: l.To,
		Expires: s.now().Add(activities.ViewLinkFor)})
	if err != nil {
		customerFail(w, r, err)
		return
	}
	http.Redirect(w, r, s.publicURL+"/o/"+tok, http.StatusSeeOther)
}

// quoteAs runs POST /v1/quotes (createQuote, the storefront's own path:
// idempotency, the customer's terms, the order's start and the wait for
// its price) for actor, and returns the new order's id.
func (s *server) quoteAs(ctx context.Context, actor order.Actor, key string, q quoteRequest) (string, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, keyActor, actor), http.MethodPost, "/v1/quotes", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyKeyHeader, key)
	rec := &capture{header: http.Header{}}
	if err := s.createQuote(rec, req); err != nil {
		return "", err
	}
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &v); err != nil || v.ID == "" {
		return "", fmt.Errorf("quote request answered %d without an order id: %s", rec.status, rec.body.String())
	}
	return v.ID, nil
}

// capture is the response of a handler called from another.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *capture) WriteHeader(status int) { c.status = status }

// unsubscribe is GET and POST /unsubscribe/{token}: the link's recipient
// is opted out of the customer's marketing mails at once (a mail's
// one-click link, RFC 8058 style, may POST), and the page says so. Using
// it again says the same.
func (s *server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	l, err := s.customerLink(r, links.Unsubscribe)
	if err != nil {
		customerFail(w, r, err)
		return
	}
	if _, err := s.store.OptOut(r.Context(), store.MarketingOptOut{CustomerID: l.CustomerID, Email: l.To, At: s.now().UTC(), How: "link"}); err != nil {
		customerFail(w, r, err)
		return
	}
	writePage(w, r, http.StatusOK, customerTemplate, customerPageData{Kind: pageUnsubscribed, Title: "Unsubscribed",
		CustomerName: s.customerName(r.Context(), l.CustomerID), Email: l.To})
}
