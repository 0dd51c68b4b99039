package webhook_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/webhook"
)

func TestSignFormat(t *testing.T) {
	t.Parallel()
	// Known answer, computed independently:
	// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
	got := webhook.Sign([]byte("s3cret"), time.Unix(1700000000, 0), []byte(`{"a":1}`))
	require.Equal(t, "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940", got)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("s3cret")
	other := []byte("0ther")
	body := []byte(`{"event_id":"EVT-1"}`)
	now := time.Unix(1_700_000_000, 0)
	tol := 5 * time.Minute
	sig := func(s []byte, at time.Time) string { return webhook.Sign(s, at, body) }
	v1 := func(s []byte, at time.Time) string { _, v, _ := strings.Cut(sig(s, at), ","); return v }
	unix := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name   string
		header string
		body   []byte
		want   error // nil, ErrBadSignature, ErrBadTimestamp or ErrStale
		reason string
	}{
		{name: "fresh", header: sig(secret, now)},
		{name: "4 minutes old", header: sig(secret, now.Add(-4*time.Minute))},
		{name: "exactly at tolerance", header: sig(secret, now.Add(-tol))},
		{name: "4 minutes ahead", header: sig(secret, now.Add(4*time.Minute))},
		{name: "spaces around elements", header: "t=" + unix + " , " + v1(secret, now)},
		{name: "rotation: old secret first", header: "t=" + unix + "," + v1(other, now) + "," + v1(secret, now)},
		{name: "rotation: new secret first", header: "t=" + unix + "," + v1(secret, now) + "," + v1(other, now)},
		{name: "unknown scheme ignored", header: sig(secret, now) + ",v0=abc"},
		{name: "signature elements before timestamp", header: v1(secret, now) + ",t=" + unix},

		{name: "wrong secret", header: sig(other, now), want: webhook.ErrBadSignature, reason: "no v1 signature matches"},
		{name: "body changed", header: sig(secret, now), body: []byte(`{"event_id":"EVT-2"}`), want: webhook.ErrBadSignature, reason: "no v1 signature matches"},
		{name: "timestamp changed", header: "t=" + strconv.FormatInt(now.Unix()+1, 10) + "," + v1(secret, now), want: webhook.ErrBadSignature, reason: "no v1 signature matches"},
		{name: "empty", header: "", want: webhook.ErrBadSignature, reason: "missing"},
		{name: "no timestamp", header: v1(secret, now), want: webhook.ErrBadTimestamp, reason: "no timestamp"},
		{name: "no signature", header: "t=" + unix, want: webhook.ErrBadSignature, reason: "no v1 signature"},
		{name: "timestamp twice", header: "t=" + unix + ",t=" + unix + "," + v1(secret, now), want: webhook.ErrBadTimestamp, reason: "twice"},
		{name: "timestamp not a number", header: "t=yesterday," + v1(secret, now), want: webhook.ErrBadTimestamp, reason: "not unix seconds"},
		{name: "negative timestamp", header: "t=-5," + v1(secret, now), want: webhook.ErrBadTimestamp, reason: "not unix seconds"},
		{name: "leading zero", header: "t=0" + unix + "," + v1(secret, now), want: webhook.ErrBadTimestamp, reason: "not unix seconds"},
		{name: "timestamp overflows", header: "t=9999999999999999999," + v1(secret, now), want: webhook.ErrBadTimestamp, reason: "out of range"},
		{name: "signature not hex", header: "t=" + unix + ",v1=zz", want: webhook.ErrBadSignature, reason: "not 32 hex bytes"},
		{name: "signature truncated", header: sig(secret, now)[:40], want: webhook.ErrBadSignature, reason: "not 32 hex bytes"},
		{name: "element without =", header: sig(secret, now) + ",garbage", want: webhook.ErrBadSignature, reason: "not key=value"},
		{name: "huge header", header: sig(secret, now) + ",x=" + strings.Repeat("a", 5000), want: webhook.ErrBadSignature, reason: "longer than"},

		{name: "6 minutes old", header: sig(secret, now.Add(-6*time.Minute)), want: webhook.ErrStale},
		{name: "6 minutes ahead", header: sig(secret, now.Add(6*time.Minute)), want: webhook.ErrStale},
		{name: "epoch", header: sig(secret, time.Unix(0, 0)), want: webhook.ErrStale},
		{name: "stale and forged is forged", header: sig(other, now.Add(-time.Hour)), want: webhook.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := body
			if tc.body != nil {
				b = tc.body
			}
			err := webhook.Verify(secret, tc.header, b, now, tol)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			switch tc.want {
			case webhook.ErrBadSignature:
				require.NotErrorIs(t, err, webhook.ErrStale)
				require.NotErrorIs(t, err, webhook.ErrBadTimestamp, "only a bad t= is a bad timestamp")
			case webhook.ErrBadTimestamp:
				require.ErrorIs(t, err, webhook.ErrBadSignature, "a bad timestamp is a bad signature too")
				require.NotErrorIs(t, err, webhook.ErrStale)
			}
			require.Contains(t, err.Error(), tc.reason)
		})
	}
}

