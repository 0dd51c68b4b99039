package workflows_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// customerStart is day 0 of the customer tests.
var customerStart = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

func cday(n float64) time.Duration { return time.Duration(n * float64(customer.Day)) }

// customerWorld runs a customer workflow in the testsuite with its
// activities faked: it keeps what they were asked.
type customerWorld struct {
	t         *testing.T
	env       *testsuite.TestWorkflowEnvironment
	mu        sync.Mutex
	marketing []activities.SendMarketingMailInput
	rep       []activities.SendCustomerRepMailInput
	followups []activities.OpenQuoteLostFollowUpInput
	insights  []activities.RecordCustomerInsightInput
	// optedOut makes every marketing claim answer "opted out".
	optedOut bool
}

func newCustomerWorld(t *testing.T, s customer.Settings) *customerWorld {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.CustomerWorkflow, workflow.RegisterOptions{Name: workflows.CustomerWorkflowName})
	env.RegisterActivity(a)
	env.RegisterActivity(&activities.CustomerSettingsLoader{Settings: s})
	env.SetStartTime(customerStart)
	w := &customerWorld{t: t, env: env}
	env.OnActivity(a.SendMarketingMail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendMarketingMailInput) (activities.SendMarketingMailResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.marketing = append(w.marketing, in)
			if w.optedOut {
				return activities.SendMarketingMailResult{OptedOut: []string{"purchasing@acme.example"}}, nil
			}
			return activities.SendMarketingMailResult{Sent: []string{"purchasing@acme.example"}}, nil
		})
	env.OnActivity(a.SendCustomerRepMail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendCustomerRepMailInput) (activities.SendCustomerRepMailResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.rep = append(w.rep, in)
			return activities.SendCustomerRepMailResult{To: []string{"anna.rep@seller.example"}}, nil
		})
	env.OnActivity(a.OpenQuoteLostFollowUp, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OpenQuoteLostFollowUpInput) (activities.OpenQuoteLostFollowUpResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.followups = append(w.followups, in)
			return activities.OpenQuoteLostFollowUpResult{FollowUpID: int64(len(w.followups)), Created: true}, nil
		})
	env.OnActivity(a.RecordCustomerInsight, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordCustomerInsightInput) (activities.RecordCustomerInsightResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.insights = append(w.insights, in)
			return activities.RecordCustomerInsightResult{}, nil
		})
	return w
}

// event signals an order event at day d (its At is then).
func (w *customerWorld) event(d float64, ev workflows.OrderEvent) {
	w.env.RegisterDelayedCallback(func() {
		ev.At = customerStart.Add(cday(d))
		w.env.SignalWorkflow(workflows.SignalOrderEvent, ev)
	}, cday(d))
}

// order is an order of lines accepted at day d and completed at day done
// (never when done is 0).
func (w *customerWorld) order(id string, d, done float64, lines ...order.Line) {
	w.event(d, workflows.OrderEvent{OrderID: id, Kind: workflows.OrderAccepted, Lines: lines})
	if done > 0 {
		w.event(done, workflows.OrderEvent{OrderID: id, Kind: workflows.OrderCompleted, Lines: lines})
	}
}

// runUntil runs the workflow until day d, when it is cancelled (it never
// ends by itself), and returns what ended it.
func (w *customerWorld) runUntil(d float64, in workflows.CustomerInput) error {
	w.env.RegisterDelayedCallback(func() { w.env.CancelWorkflow() }, cday(d))
	w.env.ExecuteWorkflow(workflows.CustomerWorkflowName, in)
	require.True(w.t, w.env.IsWorkflowCompleted())
	return w.env.GetWorkflowError()
}

