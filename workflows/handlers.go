package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

func forbidden(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrTypeForbidden)
}

func invalidState(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrTypeInvalidState)
}

// invalidArgument refuses a request for a bad argument. A message
// "field: reason" names the field at fault; it goes with the
// error as an order.FieldError, so the API's problem names it in errors.
func invalidArgument(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field, reason, ok := strings.Cut(msg, ": "); ok && fieldPath.MatchString(field) {
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeInvalidArgument, temporal.ApplicationErrorOptions{
			Details: []any{[]order.FieldError{{Field: field, Reason: reason}}}})
	}
	return temporal.NewApplicationError(msg, ErrTypeInvalidArgument)
}

// fieldPath is a request field as problems name it: amount, lines[0].sku.
var fieldPath = regexp.MustCompile(`^[a-z][a-z0-9_]*(\[[0-9]+\])?(\.[a-z][a-z0-9_]*(\[[0-9]+\])?)*$`)

// may checks that the actor has one of the roles and, for buyer roles, acts
// for this order's customer.
func (o *orderState) may(a order.Actor, roles ...order.Role) error {
	if !slices.Contains(roles, a.Role) {
		return forbidden("role %q may not do this; allowed: %v", a.Role, roles)
	}
	if a.Role.CustomerScoped() && a.CustomerID != o.in.CustomerID {
		return forbidden("%s acts for customer %q, not for this order's customer", a.Subject, a.CustomerID)
	}
	if a.Subject == "" {
		return forbidden("the actor has no subject")
	}
	return nil
}

func (o *orderState) inStatus(want ...order.Status) error {
	if o.compensating || o.cancel != nil {
		return invalidState("the order is being cancelled")
	}
	if !slices.Contains(want, o.d.Status) {
		return invalidState("the order is %s, this needs %v", o.d.Status, want)
	}
	return nil
}

func (o *orderState) anyDelivered() bool {
	for _, s := range o.d.Shipments {
		if s.Delivered {
			return true
		}
	}
	return false
}

func (o *orderState) anyBooked() bool {
	for _, s := range o.d.Shipments {
		if s.ShipmentID != "" {
			return true
		}
	}
	return false
}

// result answers an update once the order has moved on (or after UpdateWait),
// so the caller learns where the order stands now.
func (o *orderState) result(ctx workflow.Context, msg string, moved func() bool) (DecisionResult, error) {
	if _, err := workflow.AwaitWithTimeout(ctx, UpdateWait, func() bool { return moved() || o.d.NeedsAttention }); err != nil {
		return DecisionResult{}, err
	}
	return DecisionResult{Status: o.d.Status, Message: msg + ". " + o.d.Waiting}, nil
}

// resultWhenMoved is result for an answer the main path acts on at once
// (accept, reject): the status moves as soon as the answer's audit record is
// written, so a lean run (changeLeanHistory) waits without UpdateWait's
// timer, a billed Action and two events on nearly every order. The quote
// update waits for its record the same way.
func (o *orderState) resultWhenMoved(ctx workflow.Context, msg string, moved func() bool) (DecisionResult, error) {
	if !o.lean {
		return o.result(ctx, msg, moved)
	}
	if err := workflow.Await(ctx, func() bool { return moved() || o.d.NeedsAttention }); err != nil {
		return DecisionResult{}, err
	}
	return DecisionResult{Status: o.d.Status, Message: msg + ". " + o.d.Waiting}, nil
}

// updateRegistration registers one update handler with its validator.
type updateRegistration struct {
	name     string
	register func(workflow.Context) error
}

// typedUpdate pairs an update's handler and validator on one input type In,
// so they cannot disagree on what the update carries.
func typedUpdate[In, Out any](name, desc string, handler func(workflow.Context, In) (Out, error),
	validator func(workflow.Context, In) error) updateRegistration {
	return updateRegistration{name: name, register: func(ctx workflow.Context) error {
		return workflow.SetUpdateHandlerWithOptions(ctx, name, handler,
			workflow.UpdateHandlerOptions{Validator: validator, Description: desc})
	}}
}

