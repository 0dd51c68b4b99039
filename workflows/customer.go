package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
)

// cs is the nil receiver that names the settings activity; the worker
// registers a real *activities.CustomerSettingsLoader.
var cs *activities.CustomerSettingsLoader

// customerState is the customer workflow's memory.
type customerState struct {
	in       CustomerInput
	id       string // the workflow id, the customer's audit chain and mail key prefix
	settings customer.Settings
	// settingsAt is when settings were read (see SettingsRefresh).
	settingsAt time.Time
	c          CustomerCarried
	logger     log.Logger
	// lost are quotes expired or rejected whose follow-up is still to open.
	lost []OrderEvent
	// dirty: something the insight for the rep is made of changed since
	// it was last written; written is what this run last wrote (without
	// its version and time), so an unchanged insight is not written again.
	dirty   bool
	written *activities.RecordCustomerInsightInput
	// waiting says in words what the workflow waits for next.
	waiting string
}

// CustomerWorkflow follows one customer between orders, for years
// (docs/design.md, "The customer between orders"): it keeps a bounded
// summary of the customer's orders from its orders' OrderEvent signals,
// and wakes for reorder reminders, the dormant-customer alert and the
// nudges of unanswered quotes. It continues as new, carrying the summary.
func CustomerWorkflow(ctx workflow.Context, in CustomerInput) error {
	c := &customerState{}
	if err := c.setup(ctx, in); err != nil {
		return err
	}
	return c.run(ctx)
}

func (c *customerState) setup(ctx workflow.Context, in CustomerInput) error {
	if in.CustomerID == "" {
		return temporal.NewNonRetryableApplicationError("customer id is required", ErrTypeInvalidArgument, nil)
	}
	c.in, c.id, c.logger = in, CustomerWorkflowID(in.CustomerID), workflow.GetLogger(ctx)
	if in.Resume != nil {
		c.c = *in.Resume
		c.c.Summary = in.Resume.Summary.Clone()
	}
	c.settings = customer.DefaultSettings()
	c.loadSettings(ctx)
	c.dirty = true // each run writes the insight once: settings may have changed
	return nil
}

// SettingsRefresh is how old the customer settings a run works with may
// grow: at its first wake after that, the run reads the worker's again, so
// a change of ORDERFLOW_CUSTOMER_* reaches every customer within a day
// (and a wake), not only at the next continue-as-new.
const SettingsRefresh = 24 * time.Hour

// loadSettings reads the worker's customer settings (a local activity: a
// marker in the history, never a read by workflow code). A failure keeps
// the settings the run has, loudly.
func (c *customerState) loadSettings(ctx workflow.Context) {
	var res activities.LoadCustomerSettingsResult
	lctx := localDatabase(ctx, "Read the customer settings")
	if err := workflow.ExecuteLocalActivity(lctx, cs.LoadCustomerSettings, activities.LoadCustomerSettingsInput{}).Get(ctx, &res); err != nil {
		// A worker whose settings do not validate.
		c.logger.Error("customer settings not loaded; keeping the ones before", "Error", err)
	} else {
		c.settings = res.Settings
	}
	c.settingsAt = workflow.Now(ctx)
}

