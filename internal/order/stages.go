package order

import "strings"

// Stages an exception is counted under on the dashboard and in the
// worklists: where in the lifecycle the order met trouble.
const (
	StageQuote        = "quote"
	StageCredit       = "credit"
	StageReservation  = "reservation"
	StageShipping     = "shipping"
	StageDelivery     = "delivery"
	StageInvoicing    = "invoicing"
	StagePayment      = "payment"
	StageAfterSales   = "after-sales"
	StageCompensation = "compensation"
	StageOther        = "other"
)

// stagePrefixes maps the workflow's step names (see workflows/attempt.go)
// to their stage, by prefix; the first match wins.
var stagePrefixes = []struct{ prefix, stage string }{
	{"price quote", StageQuote},
	{"credit check", StageCredit},
	{"reserve stock", StageReservation},
	{"book shipment", StageShipping},
	{"three-way match", StageInvoicing},
	{"invoice", StageInvoicing},
	{"undo:", StageCompensation},
	{"reship", StageAfterSales},
	{"return", StageAfterSales},
	{"refund", StageAfterSales},
	{"payment", StagePayment},
	{"delivery", StageDelivery},
}

// StageOfStep names the stage a workflow step belongs to; a step it does
// not know is StageOther.
func StageOfStep(step string) string {
	s := strings.ToLower(strings.TrimSpace(step))
	for _, p := range stagePrefixes {
		if strings.HasPrefix(s, p.prefix) {
			return p.stage
		}
	}
	return StageOther
}

// Accepted reports whether an order in s has had its quote accepted: every
// status from the approval on, except the ends that come before it.
func (s Status) Accepted() bool {
	switch s {
	case StatusAwaitingApproval, StatusCreditCheck, StatusCreditHold, StatusConfirmed, StatusShipping,
		StatusInvoiced, StatusAwaitingPayment, StatusPaid, StatusCompleted, StatusRejected, StatusCreditDeclined:
		return true
	}
	return false
}

// Handles reports whether r is a role whose action on an order means the
// order was not handled by the system alone: CS and finance. A sales manager's
// approval is a decision the rules ask for, not hand work.
func (r Role) Handles() bool { return r == RoleCS || r == RoleFinance }