func (w *customerWorld) mails(kind mail.Kind) []activities.SendMarketingMailInput {
	var out []activities.SendMarketingMailInput
	for _, m := range w.marketing {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (w *customerWorld) repMails(kind mail.Kind) []activities.SendCustomerRepMailInput {
	var out []activities.SendCustomerRepMailInput
	for _, m := range w.rep {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func gloves(q int64) order.Line { return order.Line{SKU: "GLOVES-L", Quantity: q} }
func bolts(q int64) order.Line  { return order.Line{SKU: "BOLT-M8", Quantity: q} }

var acme = workflows.CustomerInput{CustomerID: "ACME-001"}

func TestCustomerRemindsBeforeTheExpectedReorder(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 3, gloves(10), bolts(500))
	w.order("o2", 30, 33, gloves(12))
	w.order("o3", 60, 63, gloves(11))
	var details string
	w.env.RegisterDelayedCallback(func() {
		v, err := w.env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, v.Get(&md))
		details = md.GetCurrentDetails()
	}, cday(70))
	err := w.runUntil(88, acme)
	require.Error(t, err, "cancelled")

	got := w.mails(mail.KindReorderReminder)
	require.Len(t, got, 1, "one reminder for the gloves (three purchases make a rhythm); the bolts were ordered once")
	r := got[0]
	require.Equal(t, customerStart.Add(cday(85)), r.At, "5 days before the expected order on day 90")
	require.Equal(t, []order.Line{gloves(11)}, r.Reorder, "the typical quantity, median of 10, 12 and 11")
	require.Equal(t, "customer-ACME-001/reorder/1", r.Key)
	require.Equal(t, "ACME-001", r.CustomerID)
	require.Equal(t, 1, r.Cap)
	require.Equal(t, customerStart.Add(cday(90)), r.Data.Customer.Products[0].ExpectedAt)
	require.Empty(t, w.rep, "not dormant before day 120")
	require.Contains(t, details, "Waits for the reorder reminder for GLOVES-L at 2030-03-27 09:00 UTC (its next order is expected 2030-04-01)",
		"the Temporal UI says what the customer waits for")
	require.Contains(t, details, "3 order(s) so far, 0 open")

	// The rep's view learnt the rhythm.
	last := w.insights[len(w.insights)-1]
	require.Equal(t, 3, last.Orders)
	require.Equal(t, customerStart.Add(cday(90)), last.NextExpectedAt)
	require.Equal(t, "GLOVES-L", last.NextExpectedSKU)
	require.Equal(t, cday(30), last.UsualInterval)
}

func TestCustomerSendsNoReminderWhileAnOrderForTheProductIsOpen(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 3, gloves(10))
	w.order("o2", 25, 28, gloves(10))
	w.order("o3", 50, 53, gloves(10))
	// The fourth order is accepted on day 68, before the reminder of day
	// 70, and stays open (a long delivery) past its own cycle's reminder
	// on day 88 (intervals 25, 25, 18: expected day 93).
	w.order("o4", 68, 0, gloves(10))
	// Something else wakes the workflow after the reminder's time.
	w.event(92, workflows.OrderEvent{OrderID: "q", Kind: workflows.OrderQuoted, QuoteRevision: 1})
	w.event(100, workflows.OrderEvent{OrderID: "o4", Kind: workflows.OrderCompleted})
	require.Error(t, w.runUntil(105, acme))

	got := w.mails(mail.KindReorderReminder)
	require.Len(t, got, 1, "no reminder while o4 was open, one once it completed")
	require.Equal(t, customerStart.Add(cday(100)), got[0].At)
}

func TestCustomerGoneQuietAlertsTheRepAndMissesThemOnce(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 2, bolts(500))
	w.order("o2", 30, 32, bolts(500))
	w.order("o3", 60, 62, bolts(400))
	// Dormant past day 60 + 2 × 30 = 120. Then silence for months: one
	// alert and one mail, not a series.
	require.Error(t, w.runUntil(400, acme))

	alerts := w.repMails(mail.KindRepDormant)
	require.Len(t, alerts, 1)
	cd := alerts[0].Data.Customer
	require.Equal(t, 3, cd.Orders)
	require.Equal(t, cday(30), cd.UsualInterval)
	require.Equal(t, "60 days", cd.SilenceText(), "silence since day 60, told a second past day 120")
	require.Equal(t, []time.Time{customerStart, customerStart.Add(cday(30)), customerStart.Add(cday(60))}, cd.RecentOrderDates)
	require.Equal(t, "BOLT-M8", cd.Products[0].SKU)
	miss := w.mails(mail.KindWeMissYou)
	require.Len(t, miss, 1)
	require.True(t, miss[0].At.After(customerStart.Add(cday(120))) && miss[0].At.Before(customerStart.Add(cday(121))), "at %s", miss[0].At)
	require.Equal(t, []order.Line{bolts(500)}, miss[0].Reorder, "the usual products, ready to reorder")
	require.Len(t, w.mails(mail.KindReorderReminder), 1, "the bolts' reminder of day 85 (three purchases make the rhythm), none after")

	ins := w.insights[len(w.insights)-1]
	require.Equal(t, customerStart.Add(cday(120)), ins.DormantSince)
}

