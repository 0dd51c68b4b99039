package activities_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

var linkKey = []byte("customer-test-link-secret-0123456789")

// customerFixture is the activity fixture with signed links and two
// purchasers at Acme.
func customerFixture(t *testing.T) (*fixture, *links.Signer) {
	t.Helper()
	f := newFixture(t, patient)
	signer, err := links.New(linkKey)
	require.NoError(t, err)
	f.acts.Links = signer
	f.env = newEnv(f.acts)
	require.NoError(t, f.store.SetContacts(context.Background(), "ACME-001", []order.Contact{
		{Name: "Purchasing", Email: "purchasing@acme.example", Roles: []order.ContactRole{order.ContactPurchaser}},
		{Name: "Pat", Email: "Pat@acme.example", Roles: []order.ContactRole{order.ContactPurchaser}},
		{Name: "Accounts payable", Email: "ap@acme.example", Roles: []order.ContactRole{order.ContactAccountsPayable}},
	}))
	return f, signer
}

func reminderInput(key string, at time.Time) activities.SendMarketingMailInput {
	return activities.SendMarketingMailInput{Key: key, Kind: mail.KindReorderReminder, CustomerID: "ACME-001",
		Data: mail.Data{Customer: &mail.CustomerData{CustomerID: "ACME-001",
			Products: []mail.ReorderProduct{{SKU: "BOLT-M8", Quantity: 500, LastOrderAt: at.AddDate(0, 0, -25), ExpectedAt: at.AddDate(0, 0, 5)}}}},
		Reorder: []order.Line{{SKU: "BOLT-M8", Quantity: 500}},
		Cap:     1, Window: 7 * customer.Day, At: at}
}

var tokenIn = regexp.MustCompile(`/(reorder|unsubscribe|o)/([A-Za-z0-9_\-.]+)`)

func TestSendMarketingMailToEachPurchaserWithTheirOwnLinks(t *testing.T) {
	t.Parallel()
	f, signer := customerFixture(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)

	res := mustRun[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, reminderInput("customer-ACME-001/reorder/1", at))
	require.ElementsMatch(t, []string{"purchasing@acme.example", "pat@acme.example"}, res.Sent)

	msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{Kind: string(mail.KindReorderReminder)}, 2)
	require.NoError(t, err)
	for _, m := range msgs {
		require.Len(t, m.To, 1, "one mail per contact")
		require.Equal(t, "customer-ACME-001", m.OrderID)
		require.Contains(t, m.Text, "BOLT-M8")
		found := map[string]links.Link{}
		for _, sub := range tokenIn.FindAllStringSubmatch(m.Text, -1) {
			l, err := signer.Check(sub[2], time.Now())
			require.NoError(t, err, "the %s link of the mail verifies", sub[1])
			found[sub[1]] = l
		}
		require.Equal(t, links.Reorder, found["reorder"].Purpose)
		require.Equal(t, []links.Line{{SKU: "BOLT-M8", Quantity: 500}}, found["reorder"].Lines)
		require.Equal(t, links.Unsubscribe, found["unsubscribe"].Purpose)
		require.Equal(t, m.To[0], found["unsubscribe"].To, "each contact unsubscribes themselves")
	}
	require.Empty(t, f.sink.Messages(mailsink.Filter{To: "ap@acme.example"}), "only purchasers get marketing mails")

	// A retry of the same mail mails nobody again.
	res = mustRun[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, reminderInput("customer-ACME-001/reorder/1", at))
	require.Len(t, res.Sent, 2)
	require.Len(t, f.sink.Messages(mailsink.Filter{Kind: string(mail.KindReorderReminder)}), 2)

	// Another marketing mail within the week is capped for both.
	res = mustRun[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, reminderInput("customer-ACME-001/reorder/2", at.Add(time.Hour)))
	require.Empty(t, res.Sent)
	require.Len(t, res.Capped, 2)
	require.Len(t, f.sink.Messages(mailsink.Filter{Kind: string(mail.KindReorderReminder)}), 2)
}

