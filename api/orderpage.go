package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

var orderTemplate = template.Must(template.New("order.html").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.Format("2006-01-02") },
}).ParseFS(templateFiles, "templates/order.html", "templates/head.html"))

// milestone is one step of the order's progress, done (with its date) or
// still ahead.
type milestone struct {
	Label    string
	At       time.Time
	Done     bool
	Expected bool // At is an expectation, not a fact
}

// orderPageData is what the buyer's order page shows: the buyer
// representation only (buyerOrder), its progress and documents, and the
// one action the link allows.
type orderPageData struct {
	Title    string
	Problem  string // a page that shows no order: why
	Order    *buyerOrder
	Steps    []milestone
	Docs     []store.Document
	Accept   bool   // the link may accept the quote shown
	Approve  bool   // the link may approve or reject the order
	Token    string // the link, for the accept form
	Notice   string // what happened (accepted, already used, superseded)
	Revision int
}

// milestones are the order's progress from its audit log: the first time
// each step happened, and the delivery the terms' lead time promises
// while the goods are still to come.
var milestones = []struct{ action, label string }{
	{"quote.sent", "Quoted"}, {"quote.accepted", "Accepted"}, {"order.confirmed", "Confirmed"},
	{"order.shipping", "Shipped"}, {"order.delivered", "Delivered"}, {"invoice.issued", "Invoiced"},
	{"payment.reconciled", "Paid"}, {"order.completed", "Completed"},
}

func progress(entries []store.AuditEntry, q *order.Quote) []milestone {
	first := map[string]time.Time{}
	for _, e := range entries {
		if e.Superseded {
			continue // a lost workflow task's record: not the order's history
		}
		if _, ok := first[e.Action]; !ok {
			first[e.Action] = e.At
		}
	}
	var out []milestone
	for _, m := range milestones {
		at, done := first[m.action]
		step := milestone{Label: m.label, At: at, Done: done}
		if m.action == "order.delivered" && !done && q != nil {
			if confirmed, ok := first["order.confirmed"]; ok {
				step.At, step.Expected = confirmed.AddDate(0, 0, q.LeadTimeDays), true
			}
		}
		out = append(out, step)
	}
	return out
}

// orderPage is GET /o/{link}: the order a mail's link names, as its buyer
// sees it, with the accept button an accept link allows.
func (s *server) orderPage(w http.ResponseWriter, r *http.Request) {
	tok := mux.Vars(r)["link"]
	l, err := s.checkLink(tok)
	if err != nil {
		s.linkFail(w, r, err)
		return
	}
	d, err := s.orderPageFor(r, l, tok)
	if err != nil {
		s.linkFail(w, r, err)
		return
	}
	renderOrderPage(w, r, http.StatusOK, d)
}

// acceptByLink is POST /o/{link}/accept: the quote revision an accept
// link names is accepted by the mail's recipients, once.
func (s *server) acceptByLink(w http.ResponseWriter, r *http.Request) {
	s.actByLink(w, r, links.Accept, func(l links.Link) (string, any, string, error) {
		a := order.Actor{Subject: l.To, Role: order.RoleBuyer, CustomerID: l.CustomerID}
		return workflows.UpdateAccept, workflows.AcceptInput{Actor: a, Revision: l.Revision},
			fmt.Sprintf("You accepted quote revision %d. Thank you: we check credit and reserve the goods now.", l.Revision), nil
	})
}

// approveByLink is POST /o/{link}/approve (form: decision approve or
// reject, comment): the buyer approver the approval request went to
// decides, once.
func (s *server) approveByLink(w http.ResponseWriter, r *http.Request) {
	s.actByLink(w, r, links.Approve, func(l links.Link) (string, any, string, error) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			return "", nil, "", links.ErrInvalid
		}
		decision, comment := r.PostForm.Get("decision"), strings.TrimSpace(r.PostForm.Get("comment"))
		if (decision != "approve" && decision != "reject") || checkText("comment", comment, false) != nil {
			return "", nil, "", badRequest("choose approve or reject", order.FieldError{Field: "decision", Reason: "approve or reject"})
		}
		a := order.Actor{Subject: l.To, Role: order.RoleBuyerApprover, CustomerID: l.CustomerID}
		notice := "You approved the order. Thank you: it goes on to the credit check."
		if decision == "reject" {
			notice = "You rejected the order; the buyer and the seller have been told."
		}
		return workflows.UpdateApprove, workflows.ApproveInput{Actor: a, Approve: decision == "approve", Comment: comment}, notice, nil
	})
}