func (c *customerState) run(ctx workflow.Context) error {
	events := workflow.GetSignalChannel(ctx, SignalOrderEvent)
	winBacks := workflow.GetSignalChannel(ctx, SignalWinBack)
	pending := func() bool { return events.Len() > 0 || winBacks.Len() > 0 }
	var (
		timer       workflow.Future
		timerAt     time.Time
		cancelTimer workflow.CancelFunc
	)
	for {
		if err := ctx.Err(); err != nil {
			return err // cancelled from the Temporal UI
		}
		if workflow.Now(ctx).Sub(c.settingsAt) >= SettingsRefresh {
			c.loadSettings(ctx)
		}
		for {
			var ev OrderEvent
			if !events.ReceiveAsync(&ev) {
				break
			}
			c.apply(ctx, ev)
		}
		for {
			var wb WinBackInput
			if !winBacks.ReceiveAsync(&wb) {
				break
			}
			c.winBack(ctx, wb)
		}
		c.act(ctx)
		if pending() {
			continue // what came in while mails went out
		}
		if c.dirty {
			c.recordInsight(ctx)
			if pending() {
				continue
			}
		}
		now := workflow.Now(ctx)
		next := c.nextWake(now)
		workflow.SetCurrentDetails(ctx, c.waiting)
		if c.shouldContinue(ctx) {
			// A quiet moment: no signal waiting, no activity running.
			c.c.Run++
			carried := c.c
			return workflow.NewContinueAsNewError(ctx, CustomerWorkflowName,
				CustomerInput{CustomerID: c.in.CustomerID, Resume: &carried, HistoryLimit: c.in.HistoryLimit})
		}
		// One timer, to the next wake; re-armed only when the next wake
		// comes earlier than the one it is set for (a later one lets it
		// fire, find nothing due, and be set again).
		if !next.IsZero() && (timer == nil || next.Before(timerAt)) {
			if cancelTimer != nil {
				cancelTimer()
			}
			tctx, cancel := workflow.WithCancel(ctx)
			timer, timerAt, cancelTimer = workflow.NewTimer(tctx, max(next.Sub(now), time.Second)), next, cancel
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(events, func(workflow.ReceiveChannel, bool) {}) // taken at the top of the loop
		sel.AddReceive(winBacks, func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		fired := false
		if timer != nil {
			sel.AddFuture(timer, func(workflow.Future) { fired = true })
		}
		sel.Select(ctx)
		if fired {
			timer, timerAt, cancelTimer = nil, time.Time{}, nil
		}
	}
}

// shouldContinue: Temporal suggests it, or the run's history passed its limit.
func (c *customerState) shouldContinue(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	limit := c.in.HistoryLimit
	if limit <= 0 {
		limit = CustomerContinueAsNewAfter
	}
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= limit
}

// apply takes one order milestone into the state; repeats change nothing.
func (c *customerState) apply(ctx workflow.Context, ev OrderEvent) {
	if ev.OrderID == "" {
		c.logger.Warn("order event without order id ignored", "Kind", ev.Kind)
		return
	}
	at := ev.At
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	switch ev.Kind {
	case OrderQuoted:
		i := slices.IndexFunc(c.c.Quotes, func(q OpenQuote) bool { return q.OrderID == ev.OrderID })
		if i >= 0 && c.c.Quotes[i].Revision >= ev.QuoteRevision {
			return // a repeat, or late
		}
		q := OpenQuote{OrderID: ev.OrderID, Revision: ev.QuoteRevision, QuotedAt: at, ValidUntil: ev.ValidUntil,
			Lines: ev.Lines, Total: ev.Total, PONumber: ev.PONumber}
		if i >= 0 {
			c.c.Quotes[i] = q // a revision: its own nudges
		} else {
			c.c.Quotes = append(c.c.Quotes, q)
			if len(c.c.Quotes) > maxOpenQuotes {
				c.c.Quotes = slices.Delete(c.c.Quotes, 0, 1)
			}
		}
	case OrderAccepted:
		c.dropQuote(ev.OrderID)
		if !c.c.Summary.AddOrder(ev.OrderID, at, ev.Lines, c.settings.MinInterval) {
			break
		}
		skus := make([]string, 0, len(ev.Lines))
		for _, l := range ev.Lines {
			skus = append(skus, l.SKU)
		}
		slices.Sort(skus)
		c.c.Open = append(c.c.Open, customer.OpenOrder{OrderID: ev.OrderID, SKUs: slices.Compact(skus)})
		if len(c.c.Open) > maxOpenOrders {
			c.c.Open = slices.Delete(c.c.Open, 0, 1)
		}
	case OrderCompleted, OrderEnded:
		c.dropQuote(ev.OrderID)
		c.c.Open = slices.DeleteFunc(c.c.Open, func(o customer.OpenOrder) bool { return o.OrderID == ev.OrderID })
	case OrderQuoteExpired, OrderQuoteRejected:
		c.dropQuote(ev.OrderID)
		if slices.Contains(c.c.Lost, ev.OrderID) || slices.ContainsFunc(c.lost, func(e OrderEvent) bool { return e.OrderID == ev.OrderID }) {
			return
		}
		ev.At = at
		c.lost = append(c.lost, ev)
	default:
		c.logger.Warn("order event of unknown kind ignored", "Kind", ev.Kind, "OrderID", ev.OrderID)
		return
	}
	c.dirty = true
}

func (c *customerState) dropQuote(orderID string) {
	c.c.Quotes = slices.DeleteFunc(c.c.Quotes, func(q OpenQuote) bool { return q.OrderID == orderID })
}

// act does what is due now: lost quotes' follow-ups, quote nudges,
// reorder reminders, the dormant alert.
func (c *customerState) act(ctx workflow.Context) {
	for len(c.lost) > 0 {
		ev := c.lost[0]
		c.lost = c.lost[1:]
		c.followUpLostQuote(ctx, ev)
	}
	s := c.settings
	for i := range c.c.Quotes {
		q := &c.c.Quotes[i]
		now := workflow.Now(ctx)
		due := 0
		for {
			at, ok := customer.NudgeAt(q.QuotedAt, q.ValidUntil, s.QuoteNudges, q.Nudged+due, QuoteReminderBefore)
			if !ok || at.After(now) {
				break
			}
			due++
		}
		if due == 0 {
			continue
		}
		// Nudges missed (the worker was down) are skipped: one mail, the latest.
		q.Nudged += due
		c.nudge(ctx, *q)
	}
	now := workflow.Now(ctx)
	if due := customer.DueReminders(c.c.Summary, c.c.Open, s.ReminderLead, now); len(due) > 0 {
		for _, r := range due {
			if p, ok := c.c.Summary.Product(r.SKU); ok {
				p.RemindedFor = r.Cycle // one reminder per cycle, whatever the claim decides
			}
		}
		c.c.Reminders++
		c.remind(ctx, due)
		c.dirty = true
	}
	now = workflow.Now(ctx)
	sum := &c.c.Summary
	if !sum.DormantNotified && customer.Dormant(*sum, now, s.DormantFactor, s.MinOrders) {
		at, _ := customer.DormantAt(*sum, s.DormantFactor, s.MinOrders)
		sum.DormantSince, sum.DormantNotified = at, true
		c.dirty = true
		c.alertDormant(ctx, now)
	}
}

// nextWake is the earliest of the next reminder, the dormant check and
// the next nudge (zero: nothing but the next order event), and sets what
// the workflow waits for in words.
func (c *customerState) nextWake(now time.Time) time.Time {
	s := c.settings
	var next time.Time
	var why string
	consider := func(at time.Time, what string) {
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next, why = at, what
		}
	}
	if at, sku, ok := customer.NextReminderAt(c.c.Summary, c.c.Open, s.ReminderLead, now); ok {
		p, _ := c.c.Summary.Product(sku)
		exp, _ := customer.ExpectedNext(*p)
		consider(at, fmt.Sprintf("the reorder reminder for %s at %s (its next order is expected %s)", sku, stamp(at), day(exp)))
	}
	if !c.c.Summary.DormantNotified {
		if at, ok := customer.DormantAt(c.c.Summary, s.DormantFactor, s.MinOrders); ok {
			// Dormant once the silence exceeds the threshold: a second past it.
			consider(at.Add(time.Second), fmt.Sprintf("the dormant check at %s, unless an order comes first", stamp(at)))
		}
	}
	for _, q := range c.c.Quotes {
		if at, ok := customer.NudgeAt(q.QuotedAt, q.ValidUntil, s.QuoteNudges, q.Nudged, QuoteReminderBefore); ok {
			consider(at, fmt.Sprintf("nudge %d of the quote for order %s at %s, unless the buyer answers first", q.Nudged+1, q.OrderID, stamp(at)))
		}
	}
	var b strings.Builder
	b.WriteString(fmt.Sprintf("Follows customer %s between orders: %d order(s) so far, %d open, %d quote(s) waiting for the buyer.",
		c.in.CustomerID, c.c.Summary.Orders, len(c.c.Open), len(c.c.Quotes)))
	if !c.c.Summary.DormantSince.IsZero() {
		b.WriteString(fmt.Sprintf(" Dormant since %s.", day(c.c.Summary.DormantSince)))
	}
	if next.IsZero() {
		b.WriteString(" Waits for the customer's next order or quote.")
	} else {
		b.WriteString(fmt.Sprintf(" Waits for %s.", why))
	}
	c.waiting = b.String()
	return next
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }

// marketing is how a marketing mail is sent: retried until the mail system
// takes it (the claim makes a retry harmless).
func marketing(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             summary,
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         untilSuccess,
	})
}

