package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
)

var linkRE = regexp.MustCompile(`http://[^\s]+/o/[A-Za-z0-9_.-]+`)

// Issue 9, action links: the quote mail links the buyer's order page and
// a page that accepts that revision. The page (rendered in headless
// Chromium) shows the buyer's representation and the accept button; the
// form accepts the quote as the mail's recipient, once; a changed link
// opens nothing.
func TestBuyerAcceptsTheQuoteFromTheMailLink(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-link-accept", order.Line{SKU: "VALVE-50", Quantity: 2})
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)

	var text string
	for deadline := time.Now().Add(30 * time.Second); text == "" && time.Now().Before(deadline); {
		if ms := x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "quote"}); len(ms) > 0 {
			text = ms[0].Text
		} else {
			time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
		}
	}
	require.NotEmpty(t, text, "the quote mail")
	var accept, view string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "Accept it online: "):
			accept = linkRE.FindString(line)
		case strings.HasPrefix(line, "Order details: "):
			view = linkRE.FindString(line)
		}
	}
	require.NotEmpty(t, accept, "the quote mail links the accept page: %s", text)
	require.NotEmpty(t, view, "the quote mail links the order page: %s", text)

	// The page in a real browser: the order as the buyer sees it, and the button.
	dom := browse(t, accept, "--dump-dom")
	for _, want := range []string{"Order " + id, "AWAITING_ACCEPTANCE", "VALVE-50", "Accept quote revision 1", `id="accept"`, "Quoted"} {
		require.Contains(t, dom, want)
	}
	for _, secret := range []string{"sales_order", "exposure", "credit limit", "SO-"} {
		require.NotContains(t, strings.ToLower(dom), strings.ToLower(secret), "seller-internal data on the buyer's page")
	}
	require.NotContains(t, browse(t, view, "--dump-dom"), `id="accept"`, "a view link accepts nothing")

	post := func(link string) (int, string) {
		resp, err := x.http.PostForm(link+"/accept", url.Values{})
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// A view link, or a changed one, cannot accept.
	status, _ := post(view)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = post(accept[:len(accept)-3] + "AAA")
	require.Equal(t, http.StatusNotFound, status)

	// The buyer clicks Accept in the browser.
	notice := clickInBrowser(t, accept, "#accept", "#notice")
	require.Contains(t, notice, "You accepted quote revision 1")
	x.waitStatus(id, order.StatusShipping, time.Minute)
	x.waitAudit(id, "quote.accepted")

	status, body := post(accept)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "This link was used on")

	// The order page follows the order: shipped, with its shipments.
	dom = browse(t, view, "--dump-dom")
	require.Contains(t, dom, "SHIPPING")
	require.Contains(t, dom, "Shipments")
	require.Contains(t, dom, "expected by")

	var audit struct {
		Entries []struct {
			Action string      `json:"action"`
			Actor  order.Actor `json:"actor"`
		} `json:"entries"`
	}
	a := x.api(http.MethodGet, "/v1/orders/"+id+"/audit", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status)
	require.NoError(t, json.Unmarshal(a.body, &audit))
	var by order.Actor
	for _, e := range audit.Entries {
		if e.Action == "quote.accepted" {
			by = e.Actor
		}
	}
	require.Equal(t, order.Actor{Subject: "purchasing@acme.example", Role: order.RoleBuyer, CustomerID: "ACME-001"}, by, "the mail's recipient accepted")
}

// clickInBrowser opens url in headless Chromium, clicks the element
// button, and returns the text of the element result on the page the
// click led to.
func clickInBrowser(t *testing.T, url, button, result string) string {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(button)),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.CSS(result)),
	), "click %s on %s", button, url)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(result)))
	require.NoError(t, err, "read %s", result)
	return text
}

// mailText waits for the order's first mail of kind and returns its text.
func (x *sys) mailText(id, kind string) string {
	x.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ms := x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: kind}); len(ms) > 0 {
			return ms[0].Text
		}
	}
	x.t.Fatalf("no %s mail for %s", kind, id)
	return ""
}

// Issue 9: the approval request goes to Acme's approver contact with a
// link; the approver approves in the browser, with a comment, and the
// order goes on. A link approves once.
func TestBuyerApproverApprovesFromTheMailLink(t *testing.T) {
	t.Parallel()
	x := start(t)
	// 11 pumps: 13337.50 EUR net, over Acme's purchasing limit of 10000.00.
	id := x.createQuote("e2e-link-approve", order.Line{SKU: "PUMP-200", Quantity: 11})
	x.accept(id)
	x.waitStatus(id, order.StatusAwaitingApproval, 30*time.Second)
	text := x.mailText(id, "approval-request")
	var link string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "Approve or reject it here: ") {
			link = linkRE.FindString(line)
		}
	}
	require.NotEmpty(t, link, "the buyer's approval request links the approve page: %s", text)
	ms := x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "approval-request"})
	require.Equal(t, []string{"cfo@acme.example"}, ms[0].To, "to Acme's approver contact")

	notice := clickInBrowser(t, link, "#approve", "#notice")
	require.Contains(t, notice, "You approved the order")
	x.waitStatus(id, order.StatusShipping, time.Minute)

	resp, err := x.http.PostForm(link+"/approve", url.Values{"decision": {"reject"}})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(b), "This link was used on", "a link decides once")
	x.waitAudit(id, "approval.approved")
}
