package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/automation"
	"github.com/orderflow/orderflow/internal/order"
)

// MatcherActor is the allocated_by of a payment the matcher applied (the
// order workflow's ApplyPayment); any other non-empty allocated_by is a
// finance user who allocated it by hand.
const MatcherActor = "orderflow"

// AutomationFilter chooses the orders (and payments) AutomationFacts reads.
//
// Orders: those created in [From, To) (of CustomerID when set), and those
// named in OrderIDs, whatever their creation; QUOTE_REFUSED orders are
// left out like everywhere on the dashboard. A zero period reads OrderIDs
// alone.
//
// Payments: those received in [PaymentsFrom, PaymentsTo) ([From, To)
// when unset; of CustomerID's orders when set: a payment nobody could
// attribute has no customer), and every payment applied or routed to one
// of the OrderIDs. A scenario run names its orders by id and gives the
// run's window as the payments' period, so that the payments nobody could
// place count too.
type AutomationFilter struct {
	From, To   time.Time
	CustomerID string
	OrderIDs   []string
	// PaymentsFrom and PaymentsTo bound the payments received, when the
	// orders are chosen by id or the payments' window differs.
	PaymentsFrom, PaymentsTo time.Time
	// At is "now": an exception still open has waited until At. Zero is
	// the time of the read.
	At time.Time
}

func (f AutomationFilter) period() bool { return !f.From.IsZero() && f.From.Before(f.To) }

// AutomationFacts are the facts automation.Summarize works on.
type AutomationFacts struct {
	Orders   []automation.OrderFacts
	Payments []automation.PaymentFacts
}

// Where each exception shows (the worklists' names), "" where none does.
var exceptionWorklist = map[string]string{
	"step.failed":         WorklistAttention,
	"step.delayed":        WorklistAttention,
	"delivery.overdue":    WorklistOverdueDeliveries,
	"shipment.exception":  WorklistOverdueDeliveries, // until the shipment is delivered or reshipped
	"payment.not-applied": WorklistUnmatchedPayments,
	"payment.escalated":   WorklistOverdueInvoices,
	"followup.detractor":  WorklistFollowUps,
}

// AutomationFacts reads, for the orders and payments the filter chooses,
// what automation.Summarize needs, in one snapshot.
//
// Staff actions: the audit entries of the order written by a seller's
// person (CS, finance, sales manager, rep, admin), except the quote
// request that starts an order (quote.pricing) and entries a later
// workflow task superseded.
//
// Decisions: the order reached AWAITING_APPROVAL (approval asked) or
// CREDIT_HOLD, ended QUOTE_REJECTED, QUOTE_EXPIRED, REJECTED,
// CREDIT_DECLINED or CANCELLED, met a carrier exception, had its dunning
// escalated to finance, had an invoice disputed, or a detractor answer
// opened a follow-up.
//
// Exceptions: the order_exceptions rows (failed and delayed steps,
// carrier exceptions, overdue deliveries, payments not applied), the
// dunning escalations (payment.escalated) and the detractor follow-ups,
// each with when it was resolved and whether its worklist has or had an
// entry for it (see exceptionWorklist and the query for each rule).
func (s *Store) AutomationFacts(ctx context.Context, f AutomationFilter) (AutomationFacts, error) {
	if !f.period() && len(f.OrderIDs) == 0 {
		return AutomationFacts{}, fmt.Errorf("automation facts: neither a period nor orders")
	}
	var out AutomationFacts
	err := s.kpiTx(ctx, func(q querier) error {
		var err error
		out, err = automationFacts(ctx, q, f)
		return err
	})
	return out, err
}

// orderWhere selects the filter's orders over named arguments (@from,
// @to, @customer, @ids), written for the case at hand so that each half
// uses its index (orders_created_idx or orders_customer_created_idx; the
// primary key): a parameter that switches a half off would leave the
// planner a sequential scan of every order.
func (f AutomationFilter) orderWhere() string {
	const period = `o.created_at >= @from AND o.created_at < @to AND (@customer = '' OR o.customer_id = @customer)`
	const ids = `o.id = ANY(@ids)`
	where := ids
	switch {
	case f.period() && len(f.OrderIDs) > 0:
		where = `((` + period + `) OR ` + ids + `)`
	case f.period():
		where = period
	}
	return `o.status <> 'QUOTE_REFUSED' AND ` + where
}