// sendMarketing sends a marketing mail and logs what was decided; a mail
// that cannot be sent for good (no purchaser address) is logged, and the
// workflow goes on.
func (c *customerState) sendMarketing(ctx workflow.Context, summary string, in activities.SendMarketingMailInput) {
	in.CustomerID = c.in.CustomerID
	in.Cap, in.Window, in.At = c.settings.FrequencyCap, c.settings.FrequencyWindow, workflow.Now(ctx)
	var res activities.SendMarketingMailResult
	if err := workflow.ExecuteActivity(marketing(ctx, summary), a.SendMarketingMail, in).Get(ctx, &res); err != nil {
		c.logger.Error("marketing mail not sent", "Kind", in.Kind, "Key", in.Key, "Error", err)
		return
	}
	c.logger.Info("marketing mail decided", "Kind", in.Kind, "Key", in.Key, "Sent", len(res.Sent),
		"OptedOut", len(res.OptedOut), "Capped", len(res.Capped))
}

// sendRep sends a rep mail of the customer workflow.
func (c *customerState) sendRep(ctx workflow.Context, summary string, in activities.SendCustomerRepMailInput) {
	in.CustomerID = c.in.CustomerID
	if err := workflow.ExecuteActivity(marketing(ctx, summary), a.SendCustomerRepMail, in).Get(ctx, nil); err != nil {
		c.logger.Error("rep mail not sent", "Kind", in.Kind, "Key", in.Key, "Error", err)
	}
}