func TestSendMarketingMailHonoursAnOptOut(t *testing.T) {
	t.Parallel()
	f, _ := customerFixture(t)
	ctx := context.Background()
	_, err := f.store.OptOut(ctx, store.MarketingOptOut{CustomerID: "ACME-001", Email: "pat@acme.example", How: "link"})
	require.NoError(t, err)

	at := time.Now().UTC()
	res := mustRun[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, reminderInput("customer-ACME-001/reorder/1", at))
	require.Equal(t, []string{"purchasing@acme.example"}, res.Sent)
	require.Equal(t, []string{"pat@acme.example"}, res.OptedOut)
	_, err = f.sink.WaitFor(ctx, mailsink.Filter{To: "purchasing@acme.example"}, 1)
	require.NoError(t, err)
	require.Empty(t, f.sink.Messages(mailsink.Filter{To: "pat@acme.example"}))

	log, err := f.store.AuditLog(ctx, store.CustomerAuditID("ACME-001"))
	require.NoError(t, err)
	var suppressed int
	for _, e := range log {
		if e.Action == "marketing.suppressed" {
			suppressed++
			require.Contains(t, e.Reason, "pat@acme.example")
		}
	}
	require.Equal(t, 1, suppressed, "the suppressed mail is audited")

	// A transactional mail is not affected by the opt-out.
	sent := mustRun[activities.SendMailResult](t, f.env, f.acts.SendMail, activities.SendMailInput{Key: "ord-opt/cancel",
		Kind: mail.KindOrderCancelled, OrderID: "ord-opt", CustomerID: "ACME-001", Audience: activities.AudienceBuyer,
		Data: mail.Data{Reason: "test"}})
	require.Contains(t, sent.To, "Pat@acme.example")
}

func TestSendMarketingMailRefusesTransactionalKindsAndMissingLinks(t *testing.T) {
	t.Parallel()
	f, _ := customerFixture(t)
	in := reminderInput("k", time.Now())
	in.Kind = mail.KindInvoice
	_, err := run[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, in)
	requireAppError(t, err, activities.ErrTypeInvalidInput, true)

	in = reminderInput("k", time.Now())
	in.Cap = 0
	_, err = run[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, in)
	requireAppError(t, err, activities.ErrTypeInvalidInput, true)

	f.acts.Links = nil
	_, err = run[activities.SendMarketingMailResult](t, newEnv(f.acts), f.acts.SendMarketingMail, reminderInput("k", time.Now()))
	requireAppError(t, err, activities.ErrTypeInvalidInput, true)
}

func TestQuoteNudgeCarriesTheAcceptLink(t *testing.T) {
	t.Parallel()
	f, signer := customerFixture(t)
	ctx := context.Background()
	q := &order.Quote{Revision: 2, ValidUntil: time.Now().Add(10 * customer.Day)}
	res := mustRun[activities.SendMarketingMailResult](t, f.env, f.acts.SendMarketingMail, activities.SendMarketingMailInput{
		Key: "customer-ACME-001/nudge/ord-n/2/1", Kind: mail.KindQuoteNudge, CustomerID: "ACME-001", OrderID: "ord-n",
		Data: mail.Data{Quote: q, Customer: &mail.CustomerData{Nudge: 1}}, Cap: 1, Window: customer.Day, At: time.Now()})
	require.Len(t, res.Sent, 2)
	msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-n"}, 2)
	require.NoError(t, err)
	var purposes []links.Purpose
	for _, sub := range tokenIn.FindAllStringSubmatch(msgs[0].Text, -1) {
		l, err := signer.Check(sub[2], time.Now())
		require.NoError(t, err)
		purposes = append(purposes, l.Purpose)
		if l.Purpose == links.Accept {
			require.Equal(t, "ord-n", l.OrderID)
			require.Equal(t, 2, l.Revision)
		}
	}
	require.ElementsMatch(t, []links.Purpose{links.Accept, links.View, links.Unsubscribe}, purposes)
}