func TestVerifyZeroToleranceMeansDefault(t *testing.T) {
	t.Parallel()
	secret, body, now := []byte("k"), []byte("{}"), time.Unix(1_700_000_000, 0)
	require.NoError(t, webhook.Verify(secret, webhook.Sign(secret, now.Add(-webhook.DefaultTolerance+time.Second), body), body, now, 0))
	require.ErrorIs(t, webhook.Verify(secret, webhook.Sign(secret, now.Add(-webhook.DefaultTolerance-time.Second), body), body, now, 0), webhook.ErrStale)
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	b, err := json.Marshal(webhook.LogisticsEvent{EventID: "EVT-1", Type: webhook.LogisticsDelivered, ShipmentID: "SHP-1",
		TrackingNumber: "TRK1", Reference: "ord-1", OccurredAt: at})
	require.NoError(t, err)
	require.JSONEq(t, `{"event_id":"EVT-1","type":"delivered","shipment_id":"SHP-1","tracking_number":"TRK1",
		"reference":"ord-1","occurred_at":"2026-11-25T10:00:00Z"}`, string(b))

	b, err = json.Marshal(webhook.PaymentEvent{EventID: "EVT-2", BankTransactionID: "BTX-1", Amount: money.New(12345, "EUR"),
		Reference: "ord-1", Payer: "ACME", ReceivedAt: at})
	require.NoError(t, err)
	require.JSONEq(t, `{"event_id":"EVT-2","bank_transaction_id":"BTX-1","amount":{"minor":12345,"currency":"EUR"},
		"reference":"ord-1","payer":"ACME","received_at":"2026-11-25T10:00:00Z"}`, string(b))
}

// FuzzVerify checks that no header makes Verify panic, that only the two
// sentinels come back, and that whatever Sign writes Verify accepts.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add([]byte("s3cret"), int64(1_700_000_000), []byte(`{"a":1}`), "t=1700000000,v1=00")
	f.Add([]byte(""), int64(0), []byte(""), "")
	f.Add([]byte("k"), int64(-1), []byte("x"), "t=,v1=,v1=")
	f.Add([]byte("k"), int64(1<<62), []byte("x"), "t=1,t=2,,=,v1")
	f.Add([]byte("k"), int64(1_700_000_100), []byte("x"), " t = 1 ,v1=zz")
	f.Fuzz(func(t *testing.T, secret []byte, unix int64, body []byte, header string) {
		err := webhook.Verify(secret, header, body, now, time.Minute)
		if err != nil && !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStale) {
			t.Fatalf("Verify(%q) = %v: neither sentinel", header, err)
		}
		if unix < 0 {
			unix = -unix
		}
		if unix < 0 { // math.MinInt64
			unix = 0
		}
		at := time.Unix(unix, 0)
		signed := webhook.Sign(secret, at, body)
		if err := webhook.Verify(secret, signed, body, at, time.Minute); err != nil {
			t.Fatalf("Verify(Sign(…)) at the signing time: %v (header %q)", err, signed)
		}
		if err := webhook.Verify(append([]byte("x"), secret...), signed, body, at, time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("Verify under another secret = %v, want ErrBadSignature", err)
		}
	})
}

