package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/matching"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
)

// ActionPaymentMatched is the audit action of a payment the matcher applied
// without finance: its rule, confidence and evidence.
const ActionPaymentMatched = "payment.matched"

// matchPaidWindow is how long after it was paid an invoice is still shown
// to the matcher, so that a reference naming it is recognised as a second
// payment and not matched elsewhere.
const matchPaidWindow = 180 * 24 * time.Hour

// matchConfig is the matcher's configuration: the defaults of
// internal/matching (auto-apply from confidence 0.9, a bank fee of up to
// 15.00 tolerated, splits of up to 5 invoices).
var matchConfig = matching.DefaultConfig()

// matchPayment asks the matcher which invoice a payment without a clean
// reference pays. A match at or above the threshold is applied without
// finance: recorded with its rule, confidence and evidence and a
// payment.matched audit entry on each order's chain, and signalled to the
// orders (a split, one payment per invoice under webhook.PartTransactionID).
// Anything else stays in finance's queue with the rule, the evidence and
// the ranked candidates.
func (s *server) matchPayment(ctx context.Context, l *zerolog.Logger, p store.Payment, split bool) (routed, error) {
	invs, err := s.store.InvoicesForMatching(ctx, p.Amount.Currency, s.now().Add(-matchPaidWindow))
	if err != nil {
		return routed{}, err
	}
	orders := make(map[string]string, len(invs))
	candidates := make([]matching.Invoice, len(invs))
	for i, inv := range invs {
		orders[inv.Number] = inv.OrderID
		candidates[i] = inv.Invoice
	}
	d := matching.Match(matching.Payment{Amount: p.Amount, Reference: p.Reference, PayerName: p.Payer,
		PayerAccount: p.PayerAccount, ReceivedAt: p.ReceivedAt}, candidates, matchConfig)
	if m := d.Matched; m != nil && len(m.Parts) > 1 && !split {
		// A remittance part is not split again: finance decides.
		d = matching.Decision{Candidates: matchedAsCandidates(m, "a part of a remittance is not split again")}
	}
	if d.Matched != nil {
		res, ok, err := s.applyMatch(ctx, l, p, d.Matched, orders)
		if err != nil || ok {
			return res, err
		}
		d = matching.Decision{Candidates: matchedAsCandidates(d.Matched, "the order of an invoice is not known")}
	}
	c := d.Candidates
	if _, err := s.store.DecidePayment(ctx, store.PaymentDecision{BankTransactionID: p.BankTransactionID,
		Rule: string(c.Rule), Evidence: c.Evidence, Candidates: c.Ranked}); err != nil {
		return routed{}, err
	}
	l.Info().Str("reference", p.Reference).Str("rule", string(c.Rule)).Int("candidates", len(c.Ranked)).
		Msg("payment not matched; queued for finance with its candidates")
	return routed{Status: WebhookUnmatched, Rule: string(c.Rule)}, nil
}

// matchedAsCandidates turns a match that cannot be applied into finance's
// candidates.
func matchedAsCandidates(m *matching.Matched, why string) *matching.Candidates {
	c := &matching.Candidates{Rule: m.Rule, Evidence: append(append([]string{}, m.Evidence...), why)}
	for _, part := range m.Parts {
		c.Ranked = append(c.Ranked, matching.Candidate{Invoice: part.Invoice, Rule: m.Rule, Score: m.Confidence, Reasons: m.Evidence})
	}
	return c
}

// applyMatch records the matcher's match and signals it; ok is false when
// an invoice's order is unknown (finance decides).
func (s *server) applyMatch(ctx context.Context, l *zerolog.Logger, p store.Payment, m *matching.Matched, orders map[string]string) (res routed, ok bool, err error) {
	dec := store.PaymentDecision{BankTransactionID: p.BankTransactionID, Rule: string(m.Rule),
		Confidence: m.Confidence, Evidence: m.Evidence}
	at := s.now().UTC()
	for _, part := range m.Parts {
		orderID := orders[part.Invoice]
		rec, err := s.store.Order(ctx, orderID)
		if errors.Is(err, store.ErrNotFound) {
			return routed{}, false, nil
		} else if err != nil {
			return routed{}, false, err
		}
		id := p.BankTransactionID
		if len(m.Parts) > 1 {
			id = webhook.PartTransactionID(p.BankTransactionID, part.Invoice)
		}
		dec.Parts = append(dec.Parts, store.PaymentPart{BankTransactionID: id, OrderID: orderID,
			InvoiceNumber: part.Invoice, Amount: part.Amount})
		data, _ := json.Marshal(map[string]any{
			"bank_transaction_id": id, "amount": part.Amount, "invoice_number": part.Invoice,
			"payment": p.BankTransactionID, "payment_amount": p.Amount, "reference": p.Reference,
			"payer": p.Payer, "payer_account": p.PayerAccount,
			"rule": m.Rule, "confidence": m.Confidence, "evidence": m.Evidence,
		})
		dec.Audit = append(dec.Audit, store.AuditEntry{
			OrderID:  orderID,
			At:       at,
			Actor:    order.System,
			Action:   ActionPaymentMatched,
			ToStatus: rec.Status,
			Reason:   fmt.Sprintf("payment %s matched to invoice %s by rule %s (confidence %.2f)", p.BankTransactionID, part.Invoice, m.Rule, m.Confidence),
			Data:     data,
		})
	}
	if _, err := s.store.DecidePayment(ctx, dec); err != nil {
		return routed{}, false, err
	}
	// Read back: a concurrent delivery may have decided first; its
	// decision is the one signalled.
	stored, err := s.store.Payment(ctx, p.BankTransactionID)
	if err != nil {
		return routed{}, false, err
	}
	if len(stored.MatchParts) == 0 {
		return routed{Status: WebhookDuplicate}, true, nil
	}
	res, err = s.signalParts(ctx, l, stored)
	if err == nil && m.Rule == matching.RuleExactReference && len(stored.MatchParts) == 1 {
		s.learnPayerAccount(ctx, l, stored.MatchParts[0].OrderID, p)
	}
	return res, true, err
}