func TestCustomerRepMailAndFollowUpAndInsight(t *testing.T) {
	t.Parallel()
	f, _ := customerFixture(t)
	ctx := context.Background()
	last := time.Now().UTC().AddDate(0, 0, -70).Truncate(time.Second)
	rep := mustRun[activities.SendCustomerRepMailResult](t, f.env, f.acts.SendCustomerRepMail, activities.SendCustomerRepMailInput{
		Key: "customer-ACME-001/dormant/1", Kind: mail.KindRepDormant, CustomerID: "ACME-001",
		Data: mail.Data{Customer: &mail.CustomerData{CustomerID: "ACME-001", Orders: 3, LastOrderAt: last, UsualInterval: 30 * customer.Day, Silence: 70 * customer.Day}}})
	require.Equal(t, []string{"anna.rep@seller.example"}, rep.To)
	msgs, err := f.sink.WaitFor(ctx, mailsink.Filter{Kind: string(mail.KindRepDormant)}, 1)
	require.NoError(t, err)
	require.Contains(t, msgs[0].Text, "70 days")

	// Marketing kinds do not pass as rep mails (they would skip opt-out and cap).
	_, err = run[activities.SendCustomerRepMailResult](t, f.env, f.acts.SendCustomerRepMail, activities.SendCustomerRepMailInput{
		Key: "x", Kind: mail.KindWeMissYou, CustomerID: "ACME-001"})
	requireAppError(t, err, activities.ErrTypeInvalidInput, true)

	fu := mustRun[activities.OpenQuoteLostFollowUpResult](t, f.env, f.acts.OpenQuoteLostFollowUp, activities.OpenQuoteLostFollowUpInput{
		OrderID: "ord-lost", CustomerID: "ACME-001", Reason: "expired unanswered", At: time.Now()})
	require.True(t, fu.Created)
	require.Equal(t, "anna.rep@seller.example", fu.Owner)
	again := mustRun[activities.OpenQuoteLostFollowUpResult](t, f.env, f.acts.OpenQuoteLostFollowUp, activities.OpenQuoteLostFollowUpInput{
		OrderID: "ord-lost", CustomerID: "ACME-001", Reason: "expired unanswered", At: time.Now()})
	require.False(t, again.Created)
	require.Equal(t, fu.FollowUpID, again.FollowUpID)

	mustRun[activities.RecordCustomerInsightResult](t, f.env, f.acts.RecordCustomerInsight, activities.RecordCustomerInsightInput{
		CustomerID: "ACME-001", Orders: 3, LastOrderAt: last, OpenQuotes: 1, Version: 1, At: last})
	ci, err := f.store.CustomerInsight(ctx, "ACME-001")
	require.NoError(t, err)
	require.Equal(t, 3, ci.Orders)
	require.Equal(t, 1, ci.OpenQuotes)
	require.Equal(t, last, ci.LastOrderAt.UTC())
	require.Nil(t, ci.DormantSince, "a zero time is unknown")
}

func TestLoadCustomerSettings(t *testing.T) {
	t.Parallel()
	l := &activities.CustomerSettingsLoader{Settings: customer.DefaultSettings()}
	env := newEnv(&activities.Activities{})
	env.RegisterActivity(l)
	res := mustRun[activities.LoadCustomerSettingsResult](t, env, l.LoadCustomerSettings, activities.LoadCustomerSettingsInput{})
	require.Equal(t, customer.DefaultSettings(), res.Settings)

	bad := &activities.CustomerSettingsLoader{}
	env = newEnv(&activities.Activities{})
	env.RegisterActivity(bad)
	_, err := run[activities.LoadCustomerSettingsResult](t, env, bad.LoadCustomerSettings, activities.LoadCustomerSettingsInput{})
	requireAppError(t, err, activities.ErrTypeInvalidInput, true)
}