// remind sends one reorder reminder for the products due.
func (c *customerState) remind(ctx workflow.Context, due []customer.Reminder) {
	products := make([]mail.ReorderProduct, len(due))
	lines := make([]order.Line, len(due))
	skus := make([]string, len(due))
	for i, r := range due {
		products[i] = mail.ReorderProduct{SKU: r.SKU, Quantity: r.Quantity, LastOrderAt: r.Cycle, ExpectedAt: r.Expected}
		lines[i] = order.Line{SKU: r.SKU, Quantity: r.Quantity}
		skus[i] = r.SKU
	}
	c.sendMarketing(ctx, "Reorder reminder: "+strings.Join(skus, ", "), activities.SendMarketingMailInput{
		Key: fmt.Sprintf("%s/reorder/%d", c.id, c.c.Reminders), Kind: mail.KindReorderReminder,
		Data:    mail.Data{Customer: &mail.CustomerData{CustomerID: c.in.CustomerID, Products: products}},
		Reorder: lines})
}

// nudge sends the quote's nudge number q.Nudged.
func (c *customerState) nudge(ctx workflow.Context, q OpenQuote) {
	products := make([]mail.ReorderProduct, len(q.Lines))
	for i, l := range q.Lines {
		products[i] = mail.ReorderProduct{SKU: l.SKU, Quantity: l.Quantity}
	}
	c.sendMarketing(ctx, fmt.Sprintf("Quote nudge %d for order %s", q.Nudged, q.OrderID), activities.SendMarketingMailInput{
		Key:     fmt.Sprintf("%s/nudge/%s/%d/%d", c.id, q.OrderID, q.Revision, q.Nudged),
		Kind:    mail.KindQuoteNudge,
		OrderID: q.OrderID,
		Data: mail.Data{PONumber: q.PONumber,
			Quote:    &order.Quote{Revision: q.Revision, Total: q.Total, ValidUntil: q.ValidUntil},
			Customer: &mail.CustomerData{CustomerID: c.in.CustomerID, Products: products, Nudge: q.Nudged}}})
}