func TestCheckRemittance(t *testing.T) {
	t.Parallel()
	eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
	part := func(ref string, minor int64) webhook.RemittancePart {
		return webhook.RemittancePart{Reference: ref, Amount: eur(minor)}
	}
	tests := []struct {
		name  string
		parts []webhook.RemittancePart
		field string // "" when valid
	}{
		{name: "no list: today's single reference"},
		{name: "two parts that add up", parts: []webhook.RemittancePart{part("INV-000001", 600), part("INV-000002", 400)}},
		{name: "one part of the whole amount", parts: []webhook.RemittancePart{part("INV-000001", 1000)}},
		{name: "parts short of the amount", parts: []webhook.RemittancePart{part("INV-000001", 600), part("INV-000002", 300)}, field: "remittance"},
		{name: "parts beyond the amount", parts: []webhook.RemittancePart{part("INV-000001", 600), part("INV-000002", 500)}, field: "remittance"},
		{name: "an empty reference", parts: []webhook.RemittancePart{part("INV-000001", 600), part("  ", 400)}, field: "remittance[1].reference"},
		{name: "a reference given twice", parts: []webhook.RemittancePart{part("INV-000001", 600), part(" INV-000001", 400)}, field: "remittance[1].reference"},
		{name: "a reference too long", parts: []webhook.RemittancePart{part(strings.Repeat("X", 36), 1000)}, field: "remittance[0].reference"},
		{name: "a control character", parts: []webhook.RemittancePart{part("INV\x00", 1000)}, field: "remittance[0].reference"},
		{name: "a zero part", parts: []webhook.RemittancePart{part("INV-000001", 1000), part("INV-000002", 0)}, field: "remittance[1].amount"},
		{name: "a negative part", parts: []webhook.RemittancePart{part("INV-000001", 900), part("INV-000002", -100), part("INV-000003", 200)}, field: "remittance[1].amount"},
		{name: "another currency", parts: []webhook.RemittancePart{part("INV-000001", 600), {Reference: "INV-000002", Amount: money.New(400, "USD")}, part("INV-000003", 0)}, field: "remittance[1].amount"},
		{name: "a part that would overflow the sum", parts: []webhook.RemittancePart{part("INV-000001", 600), part("INV-000002", 1<<62), part("INV-000003", 1<<62)}, field: "remittance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := webhook.PaymentEvent{BankTransactionID: "BTX-1", Reference: "several", Amount: eur(1000), Remittance: tt.parts}
			err := ev.CheckRemittance()
			if tt.field == "" {
				require.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, tt.field, err.Field, err.Error())
		})
	}
	t.Run("too many parts", func(t *testing.T) {
		t.Parallel()
		ev := webhook.PaymentEvent{Amount: eur(webhook.MaxRemittanceParts + 1)}
		for i := range webhook.MaxRemittanceParts + 1 {
			ev.Remittance = append(ev.Remittance, part("INV-"+strconv.Itoa(i), 1))
		}
		require.Equal(t, "remittance", ev.CheckRemittance().Field)
	})
}

func TestPaymentParts(t *testing.T) {
	t.Parallel()
	single := webhook.PaymentEvent{Reference: "INV-000001", Amount: money.New(1000, "EUR")}
	require.Equal(t, []webhook.RemittancePart{{Reference: "INV-000001", Amount: money.New(1000, "EUR")}}, single.Parts())
	split := single
	split.Remittance = []webhook.RemittancePart{{Reference: "INV-000001", Amount: money.New(1000, "EUR")}}
	require.Equal(t, split.Remittance, split.Parts())
	require.Equal(t, "BTX-1:INV-000002", webhook.PartTransactionID("BTX-1", " INV-000002 "))

	// No list is the event as it was before remittances: the same JSON.
	data, err := json.Marshal(single)
	require.NoError(t, err)
	require.NotContains(t, string(data), "remittance")
}