func TestCustomerDormancyEndsWithAnOrderAndMayComeAgain(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 2, bolts(500))
	w.order("o2", 30, 32, bolts(500))
	w.order("o3", 60, 62, bolts(500))
	w.order("o4", 200, 202, bolts(500)) // back after the alert on day 120
	// Intervals 30, 30, 140: median 30, dormant again after day 260.
	require.Error(t, w.runUntil(300, acme))
	alerts := w.repMails(mail.KindRepDormant)
	require.Len(t, alerts, 2, "one per dormancy")
	require.NotEqual(t, alerts[0].Key, alerts[1].Key)
	require.Len(t, w.mails(mail.KindWeMissYou), 2)
}

func TestCustomerNudgesAnUnansweredQuoteThenFollowsUpItsExpiry(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	valid := customerStart.Add(cday(14))
	w.event(0, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: valid,
		Lines: []order.Line{gloves(5)}, Total: eur(5_000), PONumber: "PO-9"})
	// q2 is answered the next day: no nudge.
	w.event(0, workflows.OrderEvent{OrderID: "q2", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: valid, Lines: []order.Line{bolts(1)}})
	w.event(1, workflows.OrderEvent{OrderID: "q2", Kind: workflows.OrderAccepted, Lines: []order.Line{bolts(1)}})
	// q3 is rejected on day 3 with a reason.
	w.event(0, workflows.OrderEvent{OrderID: "q3", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: valid, Lines: []order.Line{bolts(2)}})
	w.event(3, workflows.OrderEvent{OrderID: "q3", Kind: workflows.OrderQuoteRejected, Reason: "too expensive",
		Actor: order.Actor{Subject: "pat@acme", Role: order.RoleBuyer}})
	w.event(14, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoteExpired, QuoteRevision: 1, ValidUntil: valid, Total: eur(5_000)})
	require.Error(t, w.runUntil(20, acme))

	var nudges []activities.SendMarketingMailInput
	for _, n := range w.mails(mail.KindQuoteNudge) {
		require.NotEqual(t, "q2", n.OrderID, "the quote answered the next day is not nudged")
		if n.OrderID == "q1" {
			nudges = append(nudges, n)
		}
	}
	require.Len(t, w.mails(mail.KindQuoteNudge), 3, "q1 on days 2 and 5, q3 on day 2 before it was rejected")
	require.Len(t, nudges, 2, "after 2 and 5 days")
	for i, d := range []float64{2, 5} {
		require.Equal(t, "q1", nudges[i].OrderID)
		require.Equal(t, customerStart.Add(cday(d)), nudges[i].At)
		require.Equal(t, 1, nudges[i].Data.Quote.Revision)
		require.Equal(t, "PO-9", nudges[i].Data.PONumber)
	}
	require.NotEqual(t, nudges[0].Key, nudges[1].Key)

	require.Len(t, w.followups, 2)
	require.Equal(t, "q3", w.followups[0].OrderID)
	require.Equal(t, "rejected by pat@acme: too expensive", w.followups[0].Reason)
	require.Equal(t, "q1", w.followups[1].OrderID)
	require.Equal(t, "expired unanswered on "+valid.Format("2006-01-02"), w.followups[1].Reason)
	require.Empty(t, w.rep, "the rep hears of a lost quote from the order's own mail, which names the follow-up")
}

