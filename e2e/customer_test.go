package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

var (
	reorderLinkRE     = regexp.MustCompile(`http://\S+/reorder/[A-Za-z0-9_.-]+`)
	unsubscribeLinkRE = regexp.MustCompile(`http://\S+/unsubscribe/[A-Za-z0-9_.-]+`)
)

// The customer settings of TestCustomerBetweenOrders: seconds where
// production has days. The orders come rhythm apart, so the reminder is
// due reminderLead before the next expected order and the customer is
// dormant 2 × rhythm after its last order; the frequency window is shorter
// than the gap between the reminder and the we-miss-you mail, so the cap
// lets both through.
const (
	reminderLead    = 2 * time.Second
	frequencyWindow = 3 * time.Second
	// customerHistoryLimit makes the customer workflow continue as new
	// while its three orders come in.
	customerHistoryLimit = 25
)

// Issue 12, acceptance: three orders of one customer at a regular rhythm,
// then silence. The customer workflow (started here with a low history
// limit, so it continues as new on the way) sends each purchaser a reorder
// reminder with the usual quantity before the next expected order, then,
// past twice the rhythm, the rep a dormant-customer alert and the
// purchasers a we-miss-you mail. The reminder's reorder link opens a
// pre-filled quote request whose POST makes a new order with the reminded
// lines; its unsubscribe link opts the purchaser out, and that
// purchaser's we-miss-you mail is suppressed and audited while the other
// purchaser gets it.
//
// Not parallel: the settings reach the worker only through the
// environment (config.FromEnv in devstack.Start), and t.Setenv is
// refused in a parallel test.
func TestCustomerBetweenOrders(t *testing.T) {
	t.Setenv("ORDERFLOW_CUSTOMER_REMINDER_LEAD", reminderLead.String())
	t.Setenv("ORDERFLOW_CUSTOMER_DORMANT_FACTOR", "2")
	t.Setenv("ORDERFLOW_CUSTOMER_FREQUENCY_CAP", "1")
	t.Setenv("ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW", frequencyWindow.String())
	t.Setenv("ORDERFLOW_CUSTOMER_QUOTE_NUDGES", "none")
	t.Setenv("ORDERFLOW_CUSTOMER_MIN_INTERVAL", "1s") // the orders are seconds apart
	x := start(t)
	ctx := context.Background()
	const (
		customerID = "ACME-001"
		sku        = "VALVE-50"
		first      = "purchasing@acme.example"
		second     = "lena@acme.example"
	)
	wfID := workflows.CustomerWorkflowID(customerID)

	// Acme has two purchasers: each gets its own marketing mails.
	admin := order.Actor{Subject: "sales-admin@seller", Role: order.RoleSalesAdmin}
	a := x.as(admin, http.MethodPut, "/v1/customers/"+customerID+"/contacts", map[string]any{"contacts": []order.Contact{
		{Name: "Purchasing", Email: first, Roles: []order.ContactRole{order.ContactPurchaser}},
		{Name: "Lena", Email: second, Roles: []order.ContactRole{order.ContactPurchaser}},
		{Name: "Carla Fischer (CFO)", Email: "cfo@acme.example", Roles: []order.ContactRole{order.ContactApprover}},
	}})
	require.Equal(t, http.StatusOK, a.status, "contacts: %s", a.body)

	// The customer workflow as an order's first milestone would start it,
	// with a history limit low enough to continue as new on the way.
	run, err := x.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: workflows.TaskQueue},
		workflows.CustomerWorkflowName, workflows.CustomerInput{CustomerID: customerID, HistoryLimit: customerHistoryLimit})
	require.NoError(t, err)
	firstRun := run.GetRunID()

	// Three quotes, accepted rhythm apart. Order 1 completes before order
	// 2 is accepted; order 2 stays open until order 3 is accepted, so no
	// reminder is due before the third order; 2 and 3 then complete.
	ids := []string{
		x.createQuote("e2e-customer-1", order.Line{SKU: sku, Quantity: 2}),
		x.createQuote("e2e-customer-2", order.Line{SKU: sku, Quantity: 3}),
		x.createQuote("e2e-customer-3", order.Line{SKU: sku, Quantity: 2}),
	}
	t1 := x.acceptAt(ids[0], time.Now())
	x.complete(ids[0])
	// The rhythm leaves room for orders 2 and 3 to complete before the
	// reminder is due, rhythm − reminderLead after order 3.
	took := time.Since(t1)
	rhythm := max(5*time.Second, 2*took+reminderLead)
	t.Logf("order 1 took %s from acceptance to completion; rhythm %s", took.Round(time.Millisecond), rhythm)
	x.acceptAt(ids[1], t1.Add(rhythm))
	t3 := x.acceptAt(ids[2], t1.Add(2*rhythm))
	x.complete(ids[1])
	x.complete(ids[2])

	// The reorder reminder, one per purchaser, with the usual quantity
	// (the median of 2, 3, 2) and before the next expected order.
	reminders := x.waitMarketing(customerID, "reorder-reminder", first, second)
	require.Less(t, time.Since(t3), rhythm+time.Second, "the reminder comes before the next expected order")
	for _, m := range reminders {
		require.Regexp(t, sku+`\s+2\s`, m.Text, "the usual quantity: %s", m.Text)
	}

	// The second purchaser's reorder link: a page with the reminded line,
	// and its POST a new order with it.
	reorder := reorderLinkRE.FindString(reminders[second].Text)
	require.NotEmpty(t, reorder, "a reorder link in: %s", reminders[second].Text)
	page := x.call(http.MethodGet, reorder, "", nil, nil)
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	require.Contains(t, string(page.body), sku)
	require.Regexp(t, `name="quantity"[^>]*value="2"|value="2"[^>]*name="quantity"`, string(page.body), "pre-filled with the usual quantity")
	noFollow := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(reorder, url.Values{"quantity": {"2"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), x.s.APIURL+"/o/", "to the new order's page")
	newID := x.newOrder(customerID, ids)
	o := x.api(http.MethodGet, "/v1/orders/"+newID+"?live=true", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, o.status, "%s", o.body)
	var got struct {
		CustomerID string `json:"customer_id"`
		Live       struct {
			Quote struct {
				Lines []order.Line `json:"lines"`
			} `json:"quote"`
		} `json:"live"`
	}
	require.NoError(t, json.Unmarshal(o.body, &got), "%s", o.body)
	require.Equal(t, customerID, got.CustomerID)
	require.Equal(t, []order.Line{{SKU: sku, Quantity: 2}}, linesOf(got.Live.Quote.Lines), "the reminded line: %s", o.body)
	// The same form again is the same order, not a second one.
	resp, err = noFollow.PostForm(reorder, url.Values{"quantity": {"2"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, newID, x.newOrder(customerID, ids))

	// The first purchaser's unsubscribe link opts them out, at once.
	unsub := unsubscribeLinkRE.FindString(reminders[first].Text)
	require.NotEmpty(t, unsub, "an unsubscribe link in: %s", reminders[first].Text)
	page = x.call(http.MethodGet, unsub, "", nil, nil)
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	require.Contains(t, string(page.body), first)
	x.waitCustomerAudit(customerID, "marketing.opted-out", first)

	// Silence past twice the rhythm: the rep's alert, the second
	// purchaser's we-miss-you mail; the first purchaser's is suppressed.
	alert := x.waitMail(mailsink.Filter{OrderID: wfID, Kind: "rep-dormant-customer"})
	require.Equal(t, []string{"anna.rep@seller.example"}, alert.To, "to Acme's rep")
	require.Greater(t, time.Since(t3), 2*rhythm, "dormant only after twice the usual interval")
	require.Contains(t, alert.Text, "Orders so far:   3")
	require.Contains(t, alert.Text, sku)
	miss := x.waitMarketing(customerID, "we-miss-you", second)
	require.Regexp(t, reorderLinkRE, miss[second].Text)
	x.waitCustomerAudit(customerID, "marketing.suppressed", "we-miss-you mail to "+first+" not sent: the contact opted out")
	require.Empty(t, x.s.Mail.Messages(mailsink.Filter{OrderID: wfID, Kind: "we-miss-you", To: first}), "no mail to the opted-out purchaser")

	// The customer's chain of marketing decisions verifies.
	v := x.api(http.MethodGet, "/v1/audit/verify?order_id="+wfID, order.RoleCS, nil)
	require.Equal(t, http.StatusOK, v.status, "%s", v.body)
	require.Equal(t, true, v.json(t)["ok"], "%s", v.body)

	// In Temporal: the workflow runs on, in a later run than the first
	// (it continued as new and kept its summary: the reminder's quantity
	// and the alert's order count span the runs), and says what it waits for.
	desc, err := x.s.Client.DescribeWorkflowExecution(ctx, wfID, "")
	require.NoError(t, err)
	info := desc.WorkflowExecutionInfo
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, info.Status)
	require.Equal(t, workflows.CustomerWorkflowName, info.Type.Name)
	require.NotEqual(t, firstRun, info.Execution.RunId, "continued as new")
	runs := x.customerRuns(wfID, firstRun)
	t.Logf("customer workflow: %d runs", len(runs))
	require.GreaterOrEqual(t, len(runs), 2)
	// For workflows/testdata: every run but the one still open.
	for i, run := range runs[:len(runs)-1] {
		x.recordRun(wfID, run, "customer_run"+strconv.Itoa(i+1))
	}
	details := x.currentDetails(wfID)
	require.Contains(t, details, "Follows customer "+customerID+" between orders: 3 order(s) so far")
	require.Contains(t, details, "Dormant since")
}

// acceptAt accepts the order at at (or now, if at has passed) and returns
// when it did. The wait paces the customer's rhythm; it waits for no
// outcome.
func (x *sys) acceptAt(id string, at time.Time) time.Time {
	x.t.Helper()
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)
	time.Sleep(time.Until(at))
	now := time.Now()
	x.accept(id)
	return now
}

