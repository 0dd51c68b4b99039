package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// reopenRequest is the body of POST /v1/followups/{id}/reopen.
type reopenRequest struct {
	// Lines change the quantities of the lost quote's SKUs (0 drops a
	// line); SKUs not named keep their quantity.
	Lines    []order.Line `json:"lines"`
	PONumber string       `json:"po_number"`
	Reason   string       `json:"reason"`
}

// reopenFollowUp is POST /v1/followups/{id}/reopen: the rep who owns a
// quote-lost follow-up, or a sales manager, re-opens the lost quote as a
// new order of the same customer with the lost quote's lines (its last
// revision), through POST /v1/quotes' own handler; the follow-up is closed
// with a note naming the new order, audited followup.reopened on the lost
// order. The idempotency key is the follow-up's: a retried call answers
// the same new order.
func (s *server) reopenFollowUp(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, order.RoleSalesRep, order.RoleSalesManager); err != nil {
		return err
	}
	raw := mux.Vars(r)["id"]
	missing := notFound(fmt.Sprintf("no follow-up %q", raw))
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return missing
	}
	var in reopenRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var lineErr *order.FieldError
	for i, l := range in.Lines {
		if fe := checkID(fmt.Sprintf("lines[%d].sku", i), l.SKU, true); fe != nil {
			lineErr = fe
			break
		}
		if l.Quantity < 0 {
			lineErr = &order.FieldError{Field: fmt.Sprintf("lines[%d].quantity", i), Reason: "0 (drop the line) or more"}
			break
		}
	}
	if err := collect(checkText("reason", in.Reason, true), lineErr); err != nil {
		return err
	}
	fu, err := s.ownedFollowUp(ctx, a, id, missing, "re-opens")
	if err != nil {
		return err
	}
	if fu.Kind != store.FollowUpKindQuoteLost {
		return conflict(fmt.Sprintf("follow-up %d is a %s follow-up; only a quote-lost follow-up re-opens as a quote", id, fu.Kind))
	}
	if fu.ClosedAt != nil {
		// A retry after the close answers the order it was re-opened as.
		newID, err := s.store.FollowUpReopenedAs(ctx, fu)
		if errors.Is(err, store.ErrNotFound) {
			return conflict(fmt.Sprintf("follow-up %d was closed by %s at %s: %s", id, fu.ClosedBy,
				fu.ClosedAt.UTC().Format("2006-01-02 15:04 MST"), fu.Note))
		} else if err != nil {
			return err
		}
		return s.answerReopened(w, r, a, newID, http.StatusOK)
	}
	quotes, err := s.store.Quotes(ctx, fu.OrderID)
	if err != nil {
		return err
	}
	if len(quotes) == 0 {
		return conflict(fmt.Sprintf("order %s of follow-up %d has no quote to re-open", fu.OrderID, id))
	}
	lines, err := reopenLines(quotes[len(quotes)-1], in.Lines)
	if err != nil {
		return err
	}
	newID, err := s.quoteAs(ctx, a, fmt.Sprintf("reopen-followup-%d", id),
		quoteRequest{CustomerID: fu.CustomerID, PONumber: in.PONumber, Lines: lines})
	if errors.Is(err, store.ErrIdempotencyConflict) {
		return conflict(fmt.Sprintf("follow-up %d is being re-opened already with other lines or PO number; retry with the same body", id))
	}
	if err != nil {
		return err
	}
	if _, err := s.store.CloseFollowUpReopened(ctx, store.ReopenedFollowUp{FollowUpID: id, NewOrderID: newID,
		Reason: in.Reason, By: a, At: s.now().UTC()}); err != nil {
		return err
	}
	return s.answerReopened(w, r, a, newID, http.StatusCreated)
}

// answerReopened answers the new order of a re-opened follow-up.
func (s *server) answerReopened(w http.ResponseWriter, r *http.Request, a order.Actor, id string, status int) error {
	rec, err := s.store.Order(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.publicURL+"/v1/orders/"+id)
	writeJSON(w, status, present(a, rec, nil))
	return nil
}

// reopenLines are the lost quote's lines with the quantities the request
// changes; a SKU the lost quote does not have is refused.
func reopenLines(lost order.Quote, changes []order.Line) ([]order.Line, error) {
	qty := map[string]int64{}
	var lines []order.Line
	for _, l := range lost.Lines {
		if _, seen := qty[l.SKU]; !seen {
			lines = append(lines, order.Line{SKU: l.SKU})
		}
		qty[l.SKU] += l.Quantity
	}
	for i, c := range changes {
		if _, ok := qty[c.SKU]; !ok {
			return nil, invalidField(fmt.Sprintf("lines[%d].sku", i), fmt.Sprintf("%s is not on the lost quote; request a new quote for other products", c.SKU))
		}
		qty[c.SKU] = c.Quantity
	}
	out := lines[:0]
	for _, l := range lines {
		if l.Quantity = qty[l.SKU]; l.Quantity > 0 {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, invalidField("lines", "every line would be dropped; keep at least one")
	}
	return out, nil
}
