package workflows

import (
	"time"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// TaskQueue is where order workflows and their activities run.
const TaskQueue = "orders"

// OrderWorkflowName is the registered name of OrderWorkflow.
const OrderWorkflowName = "Order"

// Search attribute names kept current on every order.
const (
	SACustomerID     = "CustomerId"
	SAOrderStatus    = "OrderStatus"
	SAOrderTotal     = "OrderTotal"
	SANeedsAttention = "NeedsAttention"
	SAPONumber       = "PONumber"
	// SADeliveryOverdue is true while a shipment is past its promised
	// date plus DeliveryGrace.
	SADeliveryOverdue = "DeliveryOverdue"
)

// Names of the messages an order workflow accepts.
const (
	UpdateAccept         = "accept"
	UpdateRevise         = "revise"
	UpdateReject         = "reject"
	UpdateCancel         = "cancel"
	UpdateApprove        = "approve"
	UpdateCreditDecision = "credit-decision"
	UpdateAction         = "action"
	// UpdateDispute and UpdateResolve: the buyer or CS disputes the
	// invoice, which pauses dunning until the dispute is resolved.
	UpdateDispute = "dispute"
	UpdateResolve = "resolve"
	// UpdateCreditNote credits an amount on the order's invoice.
	UpdateCreditNote = "credit-note"
	// UpdateRefund pays money back to the payer of one of the order's
	// payments (finance).
	UpdateRefund = "refund"
	// UpdateReship replaces a lost or damaged shipment from stock: a
	// replacement order in the ERP and a new booking, no new invoice (CS).
	UpdateReship = "reship"
	// UpdateReturn takes goods back: an RMA in the ERP and a return pickup
	// with the carrier; when the goods are back the credit note follows,
	// and the refund when the invoice was paid (CS).
	UpdateReturn = "return"
	// UpdateWriteOff writes off what is left open on the invoice (finance).
	UpdateWriteOff = "write-off"
	// UpdateApplyCredit applies part of the customer's credit balance to
	// the invoice (finance).
	UpdateApplyCredit = "apply-credit"
	// UpdateQuote answers with the order's first quote once it is priced;
	// POST /v1/quotes sends it with the start (Update-with-Start).
	UpdateQuote = "quote"

	SignalDelivered      = "shipment-delivered"
	SignalPayment        = "payment-received"
	SignalSurveyAnswered = "survey-answered"
	// SignalShipmentException is the carrier's report of a problem with a
	// shipment; CS is alerted and the order keeps waiting for delivery.
	SignalShipmentException = "shipment-exception"
	// SignalGoodsReturned is the carrier's signed "returned" event: the
	// goods of a return pickup are back in the warehouse.
	SignalGoodsReturned = "goods-returned"

	QueryDetails = "details"
)

// OrderInput starts an order. The order id is the workflow id.
type OrderInput struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	PONumber   string       `json:"po_number,omitempty"`
	Lines      []order.Line `json:"lines"`
	// RequestedDiscountBP is an extra discount a rep asked for; 0 for none.
	RequestedDiscountBP int64       `json:"requested_discount_bp,omitempty"`
	RequestedBy         order.Actor `json:"requested_by"`
	// StepBudget is how long an outside step may go without success before
	// the order is flagged (it keeps retrying); zero means the StepBudget
	// constant. It rides in the input, so a change of the setting reaches
	// new orders only and replay stays deterministic.
	StepBudget time.Duration `json:"step_budget,omitempty"`
	// HistoryLimit is the history length (events) past which the order
	// continues as new in its long waits; zero means ContinueAsNewAfter.
	HistoryLimit int `json:"history_limit,omitempty"`
	// TimeScale is how many business seconds pass in one second of the
	// order's (workflow) time: every business wait of the order (quote
	// validity, reminders, approval escalation, delivery grace, carrier
	// polls, survey window, dunning, return window) is compressed by it,
	// for simulations and demos (ORDERFLOW_TIME_SCALE). 0 or 1 is real
	// time; anything else that is not a finite number above 1 counts as 1
	// (order.TimeScale). It rides in the input, so it is fixed for the
	// order's life, survives continue-as-new and replays; see "Business
	// time in simulations" in docs/design.md.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Resume is set by the order itself when it continues as new: the
	// state of the run before and where to pick up. Starters leave it nil.
	Resume *Carried `json:"resume,omitempty"`
}