func TestCustomerRevisionRestartsTheNudgesAndAnswersStopThem(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	valid := customerStart.Add(cday(30))
	w.event(0, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: valid})
	w.event(3, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoted, QuoteRevision: 2, ValidUntil: valid})
	w.event(3.5, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: valid}) // late repeat
	w.event(6, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderAccepted, Lines: []order.Line{bolts(1)}})
	require.Error(t, w.runUntil(20, acme))
	var at []time.Time
	for _, n := range w.mails(mail.KindQuoteNudge) {
		at = append(at, n.At)
	}
	require.Equal(t, []time.Time{customerStart.Add(cday(2)), customerStart.Add(cday(5))}, at,
		"revision 1 nudged on day 2, revision 2 on day 5 (3 + 2); its second nudge (day 8) never came: accepted on day 6")
	require.Empty(t, w.followups)
}

func TestCustomerOptedOutGetsNoSecondTry(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.optedOut = true
	w.order("o1", 0, 3, gloves(10))
	w.order("o2", 30, 33, gloves(10))
	w.order("o3", 60, 63, gloves(10))
	require.Error(t, w.runUntil(89, acme))
	// The claim said "opted out": the activity sent nothing (and audited
	// it, activities.TestSendMarketingMailHonoursAnOptOut); the workflow
	// takes the cycle's reminder as decided and does not try again.
	require.Len(t, w.mails(mail.KindReorderReminder), 1)
}

func TestCustomerIgnoresRepeatedSignals(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 3, gloves(10))
	w.event(1, workflows.OrderEvent{OrderID: "o1", Kind: workflows.OrderAccepted, Lines: []order.Line{gloves(10)}})
	w.order("o2", 30, 33, gloves(10))
	require.Error(t, w.runUntil(40, acme))
	last := w.insights[len(w.insights)-1]
	require.Equal(t, 2, last.Orders, "a repeated accepted signal is one order")
}

func TestCustomerSettingsComeFromTheWorker(t *testing.T) {
	t.Parallel()
	s := customer.DefaultSettings()
	s.ReminderLead = cday(1)
	s.QuoteNudges = nil
	w := newCustomerWorld(t, s)
	w.order("o1", 0, 3, gloves(10))
	w.order("o2", 30, 33, gloves(10))
	w.order("o3", 60, 63, gloves(10))
	w.event(61, workflows.OrderEvent{OrderID: "q", Kind: workflows.OrderQuoted, QuoteRevision: 1, ValidUntil: customerStart.Add(cday(90))})
	require.Error(t, w.runUntil(90, acme))
	got := w.mails(mail.KindReorderReminder)
	require.Len(t, got, 1)
	require.Equal(t, customerStart.Add(cday(89)), got[0].At, "a lead of one day")
	require.Empty(t, w.mails(mail.KindQuoteNudge), "no nudges configured")
}