// paymentWhere selects the filter's payments (p, with po its order) over
// @pfrom, @pto, @customer and @ids.
func (f AutomationFilter) paymentWhere() string {
	const period = `p.received_at >= @pfrom AND p.received_at < @pto AND (@customer = '' OR po.customer_id = @customer)`
	const ids = `p.order_id = ANY(@ids)`
	switch pf, pt := f.paymentPeriod(); {
	case !pf.Before(pt) || pf.IsZero():
		return ids
	case len(f.OrderIDs) > 0:
		return `((` + period + `) OR ` + ids + `)`
	default:
		return period
	}
}

func (f AutomationFilter) paymentPeriod() (from, to time.Time) {
	if !f.PaymentsFrom.IsZero() {
		return f.PaymentsFrom, f.PaymentsTo
	}
	return f.From, f.To
}

// sel is a CTE of the ids of the filter's orders, which the queries after
// the first join rather than send a month's ids back.
func (f AutomationFilter) sel() string {
	return `WITH sel AS MATERIALIZED (SELECT o.id FROM orders o WHERE ` + f.orderWhere() + `)
	`
}

func automationFacts(ctx context.Context, q querier, f AutomationFilter) (AutomationFacts, error) {
	const what = "automation facts"
	at := orNow(f.At).UTC()
	pf, pt := f.paymentPeriod()
	args := pgx.NamedArgs{"from": f.From, "to": f.To, "customer": f.CustomerID, "ids": nonNil(f.OrderIDs),
		"pfrom": pf, "pto": pt, "roles": staffRoles(), "at": at}
	var out AutomationFacts

	// The queries below probe an index per exception and per order; their
	// estimated cost (tens of thousands of orders in a month) crosses
	// jit_above_cost, and compiling them took 1.5 s of a 1.6 s query at a
	// million orders. Off for these queries, back to the default after.
	var jit, off string
	if err := q.QueryRow(ctx, `SELECT current_setting('jit'), set_config('jit', 'off', true)`).Scan(&jit, &off); err != nil {
		return out, dbError(what+": jit off", err)
	}
	defer func() { _ = q.QueryRow(ctx, `SELECT set_config('jit', $1, true)`, jit).Scan(&off) }()

	rows, err := q.Query(ctx, `
		SELECT o.id, o.customer_id, o.po_number, o.status, o.created_at, o.delivered_at, o.paid_at, o.staff_touched,
			o.ended_at, o.needs_attention
		FROM orders o
		WHERE `+f.orderWhere(), args)
	if err != nil {
		return out, dbError(what+": orders", err)
	}
	idx := map[string]int{}
	var milestones []orderMilestones
	var m orderMilestones
	var o automation.OrderFacts
	if _, err := pgx.ForEachRow(rows, []any{&o.OrderID, &o.CustomerID, &o.PONumber, &o.Status, &o.CreatedAt,
		&m.delivered, &m.paid, &o.StaffTouched, &m.ended, &m.attention}, func() error {
		o.CreatedAt = o.CreatedAt.UTC()
		o.DeliveredAt, o.PaidAt = utcOrZero(m.delivered), utcOrZero(m.paid)
		idx[o.OrderID] = len(out.Orders)
		out.Orders = append(out.Orders, o)
		milestones = append(milestones, m)
		o, m = automation.OrderFacts{}, orderMilestones{}
		return nil
	}); err != nil {
		return out, dbError(what+": orders", err)
	}
	decided := map[string]map[automation.Decision]bool{}
	decide := func(id string, d automation.Decision) {
		if decided[id] == nil {
			decided[id] = map[automation.Decision]bool{}
		}
		decided[id][d] = true
	}
	for _, o := range out.Orders {
		switch o.Status {
		case order.StatusQuoteRejected:
			decide(o.OrderID, automation.DecisionQuoteRejected)
		case order.StatusQuoteExpired:
			decide(o.OrderID, automation.DecisionQuoteExpired)
		case order.StatusRejected:
			decide(o.OrderID, automation.DecisionApprovalRejected)
		case order.StatusCreditDeclined:
			decide(o.OrderID, automation.DecisionCreditDeclined)
		case order.StatusCancelled:
			decide(o.OrderID, automation.DecisionCancelled)
		}
	}

	// Staff actions and the audit entries that tell a decision.
	rows, err = q.Query(ctx, f.sel()+`
		SELECT a.order_id, a.actor_role, a.action, COALESCE(a.to_status, ''), a.at
		FROM sel JOIN audit_log a ON a.order_id = sel.id
		WHERE (a.actor_role = ANY(@roles) AND a.action <> 'quote.pricing'
		       OR a.to_status IN ('AWAITING_APPROVAL', 'CREDIT_HOLD')
		       OR a.action IN ('shipment.exception', 'payment.escalated', 'invoice.disputed'))
		  AND NOT (a.seq IS NOT NULL AND EXISTS (
			SELECT 1 FROM audit_log later
			WHERE later.order_id = a.order_id AND later.fence > a.fence AND later.seq <= a.seq))
		ORDER BY a.order_id, a.at, a.id`, args)
	if err != nil {
		return out, dbError(what+": audit", err)
	}
	var id, action, toStatus string
	var role order.Role
	var when time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &role, &action, &toStatus, &when}, func() error {
		i, ok := idx[id]
		if !ok {
			return nil
		}
		if slices.Contains(staffRoles(), string(role)) && action != "quote.pricing" {
			out.Orders[i].StaffActions = append(out.Orders[i].StaffActions, automation.StaffAction{Role: role, Action: action, At: when.UTC()})
		}
		switch {
		case toStatus == string(order.StatusAwaitingApproval):
			decide(id, automation.DecisionApproval)
		case toStatus == string(order.StatusCreditHold):
			decide(id, automation.DecisionCreditHold)
		}
		switch action {
		case "shipment.exception":
			decide(id, automation.DecisionCarrier)
		case "payment.escalated":
			decide(id, automation.DecisionDunningEscalated)
		case "invoice.disputed":
			decide(id, automation.DecisionDisputed)
		}
		return nil
	}); err != nil {
		return out, dbError(what+": audit", err)
	}

	if err := readExceptions(ctx, q, f.sel(), args, func(x rawException) {
		if i, ok := idx[x.orderID]; ok {
			out.Orders[i].Exceptions = append(out.Orders[i].Exceptions, x.exception(milestones[i], at))
		}
	}); err != nil {
		return out, dbError(what+": exceptions", err)
	}

	// Detractor follow-ups: a decision and an exception of the follow-ups
	// worklist, which is the row itself.
	rows, err = q.Query(ctx, f.sel()+`
		SELECT fu.order_id, fu.opened_at, fu.closed_at FROM sel JOIN followups fu ON fu.order_id = sel.id
		WHERE fu.kind = 'detractor'
		ORDER BY fu.order_id, fu.opened_at, fu.id`, args)
	if err != nil {
		return out, dbError(what+": follow-ups", err)
	}
	var opened time.Time
	var closed *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &opened, &closed}, func() error {
		i, ok := idx[id]
		if !ok {
			return nil
		}
		decide(id, automation.DecisionDetractor)
		out.Orders[i].Exceptions = append(out.Orders[i].Exceptions, closedAt(automation.Exception{
			Cause: "detractor follow-up", Kind: "followup.detractor", OpenedAt: opened.UTC(),
			Worklist: WorklistFollowUps, InWorklist: true}, closed, at))
		return nil
	}); err != nil {
		return out, dbError(what+": follow-ups", err)
	}

	for i := range out.Orders {
		o := &out.Orders[i]
		for _, d := range decisionOrder {
			if decided[o.OrderID][d] {
				o.Decisions = append(o.Decisions, d)
			}
		}
		slices.SortStableFunc(o.Exceptions, func(a, b automation.Exception) int { return a.OpenedAt.Compare(b.OpenedAt) })
	}

	out.Payments, err = automationPayments(ctx, q, f.paymentWhere(), args)
	if err != nil {
		return out, dbError(what+": payments", err)
	}
	return out, nil
}