// OrderResult is how an order ended.
type OrderResult struct {
	OrderID string       `json:"order_id"`
	Status  order.Status `json:"status"`
	Reason  string       `json:"reason,omitempty"`
}

// DecisionResult answers every update: where the order stands afterwards.
type DecisionResult struct {
	Status  order.Status `json:"status"`
	Message string       `json:"message"`
}

// QuoteInput asks for the order's first quote; the caller waits for it
// within a bound of its own.
type QuoteInput struct {
	Actor order.Actor `json:"actor"`
}

// QuoteResult is the order's first quote, or why there is none yet.
type QuoteResult struct {
	Status order.Status `json:"status"`
	Quote  *order.Quote `json:"quote,omitempty"`
	// Refused names the lines the ERP would not price; the order ended
	// QUOTE_REFUSED and never existed for the buyer.
	Refused []order.FieldError `json:"refused,omitempty"`
	// Waiting says what the order waits for (pricing failed and waits for
	// CS, for example).
	Waiting string `json:"waiting"`
}

// AcceptInput accepts the current quote. Revision, when not 0, must be the
// current revision: a buyer never accepts a quote they have not seen.
type AcceptInput struct {
	Actor    order.Actor `json:"actor"`
	Revision int         `json:"revision,omitempty"`
}

// ReviseInput asks for a new quote revision with new lines.
type ReviseInput struct {
	Actor      order.Actor  `json:"actor"`
	Lines      []order.Line `json:"lines"`
	DiscountBP int64        `json:"discount_bp,omitempty"`
	Reason     string       `json:"reason,omitempty"`
}

// RejectInput rejects the quote.
type RejectInput struct {
	Actor  order.Actor `json:"actor"`
	Reason string      `json:"reason"`
}

// DisputeInput disputes the order's invoice (wrong quantity, damaged
// goods, a price the buyer did not agree to): payment reminders pause.
type DisputeInput struct {
	Actor  order.Actor `json:"actor"`
	Reason string      `json:"reason"`
}

// ResolveInput ends the invoice's dispute: reminders resume a week later.
type ResolveInput struct {
	Actor  order.Actor `json:"actor"`
	Reason string      `json:"reason"`
}

// CreditNoteInput credits Amount (gross) on the order's invoice, or Lines
// of it (their share of the invoice's gross, discount and VAT included):
// CS up to the customer's CreditNoteLimitCS for the order, finance above
// it. Exactly one of Amount and Lines.
type CreditNoteInput struct {
	Actor  order.Actor  `json:"actor"`
	Amount money.Money  `json:"amount,omitzero"`
	Lines  []order.Line `json:"lines,omitempty"`
	Reason string       `json:"reason"`
	// InvoiceNumber names the invoice of an order invoiced per shipment;
	// "" for an order with one invoice.
	InvoiceNumber string `json:"invoice_number,omitempty"`
}

// WriteOffInput writes off Amount of what is open on the invoice; a zero
// Amount writes off all of it.
type WriteOffInput struct {
	Actor  order.Actor `json:"actor"`
	Amount money.Money `json:"amount,omitzero"`
	Reason string      `json:"reason"`
	// InvoiceNumber names the invoice of an order invoiced per shipment;
	// "" for an order with one invoice.
	InvoiceNumber string `json:"invoice_number,omitempty"`
}

// ApplyCreditInput applies Amount of the customer's credit balance (an
// overpayment or a credit note elsewhere) to the invoice.
type ApplyCreditInput struct {
	Actor  order.Actor `json:"actor"`
	Amount money.Money `json:"amount"`
	Reason string      `json:"reason"`
	// InvoiceNumber names the invoice of an order invoiced per shipment;
	// "" for an order with one invoice.
	InvoiceNumber string `json:"invoice_number,omitempty"`
}

// WriteOff is an amount written off the invoice; Tolerated says it was
// within the customer's short-payment tolerance.
type WriteOff struct {
	WriteOffID string      `json:"write_off_id"`
	Amount     money.Money `json:"amount"`
	Tolerated  bool        `json:"tolerated"`
	By         order.Actor `json:"by"`
	Reason     string      `json:"reason"`
	At         time.Time   `json:"at"`
	// Invoice is the number of the invoice it went to; "" (in runs from
	// before an order could have several) is the order's first.
	Invoice string `json:"invoice,omitempty"`
}

