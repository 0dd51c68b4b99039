package player

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/scenario"
	"github.com/orderflow/orderflow/internal/webhook"
)

// SplitEvery is the business time between the parts of a split payment.
const SplitEvery = time.Hour

// pay plays the payer of the order's invoices, once the order waits for
// the money (invoiced, or prepaid and waiting to ship).
func (w *walker) pay(ctx context.Context, v view) error {
	pp := w.plan.Payment
	if pp.Behaviour == "" || pp.Behaviour == scenario.PayNever ||
		v.Status != order.StatusInvoiced && v.Status != order.StatusAwaitingPayment {
		return nil
	}
	invs, err := w.owed(ctx, v)
	if err != nil || len(invs) == 0 {
		return err
	}
	invoiced := w.since("invoiced")
	if pp.Behaviour == scenario.PayGrouped {
		if !w.joined {
			w.joined = true
			w.group = w.p.joinGroup(pp.Group, w.cust.ID, invs, pp.Delay)
		}
		if g := w.group; g != nil && !w.done["group"] && w.due(g.latest.Add(w.p.wall(g.delay))) {
			w.done["group"] = true
			return w.p.payGroup(ctx, g)
		}
		return nil
	}
	for _, inv := range invs {
		parts := 1
		if pp.Behaviour == scenario.PaySplit {
			parts = max(pp.Parts, 1)
		}
		for k := range parts {
			key := fmt.Sprintf("pay:%s:%d", inv.Number, k)
			at := invoiced.Add(w.p.wall(pp.Delay + time.Duration(k)*SplitEvery))
			if pp.Behaviour == scenario.PayLate {
				at = inv.Due.Add(w.p.wall(pp.Delay))
			}
			if w.done[key] || !w.due(at) {
				continue
			}
			w.done[key] = true
			amount := inv.Open
			switch pp.Behaviour {
			case scenario.PayBankFee:
				amount.Minor = max(amount.Minor-pp.ShortMinor, 1)
			case scenario.PaySplit:
				amount.Minor = inv.Open.Minor / int64(parts)
				if k == parts-1 {
					amount.Minor = inv.Open.Minor - amount.Minor*int64(parts-1)
				}
			}
			if err := w.p.sendPayment(ctx, SentPayment{Customer: w.cust.ID, Behaviour: pp.Behaviour, Amount: amount,
				Reference: w.reference(inv), Invoices: []string{inv.Number}, Orders: []string{w.id}}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// owed are the order's invoices with money open, each with what was open
// when the walker first saw it (the payer pays the invoice as issued), as
// the buyer's view of the order shows them. It is read again when the
// order's status changes: a prepaid order's invoice, an invoice per
// shipment.
func (w *walker) owed(ctx context.Context, v view) ([]dueInvoice, error) {
	if w.owedAt == v.Status && w.owedList != nil {
		return w.owedList, nil
	}
	tok, err := w.p.token(w.buyer)
	if err != nil {
		return nil, err
	}
	var bv struct {
		Invoices []struct {
			Number  string       `json:"number"`
			DueDate time.Time    `json:"due_date"`
			Open    *money.Money `json:"open"`
		} `json:"invoices"`
	}
	if _, err := w.p.c.do(ctx, request{method: http.MethodGet, url: w.p.t.API + "/v1/orders/" + url.PathEscape(w.id), token: tok}, &bv); err != nil {
		return nil, fmt.Errorf("read the order's invoices: %w", err)
	}
	if w.firstOpen == nil {
		w.firstOpen = map[string]money.Money{}
	}
	var out []dueInvoice
	for _, inv := range bv.Invoices {
		open, ok := w.firstOpen[inv.Number]
		if !ok {
			if inv.Open == nil || inv.Open.Minor <= 0 {
				continue
			}
			open = *inv.Open
			w.firstOpen[inv.Number] = open
		}
		// A scaled order keeps its invoices' due dates on its own clock
		// (the issue date plus the payment terms at the scale), so the
		// date it shows is the wall time the dunning counts from.
		out = append(out, dueInvoice{OrderID: w.id, Number: inv.Number, Open: open, Due: inv.DueDate,
			Reference: order.CreditorReferenceOf(inv.Number)})
	}
	slices.SortFunc(out, func(a, b dueInvoice) int { return strings.Compare(a.Number, b.Number) })
	if len(out) > 0 {
		w.owedAt, w.owedList = v.Status, out
	}
	return out, nil
}

// reference is what the payer writes in the transfer's reference field.
func (w *walker) reference(inv dueInvoice) string {
	switch w.plan.Payment.Behaviour {
	case scenario.PayMissingReference:
		return ""
	case scenario.PayMistypedReference:
		return Mistype(inv.Reference)
	case scenario.PayPayerReference:
		// The payer's own voucher number, which orderflow never issued.
		return "PAYRUN " + strings.ReplaceAll(w.plan.Ref, "-", "")
	}
	return inv.Reference
}

// Mistype changes the last digit of a reference's body (after "RF" and
// the two check digits), as a payer's typo does: the reference fails its
// check, and one digit off is what the matcher may correct.
func Mistype(ref string) string {
	b := []byte(ref)
	for i := len(b) - 1; i >= 4; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '0' + (b[i]-'0'+3)%10
			return string(b)
		}
	}
	return ref
}

// leaveGroup tells the order's payment group, when it has one and has not
// joined it, that it brings no invoice; if it was the last member, the
// group is paid now.
func (w *walker) leaveGroup(ctx context.Context) {
	if w.plan.Payment.Behaviour != scenario.PayGrouped || w.joined {
		return
	}
	w.joined = true
	g := w.p.joinGroup(w.plan.Payment.Group, w.cust.ID, nil, 0)
	if g == nil {
		return
	}
	if sleep(ctx, time.Until(g.latest.Add(w.p.wall(g.delay)))) != nil {
		return
	}
	if err := w.p.payGroup(ctx, g); err != nil {
		w.p.fail("order %s: pay group %s: %v", w.plan.Ref, w.plan.Payment.Group, err)
	}
}

// payGroup pays every invoice of a group with one transfer whose
// remittance lists them.
func (p *player) payGroup(ctx context.Context, g *group) error {
	sp := SentPayment{Customer: g.customer, Behaviour: scenario.PayGrouped}
	var parts []webhook.RemittancePart
	for _, inv := range g.invoices {
		if sp.Amount.Currency == "" {
			sp.Amount = money.New(0, inv.Open.Currency)
		}
		sp.Amount.Minor += inv.Open.Minor
		parts = append(parts, webhook.RemittancePart{Reference: inv.Reference, Amount: inv.Open})
		sp.Invoices = append(sp.Invoices, inv.Number)
		if !slices.Contains(sp.Orders, inv.OrderID) {
			sp.Orders = append(sp.Orders, inv.OrderID)
		}
	}
	return p.sendPayment(ctx, sp, parts)
}

// sendPayment has the bank receive a payment and notify orderflow.
func (p *player) sendPayment(ctx context.Context, sp SentPayment, remittance []webhook.RemittancePart) error {
	c := p.customers[sp.Customer]
	body := map[string]any{"reference": sp.Reference, "amount": sp.Amount, "payer": c.Name}
	if c.PayerAccount != "" {
		body["payer_account"] = c.PayerAccount
	}
	if len(remittance) > 0 {
		body["remittance"] = remittance
	}
	var ans struct {
		BankTransactionID string `json:"bank_transaction_id"`
	}
	if _, err := p.c.do(ctx, request{method: http.MethodPost, url: p.t.Bank + "/sim/payments", body: body}, &ans); err != nil {
		return fmt.Errorf("the bank could not take the payment: %w", err)
	}
	sp.BankTransactionID = ans.BankTransactionID
	for _, r := range remittance {
		sp.Parts = append(sp.Parts, webhook.PartTransactionID(ans.BankTransactionID, r.Reference))
	}
	p.sent(sp)
	return nil
}
