package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// dashboardWorklistRows is how many items of each worklist the dashboard
// shows; the list's API pages through the rest.
const dashboardWorklistRows = 5

// worklistView is one worklist on the dashboard: how many items it holds
// now (for the chosen customer where the list filters by customer), the
// first ones, and the API that lists them all.
type worklistView struct {
	Name, Title, API string
	Count            int
	// Filtered: the count and rows are the chosen customer's (or the
	// rep's own follow-ups); AtLeast: there may be more than Count.
	Filtered, AtLeast bool
	Columns           []string
	Rows              [][]string
}

// worklistTitles say what each list is, for people.
var worklistTitles = map[string]string{
	store.WorklistOverdueInvoices:   "Overdue invoices",
	store.WorklistCreditHolds:       "Credit holds",
	store.WorklistUnmatchedPayments: "Unmatched payments",
	store.WorklistAttention:         "Orders needing attention",
	store.WorklistOverdueDeliveries: "Overdue deliveries",
	store.WorklistFollowUps:         "Detractor follow-ups",
}

// dashboardWorklists reads the worklists the actor may read (as the
// worklist API lets them), each with its first rows; a rep sees their own
// follow-ups.
func (s *server) dashboardWorklists(ctx context.Context, a order.Actor, customerID string) ([]worklistView, error) {
	now := s.now()
	sizes, err := s.store.WorklistSizes(ctx, now, workflows.DeliveryGrace)
	if err != nil {
		return nil, err
	}
	var out []worklistView
	for _, name := range store.Worklists {
		wl := worklists[name]
		if !slices.Contains(wl.roles, a.Role) {
			continue
		}
		f := store.WorklistFilter{At: now, DeliveryGrace: workflows.DeliveryGrace, Limit: dashboardWorklistRows}
		v := worklistView{Name: name, Title: worklistTitles[name], API: "/v1/worklists/" + name, Count: sizes[name]}
		if customerID != "" && slices.Contains(wl.filters, "customer_id") {
			f.CustomerID, v.Filtered = customerID, true
		}
		if err := s.ownFollowUps(ctx, a, name, &f); err != nil {
			return nil, err
		}
		items, _, err := wl.read(ctx, s.store, f)
		if err != nil {
			return nil, fmt.Errorf("worklist %s: %w", name, err)
		}
		v.Columns, v.Rows = worklistRows(items)
		if name == store.WorklistFollowUps && len(f.Owners) > 0 {
			v.Filtered = true
		}
		if v.Filtered {
			// The sizes count everyone's: a filtered list counts what it
			// shows, and says when there may be more.
			v.Count, v.AtLeast = len(v.Rows), len(v.Rows) == dashboardWorklistRows
		}
		out = append(out, v)
	}
	return out, nil
}

// worklistRows turns a page of a worklist into a table.
func worklistRows(items any) ([]string, [][]string) {
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	var rows [][]string
	switch list := items.(type) {
	case []store.OverdueInvoice:
		for _, i := range list {
			flags := []string{}
			if i.Escalated {
				flags = append(flags, "escalated")
			}
			if i.Disputed {
				flags = append(flags, "disputed")
			}
			rows = append(rows, []string{i.Number, i.OrderID, i.CustomerID, i.Open.String(), fmt.Sprint(i.DaysOverdue),
				fmt.Sprint(i.DunningLevel), strings.Join(flags, ", ")})
		}
		return []string{"Invoice", "Order", "Customer", "Open", "Days overdue", "Reminders", ""}, rows
	case []store.CreditHold:
		for _, h := range list {
			rows = append(rows, []string{h.OrderID, h.CustomerID, h.Total.String(), day(h.Since)})
		}
		return []string{"Order", "Customer", "Total", "On hold since"}, rows
	case []store.Payment:
		for _, p := range list {
			payer := p.Payer
			if p.PayerAccount != "" {
				payer = strings.TrimSpace(payer + " " + p.PayerAccount)
			}
			rows = append(rows, []string{p.BankTransactionID, p.Amount.String(), p.Reference, day(p.ReceivedAt),
				payer, p.MatchRule, strings.Join(p.MatchEvidence, "; "), paymentCandidates(p)})
		}
		return []string{"Bank transaction", "Amount", "Reference", "Received", "Payer", "Rule", "Evidence", "Candidates"}, rows
	case []store.AttentionOrder:
		for _, o := range list {
			rows = append(rows, []string{o.OrderID, o.CustomerID, string(o.Status), o.Stage, o.Step})
		}
		return []string{"Order", "Customer", "Status", "Stage", "Failed step"}, rows
	case []store.OverdueDelivery:
		for _, d := range list {
			promised := ""
			if d.PromisedDate != nil {
				promised = day(*d.PromisedDate)
			}
			rows = append(rows, []string{d.ShipmentID, d.OrderID, d.CustomerID, d.Warehouse, d.Carrier, promised, fmt.Sprint(d.DaysLate)})
		}
		return []string{"Shipment", "Order", "Customer", "Warehouse", "Carrier", "Promised", "Days late"}, rows
	case []store.FollowUp:
		for _, fu := range list {
			score := ""
			if fu.Score != nil {
				score = fmt.Sprint(*fu.Score)
			}
			rows = append(rows, []string{fmt.Sprint(fu.ID), fu.OrderID, fu.CustomerID, score, fu.Comment, fu.Owner, day(fu.OpenedAt)})
		}
		return []string{"Follow-up", "Order", "Customer", "Score", "Comment", "Owner", "Opened"}, rows
	}
	return nil, nil
}

// paymentCandidates says a payment's candidates in a cell, best first:
// "1. INV-7 (0.50: reason; reason)".
func paymentCandidates(p store.Payment) string {
	if len(p.Candidates) == 0 && p.OrderID != "" && len(p.MatchParts) > 0 {
		return "applied by rule " + p.MatchRule + " to " + p.InvoiceNumber + "; the order records it"
	}
	out := make([]string, len(p.Candidates))
	for i, c := range p.Candidates {
		out[i] = fmt.Sprintf("%d. %s (%.2f: %s)", i+1, c.Invoice, c.Score, strings.Join(c.Reasons, "; "))
	}
	return strings.Join(out, " | ")
}