// resignalMatched tells the orders again of a payment the matcher applied
// (a redelivery after the signal failed, or under a new event id); the
// orders drop a payment they have by its id. When every part is applied
// the answer is duplicate.
func (s *server) resignalMatched(ctx context.Context, l *zerolog.Logger, p store.Payment) (routed, error) {
	pending := false
	for _, part := range p.MatchParts {
		pp, err := s.store.Payment(ctx, part.BankTransactionID)
		if err != nil {
			return routed{}, err
		}
		if pp.MatchKind == "" {
			pending = true
		}
	}
	if !pending {
		l.Info().Msg("payment redelivered under a new event id; already applied")
		return routed{Status: WebhookDuplicate, Rule: p.MatchRule}, nil
	}
	return s.signalParts(ctx, l, p)
}

// signalParts signals each part of a payment the matcher applied that its
// order has not recorded yet. A part whose order's workflow is closed is
// left for finance (unmatched); a signal that fails is a 503, so the bank's
// retry tells the order again.
func (s *server) signalParts(ctx context.Context, l *zerolog.Logger, p store.Payment) (routed, error) {
	res := routed{Status: WebhookUnmatched, Rule: p.MatchRule}
	for _, part := range p.MatchParts {
		pp, err := s.store.Payment(ctx, part.BankTransactionID)
		if err != nil {
			return routed{}, err
		}
		if pp.MatchKind != "" && pp.MatchKind != order.MatchUnmatched {
			res.Status = WebhookAccepted
			continue
		}
		if pp.OrderID == "" {
			continue // left for finance before
		}
		err = s.tellPayment(ctx, part.OrderID, store.Payment{BankTransactionID: part.BankTransactionID, Amount: part.Amount,
			ReceivedAt: p.ReceivedAt}, part.InvoiceNumber)
		switch {
		case workflowClosed(err):
			l.Warn().Err(err).Str("order_id", part.OrderID).Str("part_id", part.BankTransactionID).
				Msg("matched payment for an order whose workflow is closed; queued for finance")
			if err := s.store.MatchPayment(ctx, part.BankTransactionID, "", "", order.MatchUnmatched, order.System.Subject); err != nil {
				return routed{}, err
			}
			continue
		case err != nil:
			return routed{}, unavailable("the order could not be told; retry later",
				fmt.Errorf("signal payment %s to %s: %w", part.BankTransactionID, part.OrderID, err))
		}
		if res.Invoice == "" {
			res.Invoice = part.InvoiceNumber
		}
		res.Status = WebhookAccepted
		l.Info().Str("order_id", part.OrderID).Str("part_id", part.BankTransactionID).Str("rule", p.MatchRule).
			Msg("payment matched and signalled")
	}
	return res, nil
}

// learnPayerAccount puts the payer's account on file for the customer of
// the order a payment was applied to by its reference or by finance. A
// failure is logged: the payment stands, the account is learned next time.
func (s *server) learnPayerAccount(ctx context.Context, l *zerolog.Logger, orderID string, p store.Payment) {
	if p.PayerAccount == "" {
		return
	}
	learned, err := s.store.LearnPayerAccount(ctx, orderID, p.PayerAccount, p.BankTransactionID)
	if err != nil {
		l.Warn().Err(err).Str("order_id", orderID).Msg("payer account not learned")
		return
	}
	if learned {
		l.Info().Str("order_id", orderID).Str("payer_account", p.PayerAccount).Msg("payer account learned")
	}
}
