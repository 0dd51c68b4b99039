package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// ActionPaymentAllocated is the audit action of a payment finance allocated by hand.
const ActionPaymentAllocated = "payment.allocated"

// allocateRequest is the body of POST /v1/payments/{id}/allocate.
type allocateRequest struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
	// InvoiceNumber names the invoice of an order invoiced per shipment;
	// without it the payment goes to the order's oldest invoice with money
	// open (the only invoice of an order invoiced per order). With it,
	// order_id may be left out: the invoice's order.
	InvoiceNumber string `json:"invoice_number"`
	// Candidate confirms the matcher's candidate of this rank (1 is the
	// best): its invoice, as if named in invoice_number.
	Candidate int `json:"candidate"`
}

// unmatchedPayments is GET /v1/payments/unmatched: finance's queue.
func (s *server) unmatchedPayments(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), order.RoleFinance); err != nil {
		return err
	}
	ps, err := s.store.UnmatchedPayments(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []store.Payment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"payments": ps})
	return nil
}

// allocatePayment is POST /v1/payments/{id}/allocate: finance applies an
// unmatched payment to an invoiced order.
//
// The match and its audit entry are written in one transaction, then the
// order is signalled. A failure part-way is safe to retry: before the commit
// nothing is decided; after it, the same user allocating the same payment to
// the same order again is a retry that only re-sends the signal, which the
// workflow ignores when it has seen the payment (so the balance, which may
// already count the payment, is not checked again). The workflow's own record
// of the match then finds this one standing.
func (s *server) allocatePayment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	actor := actorFrom(ctx)
	if err := requireRole(actor, order.RoleFinance); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	var in allocateRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	named := in.InvoiceNumber != "" || in.Candidate != 0
	orderID := checkID("order_id", in.OrderID, !named)
	if len(in.OrderID) > maxIDLen {
		orderID = &order.FieldError{Field: "order_id", Reason: fmt.Sprintf("at most %d characters", maxIDLen)}
	}
	var candidate *order.FieldError
	switch {
	case in.Candidate < 0:
		candidate = &order.FieldError{Field: "candidate", Reason: "the rank of one of the payment's candidates, from 1"}
	case in.Candidate > 0 && in.InvoiceNumber != "":
		candidate = &order.FieldError{Field: "candidate", Reason: "give candidate or invoice_number, not both"}
	}
	if err := collect(orderID, checkText("reason", in.Reason, true), checkID("invoice_number", in.InvoiceNumber, false), candidate); err != nil {
		return err
	}

	var p store.Payment
	err := store.ErrNotFound
	if checkID("id", id, true) == nil {
		p, err = s.store.Payment(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no payment %q", id))
	} else if err != nil {
		return err
	}
	if p.Amount.Minor <= 0 || p.Amount.Minor > MaxPaymentMinor {
		// Stored before the webhook bounded amounts: applying it could
		// overflow the order's sums. Finance refunds it instead.
		return conflict(fmt.Sprintf("payment %s of %s is outside the amounts orderflow applies (1 to %d minor units)",
			p.BankTransactionID, p.Amount, int64(MaxPaymentMinor)))
	}
	if in.Candidate > 0 {
		if in.Candidate > len(p.Candidates) {
			return invalidField("candidate", fmt.Sprintf("payment %s has %d candidates", p.BankTransactionID, len(p.Candidates)))
		}
		in.InvoiceNumber = p.Candidates[in.Candidate-1].Invoice
	}
	if in.OrderID == "" {
		// The order of the invoice named.
		owner, _, err := s.store.InvoiceByNumber(ctx, in.InvoiceNumber)
		field := "invoice_number"
		if in.Candidate > 0 {
			field = "candidate"
		}
		if errors.Is(err, store.ErrNotFound) {
			return invalidField(field, fmt.Sprintf("no invoice %q", in.InvoiceNumber))
		} else if err != nil {
			return err
		}
		in.OrderID = owner
	}
	if p.MatchKind == store.MatchSplit {
		return conflict(fmt.Sprintf("payment %s is split across invoices: %s", p.BankTransactionID, splitIDs(p)))
	}
	matched := p.OrderID != "" && p.MatchKind != order.MatchUnmatched
	retry := matched && p.OrderID == in.OrderID && p.AllocatedBy == actor.Subject
	if matched && !retry {
		return conflict(fmt.Sprintf("payment %s is already applied to order %s", p.BankTransactionID, p.OrderID))
	}
	rec, err := s.store.Order(ctx, in.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		return invalidField("order_id", fmt.Sprintf("no order %q", in.OrderID))
	} else if err != nil {
		return err
	}
	if rec.Status.Terminal() {
		return &apiError{status: http.StatusConflict, slug: ProblemOrderFinished, detail: "order is finished"}
	}
	if rec.InvoiceNumber == "" {
		return conflict(fmt.Sprintf("order %s has no invoice yet", rec.ID))
	}
	number := in.InvoiceNumber
	if number == "" {
		number = s.oldestOpenInvoice(ctx, rec.ID, rec.InvoiceNumber)
	}
	owner, inv, err := s.store.InvoiceByNumber(ctx, number)
	switch {
	case in.InvoiceNumber != "" && (errors.Is(err, store.ErrNotFound) || (err == nil && owner != rec.ID)):
		return invalidField("invoice_number", fmt.Sprintf("%s is not an invoice of order %s", in.InvoiceNumber, rec.ID))
	case err != nil:
		return fmt.Errorf("invoice %s of order %s: %w", number, rec.ID, err)
	}
	kind := p.MatchKind
	if !retry {
		open := s.openBalance(ctx, rec.ID, inv)
		match := order.MatchPayment(open, p.Amount)
		if match.Kind == order.MatchUnmatched {
			field := "order_id"
			if in.InvoiceNumber != "" {
				field = "invoice_number"
			}
			return invalidField(field, fmt.Sprintf("a payment of %s cannot be applied to invoice %s, open %s", p.Amount, inv.Number, open))
		}
		kind = match.Kind
		fields := map[string]any{
			"bank_transaction_id": p.BankTransactionID, "amount": p.Amount, "invoice_number": inv.Number,
			"match_kind": kind,
		}
		if p.MatchRule != "" {
			// What the matcher had proposed, and which of it finance took.
			fields["match_rule"], fields["candidates"] = p.MatchRule, len(p.Candidates)
			for i, c := range p.Candidates {
				if c.Invoice == inv.Number {
					fields["candidate"], fields["candidate_score"] = i+1, c.Score
					break
				}
			}
		}
		data, _ := json.Marshal(fields)
		err := s.store.AllocatePayment(ctx, p.BankTransactionID, inv.Number, kind, store.AuditEntry{
			OrderID:  rec.ID,
			At:       s.now().UTC(),
			Actor:    actor,
			Action:   ActionPaymentAllocated,
			ToStatus: rec.Status,
			Reason:   in.Reason,
			Data:     data,
		})
		if err != nil {
			return err // ErrPaymentMatched (another allocation won the race) is a 409
		}
	}
	err = s.tellPayment(ctx, rec.ID, p, inv.Number)
	switch {
	case workflowClosed(err):
		return updateError(rec, err)
	case err != nil:
		return unavailable("the payment is allocated but the order could not be told; send the same allocation again",
			fmt.Errorf("signal payment %s to %s: %w", p.BankTransactionID, rec.ID, err))
	}
	l := zerolog.Ctx(ctx)
	s.learnPayerAccount(ctx, l, rec.ID, p)
	l.Info().Str("order_id", rec.ID).Str("bank_transaction_id", p.BankTransactionID).
		Str("match_kind", string(kind)).Bool("retry", retry).Msg("payment allocated by finance")
	p, err = s.store.Payment(ctx, p.BankTransactionID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// openBalance is what is still owed on an order's invoice: the workflow
// knows what was paid; when it cannot answer, or answers an amount whose
// difference from the invoice does not fit in int64 (no sane order's),
// the whole invoice.
func (s *server) openBalance(ctx context.Context, orderID string, inv order.Invoice) money.Money {
	// Live: money is allocated against the ledger as it is now; the
	// projection's open amount may miss a payment the workflow applied
	// a moment ago. Finance does this by hand, so it is rare.
	d := s.live(ctx, orderID)
	if d != nil {
		// The order's own ledger: payments, credit notes, write-offs and
		// credit applied, per invoice.
		for _, b := range d.Balances {
			if b.Number == inv.Number && b.Open.Currency == inv.Amount.Currency {
				return b.Open
			}
		}
	}
	if d == nil || d.Paid == nil || d.Paid.Currency != inv.Amount.Currency {
		return inv.Amount
	}
	open, ok := subMinor(inv.Amount.Minor, d.Paid.Minor)
	if !ok {
		zerolog.Ctx(ctx).Warn().Str("order_id", orderID).Stringer("invoice", inv.Amount).Stringer("paid", d.Paid).
			Msg("the order's paid amount is out of range; taking the whole invoice as open")
		return inv.Amount
	}
	return money.New(open, inv.Amount.Currency)
}

// oldestOpenInvoice is the number of the order's oldest invoice with
// money open, as the order sees it; latest (the projection's) when the
// order cannot be asked or nothing is open.
func (s *server) oldestOpenInvoice(ctx context.Context, orderID, latest string) string {
	// Live, for the reason openBalance gives.
	if d := s.live(ctx, orderID); d != nil {
		for _, b := range d.Balances {
			if b.Open.Minor > 0 {
				return b.Number
			}
		}
	}
	return latest
}

// subMinor is a-b, and false when that overflows int64.
func subMinor(a, b int64) (int64, bool) {
	d := a - b
	// Overflow happened iff a and b have different signs and d's sign is not a's.
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		return 0, false
	}
	return d, true
}

// splitIDs lists the payments a split payment was applied through.
func splitIDs(p store.Payment) string {
	ids := make([]string, len(p.MatchParts))
	for i, part := range p.MatchParts {
		ids[i] = part.BankTransactionID
	}
	return strings.Join(ids, ", ")
}