func (o *orderState) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryDetails, func() (Details, error) {
		d := o.d
		d.Shipments = slices.Clone(o.d.Shipments)
		d.Approvals = slices.Clone(o.d.Approvals)
		d.Compensations = slices.Clone(o.d.Compensations)
		d.Balances = o.balances()
		return d, nil
	}, workflow.QueryHandlerOptions{Description: "The order as the workflow sees it now, with what it waits for."}); err != nil {
		return err
	}

	// Each update is registered through typedUpdate: its handler and its
	// validator take the same input type, or the package does not compile.
	updates := []updateRegistration{
		typedUpdate(UpdateQuote, "Answers with the order's first quote once it is priced, or why there is none (refused lines, a failed step).",
			func(ctx workflow.Context, in QuoteInput) (QuoteResult, error) {
				ctx = o.detached(ctx)
				if err := workflow.Await(ctx, o.firstQuoteSettled); err != nil {
					return QuoteResult{}, err
				}
				// Answer once the projection shows it too, so a GET right
				// after the answer agrees with it.
				seq := o.seq
				if err := workflow.Await(ctx, func() bool { return o.recorded >= seq }); err != nil {
					return QuoteResult{}, err
				}
				return QuoteResult{Status: o.d.Status, Quote: o.d.Quote, Refused: o.refused, Waiting: o.d.Waiting}, nil
			},
			func(ctx workflow.Context, in QuoteInput) error {
				return o.may(in.Actor, order.RoleStorefront, order.RoleBuyer, order.RoleSalesRep, order.RoleSalesManager)
			}),
		typedUpdate(UpdateAccept, "The buyer accepts the current quote.",
			func(ctx workflow.Context, in AcceptInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				if o.d.Status == order.StatusQuoting {
					// The revision is being priced (see pricingAccept):
					// the answer waits for its price.
					if err := workflow.Await(ctx, func() bool { return o.d.Status != order.StatusQuoting }); err != nil {
						return DecisionResult{}, err
					}
					if err := o.canAnswerQuote(in.Actor); err != nil {
						return DecisionResult{}, err
					}
					if in.Revision != o.d.Quote.Revision {
						return DecisionResult{}, invalidState("revision %d was not priced; the current quote is revision %d", in.Revision, o.d.Quote.Revision)
					}
				}
				o.quoteDecision, o.decidedBy = answerAccept, in.Actor
				o.d.AcceptedBy = &in.Actor
				o.d.Waiting = fmt.Sprintf("Quote revision %d accepted by %s; moving on to approvals and the credit check.", o.d.Quote.Revision, in.Actor.Subject)
				return o.resultWhenMoved(ctx, "Quote accepted", func() bool { return o.d.Status != order.StatusAwaitingAcceptance })
			},
			func(ctx workflow.Context, in AcceptInput) error {
				if o.pricingAccept(in) {
					return o.may(in.Actor, order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront)
				}
				if err := o.canAnswerQuote(in.Actor); err != nil {
					return err
				}
				if in.Revision != 0 && in.Revision != o.d.Quote.Revision {
					return invalidState("revision %d is not the current quote; the current one is revision %d", in.Revision, o.d.Quote.Revision)
				}
				return nil
			}),
		typedUpdate(UpdateRevise, "The buyer asks for a new quote revision with other lines.",
			func(ctx workflow.Context, in ReviseInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				old, refusals := o.d.Quote.Revision, o.revisionRefusals
				o.quoteDecision, o.revision, o.decidedBy = answerRevise, &in, in.Actor
				o.d.Waiting = fmt.Sprintf("Revision requested by %s; pricing revision %d next.", in.Actor.Subject, old+1)
				res, err := o.result(ctx, "Revision requested", func() bool {
					return (o.d.Quote.Revision > old && o.d.Status != order.StatusQuoting) || o.revisionRefusals > refusals
				})
				if err == nil && o.revisionRefusals > refusals {
					// The ERP would not price the new lines: the standing
					// quote stays, and the caller learns which line.
					return res, temporal.NewApplicationErrorWithOptions(
						fmt.Sprintf("the ERP refused to price the revision: %s; quote revision %d stands", describeFields(o.lastRefusal), old),
						ErrTypeInvalidArgument, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{o.lastRefusal}})
				}
				return res, err
			},
			func(ctx workflow.Context, in ReviseInput) error {
				if err := o.canAnswerQuote(in.Actor, order.RoleSalesRep, order.RoleSalesManager); err != nil {
					return err
				}
				if fe := order.ValidateLines(in.Lines); fe != nil {
					return invalidArgument("%s", fe.Error())
				}
				if in.DiscountBP != 0 && !in.Actor.Role.MayDiscount() {
					return forbidden("discount_bp: only the seller's sales people may ask for a discount")
				}
				if in.DiscountBP < 0 || in.DiscountBP > 10000 {
					return invalidArgument("discount_bp: between 0 and 10000")
				}
				return nil
			}),
		typedUpdate(UpdateReject, "The buyer rejects the quote.",
			func(ctx workflow.Context, in RejectInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				o.quoteDecision, o.decidedBy, o.decisionReason = answerReject, in.Actor, in.Reason
				o.d.Waiting = fmt.Sprintf("Quote revision %d rejected by %s; closing the order.", o.d.Quote.Revision, in.Actor.Subject)
				return o.resultWhenMoved(ctx, "Quote rejected", func() bool { return o.d.Status.Terminal() })
			},
			func(ctx workflow.Context, in RejectInput) error {
				if err := o.canAnswerQuote(in.Actor); err != nil {
					return err
				}
				return nil
			}),
		typedUpdate(UpdateCancel, "Cancel the order; every outside change made so far is undone in reverse order.",
			func(ctx workflow.Context, in CancelInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				o.cancel = &in
				return o.result(ctx, "Cancellation started", func() bool { return o.d.Status.Terminal() })
			},
			func(ctx workflow.Context, in CancelInput) error {
				if err := o.may(in.Actor, order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront, order.RoleCS); err != nil {
					return err
				}
				return o.canCancel(in.Actor, in.Reason)
			}),
		typedUpdate(UpdateDispute, "The buyer or CS disputes the invoice: payment reminders pause until the dispute is resolved; CS is alerted.",
			func(ctx workflow.Context, in DisputeInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				o.disputes++
				o.d.Dispute = &Dispute{By: in.Actor, Reason: in.Reason, Since: workflow.Now(ctx)}
				o.refreshPaymentWaiting()
				o.record(ctx, in.Actor, "invoice.disputed", in.Reason)
				o.notify(ctx, fmt.Sprintf("dispute-%d", o.disputes), mail.KindCSAlert, activities.AudienceCS, mail.Data{Invoice: o.d.Invoice,
					Step:   "invoice dispute",
					Error:  fmt.Sprintf("%s disputes invoice %s: %s", in.Actor.Subject, o.invoiceNumbers(), in.Reason),
					Reason: "settle it with the buyer and resolve the dispute (POST /v1/orders/{id}/resolve); payment reminders are paused meanwhile"})
				return DecisionResult{Status: o.d.Status, Message: "Invoice disputed; CS has been told. " + o.d.Waiting}, nil
			},
			func(ctx workflow.Context, in DisputeInput) error {
				if err := o.may(in.Actor, order.RoleBuyer, order.RoleBuyerApprover, order.RoleCS, order.RoleFinance); err != nil {
					return err
				}
				if in.Reason == "" {
					return invalidArgument("reason: required")
				}
				if err := o.inBilling(order.StatusInvoiced, order.StatusAwaitingPayment); err != nil {
					return err
				}
				if o.d.Dispute != nil {
					return invalidState("the invoice is already disputed (by %s: %s)", o.d.Dispute.By.Subject, o.d.Dispute.Reason)
				}
				return nil
			}),
		typedUpdate(UpdateResolve, "The invoice's dispute is settled: payment reminders resume a week later.",
			func(ctx workflow.Context, in ResolveInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				o.d.Dispute = nil
				o.dunningResumeAt = workflow.Now(ctx).Add(o.business(DunningEvery))
				// Reminders that fell due during the dispute are not sent
				// one after another: the next one goes out at the resume.
				for _, d := range o.dunningOpen() {
					for o.dunningAt(d.inv, d.st.Dunned+1).Before(o.dunningResumeAt) {
						d.st.Dunned++
					}
				}
				o.refreshPaymentWaiting()
				o.record(ctx, in.Actor, "invoice.dispute-resolved", in.Reason)
				return DecisionResult{Status: o.d.Status, Message: fmt.Sprintf("Dispute resolved; payment reminders resume on their schedule, none before %s, if the invoice is still open. %s",
					o.dunningResumeAt.Format("2006-01-02"), o.d.Waiting)}, nil
			},
			func(ctx workflow.Context, in ResolveInput) error {
				if err := o.may(in.Actor, order.RoleBuyer, order.RoleBuyerApprover, order.RoleCS, order.RoleFinance); err != nil {
					return err
				}
				if in.Reason == "" {
					return invalidArgument("reason: required")
				}
				if o.d.Dispute == nil {
					return invalidState("the invoice is not disputed")
				}
				return nil
			}),
		typedUpdate(UpdateCreditNote, "CS (up to the customer's credit-note limit) or finance credits an amount on the invoice; the ERP issues the credit note.",
			func(ctx workflow.Context, in CreditNoteInput) (DecisionResult, error) {
				return o.creditNote(o.detached(ctx), in)
			},
			func(ctx workflow.Context, in CreditNoteInput) error {
				if err := o.may(in.Actor, order.RoleCS, order.RoleFinance); err != nil {
					return err
				}
				if in.Reason == "" {
					return invalidArgument("reason: required")
				}
				if err := o.inBilling(order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid); err != nil {
					return err
				}
				inv, err := o.target(in.InvoiceNumber, "credit")
				if err != nil {
					return err
				}
				amount := in.Amount
				switch {
				case len(in.Lines) > 0 && in.Amount.Minor != 0:
					return invalidArgument("amount: a credit note credits an amount or lines, not both")
				case len(in.Lines) > 0:
					if fe := order.ValidateLines(in.Lines); fe != nil {
						return invalidArgument("%s", fe.Error())
					}
					// The lines are the invoice's (an invoice of one
					// shipment bills only its lines), priced as the quote
					// priced them.
					if _, fe := o.invoiceQuote(inv).CreditFor(in.Lines); fe != nil {
						if o.perShipment() {
							return invalidArgument("%s: invoice %s bills %s; credit these lines on the invoice that billed them",
								fe.Field, inv.Number, describeLines(o.invoiceQuote(inv).PlainLines()))
						}
						return invalidArgument("%s", fe.Error())
					}
					amount, _ = o.d.Quote.CreditFor(in.Lines)
				case in.Amount.Currency != inv.Amount.Currency || in.Amount.Minor <= 0:
					return invalidArgument("amount: a positive amount in %s, the invoice's currency", inv.Amount.Currency)
				}
				// Credit notes being issued right now count too: two
				// requests at once must not pass a limit together.
				after, err := o.credited(inv).Add(amount)
				onOrder, oerr := o.creditedOnOrder().Add(amount)
				if err == nil && oerr == nil {
					after.Minor += o.creditPending
					onOrder.Minor += o.creditPending
				}
				if err != nil || oerr != nil || after.Minor > inv.Amount.Minor {
					left, _ := inv.Amount.Sub(o.credited(inv))
					return invalidArgument("amount: at most %s of invoice %s can still be credited", left, inv.Number)
				}
				if in.Actor.Role == order.RoleCS && onOrder.Minor > o.terms.CreditNoteLimitCS.Minor {
					return forbidden("amount: credit notes of %s on this order would pass CS's limit of %s for this customer; finance issues it",
						onOrder, o.terms.CreditNoteLimitCS)
				}
				return nil
			}),
		typedUpdate(UpdateRefund, "Finance pays money back to the payer of one of the order's payments (an overpayment, or a credit note's credit balance).",
			func(ctx workflow.Context, in RefundInput) (DecisionResult, error) {
				return o.refund(o.detached(ctx), in)
			},
			func(ctx workflow.Context, in RefundInput) error {
				if err := o.may(in.Actor, order.RoleFinance); err != nil {
					return err
				}
				if in.Reason == "" {
					return invalidArgument("reason: required")
				}
				if err := o.inStatus(order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusPaid); err != nil {
					return err
				}
				if in.Amount.Minor <= 0 {
					return invalidArgument("amount: a positive amount")
				}
				if in.BankTransactionID != "" {
					left := o.refundable(in.BankTransactionID)
					if left.Currency == "" {
						return invalidArgument("bank_transaction_id: %s is not a payment of this order", in.BankTransactionID)
					}
					if left.Currency != in.Amount.Currency || left.Minor < in.Amount.Minor {
						return invalidArgument("amount: at most %s of payment %s can still be refunded", left, in.BankTransactionID)
					}
					return nil
				}
				if o.refundFrom(in.Amount) == "" {
					return invalidArgument("amount: no payment of this order has %s left to refund", in.Amount)
				}
				return nil
			}),
		typedUpdate(UpdateReship, "CS replaces a lost or damaged shipment from stock: an ERP replacement order and a new carrier booking, no new invoice (per shipment, goods lost before they were invoiced are invoiced when the reship is delivered).",
			func(ctx workflow.Context, in ReshipInput) (DecisionResult, error) {
				return o.reship(o.detached(ctx), in)
			},
			func(ctx workflow.Context, in ReshipInput) error { return o.canReship(in) }),
		typedUpdate(UpdateReturn, "CS takes delivered goods back: an RMA in the ERP and a return pickup; the credit note (and a refund, if paid) follows when the goods are back.",
			func(ctx workflow.Context, in ReturnInput) (DecisionResult, error) {
				return o.startReturn(o.detached(ctx), in)
			},
			func(ctx workflow.Context, in ReturnInput) error { return o.canReturn(in) }),
		typedUpdate(UpdateWriteOff, "Finance writes off what is left open on the invoice (all of it, or an amount); the ERP records the write-off.",
			func(ctx workflow.Context, in WriteOffInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				wo, err := o.writeOff(ctx, in)
				if err != nil {
					return DecisionResult{}, err
				}
				msg := fmt.Sprintf("Wrote off %s of invoice %s (%s)", wo.Amount, wo.Invoice, wo.WriteOffID)
				return o.result(ctx, msg, func() bool { return o.balance().Minor > 0 || o.d.Status != order.StatusAwaitingPayment })
			},
			func(ctx workflow.Context, in WriteOffInput) error {
				return o.canSettle(in.Actor, in.Reason, in.InvoiceNumber, in.Amount, true)
			}),
		typedUpdate(UpdateApplyCredit, "Finance applies part of the customer's credit balance (an overpayment, a credit note) to the invoice.",
			func(ctx workflow.Context, in ApplyCreditInput) (DecisionResult, error) {
				return o.applyCredit(o.detached(ctx), in)
			},
			func(ctx workflow.Context, in ApplyCreditInput) error {
				return o.canSettle(in.Actor, in.Reason, in.InvoiceNumber, in.Amount, false)
			}),
		typedUpdate(UpdateApprove, "An approver approves or rejects the order.",
			func(ctx workflow.Context, in ApproveInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				ap := Approval{Side: sideOf(in.Actor.Role), Actor: in.Actor, Approve: in.Approve, Comment: in.Comment, At: workflow.Now(ctx)}
				comment := in.Comment
				if d := in.OnBehalfOf; d != nil {
					ap.Side, ap.OnBehalfOf, ap.Delegation = sideOf(d.From.Role), &d.From, d.ID
					comment = fmt.Sprintf("%s (for %s, out of office until %s, delegation %s)", in.Comment, d.From.Subject, d.Until.Format("2006-01-02"), d.ID)
					ap.Comment = comment
				}
				o.d.Approvals = append(o.d.Approvals, ap)
				if !in.Approve {
					o.approvalReject = &ap
					return o.result(ctx, "Order rejected", func() bool { return o.d.Status.Terminal() })
				}
				o.d.Waiting = o.approvalWaiting()
				o.record(ctx, in.Actor, "approval.approved", comment)
				if o.approvalsComplete() {
					return o.result(ctx, "Approved", func() bool { return o.d.Status != order.StatusAwaitingApproval })
				}
				return DecisionResult{Status: o.d.Status, Message: "Approval recorded; more approvals are needed. " + o.d.Waiting}, nil
			},
			func(ctx workflow.Context, in ApproveInput) error { return o.canApprove(in) }),
		typedUpdate(UpdateCreditDecision, "Finance decides a credit hold: override, decline or prepay.",
			func(ctx workflow.Context, in CreditDecisionInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				o.credit = &in
				return o.result(ctx, "Credit decision "+string(in.Decision)+" recorded", func() bool { return o.d.Status != order.StatusCreditHold })
			},
			func(ctx workflow.Context, in CreditDecisionInput) error {
				if err := o.may(in.Actor, order.RoleFinance); err != nil {
					return err
				}
				if err := o.inStatus(order.StatusCreditHold); err != nil {
					return err
				}
				if o.credit != nil {
					return invalidState("the credit hold was already decided: %s", o.credit.Decision)
				}
				switch in.Decision {
				case CreditOverride, CreditDecline, CreditPrepay:
				default:
					return invalidArgument("decision: one of override, decline, prepay")
				}
				if in.Reason == "" {
					return invalidArgument("reason: required")
				}
				return nil
			}),
		typedUpdate(UpdateAction, "A CS recovery step: retry the failed step, skip it (undos), resend a mail, or cancel with compensation.",
			func(ctx workflow.Context, in ActionInput) (DecisionResult, error) {
				ctx = o.detached(ctx)
				if in.Action == ActionResend {
					return o.resend(ctx, in)
				}
				if in.Action == ActionCancel {
					o.cancel = &CancelInput{Actor: in.Actor, Reason: in.Reason}
					return o.result(ctx, "Cancellation started", func() bool { return o.d.Status.Terminal() })
				}
				step, n := o.d.Failure.Step, o.attemptsDone
				o.csAction = &in
				if in.Action == ActionSkip {
					if _, err := workflow.AwaitWithTimeout(ctx, UpdateWait, func() bool { return o.csAction == nil }); err != nil {
						return DecisionResult{}, err
					}
					return DecisionResult{Status: o.d.Status, Message: "Skipped " + step + ". " + o.d.Waiting}, nil
				}
				if _, err := workflow.AwaitWithTimeout(ctx, UpdateWait, func() bool { return o.attemptsDone > n }); err != nil {
					return DecisionResult{}, err
				}
				switch {
				case o.attemptsDone == n:
					return DecisionResult{Status: o.d.Status, Message: "Retry of " + step + " started and still running. " + o.d.Waiting}, nil
				case o.d.Failure != nil:
					return DecisionResult{Status: o.d.Status, Message: "Retry of " + step + " failed again: " + o.d.Failure.Error}, nil
				}
				return DecisionResult{Status: o.d.Status, Message: "Retry of " + step + " succeeded. " + o.d.Waiting}, nil
			},
			func(ctx workflow.Context, in ActionInput) error {
				if err := o.may(in.Actor, order.RoleCS); err != nil {
					return err
				}
				if in.Reason == "" {
					return invalidArgument("reason: every manual action needs a reason")
				}
				switch in.Action {
				case ActionRetry:
					if o.d.Failure == nil || o.csAction != nil {
						return invalidState("no failed step is waiting for a retry")
					}
					if o.d.Failure.Retrying {
						return invalidState("%s is still retrying by itself; the order moves on when it succeeds", o.d.Failure.Step)
					}
					return nil
				case ActionSkip:
					if o.d.Failure == nil || o.csAction != nil || o.d.Failure.Retrying {
						return invalidState("no failed step is waiting for CS")
					}
					if !o.d.Failure.Skippable {
						return invalidState("%s cannot be skipped: later steps need its result; retry it or cancel the order", o.d.Failure.Step)
					}
					return nil
				case ActionResend:
					if _, ok := o.lastMail[in.Mail]; !ok {
						return invalidState("mail: this order has sent no %q mail", in.Mail)
					}
					return nil
				case ActionCancel:
					return o.canCancel(in.Actor, in.Reason)
				}
				return invalidArgument("action: one of retry, skip, resend, cancel")
			}),
	}
	for _, u := range updates {
		if err := u.register(ctx); err != nil {
			return err
		}
	}

	// Signals are drained by their own coroutines into the state; the main
	// path waits on the state. Repeats are ignored, so senders may retry.
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalDelivered)
		for {
			var s DeliveredSignal
			ch.Receive(ctx, &s)
			if !slices.ContainsFunc(o.d.Shipments, func(sh order.Shipment) bool { return sh.ShipmentID == s.ShipmentID }) {
				// The webhook beat the booking's result: keep it for when the booking lands.
				o.earlyDelivered = append(o.earlyDelivered, s)
				continue
			}
			o.markDelivered(ctx, s.ShipmentID, s.DeliveredAt, "webhook "+s.EventID)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalShipmentException)
		for {
			var e ShipmentExceptionSignal
			ch.Receive(ctx, &e)
			if !o.gate(ctx, changeShipmentExceptions) {
				continue
			}
			o.shipmentException(ctx, e)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalGoodsReturned)
		for {
			var ev GoodsReturnedSignal
			ch.Receive(ctx, &ev)
			o.goodsReturned(ctx, ev)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalPayment)
		for {
			var p PaymentSignal
			ch.Receive(ctx, &p)
			if o.seenPayments[p.BankTransactionID] {
				continue
			}
			o.seenPayments[p.BankTransactionID] = true
			o.payments = append(o.payments, p)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalSurveyAnswered)
		for {
			var s SurveyAnsweredSignal
			ch.Receive(ctx, &s)
			o.takeSurveyAnswer(s)
		}
	})
	return nil
}