// actByLink runs the one action a link allows (purpose), once: build
// makes the update and what the page then says.
func (s *server) actByLink(w http.ResponseWriter, r *http.Request, purpose links.Purpose,
	build func(links.Link) (name string, arg any, notice string, err error)) {
	tok := mux.Vars(r)["link"]
	l, err := s.checkLink(tok)
	if err == nil && l.Purpose != purpose {
		err = links.ErrInvalid
	}
	if err != nil {
		s.linkFail(w, r, err)
		return
	}
	ctx := r.Context()
	used, err := s.store.LinkUsed(ctx, l.Nonce)
	if err != nil {
		s.linkFail(w, r, err)
		return
	}
	var notice string
	if !used.IsZero() {
		notice = fmt.Sprintf("This link was used on %s.", used.Format("2006-01-02 15:04 MST"))
	} else {
		name, arg, done, err := build(l)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			d, perr := s.orderPageFor(r, l, tok)
			if perr != nil {
				s.linkFail(w, r, perr)
				return
			}
			d.Notice = "Choose approve or reject."
			renderOrderPage(w, r, http.StatusBadRequest, d)
			return
		}
		if err != nil {
			s.linkFail(w, r, err)
			return
		}
		rec, err := s.store.Order(ctx, l.OrderID)
		if err == nil {
			err = s.sendUpdate(ctx, rec, name, arg)
		}
		switch {
		case err != nil && problemFor(err).Status < 500 && problemFor(err).Status != http.StatusNotFound:
			notice = "That could not be done: " + problemFor(err).Detail
		case err != nil:
			s.linkFail(w, r, err)
			return
		default:
			notice = done
			if uerr := s.store.UseLink(ctx, l.Nonce, l.OrderID, string(l.Purpose), s.now().UTC()); uerr != nil && !errors.Is(uerr, store.ErrDuplicate) {
				zerolog.Ctx(ctx).Error().Err(uerr).Msg("record the used link")
			}
		}
	}
	d, err := s.orderPageFor(r, l, tok)
	if err != nil {
		s.linkFail(w, r, err)
		return
	}
	d.Accept, d.Approve, d.Notice = false, false, notice
	renderOrderPage(w, r, http.StatusOK, d)
}

func (s *server) checkLink(tok string) (links.Link, error) {
	if s.links == nil {
		return links.Link{}, links.ErrInvalid
	}
	return s.links.Check(tok, s.now())
}

// orderPageFor gathers what the page shows.
func (s *server) orderPageFor(r *http.Request, l links.Link, tok string) (orderPageData, error) {
	ctx := r.Context()
	rec, err := s.store.Order(ctx, l.OrderID)
	if err != nil {
		return orderPageData{}, err
	}
	if rec.CustomerID != l.CustomerID {
		return orderPageData{}, links.ErrInvalid
	}
	// Live, unlike GET /v1/orders/{id}: the page shows the quote lines,
	// shipments, approvals and balances only the workflow holds, and a
	// person opens it from a mail link (no one polls it).
	live := s.live(ctx, rec.ID)
	v := newBuyerOrder(rec, live)
	entries, err := s.store.AuditLog(ctx, rec.ID)
	if err != nil {
		return orderPageData{}, err
	}
	docs, err := s.store.Documents(ctx, rec.ID)
	if err != nil {
		return orderPageData{}, err
	}
	d := orderPageData{Title: "Order " + rec.ID, Order: v, Steps: progress(entries, v.Quote), Docs: docs, Token: tok, Revision: l.Revision}
	if l.Purpose == links.Accept || l.Purpose == links.Approve {
		used, err := s.store.LinkUsed(ctx, l.Nonce)
		if err != nil {
			return orderPageData{}, err
		}
		switch {
		case !used.IsZero():
			d.Notice = fmt.Sprintf("This link was used on %s.", used.Format("2006-01-02 15:04 MST"))
		case l.Purpose == links.Approve && (v.Status != order.StatusAwaitingApproval || v.Approvals == nil || v.Approvals.BuyerApprovalsMissing == 0):
			d.Notice = "This order is not waiting for your approval."
		case l.Purpose == links.Approve:
			d.Approve = true
		case v.Status != order.StatusAwaitingAcceptance:
			d.Notice = "This quote is no longer waiting for an answer."
		case v.Quote != nil && v.Quote.Revision != l.Revision:
			d.Notice = fmt.Sprintf("Quote revision %d replaced the one this link accepts; the new quote came by mail.", v.Quote.Revision)
		default:
			d.Accept = true
		}
	}
	return d, nil
}

// linkFail renders a page for a link that opens no order.
func (s *server) linkFail(w http.ResponseWriter, r *http.Request, err error) {
	d := orderPageData{Title: "Link not valid", Problem: "This link is not valid. Use the link from your latest mail, or ask your sales contact."}
	status := http.StatusNotFound
	switch {
	case errors.Is(err, links.ErrExpired):
		d.Title, d.Problem, status = "Link expired", "This link has expired. Your latest mail about the order has a fresh one, or ask your sales contact.", http.StatusGone
	case errors.Is(err, links.ErrInvalid), errors.Is(err, store.ErrNotFound):
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("order page failed")
		d.Title, d.Problem, status = "Try again", "The order could not be shown just now. Please try again in a minute.", http.StatusServiceUnavailable
	}
	renderOrderPage(w, r, status, d)
}

func renderOrderPage(w http.ResponseWriter, r *http.Request, status int, d orderPageData) {
	writePage(w, r, status, orderTemplate, d)
}