// waitMail waits for the first mail matching f and returns it.
func (x *sys) waitMail(f mailsink.Filter) mailsink.Message {
	x.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ms := x.s.Mail.Messages(f); len(ms) > 0 {
			return ms[0]
		}
	}
	x.t.Fatalf("no mail %+v", f)
	return mailsink.Message{}
}

// waitMarketing waits for the customer's marketing mail of kind to each
// of to and returns them by recipient.
func (x *sys) waitMarketing(customerID, kind string, to ...string) map[string]mailsink.Message {
	x.t.Helper()
	out := map[string]mailsink.Message{}
	for _, addr := range to {
		m := x.waitMail(mailsink.Filter{OrderID: store.CustomerAuditID(customerID), Kind: kind, To: addr})
		require.Equal(x.t, []string{addr}, m.To, "one mail per purchaser, each with its own links")
		out[addr] = m
	}
	return out
}

// waitCustomerAudit waits for an entry of action whose reason holds text
// in the customer's audit chain.
func (x *sys) waitCustomerAudit(customerID, action, text string) {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, err := x.s.Store.AuditLog(context.Background(), store.CustomerAuditID(customerID))
		require.NoError(x.t, err)
		if slices.ContainsFunc(entries, func(e store.AuditEntry) bool {
			return e.Action == action && strings.Contains(e.Reason, text)
		}) {
			return
		}
		require.True(x.t, time.Now().Before(deadline), "no %s %q in the audit chain of %s: %+v", action, text, customerID, entries)
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// newOrder is the one order of the customer that is not among known.
func (x *sys) newOrder(customerID string, known []string) string {
	x.t.Helper()
	a := x.api(http.MethodGet, "/v1/orders?customer_id="+customerID, order.RoleCS, nil)
	require.Equal(x.t, http.StatusOK, a.status, "%s", a.body)
	var list struct {
		Orders []struct {
			ID string `json:"id"`
		} `json:"orders"`
	}
	require.NoError(x.t, json.Unmarshal(a.body, &list))
	var fresh []string
	for _, o := range list.Orders {
		if !slices.Contains(known, o.ID) {
			fresh = append(fresh, o.ID)
		}
	}
	require.Len(x.t, fresh, 1, "one new order: %s", a.body)
	return fresh[0]
}

// customerRuns follows the customer workflow from its first run through
// each continue-as-new and returns the run ids.
func (x *sys) customerRuns(id, first string) []string {
	x.t.Helper()
	var runs []string
	for run := first; run != ""; {
		runs = append(runs, run)
		it := x.s.Client.GetWorkflowHistory(context.Background(), id, run, false, enums.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		next := ""
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(x.t, err)
			if c := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); c != nil {
				next = c.NewExecutionRunId
			}
		}
		run = next
	}
	return runs
}

// currentDetails are the workflow's current details, as the Temporal UI
// shows them.
func (x *sys) currentDetails(id string) string {
	x.t.Helper()
	v, err := x.s.Client.QueryWorkflow(context.Background(), id, "", "__temporal_workflow_metadata")
	require.NoError(x.t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(x.t, v.Get(&md))
	return md.GetCurrentDetails()
}

// linesOf drops what the quote adds to a line (prices) for comparison.
func linesOf(ls []order.Line) []order.Line {
	out := make([]order.Line, len(ls))
	for i, l := range ls {
		out[i] = order.Line{SKU: l.SKU, Quantity: l.Quantity}
	}
	return out
}