// decisionOrder lists the decisions in the order an order meets them.
var decisionOrder = []automation.Decision{
	automation.DecisionQuoteRejected, automation.DecisionQuoteExpired, automation.DecisionApproval,
	automation.DecisionApprovalRejected, automation.DecisionCreditHold, automation.DecisionCreditDeclined,
	automation.DecisionCarrier, automation.DecisionDisputed, automation.DecisionDunningEscalated,
	automation.DecisionDetractor, automation.DecisionCancelled,
}

// staffRoles are the seller's people.
func staffRoles() []string {
	return []string{string(order.RoleCS), string(order.RoleFinance), string(order.RoleSalesManager),
		string(order.RoleSalesRep), string(order.RoleSalesAdmin)}
}

// readExceptions reads the order_exceptions of the orders and the dunning
// escalations, with when each was resolved and whether its worklist had it.
//
// Resolved, per kind:
//   - step.failed: the first later CS action on the step (action.skip,
//     action.retry) or its recovery; step.delayed: the first later
//     recovery, failure for good, or CS action on the step;
//   - delivery.overdue, shipment.exception: the shipment delivered, else
//     every shipment of the order delivered (a reshipment's);
//   - payment.not-applied: the payment applied (its row's last change);
//   - payment.escalated: the order's invoices reconciled;
//   - any: the order ended, if that came first. Open otherwise.
//
// In the worklist:
//   - step.failed, step.delayed: the workflow raises NeedsAttention with
//     the same record, so a resolved one had its entry; an open one needs
//     the order's needs_attention now;
//   - delivery.overdue: the same record flags the order's undelivered
//     shipments overdue: the shipment's row carries the flag;
//   - shipment.exception: no worklist; it counts as listed only if its
//     shipment was also flagged overdue (overdue deliveries);
//   - payment.not-applied: the payment's row exists (a payment the matcher
//     did not apply keeps the unmatched list's condition);
//   - payment.escalated: an invoice of the order that is, or was, past due
//     with money open (the overdue-invoices list's condition).
func readExceptions(ctx context.Context, q querier, sel string, args pgx.NamedArgs, add func(rawException)) error {
	rows, err := q.Query(ctx, sel+`,`+exceptionsSQL, args)
	if err != nil {
		return err
	}
	var x rawException
	_, err = pgx.ForEachRow(rows, []any{&x.orderID, &x.kind, &x.opened, &x.reason, &x.resolved, &x.listed}, func() error {
		add(x)
		return nil
	})
	return err
}