func TestCustomerContinuesAsNewWithItsSummaryAndGoesOnReminding(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.env.SetCurrentHistoryLength(10)
	w.order("o1", 0, 3, gloves(10), bolts(100))
	w.order("oG", 15, 18, gloves(11))
	w.order("o2", 30, 33, gloves(12), bolts(100))
	w.event(31, workflows.OrderEvent{OrderID: "q1", Kind: workflows.OrderQuoted, QuoteRevision: 1,
		ValidUntil: customerStart.Add(cday(50)), Lines: []order.Line{bolts(3)}})
	// The history reaches the limit on day 33.5; the run continues at its
	// next wake, o3's acceptance on day 34, which it takes along open.
	w.env.RegisterDelayedCallback(func() { w.env.SetCurrentHistoryLength(60) }, cday(33.5))
	w.order("o3", 34, 0, bolts(50))
	in := acme
	in.HistoryLimit = 50
	w.env.RegisterDelayedCallback(func() { w.env.CancelWorkflow() }, cday(100))
	w.env.ExecuteWorkflow(workflows.CustomerWorkflowName, in)
	require.True(t, w.env.IsWorkflowCompleted())
	var cont *workflow.ContinueAsNewError
	require.ErrorAs(t, w.env.GetWorkflowError(), &cont, "a history at its limit continues as new")
	var next workflows.CustomerInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(cont.Input, &next))
	require.Equal(t, "ACME-001", next.CustomerID)
	require.Equal(t, 50, next.HistoryLimit)
	c := next.Resume
	require.NotNil(t, c)
	require.Equal(t, 1, c.Run)
	require.Equal(t, 4, c.Summary.Orders)
	g, ok := c.Summary.Product("GLOVES-L")
	require.True(t, ok)
	require.Equal(t, []time.Duration{cday(15), cday(15)}, g.Intervals)
	require.Equal(t, []int64{10, 11, 12}, g.Quantities)
	require.Equal(t, []customer.OpenOrder{{OrderID: "o3", SKUs: []string{"BOLT-M8"}}}, c.Open)
	require.Len(t, c.Quotes, 1)
	require.Equal(t, 1, c.Quotes[0].Nudged, "the nudge of day 33 went out in the first run")
	require.Empty(t, w.mails(mail.KindReorderReminder), "nothing due before day 40")

	// The next run picks up where the first left: the quote's second
	// nudge on day 36 (31 + 5), the gloves' reminder on day 40 (expected
	// on day 45), and no reminder for the bolts while o3 is open.
	w2 := newCustomerWorld(t, customer.DefaultSettings())
	w2.env.SetStartTime(customerStart.Add(cday(34)))
	w2.env.RegisterDelayedCallback(func() { w2.env.CancelWorkflow() }, cday(20))
	w2.env.ExecuteWorkflow(workflows.CustomerWorkflowName, next)
	require.Error(t, w2.env.GetWorkflowError())
	got := w2.mails(mail.KindReorderReminder)
	require.Len(t, got, 1)
	require.Equal(t, customerStart.Add(cday(40)), got[0].At)
	require.Equal(t, []order.Line{gloves(11)}, got[0].Reorder)
	require.Equal(t, "customer-ACME-001/reorder/1", got[0].Key)
	nudges := w2.mails(mail.KindQuoteNudge)
	require.Len(t, nudges, 1)
	require.Equal(t, customerStart.Add(cday(36)), nudges[0].At)
	require.Equal(t, "customer-ACME-001/nudge/q1/1/2", nudges[0].Key)
	require.True(t, slices.IndexFunc(w2.insights, func(i activities.RecordCustomerInsightInput) bool { return i.Version <= c.Insights }) < 0,
		"the insight versions go on from the run before")
}

// winBack signals the rep's request for a win-back mail at day d.
func (w *customerWorld) winBack(d float64, in workflows.WinBackInput) {
	w.env.RegisterDelayedCallback(func() { w.env.SignalWorkflow(workflows.SignalWinBack, in) }, cday(d))
}