// CreditApplied is credit balance the ERP applied to the invoice.
type CreditApplied struct {
	AllocationID string      `json:"allocation_id"`
	Amount       money.Money `json:"amount"`
	By           order.Actor `json:"by"`
	Reason       string      `json:"reason"`
	At           time.Time   `json:"at"`
	// Invoice is the number of the invoice it went to; "" (in runs from
	// before an order could have several) is the order's first.
	Invoice string `json:"invoice,omitempty"`
}

// ReshipInput replaces the goods of shipment ShipmentID (lost on the way,
// or delivered damaged) from stock.
type ReshipInput struct {
	Actor      order.Actor `json:"actor"`
	ShipmentID string      `json:"shipment_id"`
	Reason     string      `json:"reason"`
}

// ReturnInput takes delivered goods back: the SKUs and how many of each.
type ReturnInput struct {
	Actor  order.Actor  `json:"actor"`
	Lines  []order.Line `json:"lines"`
	Reason string       `json:"reason"`
}

// GoodsReturnedSignal is the carrier's "returned" event for a return
// pickup (ReturnID is the pickup's id, the event's shipment_id).
type GoodsReturnedSignal struct {
	EventID    string    `json:"event_id"`
	ReturnID   string    `json:"return_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Return states.
const (
	ReturnAwaitingGoods = "awaiting-goods" // RMA made, pickup booked
	ReturnReceived      = "received"       // the goods are back; crediting
	ReturnCredited      = "credited"       // credit note issued (and the refund paid, if one was due)
	ReturnExpired       = "expired"        // the goods never came back within ReturnWindow
	ReturnNeedsCS       = "needs-cs"       // the ERP refused the credit note or the refund; CS was alerted
)

// Return is one return of goods and how far it got.
type Return struct {
	RMAID          string       `json:"rma_id"`
	ReturnID       string       `json:"return_id"`
	TrackingNumber string       `json:"tracking_number"`
	Warehouse      string       `json:"warehouse"`
	PickupDate     time.Time    `json:"pickup_date,omitzero"`
	Lines          []order.Line `json:"lines"`
	Status         string       `json:"status"`
	By             order.Actor  `json:"by"`
	Reason         string       `json:"reason"`
	At             time.Time    `json:"at"`
	ReceivedAt     time.Time    `json:"received_at,omitzero"`
	// CreditNote is the number of the credit note the return issued;
	// Refunded what was paid back because the invoice had been paid.
	CreditNote string       `json:"credit_note,omitempty"`
	Refunded   *money.Money `json:"refunded,omitempty"`
	Problem    string       `json:"problem,omitempty"`
}

// CreditNote is one credit note the ERP issued on the order's invoice.
type CreditNote struct {
	Number string      `json:"number"`
	Amount money.Money `json:"amount"`
	// AppliedToInvoice came off what the customer owed; ToCreditBalance
	// went beyond it (the invoice was paid) into the customer's credit
	// balance, for finance to refund or apply.
	AppliedToInvoice money.Money `json:"applied_to_invoice"`
	ToCreditBalance  money.Money `json:"to_credit_balance"`
	// Lines are what a credit by lines (or a return) credited.
	Lines  []order.Line `json:"lines,omitempty"`
	By     order.Actor  `json:"by"`
	Reason string       `json:"reason"`
	At     time.Time    `json:"at"`
	// Invoice is the number of the invoice it went to; "" (in runs from
	// before an order could have several) is the order's first.
	Invoice string `json:"invoice,omitempty"`
}

// RefundInput pays Amount back to the payer of the payment
// BankTransactionID (the latest payment with money left to refund when
// empty). The ERP refunds only money that is not owed on the invoice: an
// overpayment, or what a credit note put on the customer's credit balance.
type RefundInput struct {
	Actor             order.Actor `json:"actor"`
	Amount            money.Money `json:"amount"`
	BankTransactionID string      `json:"bank_transaction_id,omitempty"`
	Reason            string      `json:"reason"`
}

// Refund is money the order paid back.
type Refund struct {
	RefundID          string      `json:"refund_id"`
	TransferID        string      `json:"transfer_id"`
	BankTransactionID string      `json:"bank_transaction_id"`
	Amount            money.Money `json:"amount"`
	PaidTo            string      `json:"paid_to"`
	By                order.Actor `json:"by"`
	Reason            string      `json:"reason"`
	At                time.Time   `json:"at"`
}

// Dispute is an open dispute of the order's invoice.
type Dispute struct {
	By     order.Actor `json:"by"`
	Reason string      `json:"reason"`
	Since  time.Time   `json:"since"`
}

// CancelInput cancels the order and undoes every outside change made so far.
type CancelInput struct {
	Actor  order.Actor `json:"actor"`
	Reason string      `json:"reason"`
}

// ApproveInput is one approver's decision.
type ApproveInput struct {
	Actor   order.Actor `json:"actor"`
	Approve bool        `json:"approve"`
	Comment string      `json:"comment,omitempty"`
	// OnBehalfOf, when set, is the delegation the actor decides under:
	// an approver out of office named the actor to decide for them until
	// Until. The API found it in force; the order checks the delegator
	// may decide here.
	OnBehalfOf *Delegation `json:"on_behalf_of,omitempty"`
}

// Delegation is an approver's (From's) decisions handed to a colleague
// for a period.
type Delegation struct {
	ID    string      `json:"id"`
	From  order.Actor `json:"from"`
	Until time.Time   `json:"until"`
}

// CreditDecision is finance's answer to a credit hold.
type CreditDecision string

// Credit decisions.
const (
	CreditOverride CreditDecision = "override"
	CreditDecline  CreditDecision = "decline"
	CreditPrepay   CreditDecision = "prepay"
)

// CreditDecisionInput decides a credit hold.
type CreditDecisionInput struct {
	Actor    order.Actor    `json:"actor"`
	Decision CreditDecision `json:"decision"`
	Reason   string         `json:"reason"`
}

// Action is a CS recovery or compensation step.
type Action string

// CS actions.
const (
	// ActionRetry runs the failed step again.
	ActionRetry Action = "retry"
	// ActionCancel cancels the order with compensation.
	ActionCancel Action = "cancel"
	// ActionSkip marks a failed step that allows it (StepFailure.Skippable)
	// as done without it: an undo done by hand or that cannot be done.
	ActionSkip Action = "skip"
	// ActionResend sends the order's last mail of a kind (ActionInput.Mail)
	// again, to the same audience: the buyer lost it, or it failed.
	ActionResend Action = "resend"
)

// ActionInput is a CS action; every one names its actor and reason.
type ActionInput struct {
	Actor  order.Actor `json:"actor"`
	Action Action      `json:"action"`
	Reason string      `json:"reason"`
	// Mail is the kind of mail to resend (ActionResend only).
	Mail mail.Kind `json:"mail,omitempty"`
}

// DeliveredSignal is the carrier's proof of delivery for one shipment.
type DeliveredSignal struct {
	ShipmentID  string    `json:"shipment_id"`
	EventID     string    `json:"event_id"`
	DeliveredAt time.Time `json:"delivered_at"`
}

// ShipmentExceptionSignal is the carrier's report of a problem with one shipment.
type ShipmentExceptionSignal struct {
	ShipmentID string    `json:"shipment_id"`
	EventID    string    `json:"event_id"`
	Detail     string    `json:"detail"`
	OccurredAt time.Time `json:"occurred_at"`
}

// PaymentSignal is a bank payment matched to this order's invoice by reference.
type PaymentSignal struct {
	BankTransactionID string      `json:"bank_transaction_id"`
	Amount            money.Money `json:"amount"`
	Reference         string      `json:"reference"`
	ReceivedAt        time.Time   `json:"received_at"`
	// AppliedTo is the number of the invoice the order applied the
	// payment to (set by the order, not the sender).
	AppliedTo string `json:"applied_to,omitempty"`
}

// SurveyAnsweredSignal carries the buyer's NPS answer.
type SurveyAnsweredSignal struct {
	// ShipmentID names the delivery the answer scores; "" for an order
	// surveyed whole.
	ShipmentID string    `json:"shipment_id,omitempty"`
	Score      int       `json:"score"`
	Comment    string    `json:"comment,omitempty"`
	AnsweredAt time.Time `json:"answered_at"`
}

// Approval is one recorded approval decision.
type Approval struct {
	Side    order.Side  `json:"side"`
	Actor   order.Actor `json:"actor"`
	Approve bool        `json:"approve"`
	Comment string      `json:"comment,omitempty"`
	At      time.Time   `json:"at"`
	// OnBehalfOf is the approver the actor decided for, under Delegation.
	OnBehalfOf *order.Actor `json:"on_behalf_of,omitempty"`
	Delegation string       `json:"delegation,omitempty"`
}

// people are the subjects an approval speaks for: its actor, and the
// approver they stood in for.
func (a Approval) people() []string {
	if a.OnBehalfOf != nil {
		return []string{a.Actor.Subject, a.OnBehalfOf.Subject}
	}
	return []string{a.Actor.Subject}
}

// StepFailure is a step that ran out of retries and waits for CS.
type StepFailure struct {
	Step string `json:"step"`
	// Error says in one line which system failed on which call, what it
	// answered and whether it was retried; the raw error chain is in the
	// worker's log.
	Error string    `json:"error"`
	Since time.Time `json:"since"`
	// Skippable: CS may skip the step (ActionSkip) instead of retrying it.
	Skippable bool `json:"skippable"`
	// Retrying: the step has not succeeded within the step budget and is
	// still retrying by itself (an outage); it needs no CS action, and the
	// flag clears when the call succeeds.
	Retrying bool `json:"retrying,omitempty"`
}

// Details is the order as its workflow sees it now (the details query).
type Details struct {
	OrderID         string       `json:"order_id"`
	CustomerID      string       `json:"customer_id"`
	PONumber        string       `json:"po_number,omitempty"`
	Status          order.Status `json:"status"`
	NeedsAttention  bool         `json:"needs_attention"`
	DeliveryOverdue bool         `json:"delivery_overdue"`
	// Waiting says in words what the order waits for.
	Waiting string       `json:"waiting"`
	Quote   *order.Quote `json:"quote,omitempty"`
	// Terms is the customer's terms the standing quote was priced under
	// (their version and hash): the order keeps them whatever changes in
	// the catalog later.
	Terms *order.Terms `json:"terms,omitempty"`
	// AcceptedBy is who accepted the quote: they may not also approve
	// the order (four eyes).
	AcceptedBy      *order.Actor         `json:"accepted_by,omitempty"`
	Approvals       []Approval           `json:"approvals,omitempty"`
	ApprovalsNeeded []order.ApprovalNeed `json:"approvals_needed,omitempty"`
	Exposure        *order.Exposure      `json:"exposure,omitempty"`
	Prepayment      bool                 `json:"prepayment"`
	SalesOrderID    string               `json:"sales_order_id,omitempty"`
	Shipments       []order.Shipment     `json:"shipments,omitempty"`
	// Invoice is the order's first invoice (its only one, unless the
	// customer is invoiced per shipment); Invoices lists every invoice,
	// oldest first.
	Invoice  *order.Invoice  `json:"invoice,omitempty"`
	Invoices []order.Invoice `json:"invoices,omitempty"`
	// Balances is what is open on each invoice, worked out when the order
	// is queried (never kept: the ledger below is the record).
	Balances []InvoiceBalance `json:"balances,omitempty"`
	Paid     *money.Money     `json:"paid,omitempty"`
	// Dispute is set while the invoice is disputed: no reminders go out.
	Dispute *Dispute `json:"dispute,omitempty"`
	// CreditNotes issued on the invoice, oldest first.
	CreditNotes []CreditNote `json:"credit_notes,omitempty"`
	// Payments applied to the invoice, and the refunds paid back.
	Payments  []PaymentSignal `json:"payments,omitempty"`
	Refunds   []Refund        `json:"refunds,omitempty"`
	Returns   []Return        `json:"returns,omitempty"`
	WriteOffs []WriteOff      `json:"write_offs,omitempty"`
	// CreditApplied lists credit balance applied to the invoice.
	CreditApplied []CreditApplied `json:"credit_applied,omitempty"`
	SurveyState   string          `json:"survey_state,omitempty"`
	// Surveys are the NPS surveys of the delivered shipments, of an order
	// that surveys each delivery (SurveyState is then unused).
	Surveys []ShipmentSurvey `json:"surveys,omitempty"`
	Failure *StepFailure     `json:"failure,omitempty"`
	// Compensations lists the registered undos, most recent last.
	Compensations []string `json:"compensations,omitempty"`
}

// Types of the ApplicationErrors update validators reject with; the API maps
// them to HTTP statuses (403, 409, 422).
const (
	ErrTypeForbidden       = "Forbidden"
	ErrTypeInvalidState    = "InvalidState"
	ErrTypeInvalidArgument = "InvalidArgument"
)

// InvoiceBalance is what the customer still owes on one invoice; negative
// when it was overpaid.
type InvoiceBalance struct {
	Number string      `json:"number"`
	Open   money.Money `json:"open"`
}