// firstQuoteSettled reports whether the first quote is priced, or will not
// come without somebody's help (refused lines, a failed step, a cancel).
func (o *orderState) firstQuoteSettled() bool {
	return (o.d.Status != "" && o.d.Status != order.StatusQuoting) || o.d.NeedsAttention || o.cancel != nil
}

// pricingAccept reports whether an accept names the revision the order is
// pricing right now. The projection is written inside the workflow task
// that decides a transition, before the task completes; when the worker
// dies then, the projection already shows the priced revision while the
// order, run again by another worker after the task's timeout, is still
// QUOTING it. A buyer who accepts what the projection showed is not
// refused: the accept waits for the price and then applies (the retried
// task prices the same revision from the same ERP answer).
func (o *orderState) pricingAccept(in AcceptInput) bool {
	return o.d.Status == order.StatusQuoting && in.Revision != 0 && in.Revision == o.pricingRevision
}

// canAnswerQuote: the buyer's side (and the extra roles given, for a
// revision) answers a quote that waits for an answer, once per revision.
func (o *orderState) canAnswerQuote(a order.Actor, extra ...order.Role) error {
	roles := append([]order.Role{order.RoleBuyer, order.RoleBuyerApprover, order.RoleStorefront}, extra...)
	if err := o.may(a, roles...); err != nil {
		return err
	}
	if err := o.inStatus(order.StatusAwaitingAcceptance); err != nil {
		return err
	}
	if o.quoteDecision != "" {
		return invalidState("the quote was already answered: %s", o.quoteDecision)
	}
	return nil
}

