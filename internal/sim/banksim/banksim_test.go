package banksim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/internal/webhook/webhooktest"
)

var secret = []byte("bank-webhook-secret")

type harness struct {
	sim *banksim.Sim
	srv *httptest.Server
	rc  *webhooktest.Receiver
}

func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{rc: webhooktest.NewReceiver(t, secret)}
	pool := pgtest.NewPool(t, nil)
	h.sim = banksim.New(pool, banksim.Options{WebhookURL: h.rc.URL, WebhookSecret: secret}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, h.sim.Migrate(t.Context()))
	h.srv = httptest.NewServer(h.sim.Handler())
	t.Cleanup(h.srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.sim.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return h
}

func (h *harness) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestPaySendsOneSignedEvent(t *testing.T) {
	t.Parallel()
	h := start(t)
	before := time.Now()
	code, a := h.do(t, http.MethodPost, "/sim/payments",
		`{"reference":"INV-2026-0042","amount":{"minor":123456,"currency":"EUR"},"payer":"Acme Industrial GmbH","payer_account":"DE89 3704 0044 0532 0130 00"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", a)
	txnID, eventID := a["bank_transaction_id"].(string), a["event_id"].(string)
	require.Regexp(t, `^BTX-[0-9A-F]{16}$`, txnID)
	require.NotEmpty(t, eventID)

	events := webhooktest.WaitEvents[webhook.PaymentEvent](t, h.rc, 1, 20*time.Second)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, eventID, ev.EventID)
	require.Equal(t, txnID, ev.BankTransactionID)
	require.Equal(t, money.New(123456, "EUR"), ev.Amount)
	require.Equal(t, "INV-2026-0042", ev.Reference)
	require.Equal(t, "Acme Industrial GmbH", ev.Payer)
	require.Equal(t, "DE89 3704 0044 0532 0130 00", ev.PayerAccount, "the payer's account goes to orderflow")
	require.WithinRange(t, ev.ReceivedAt, before.Add(-time.Second), time.Now())

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.sim.Webhooks().Drain(ctx))
	require.Equal(t, 1, h.rc.Requests(), "exactly one delivery")

	list, err := h.sim.Payments(t.Context(), "INV-2026-0042")
	require.NoError(t, err)
	require.Equal(t, []banksim.Payment{{BankTransactionID: txnID, Reference: ev.Reference, Amount: ev.Amount,
		Payer: ev.Payer, ReceivedAt: ev.ReceivedAt, EventID: eventID}}, list)
	code, a = h.do(t, http.MethodGet, "/sim/payments", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, a["payments"], 1)
}

func TestPayWithoutReferenceAndRedeliver(t *testing.T) {
	t.Parallel()
	h := start(t)
	// An unmatched payment: no reference at all. The bank books it anyway.
	txnID, eventID, err := h.sim.Pay(t.Context(), "", money.New(5000, "USD"), "Someone")
	require.NoError(t, err)
	first := webhooktest.WaitEvents[webhook.PaymentEvent](t, h.rc, 1, 20*time.Second)
	require.Equal(t, txnID, first[0].BankTransactionID)
	require.Empty(t, first[0].Reference)

	code, _ := h.do(t, http.MethodPost, "/sim/events/"+eventID+"/redeliver", "")
	require.Equal(t, http.StatusAccepted, code)
	both := webhooktest.WaitEvents[webhook.PaymentEvent](t, h.rc, 2, 20*time.Second)
	require.Equal(t, both[0], both[1], "a duplicate is the same event")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.sim.Webhooks().Drain(ctx))
	c, err := h.sim.Webhooks().Counts(t.Context())
	require.NoError(t, err)
	require.Equal(t, outbox.Counts{Delivered: 1}, c)

	code, a := h.do(t, http.MethodPost, "/sim/events/EVT-NOPE/redeliver", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "not_found", a["error"])
}

func TestPaymentValidation(t *testing.T) {
	t.Parallel()
	h := start(t)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"zero amount", `{"reference":"r","amount":{"minor":0,"currency":"EUR"},"payer":"p"}`, 422, "amount.minor"},
		{"negative amount", `{"reference":"r","amount":{"minor":-5,"currency":"EUR"},"payer":"p"}`, 422, "amount.minor"},
		{"no currency", `{"reference":"r","amount":{"minor":5},"payer":"p"}`, 422, "amount.currency"},
		{"lower-case currency", `{"reference":"r","amount":{"minor":5,"currency":"eur"},"payer":"p"}`, 422, "amount.currency"},
		{"no payer", `{"reference":"r","amount":{"minor":5,"currency":"EUR"}}`, 422, "payer"},
		{"reference too long", `{"reference":"` + strings.Repeat("x", 141) + `","amount":{"minor":5,"currency":"EUR"},"payer":"p"}`, 422, "reference"},
		{"remittance that does not add up", `{"reference":"r","amount":{"minor":5,"currency":"EUR"},"payer":"p","remittance":[{"reference":"INV-1","amount":{"minor":4,"currency":"EUR"}}]}`, 422, "remittance"},
		{"remittance part in another currency", `{"reference":"r","amount":{"minor":5,"currency":"EUR"},"payer":"p","remittance":[{"reference":"INV-1","amount":{"minor":4,"currency":"EUR"}},{"reference":"INV-2","amount":{"minor":1,"currency":"USD"}}]}`, 422, "remittance[1].amount"},
		{"remittance part without reference", `{"reference":"r","amount":{"minor":5,"currency":"EUR"},"payer":"p","remittance":[{"reference":"","amount":{"minor":5,"currency":"EUR"}}]}`, 422, "remittance[0].reference"},
		{"payer account too long", `{"reference":"r","amount":{"minor":5,"currency":"EUR"},"payer":"p","payer_account":"` + strings.Repeat("9", 71) + `"}`, 422, "payer_account"},
		{"payer account with a control character", `{"reference":"r","amount":{"minor":5,"currency":"EUR"},"payer":"p","payer_account":"DE\u0007"}`, 422, "payer_account"},
		{"amount as float", `{"reference":"r","amount":{"minor":5.5,"currency":"EUR"},"payer":"p"}`, 400, ""},
		{"not JSON", `{`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, a := h.do(t, http.MethodPost, "/sim/payments", tc.body)
			require.Equal(t, tc.status, code, "%v", a)
			if tc.field != "" {
				require.Equal(t, "invalid_request", a["error"])
				require.Equal(t, tc.field, a["field"])
			}
		})
	}
	_, _, err := h.sim.Pay(t.Context(), "r", money.New(1, "EUR"), " ")
	var fe *order.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "payer", fe.Field)

	list, err := h.sim.Payments(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, list, "refused payments are not booked")
	require.Zero(t, h.rc.Requests())
}

// Every booked payment goes to the statement (the ERP's import), and a
// statement that fails does not undo the payment or its webhook.
func TestPaymentsGoToTheStatement(t *testing.T) {
	t.Parallel()
	type line struct {
		txn, reference string
		amount         money.Money
	}
	var lines []line
	fail := false
	pool := pgtest.NewPool(t, nil)
	sim := banksim.New(pool, banksim.Options{Statement: func(_ context.Context, txn, reference string, amount money.Money) error {
		lines = append(lines, line{txn, reference, amount})
		if fail {
			return context.DeadlineExceeded
		}
		return nil
	}}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, sim.Migrate(t.Context()))

	txn, _, err := sim.Pay(t.Context(), "INV-000042", money.New(483060, "EUR"), "Acme Industrial GmbH")
	require.NoError(t, err)
	require.Equal(t, []line{{txn, "INV-000042", money.New(483060, "EUR")}}, lines)

	fail = true
	txn2, _, err := sim.Pay(t.Context(), "INV-000043", money.New(100, "EUR"), "Acme Industrial GmbH")
	require.NoError(t, err, "the statement's failure is not the payment's")
	require.Len(t, lines, 2)
	ps, err := sim.Payments(t.Context(), "INV-000043")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, txn2, ps[0].BankTransactionID)
}