const exceptionsSQL = `
		x AS (
			SELECT x.order_id, x.seq, x.kind, x.at,
				COALESCE((SELECT a.reason FROM audit_log a
					WHERE a.order_id = x.order_id AND a.seq = x.seq AND a.action = x.kind
					ORDER BY a.fence DESC LIMIT 1), '') AS reason
			FROM sel JOIN order_exceptions x ON x.order_id = sel.id
			UNION ALL
			SELECT a.order_id, COALESCE(a.seq, 0), a.action, a.at, a.reason
			FROM sel JOIN audit_log a ON a.order_id = sel.id
			WHERE a.action = 'payment.escalated'
			  AND NOT EXISTS (
				SELECT 1 FROM audit_log later
				WHERE later.order_id = a.order_id AND later.fence > a.fence AND later.seq <= a.seq)
		)
		SELECT x.order_id, x.kind, x.at, x.reason,
			CASE
			WHEN x.kind IN ('step.failed', 'step.delayed') THEN (
				SELECT min(c.at) FROM audit_log c
				WHERE c.order_id = x.order_id AND c.seq > x.seq
				  AND split_part(c.reason, ': ', 1) = split_part(x.reason, ': ', 1)
				  AND (c.action IN ('action.skip', 'action.retry', 'step.recovered')
				       OR (x.kind = 'step.delayed' AND c.action = 'step.failed')))
			WHEN x.kind = 'delivery.overdue' THEN COALESCE(
				(SELECT s.delivered_at FROM shipments s
				 WHERE s.order_id = x.order_id AND s.shipment_id = split_part(x.reason, ' ', 2)))
			WHEN x.kind = 'shipment.exception' THEN COALESCE(
				(SELECT s.delivered_at FROM shipments s
				 WHERE s.order_id = x.order_id AND s.shipment_id = split_part(x.reason, ': ', 1)))
			WHEN x.kind = 'payment.not-applied' THEN (
				SELECT p.updated_at FROM payments p
				WHERE p.bank_transaction_id = split_part(x.reason, ': ', 1)
				  AND p.match_kind IN ('exact', 'partial', 'overpayment'))
			END,
			CASE
			WHEN x.kind IN ('step.failed', 'step.delayed') THEN true
			-- Scalar subqueries, not EXISTS: the planner turns an EXISTS
			-- here into a hash over every overdue shipment in the table.
			WHEN x.kind = 'delivery.overdue' THEN COALESCE((
				SELECT bool_or(s.overdue) FROM shipments s WHERE s.order_id = x.order_id), false)
			-- Listed while the shipment was not delivered: an exception the
			-- carrier reports on a delivered shipment reaches CS by mail only.
			WHEN x.kind = 'shipment.exception' THEN COALESCE((
				SELECT bool_or(s.delivered_at IS NULL OR s.delivered_at > x.at) FROM shipments s
				WHERE s.order_id = x.order_id AND s.shipment_id = split_part(x.reason, ': ', 1)), false)
			WHEN x.kind = 'payment.not-applied' THEN COALESCE((
				SELECT true FROM payments p WHERE p.bank_transaction_id = split_part(x.reason, ': ', 1)), false)
			WHEN x.kind = 'payment.escalated' THEN COALESCE((
				SELECT bool_or(i.due_date < COALESCE(i.settled_at, @at)) FROM invoices i WHERE i.order_id = x.order_id), false)
			ELSE false
			END
		FROM x
		ORDER BY x.order_id, x.at, x.seq`