// canSettle: finance settles part of what is open on an invoice (a
// write-off, zero for all of it when allowZero; an application of credit
// balance), never more than is open.
func (o *orderState) canSettle(a order.Actor, reason, number string, amount money.Money, allowZero bool) error {
	if err := o.may(a, order.RoleFinance); err != nil {
		return err
	}
	if reason == "" {
		return invalidArgument("reason: required")
	}
	if err := o.inBilling(order.StatusInvoiced, order.StatusAwaitingPayment); err != nil {
		return err
	}
	inv, err := o.target(number, "settle")
	if err != nil {
		return err
	}
	open := o.balanceOf(inv)
	if open.Minor <= 0 {
		return invalidState("nothing is open on invoice %s", inv.Number)
	}
	if amount.Minor == 0 && allowZero {
		return nil
	}
	if amount.Currency != open.Currency || amount.Minor <= 0 || amount.Minor > open.Minor {
		return invalidArgument("amount: a positive amount in %s, at most the %s open on invoice %s", open.Currency, open, inv.Number)
	}
	return nil
}

// inBilling is inStatus, and also lets an order invoiced per shipment
// settle its invoices while other shipments are still on their way.
func (o *orderState) inBilling(ss ...order.Status) error {
	if o.d.Status == order.StatusShipping && o.perShipment() && len(o.invoices()) > 0 {
		return nil
	}
	return o.inStatus(ss...)
}

// canCancel: buyers and the storefront may cancel until a shipment is booked;
// CS until goods are delivered (after that it is a credit note, not a cancel).
func (o *orderState) canCancel(a order.Actor, reason string) error {
	if reason == "" {
		return invalidArgument("reason: required")
	}
	if o.d.Status.Terminal() {
		return invalidState("the order is already %s", o.d.Status)
	}
	if o.compensating || o.cancel != nil {
		return invalidState("the order is already being cancelled")
	}
	if o.anyDelivered() {
		return invalidState("goods have been delivered; use a credit note instead of a cancel")
	}
	if a.Role != order.RoleCS && o.anyBooked() {
		return invalidState("shipments are booked; ask CS to cancel with compensation")
	}
	return nil
}

func sideOf(r order.Role) order.Side {
	if r == order.RoleBuyerApprover {
		return order.SideBuyer
	}
	return order.SideSeller
}
