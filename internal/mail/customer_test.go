package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func customerData() *CustomerData {
	last := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	return &CustomerData{CustomerID: "ACME-001",
		Products: []ReorderProduct{{SKU: "GLOVES-L", Quantity: 12, LastOrderAt: last, ExpectedAt: last.AddDate(0, 0, 30)},
			{SKU: "BOLT-M8", Quantity: 500, LastOrderAt: last, ExpectedAt: last.AddDate(0, 0, 31)}},
		ReorderURL:     "http://localhost:8080/reorder/re-tok",
		UnsubscribeURL: "http://localhost:8080/unsubscribe/un-tok",
		Orders:         5, LastOrderAt: last, UsualInterval: 30 * 24 * time.Hour, Silence: 61 * 24 * time.Hour,
		RecentOrderDates: []time.Time{last.AddDate(0, 0, -30), last}, Nudge: 1}
}

func TestRenderCustomerKinds(t *testing.T) {
	t.Parallel()
	withQuote := func(d Data) Data { d.Quote = sampleQuote(); d.AcceptURL = "http://localhost:8080/o/acc-tok"; return d }
	tests := []struct {
		kind       Kind
		data       Data
		subjectHas []string
		textHas    []string
	}{
		{KindReorderReminder, Data{CustomerName: "Acme Tools GmbH", Customer: customerData()},
			[]string{"GLOVES-L", "BOLT-M8"},
			[]string{"GLOVES-L", "12", "2026-10-31", "/reorder/re-tok", "/unsubscribe/un-tok"}},
		{KindWeMissYou, Data{CustomerName: "Acme Tools GmbH", Customer: customerData()},
			[]string{"We miss you"}, []string{"2026-10-01", "/unsubscribe/un-tok", "only mail of its kind"}},
		{KindQuoteNudge, withQuote(Data{OrderID: "ord-8c1e", Customer: customerData()}),
			[]string{"ord-8c1e", "waiting"}, []string{"revision 2", "/o/acc-tok", "/unsubscribe/un-tok"}},
		{KindRepDormant, Data{CustomerName: "Acme Tools GmbH", Customer: customerData()},
			[]string{"Acme Tools GmbH", "61 days"}, []string{"every 30 days", "2026-09-01, 2026-10-01", "GLOVES-L"}},
	}
	covered := map[Kind]bool{}
	for _, tt := range tests {
		covered[tt.kind] = true
		subject, text, err := Render(tt.kind, tt.data)
		require.NoError(t, err, tt.kind)
		for _, s := range tt.subjectHas {
			require.Contains(t, subject, s, tt.kind)
		}
		for _, s := range tt.textHas {
			require.Contains(t, text, s, "%s:\n%s", tt.kind, text)
		}
		for _, bad := range []string{"<no value>", "<nil>", "%!", "0001-01-01", "{{", "\n\n\n"} {
			require.NotContains(t, subject+"\n"+text, bad, "%s:\n%s", tt.kind, text)
		}
		if testing.Verbose() {
			t.Logf("Subject: %s\n\n%s", subject, text)
		}
	}
	for _, k := range CustomerKinds() {
		require.True(t, covered[k], "kind %s has no render test", k)
		require.NotContains(t, Kinds(), k, "order mails and customer mails are apart")
	}
}

func TestCustomerKindsRefuseMissingData(t *testing.T) {
	t.Parallel()
	noUnsub := customerData()
	noUnsub.UnsubscribeURL = ""
	for _, tt := range []struct {
		kind Kind
		data Data
		want string
	}{
		{KindReorderReminder, Data{}, "Data.Customer"},
		{KindReorderReminder, Data{Customer: &CustomerData{UnsubscribeURL: "u"}}, "Customer.Products"},
		{KindReorderReminder, Data{Customer: noUnsub}, "UnsubscribeURL"},
		{KindWeMissYou, Data{Customer: noUnsub}, "UnsubscribeURL"},
		{KindQuoteNudge, Data{Quote: sampleQuote(), Customer: customerData()}, "Data.OrderID"},
		{KindRepDormant, Data{Customer: &CustomerData{}}, "Customer.LastOrderAt"},
	} {
		_, _, err := Render(tt.kind, tt.data)
		require.ErrorContains(t, err, tt.want, tt.kind)
	}
	require.True(t, KindReorderReminder.Marketing() && KindWeMissYou.Marketing() && KindQuoteNudge.Marketing())
	for _, k := range append(Kinds(), KindRepDormant) {
		require.False(t, k.Marketing(), "%s is not marketing", k)
	}
	require.False(t, strings.Contains(string(KindRepDormant), " "))
}

func TestSpansInWords(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		61 * 24 * time.Hour: "61 days", 2 * 24 * time.Hour: "2 days", 30 * time.Hour: "30 hours",
		90 * time.Minute: "90 minutes", 90 * time.Second: "90 seconds", time.Second: "1 second",
	} {
		require.Equal(t, want, CustomerData{Silence: d}.SilenceText())
	}
}