// alertDormant tells the rep, with the customer's recent history, and
// sends the customer one "we miss you" mail for this dormancy.
func (c *customerState) alertDormant(ctx workflow.Context, now time.Time) {
	sum := c.c.Summary
	recent := recentProducts(sum, 10)
	cd := mail.CustomerData{CustomerID: c.in.CustomerID, Products: recent, Orders: sum.Orders, LastOrderAt: sum.LastOrderAt,
		UsualInterval: customer.Median(sum.Intervals), Silence: now.Sub(sum.LastOrderAt),
		RecentOrderDates: recentOrderDates(sum)}
	stampKey := sum.DormantSince.UTC().Format("20060102T150405")
	c.sendRep(ctx, "Dormant customer: alert the rep", activities.SendCustomerRepMailInput{
		Key: c.id + "/dormant/" + stampKey, Kind: mail.KindRepDormant, Data: mail.Data{Customer: &cd}})
	lines := make([]order.Line, len(recent))
	for i, p := range recent {
		lines[i] = order.Line{SKU: p.SKU, Quantity: p.Quantity}
	}
	miss := cd
	c.sendMarketing(ctx, "We miss you", activities.SendMarketingMailInput{
		Key: c.id + "/we-miss-you/" + stampKey, Kind: mail.KindWeMissYou, Data: mail.Data{Customer: &miss}, Reorder: lines})
}

// winBack sends the "we miss you" mail a rep asked for, at once, whether
// or not the customer is dormant or had one for this dormancy; the claim
// of SendMarketingMail still refuses opted-out contacts and holds the
// frequency cap. Who asked is in the mail's key and the log; the API
// audits the request on the customer's chain.
func (c *customerState) winBack(ctx workflow.Context, in WinBackInput) {
	if in.RequestID == "" {
		c.logger.Warn("win-back request without request id ignored", "RequestedBy", in.RequestedBy.Subject)
		return
	}
	now := workflow.Now(ctx)
	sum := c.c.Summary
	recent := recentProducts(sum, 10)
	cd := mail.CustomerData{CustomerID: c.in.CustomerID, Products: recent, Orders: sum.Orders, LastOrderAt: sum.LastOrderAt,
		UsualInterval: customer.Median(sum.Intervals), RecentOrderDates: recentOrderDates(sum)}
	if !sum.LastOrderAt.IsZero() {
		cd.Silence = now.Sub(sum.LastOrderAt)
	}
	lines := make([]order.Line, len(recent))
	for i, p := range recent {
		lines[i] = order.Line{SKU: p.SKU, Quantity: p.Quantity}
	}
	c.logger.Info("win-back mail asked for", "RequestedBy", in.RequestedBy.Subject, "Reason", in.Reason)
	c.sendMarketing(ctx, "We miss you, asked for by "+in.RequestedBy.Subject, activities.SendMarketingMailInput{
		Key: c.id + "/win-back/" + in.RequestID, Kind: mail.KindWeMissYou, Data: mail.Data{Customer: &cd}, Reorder: lines})
}