func TestCustomerSendsTheWinBackTheRepAsksFor(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 0, 2, bolts(500))
	w.order("o2", 30, 32, bolts(500))
	w.order("o3", 60, 62, bolts(400))
	// Dormant past day 120, one we-miss-you then; the rep asks for another
	// on day 200, and a repeat of that request changes nothing.
	rep := order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep}
	w.winBack(200, workflows.WinBackInput{RequestID: "req-1", RequestedBy: rep, Reason: "new price list"})
	w.winBack(200.5, workflows.WinBackInput{RequestID: "req-1", RequestedBy: rep, Reason: "new price list"})
	require.Error(t, w.runUntil(260, acme))

	miss := w.mails(mail.KindWeMissYou)
	require.Len(t, miss, 3, "the dormancy's mail, then one per signal")
	asked := miss[1]
	require.Equal(t, customerStart.Add(cday(200)), asked.At, "sent at once")
	require.Equal(t, "customer-ACME-001/win-back/req-1", asked.Key)
	require.Equal(t, miss[1].Key, miss[2].Key, "a repeated request claims the same key: no contact is mailed twice")
	require.Equal(t, []order.Line{bolts(500)}, asked.Reorder)
	require.Equal(t, 3, asked.Data.Customer.Orders)
	require.Equal(t, 1, w.mails(mail.KindWeMissYou)[0].Cap, "the frequency cap goes with it")
	require.Len(t, w.repMails(mail.KindRepDormant), 1, "no second alert")
}

func TestCustomerWinBackToAnOptedOutContactSendsNone(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.optedOut = true
	w.order("o1", 0, 2, bolts(500))
	w.winBack(10, workflows.WinBackInput{RequestID: "req-1",
		RequestedBy: order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep}})
	require.Error(t, w.runUntil(20, acme))
	// The request went through the marketing-mail activity, whose claim
	// answered "opted out" (activities.TestSendMarketingMailHonoursAnOptOut):
	// nothing sent, and the workflow does not try again.
	miss := w.mails(mail.KindWeMissYou)
	require.Len(t, miss, 1)
	require.Equal(t, "customer-ACME-001/win-back/req-1", miss[0].Key)
}

// A change of the worker's customer settings reaches a running customer
// workflow at its first wake a day after it last read them, not only at
// its next continue-as-new.
func TestCustomerTakesNewSettingsWithinADay(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	var mu sync.Mutex
	current := customer.DefaultSettings()
	reads := 0
	w.env.OnActivity("LoadCustomerSettings", mock.Anything, mock.Anything).Return(
		func(context.Context, activities.LoadCustomerSettingsInput) (activities.LoadCustomerSettingsResult, error) {
			mu.Lock()
			defer mu.Unlock()
			reads++
			return activities.LoadCustomerSettingsResult{Settings: current}, nil
		})
	w.order("o1", 0, 3, gloves(10))
	w.order("o2", 30, 33, gloves(10))
	w.env.RegisterDelayedCallback(func() {
		mu.Lock()
		defer mu.Unlock()
		current.ReminderLead = cday(10) // the operator lengthens the lead on day 40
	}, cday(40))
	w.order("o3", 60, 63, gloves(10))
	require.Error(t, w.runUntil(89, acme))

	got := w.mails(mail.KindReorderReminder)
	require.Len(t, got, 1)
	require.Equal(t, customerStart.Add(cday(80)), got[0].At, "ten days before the order expected on day 90: the new lead")
	mu.Lock()
	defer mu.Unlock()
	require.Less(t, reads, 10, "read at the start and at most once a day after, not at every wake")
}

// The rep's insight is written when what the rep sees changes, not at
// every signal: an order completing changes nothing there, so it costs
// the customer's history no marker.
func TestCustomerWritesTheInsightOnlyWhenItChanges(t *testing.T) {
	t.Parallel()
	w := newCustomerWorld(t, customer.DefaultSettings())
	w.order("o1", 1, 3, gloves(10))
	require.Error(t, w.runUntil(5, acme))
	require.Len(t, w.insights, 2, "the run's first insight, then the accepted order; its completion changes nothing")
	require.Equal(t, 1, w.insights[1].Orders)
	require.Equal(t, int64(2), w.insights[1].Version)
}
