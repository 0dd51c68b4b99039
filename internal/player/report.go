package player

import (
	"time"

	"github.com/orderflow/orderflow/internal/automation"
)

// Forced is the STP excluder's input for a run: per order id, the reasons
// the plan forced the order into a human decision, with approval added
// when the run saw the system ask for one (scenario.Order.ForcedDecision).
func (r *Result) Forced() map[string][]string {
	out := map[string][]string{}
	for _, o := range r.Orders {
		if o.OrderID == "" {
			continue
		}
		var reasons []string
		for _, f := range o.Plan.ForcedDecision(o.ApprovalAsked) {
			reasons = append(reasons, string(f))
		}
		if len(reasons) > 0 {
			out[o.OrderID] = reasons
		}
	}
	return out
}

// OrderIDs are the ids of the orders the run placed.
func (r *Result) OrderIDs() []string {
	var ids []string
	for _, o := range r.Orders {
		if o.OrderID != "" {
			ids = append(ids, o.OrderID)
		}
	}
	return ids
}

// InBusinessTime moves the facts of a run at scale onto business time:
// every instant t becomes origin + (t − origin) × scale, so that the
// report's waits and delivery-to-cash read as the business saw them.
func InBusinessTime(orders []automation.OrderFacts, payments []automation.PaymentFacts, origin time.Time, scale float64) {
	at := func(t *time.Time) {
		if !t.IsZero() && scale > 1 {
			*t = origin.Add(time.Duration(float64(t.Sub(origin)) * scale))
		}
	}
	for i := range orders {
		o := &orders[i]
		at(&o.CreatedAt)
		at(&o.DeliveredAt)
		at(&o.PaidAt)
		for j := range o.StaffActions {
			at(&o.StaffActions[j].At)
		}
		for j := range o.Exceptions {
			at(&o.Exceptions[j].OpenedAt)
			at(&o.Exceptions[j].ClosedAt)
		}
	}
	for i := range payments {
		at(&payments[i].ReceivedAt)
	}
}
