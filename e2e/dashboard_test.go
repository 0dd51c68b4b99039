package e2e

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/store/storetest"
)

// Issue 10: finance logs in to the KPI dashboard in a real browser with
// its bearer token, and the figures the page renders for March 2026 are
// the ones the seeded orders (storetest.Scenario: known outcomes, written
// through RecordTransition as the workflow writes them) must give. With
// ORDERFLOW_SCREENSHOT=path the test then fills the database with
// generated orders and saves a screenshot of the dashboard there
// (docs/dashboard.png).
func TestDashboardInBrowser(t *testing.T) {
	x := start(t)
	ctx := context.Background()
	for _, st := range storetest.Scenario() {
		require.NoError(t, storetest.Seed(ctx, x.s.Store, st))
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	// The login form, then the dashboard (the cookie carries the session).
	// Start the browser on bctx: the first run's context owns it.
	require.NoError(t, chromedp.Do(bctx))
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			page, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v; the page:\n%s", what, err, page)
		}
	}
	step("open the login form", chromedp.Navigate(x.s.APIURL+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("#token")))
	step("log in", chromedp.SetValue(chromedp.CSS("#token"), x.tokens[order.RoleFinance]),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#dashboard")))
	step("open March 2026", chromedp.Navigate(x.s.APIURL+"/dashboard?from=2026-03-01&to=2026-03-30"),
		chromedp.WaitVisible(chromedp.CSS("#dashboard")))
	html, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(t, err)
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`data-kpi="([^"]+)">([^<]*)<`).FindAllStringSubmatch(html, -1) {
		got[m[1]] = m[2]
	}
	// Worked out by hand in internal/store/kpis_test.go.
	for k, v := range map[string]string{
		"leadtime.quote_to_accepted.p50": "2.0", "leadtime.quote_to_accepted.p90": "2.8",
		"leadtime.accepted_to_delivered.p50": "3.0", "leadtime.accepted_to_delivered.p90": "3.8",
		"leadtime.delivered_to_paid.p50": "15.0", "leadtime.delivered_to_paid.p90": "19.0",
		"ontime.promise.pct": "50.0", "ontime.leadtime.pct": "75.0",
		"automation.pct": "50.0", "automation.completed": "2", "automation.automated": "1",
		"exceptions.per100": "50.0", "exceptions.delivery.per100": "16.7", "exceptions.shipping.count": "1",
		"conversion.quoted": "6", "conversion.accepted.pct": "50.0", "conversion.rejected.n": "1",
		"conversion.expired.n": "1", "conversion.open.n": "1", "conversion.revised.n": "1",
		"nps.overall": "25", "nps.answers": "4", "nps.warehouse.WH-WEST": "50", "nps.carrier.parcel": "0",
		"nps.customer.ACME-001": "33", "nps.product.BOLT-M8": "0", "nps.product.VALVE-50": "100",
		"followups.open":      "1",
		"receivables.EUR.dso": "38.6", "receivables.EUR.invoiced": "700.00", "receivables.EUR.overdue": "500.00",
		"receivables.USD.dso": "30.0", "receivables.USD.overdue": "300.00",
		"orders.total": "6", "orders.average": "0.2",
	} {
		require.Equal(t, v, got[k], "figure %s on the page", k)
	}
	require.NotContains(t, html, `id="problem"`)

	path := os.Getenv("ORDERFLOW_SCREENSHOT")
	if path == "" {
		return
	}
	// A seller's year in generated orders, for a filled picture: the last
	// 90 days of it.
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	require.NoError(t, x.s.Store.GenerateDashboardData(ctx, store.DashboardData{Orders: 8000, End: end, Customers: 9}))
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(x.s.APIURL+"/dashboard?from="+end.AddDate(0, 0, -90).Format(time.DateOnly)+"&to="+end.AddDate(0, 0, -1).Format(time.DateOnly)),
		chromedp.WaitVisible(chromedp.CSS("#dashboard")),
	))
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}