// rawException is a row of readExceptions, before the order's own
// milestones complete it.
type rawException struct {
	orderID, kind, reason string
	opened                time.Time
	resolved              *time.Time
	listed                bool
}

// exception completes a raw exception with its order's milestones: an
// overdue or damaged shipment is resolved at the latest when every
// shipment is delivered, an escalation when the invoices are reconciled,
// anything when the order ended; an open step exception is listed only
// while the order needs attention.
func (x rawException) exception(o orderMilestones, at time.Time) automation.Exception {
	e := automation.Exception{Cause: exceptionCause(x.kind, x.reason), Kind: x.kind, OpenedAt: x.opened.UTC(),
		Worklist: exceptionWorklist[x.kind], InWorklist: x.listed}
	closed := x.resolved
	switch x.kind {
	case "delivery.overdue", "shipment.exception":
		if closed == nil {
			closed = o.delivered
		}
	case "payment.escalated":
		closed = o.paid
	}
	if o.ended != nil && (closed == nil || o.ended.Before(*closed)) {
		closed = o.ended
	}
	if closed != nil && closed.Before(x.opened) {
		closed = &x.opened
	}
	e = closedAt(e, closed, at)
	if e.Open && (x.kind == "step.failed" || x.kind == "step.delayed") {
		e.InWorklist = o.attention
	}
	return e
}

// orderMilestones are what exception needs of an order.
type orderMilestones struct {
	delivered, paid, ended *time.Time
	attention              bool
}

// exceptionCause names an exception for grouping.
func exceptionCause(kind, reason string) string {
	step := reason
	for i := 0; i+1 < len(step); i++ {
		if step[i] == ':' && step[i+1] == ' ' {
			step = step[:i]
			break
		}
	}
	switch kind {
	case "step.failed":
		return "step failed: " + step
	case "step.delayed":
		return "step delayed: " + step
	case "shipment.exception":
		return "carrier exception"
	case "delivery.overdue":
		return "delivery overdue"
	case "payment.not-applied":
		return "payment not applied"
	case "payment.escalated":
		return "dunning escalated"
	}
	return kind
}

func closedAt(e automation.Exception, closed *time.Time, at time.Time) automation.Exception {
	if closed == nil {
		e.Open, e.ClosedAt = true, at
		return e
	}
	e.ClosedAt = closed.UTC()
	return e
}

func automationPayments(ctx context.Context, q querier, where string, args pgx.NamedArgs) ([]automation.PaymentFacts, error) {
	rows, err := q.Query(ctx, `
		SELECT p.bank_transaction_id, COALESCE(p.order_id, ''), p.invoice_number, p.reference,
			p.amount_minor, p.currency, p.received_at, COALESCE(p.match_kind, ''), p.allocated_by,
			COALESCE(p.match_rule, ''), COALESCE(jsonb_array_length(p.candidates), 0)
		FROM payments p LEFT JOIN orders po ON po.id = p.order_id
		WHERE (`+where+`)
		  -- A payment the matcher split over invoices counts as its parts.
		  AND COALESCE(p.match_kind, '') <> '`+string(MatchSplit)+`'
		ORDER BY p.received_at, p.bank_transaction_id`, args)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (automation.PaymentFacts, error) {
		var p automation.PaymentFacts
		err := row.Scan(&p.ID, &p.OrderID, &p.InvoiceNumber, &p.Reference, &p.Amount, &p.Currency,
			&p.ReceivedAt, &p.MatchKind, &p.AllocatedBy, &p.Rule, &p.Candidates)
		p.ReceivedAt = p.ReceivedAt.UTC()
		switch order.MatchKind(p.MatchKind) {
		case order.MatchExact, order.MatchPartial, order.MatchOver:
			p.Applied = true
		}
		p.ByFinance = p.AllocatedBy != "" && p.AllocatedBy != MatcherActor
		p.InWorklist = !p.Applied || p.ByFinance
		return p, err
	})
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
