package workflows

import (
	"time"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// ContinueAsNewAfter is the history length (in events) past which an order
// that waits for delivery or for money continues as new, unless its input
// says otherwise or Temporal suggests it sooner. Temporal warns at 10,240
// events and terminates a run at 51,200; a run of an order stays near this.
const ContinueAsNewAfter = 2000

// stage is where a continued order picks up its lifecycle. The two long
// waits are the only places an order continues as new: everything before
// them is over in days, everything after them in the survey's two weeks.
type stage string

const (
	stageQuote      stage = ""           // a new order: the whole lifecycle
	stagePrepayment stage = "prepayment" // a prepaid order, invoiced, waits for the money before shipping
	stageDelivery   stage = "delivery"   // shipments booked, waiting for proof of delivery
	stagePaymentDue stage = "payment"    // delivered, invoiced, survey closed, waiting for (the rest of) the money
)

// Carried is what an order takes into its next run when it continues as
// new: everything the rest of its lifecycle reads. Pending signals and
// updates are not in it: the order continues only once every handler has
// answered and every signal channel is empty, and Temporal refuses the
// continue (and runs the order again) if one arrives meanwhile.
type Carried struct {
	Stage   stage        `json:"stage"`
	Run     int          `json:"run"` // how many runs came before this one
	Details Details      `json:"details"`
	Terms   order.Terms  `json:"terms"`
	Lines   []order.Line `json:"lines"`
	Disc    int64        `json:"discount_bp,omitempty"`
	Seq     int64        `json:"seq"`
	// FenceBase is the fence the next run's records start above: every
	// fence of this run and the runs before it is lower (see fence).
	FenceBase int64  `json:"fence_base,omitempty"`
	Undos     []undo `json:"undos,omitempty"`
	// Counters that name mails and keys: they must not repeat in a later run.
	Failures int `json:"failures"`
	Resends  int `json:"resends"`
	// Dunned, Escalated and Reminded are the dunning of the order's one
	// invoice; Dunning that of each invoice of an order invoiced per
	// shipment.
	Dunned int `json:"dunned"`
	// Escalated: finance has been told the invoice is long overdue.
	Escalated       bool                   `json:"escalated,omitempty"`
	CreditNotes     int                    `json:"credit_notes,omitempty"`
	Refunds         int                    `json:"refunds,omitempty"`
	Reships         int                    `json:"reships,omitempty"`
	Returns         int                    `json:"returns,omitempty"`
	WriteOffs       int                    `json:"write_offs,omitempty"`
	Allocations     int                    `json:"allocations,omitempty"`
	Reminded        int                    `json:"reminded,omitempty"`
	Dunning         []DunState             `json:"dunning,omitempty"`
	Disputes        int                    `json:"disputes,omitempty"`
	DunningResumeAt time.Time              `json:"dunning_resume_at,omitzero"`
	EarlyDelivered  []DeliveredSignal      `json:"early_delivered,omitempty"`
	Payments        []PaymentSignal        `json:"payments,omitempty"` // received before the invoice existed
	SeenPayments    map[string]bool        `json:"seen_payments,omitempty"`
	SeenExceptions  map[string]bool        `json:"seen_exceptions,omitempty"`
	LastEventAt     map[string]time.Time   `json:"last_event_at,omitempty"`
	LastMail        map[mail.Kind]SentMail `json:"last_mail,omitempty"`
	Paid            money.Money            `json:"paid"`
	OverdueSince    time.Time              `json:"overdue_since,omitempty"`
	SurveyStarted   bool                   `json:"survey_started,omitempty"`
	SurveyClosed    bool                   `json:"survey_closed,omitempty"`
	SurveyAnswer    *SurveyAnsweredSignal  `json:"survey_answer,omitempty"`
	SurveyMode      int                    `json:"survey_mode,omitempty"`
}

// carry is the order's state for its next run, which starts at s.
func (o *orderState) carry(ctx workflow.Context, s stage) *Carried {
	run := 0
	if o.in.Resume != nil {
		run = o.in.Resume.Run + 1
	}
	return &Carried{
		Stage: s, Run: run, Details: o.d, Terms: o.terms, Lines: o.lines, Disc: o.disc, Seq: o.seq, Undos: o.undos,
		FenceBase: o.fence(ctx),
		Failures:  o.failures, Resends: o.resends, Dunned: o.dun.Dunned, Escalated: o.dun.Escalated,
		CreditNotes: o.creditNotes, Refunds: o.refunds, Reships: o.reships, Returns: o.returns,
		WriteOffs: o.writeOffs, Allocations: o.allocations, Reminded: o.dun.Reminded, Dunning: o.dunning, Disputes: o.disputes, DunningResumeAt: o.dunningResumeAt,
		EarlyDelivered: o.earlyDelivered, Payments: o.payments, SeenPayments: o.seenPayments,
		SeenExceptions: o.seenExceptions, LastEventAt: o.lastEventAt, LastMail: o.lastMail, Paid: o.paid,
		OverdueSince: o.overdueSince, SurveyStarted: o.surveyStarted, SurveyClosed: o.surveyClosed,
		SurveyAnswer: o.surveyAnswer, SurveyMode: o.surveyMode,
	}
}

// restore takes the state a previous run carried.
func (o *orderState) restore(c *Carried) {
	o.d, o.terms, o.lines, o.disc, o.seq, o.recorded, o.undos = c.Details, c.Terms, c.Lines, c.Disc, c.Seq, c.Seq, c.Undos
	o.fenceBase = c.FenceBase
	o.failures, o.resends = c.Failures, c.Resends
	o.dun, o.dunning = DunState{Dunned: c.Dunned, Reminded: c.Reminded, Escalated: c.Escalated}, c.Dunning
	o.reships, o.returns, o.writeOffs, o.allocations = c.Reships, c.Returns, c.WriteOffs, c.Allocations
	o.creditNotes, o.refunds, o.disputes, o.dunningResumeAt = c.CreditNotes, c.Refunds, c.Disputes, c.DunningResumeAt
	o.earlyDelivered, o.payments, o.paid, o.overdueSince = c.EarlyDelivered, c.Payments, c.Paid, c.OverdueSince
	o.surveyStarted, o.surveyClosed, o.surveyAnswer, o.surveyMode = c.SurveyStarted, c.SurveyClosed, c.SurveyAnswer, c.SurveyMode
	// Maps that were empty come back nil from JSON; setup made them.
	if c.SeenPayments != nil {
		o.seenPayments = c.SeenPayments
	}
	if c.SeenExceptions != nil {
		o.seenExceptions = c.SeenExceptions
	}
	if c.LastEventAt != nil {
		o.lastEventAt = c.LastEventAt
	}
	if c.LastMail != nil {
		o.lastMail = c.LastMail
	}
}

// historyFull reports whether this run's history is long enough that the
// order should continue as new at its next quiet moment
// (changeContinueAsNew): Temporal suggests it, or the history passed the
// order's limit.
func (o *orderState) historyFull(ctx workflow.Context) bool {
	if !o.mayContinue {
		return false
	}
	info := workflow.GetInfo(ctx)
	limit := o.in.HistoryLimit
	if limit <= 0 {
		limit = ContinueAsNewAfter
	}
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= limit
}

// quiet reports whether nothing is under way beside the main path: every
// update answered, every mail out, every record written, every payment
// applied, every signal taken from its channel, the survey over (or not
// begun). Only then may the order continue as new without losing anything.
func (o *orderState) quiet(ctx workflow.Context) bool {
	if !workflow.AllHandlersFinished(ctx) || o.mailsInFlight > 0 || o.recordsInFlight > 0 || o.tellsInFlight > 0 || o.applying {
		return false
	}
	if o.d.Invoice != nil && len(o.payments) > 0 {
		return false
	}
	if o.surveyOpen() {
		return false
	}
	// A return's watcher lives in this run only; returns are over in
	// weeks (ReturnWindow), so the order continues after them.
	if o.openReturns() > 0 {
		return false
	}
	for _, name := range []string{SignalDelivered, SignalShipmentException, SignalPayment, SignalSurveyAnswered, SignalGoodsReturned} {
		if workflow.GetSignalChannel(ctx, name).Len() > 0 {
			return false
		}
	}
	return true
}

// continueAsNew waits, until at the latest, for a quiet moment and then
// returns the error that continues the order as new at s. It returns nil
// when the wait it was called from has something to do first (done), or
// when no quiet moment came in time: the caller carries on in this run and
// tries again at its next wake.
func (o *orderState) continueAsNew(ctx workflow.Context, s stage, done func() bool, until time.Time) error {
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(until.Sub(workflow.Now(ctx)), time.Second),
		TimerOptions: workflow.TimerOptions{Summary: "quiet moment to continue as new"}},
		func() bool { return done() || o.quiet(ctx) })
	if err != nil || !ok || done() {
		return err
	}
	o.logger.Info("history is long; continuing as new", "Stage", string(s),
		"HistoryLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
	in := o.in
	in.Resume = o.carry(ctx, s)
	return workflow.NewContinueAsNewError(ctx, OrderWorkflowName, in)
}
