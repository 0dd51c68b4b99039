// Package automation measures how much of the order-to-cash flow ran
// without people: straight-through orders (STP), payments matched without
// finance, the exceptions orders met and how long they waited, the time
// from delivery to cash, and the staff actions per 100 orders.
//
// It works on facts (OrderFacts, PaymentFacts) read elsewhere: the store
// reads them for the dashboard (real traffic) and for a scenario run, and
// Summarize turns them into one Report for both, with Report.Markdown and
// Report.SVG for docs/benchmarks.md. Nothing here knows SQL, HTTP or
// Temporal.
package automation

import (
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// Targets (issue 13): the share of straight-through orders among those no
// human decision was forced on, the share of payments matched without
// finance, and how many exceptions may reach no worklist.
const (
	TargetSTP       = 0.95
	TargetAutoMatch = 0.95
	TargetOrphans   = 0
)

// StaffAction is one audit entry a seller's person wrote on an order.
type StaffAction struct {
	Role   order.Role
	Action string // the audit action, e.g. "action.retry", "credit.override"
	At     time.Time
}

// Touches reports whether the action takes the order off the straight
// path: an action by CS or finance (order.Role.Handles, the rule the
// orders' staff_touched flag follows). Approvals by the seller's managers
// are decisions the rules ask for (DecisionApproval), not touches.
func (a StaffAction) Touches() bool { return a.Role.Handles() }

// Decision is a human decision the order asked for by its nature: the
// rules, the buyer or the world forced it, no automation could skip it.
type Decision string

// The decisions the store derives for real traffic.
const (
	DecisionApproval         Decision = "approval asked"      // the order reached AWAITING_APPROVAL
	DecisionCreditHold       Decision = "credit hold"         // the order reached CREDIT_HOLD
	DecisionQuoteRejected    Decision = "quote rejected"      // the buyer rejected the quote
	DecisionQuoteExpired     Decision = "quote expired"       // the buyer let it expire
	DecisionApprovalRejected Decision = "approval rejected"   // an approver said no (REJECTED)
	DecisionCreditDeclined   Decision = "credit declined"     // finance declined the credit
	DecisionCancelled        Decision = "cancelled"           // somebody cancelled the order
	DecisionCarrier          Decision = "carrier exception"   // the carrier reported damage, loss, ...
	DecisionDunningEscalated Decision = "dunning escalated"   // payment long overdue, escalated to finance
	DecisionDisputed         Decision = "invoice disputed"    // the buyer disputed an invoice
	DecisionDetractor        Decision = "detractor follow-up" // a 0–6 survey answer opened a follow-up
)

// Exception is one exception an order met (the order_exceptions facts).
type Exception struct {
	// Cause names it for grouping: "step failed: <step>", "step delayed:
	// <step>", "carrier exception", "delivery overdue", "payment not applied".
	Cause string
	// Kind is the audit action that raised it ("step.failed", ...).
	Kind     string
	OpenedAt time.Time
	// ClosedAt is when it was resolved; for one still open (Open) it is
	// when the facts were read, so its wait is the wait so far.
	ClosedAt time.Time
	Open     bool
	// Worklist is the worklist that shows it ("" none), and InWorklist
	// whether this exception has or had an entry there.
	Worklist   string
	InWorklist bool
}

// Waited is how long the exception waited for its resolution (so far, if
// it is open).
func (e Exception) Waited() time.Duration {
	if e.ClosedAt.Before(e.OpenedAt) {
		return 0
	}
	return e.ClosedAt.Sub(e.OpenedAt)
}

// OrderFacts is what one order did, as far as automation goes.
type OrderFacts struct {
	OrderID    string
	CustomerID string
	// PONumber is the buyer's purchase order number: a scenario names its
	// orders by it.
	PONumber  string
	Status    order.Status
	CreatedAt time.Time
	// StaffActions are the actions the seller's people took on the order
	// (CS, finance, sales managers and reps), oldest first; the buyer's and
	// the system's are not among them.
	StaffActions []StaffAction
	// StaffTouched is the order's own flag that CS or finance acted on it
	// (orders.staff_touched, set with the same writes as the audit
	// entries); it counts as a touch even when StaffActions holds none.
	StaffTouched bool
	// Decisions are the human decisions the order asked for, each once.
	Decisions  []Decision
	Exceptions []Exception
	// DeliveredAt: every shipment delivered; PaidAt: the invoices
	// reconciled. Zero when not reached.
	DeliveredAt, PaidAt time.Time
}

// Terminal reports whether the order has ended.
func (o OrderFacts) Terminal() bool { return o.Status.Terminal() }

// Finished reports whether the order got through: COMPLETED, or PAID with
// only its delivery survey still open (no staff work is left on it).
func (o OrderFacts) Finished() bool {
	return o.Status == order.StatusCompleted || o.Status == order.StatusPaid
}

// Touched reports whether CS or finance acted on the order.
func (o OrderFacts) Touched() bool {
	if o.StaffTouched {
		return true
	}
	for _, a := range o.StaffActions {
		if a.Touches() {
			return true
		}
	}
	return false
}

// Straight reports whether the order went straight through: finished with
// no CS or finance action.
func (o OrderFacts) Straight() bool { return o.Finished() && !o.Touched() }

// ActionsBy counts the staff actions per role.
func (o OrderFacts) ActionsBy() map[order.Role]int {
	m := map[order.Role]int{}
	for _, a := range o.StaffActions {
		m[a.Role]++
	}
	return m
}

// PaymentFacts is one payment received from the bank.
type PaymentFacts struct {
	ID string // the bank transaction id
	// OrderID and InvoiceNumber: where it was applied, or the order the
	// bank's reference routed it to; "" when neither.
	OrderID, InvoiceNumber string
	Reference              string
	Amount                 int64 // minor units
	Currency               string
	ReceivedAt             time.Time
	// MatchKind is exact, partial, overpayment, unmatched, or "" (not
	// applied yet).
	MatchKind string
	// Applied: applied to an invoice. ByFinance: a person allocated it
	// (AllocatedBy names them); otherwise the matcher did.
	Applied     bool
	ByFinance   bool
	AllocatedBy string
	// InWorklist: it is, or was, in the unmatched-payments worklist (a
	// payment not applied by the matcher always is).
	InWorklist bool
	// Rule is the matcher's rule that decided ("" for an exact reference
	// or a payment from before the matcher); Candidates how many invoices
	// it put before finance.
	Rule       string
	Candidates int
}

// AutoMatched reports whether the payment was applied without finance.
func (p PaymentFacts) AutoMatched() bool { return p.Applied && !p.ByFinance }

// MissCause says why a payment was not matched automatically, from what
// its row tells; "" for one that was.
func (p PaymentFacts) MissCause() string {
	switch {
	case p.AutoMatched():
		return ""
	case p.Applied && p.Reference == "":
		return "allocated by finance: the payment had no reference"
	case p.Applied:
		return "allocated by finance: the matcher did not apply its reference"
	case p.Candidates > 1:
		return fmt.Sprintf("waiting for finance: %s found several candidate invoices", p.Rule)
	case p.Candidates == 1:
		return fmt.Sprintf("waiting for finance: %s found one candidate below the threshold", p.Rule)
	case p.Rule != "" && p.Rule != "none":
		return fmt.Sprintf("waiting for finance: %s found no open invoice", p.Rule)
	case p.Reference == "":
		return "waiting for finance: no reference, payer unknown"
	case p.OrderID == "":
		return "waiting for finance: the reference names no open invoice"
	default:
		return "waiting: routed to its order, not applied yet"
	}
}

// Excluder says why an order leaves the STP denominator: the human
// decisions it was forced into. No reasons keeps it in.
type Excluder func(OrderFacts) []string

// ExcludeDecisions leaves out the orders that asked for a human decision
// (OrderFacts.Decisions): rejections and credit decisions are decisions,
// not failures of automation.
func ExcludeDecisions(o OrderFacts) []string {
	out := make([]string, 0, len(o.Decisions))
	for _, d := range o.Decisions {
		out = append(out, string(d))
	}
	return out
}

// InFlight is the reason ExcludeRealTraffic gives for an order still under
// way that nobody touched: it has not gone straight through yet, nor failed to.
const InFlight = "still in flight"

// ExcludeRealTraffic is the dashboard's excluder: ExcludeDecisions, and
// the orders still under way that no CS or finance person touched (they
// may yet go straight through). A scenario player that runs every order
// to its end passes its plan's forced reasons instead, so that an order
// left unfinished counts as a miss.
func ExcludeRealTraffic(o OrderFacts) []string {
	r := ExcludeDecisions(o)
	if len(r) == 0 && !o.Terminal() && !o.Finished() && !o.Touched() {
		r = append(r, InFlight)
	}
	return r
}

// ExcludeListed is the excluder of a scenario plan: the reasons the plan
// forces on each order, by PO number (the plan names its orders by PO) or
// by order id. An order the plan does not list stays in the denominator,
// so one the run left unfinished counts as a miss.
func ExcludeListed(reasons map[string][]string) Excluder {
	return func(o OrderFacts) []string {
		if r, ok := reasons[o.PONumber]; ok && o.PONumber != "" {
			return r
		}
		return reasons[o.OrderID]
	}
}