// followUpLostQuote opens the rep's follow-up of an expired or rejected
// quote. The rep hears of it from the order's own mail (quote-rejected,
// quote-expired), which names the follow-up: one mail, not two.
func (c *customerState) followUpLostQuote(ctx workflow.Context, ev OrderEvent) {
	reason := "expired unanswered on " + day(ev.At)
	if ev.Kind == OrderQuoteRejected {
		reason = "rejected"
		if ev.Actor.Subject != "" {
			reason += " by " + ev.Actor.Subject
		}
		if ev.Reason != "" {
			reason += ": " + ev.Reason
		}
	}
	err := workflow.ExecuteActivity(ownDatabase(ctx, "Open the rep's follow-up of the lost quote of "+ev.OrderID),
		a.OpenQuoteLostFollowUp, activities.OpenQuoteLostFollowUpInput{OrderID: ev.OrderID, CustomerID: c.in.CustomerID,
			Reason: reason, At: ev.At}).Get(ctx, nil)
	if err != nil {
		c.logger.Error("quote-lost follow-up not opened", "OrderID", ev.OrderID, "Error", err)
	}
	c.c.Lost = append(c.c.Lost, ev.OrderID)
	if len(c.c.Lost) > maxLost {
		c.c.Lost = slices.Delete(c.c.Lost, 0, 1)
	}
}

// recordInsight writes the rep's view of the customer (a local activity;
// a failure is logged: the next write carries everything).
func (c *customerState) recordInsight(ctx workflow.Context) {
	c.dirty = false
	sum := c.c.Summary
	in := activities.RecordCustomerInsightInput{CustomerID: c.in.CustomerID, Orders: sum.Orders, LastOrderAt: sum.LastOrderAt,
		UsualInterval: customer.Median(sum.Intervals), OpenQuotes: len(c.c.Quotes), DormantSince: sum.DormantSince}
	if at, sku, ok := customer.NextExpected(sum); ok {
		in.NextExpectedAt, in.NextExpectedSKU = at, sku
	}
	if c.written != nil && *c.written == in {
		// What the rep sees is unchanged (an order completed, a nudge
		// went out): no write, no marker in the history.
		return
	}
	written := in
	c.written = &written
	c.c.Insights++
	in.Version, in.At = c.c.Insights, workflow.Now(ctx)
	err := workflow.ExecuteLocalActivity(localDatabase(ctx, "Record the customer insight"), a.RecordCustomerInsight, in).Get(ctx, nil)
	if err != nil {
		c.logger.Error("customer insight not recorded", "Error", err)
		c.written = nil // the next change writes it all again
	}
}

// recentProducts are up to n products, most recently ordered first.
func recentProducts(s customer.Summary, n int) []mail.ReorderProduct {
	ps := slices.Clone(s.Products)
	slices.SortStableFunc(ps, func(a, b customer.Product) int { return b.LastOrderAt.Compare(a.LastOrderAt) })
	out := make([]mail.ReorderProduct, 0, min(n, len(ps)))
	for _, p := range ps[:min(n, len(ps))] {
		out = append(out, mail.ReorderProduct{SKU: p.SKU, Quantity: p.TypicalQuantity(), LastOrderAt: p.LastOrderAt})
	}
	return out
}

// recentOrderDates are the dates of the customer's last orders, oldest
// first, worked back from the last order through the kept intervals.
func recentOrderDates(s customer.Summary) []time.Time {
	if s.LastOrderAt.IsZero() {
		return nil
	}
	out := []time.Time{s.LastOrderAt}
	at := s.LastOrderAt
	for i := len(s.Intervals) - 1; i >= 0; i-- {
		at = at.Add(-s.Intervals[i])
		out = append(out, at)
	}
	slices.Reverse(out)
	return out
}
