package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// checkCredit returns finance's decline, if it came to that.
func (o *orderState) checkCredit(ctx workflow.Context) (*CreditDecisionInput, error) {
	o.d.Waiting = "Checking credit: ERP open receivables + open orders + this order against the credit limit."
	o.transition(ctx, order.StatusCreditCheck, order.System, "credit.checking", "")
	var res activities.CheckCreditResult
	err := o.attempt(ctx, "credit check", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(o.outside(ctx, "Check credit exposure"), a.CheckCredit,
			activities.CheckCreditInput{OrderID: o.in.OrderID, CustomerID: o.in.CustomerID, Total: o.d.Quote.Total}).Get(ctx, &res)
	})
	if err != nil {
		return nil, err
	}
	e := res.Exposure
	o.d.Exposure = &e
	if e.WithinLimit {
		o.record(ctx, order.System, "credit.approved", fmt.Sprintf("exposure %s within limit %s", e.Total, e.Limit))
		return nil, nil
	}
	o.d.Waiting = fmt.Sprintf("On credit hold: exposure %s exceeds the limit %s. Waiting for finance to override, decline or switch to prepayment.", e.Total, e.Limit)
	o.transition(ctx, order.StatusCreditHold, order.System, "credit.hold", fmt.Sprintf("exposure %s over limit %s", e.Total, e.Limit))
	o.notify(ctx, "credit-hold", mail.KindFinanceAlert, activities.AudienceFinance, mail.Data{Quote: o.d.Quote, Exposure: o.d.Exposure,
		Reason: "credit hold: exposure exceeds the limit"})
	if err := workflow.Await(ctx, func() bool { return o.credit != nil || o.cancel != nil }); err != nil {
		return nil, err
	}
	if o.cancel != nil {
		return nil, errCancelled
	}
	switch o.credit.Decision {
	case CreditDecline:
		return o.credit, nil
	case CreditPrepay:
		o.d.Prepayment = true
		o.record(ctx, o.credit.Actor, "credit.prepayment", o.credit.Reason)
	default:
		o.record(ctx, o.credit.Actor, "credit.override", o.credit.Reason)
	}
	return nil, nil
}
