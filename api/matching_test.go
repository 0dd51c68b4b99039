package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/matching"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// matchEnv is an env with invoiced orders for the matcher.
type matchEnv struct {
	*env
	ctx context.Context
	seq int
}

func newMatchEnv(t *testing.T) *matchEnv {
	e := newEnv(t)
	e.expectStart()
	e.expectNoLive()
	return &matchEnv{env: e, ctx: context.Background()}
}

// invoiced creates an order of the customer with one invoice of amount (EUR).
func (m *matchEnv) invoiced(customer, number string, amount int64, due time.Time) string {
	m.t.Helper()
	m.seq++
	body := quoteBody()
	body["customer_id"] = customer
	id := m.createOrder(number, body)
	require.NoError(m.t, m.store.SaveInvoice(m.ctx, id, order.Invoice{InvoiceID: "id-" + number, Number: number,
		Amount: money.New(amount, "EUR"), IssuedAt: m.now.AddDate(0, 0, -10), DueDate: due}))
	return id
}

// pay posts a payment event.
func (m *matchEnv) pay(ev webhook.PaymentEvent) *responseRecorder {
	m.t.Helper()
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = m.now.Add(-time.Minute)
	}
	return m.hook("/v1/webhooks/payments", paymentsSecret, m.now, ev)
}

func (m *matchEnv) answer(w *responseRecorder) map[string]string {
	m.t.Helper()
	require.Equal(m.t, http.StatusOK, w.Code, w.Body.String())
	return decode[map[string]string](m.t, w)
}

func (m *matchEnv) expectSignal(orderID string) {
	m.tc.On("SignalWorkflow", mock.Anything, orderID, "", workflows.SignalPayment, mock.Anything).Return(nil).Once()
}

// matchedEntries are the order's payment.matched audit entries.
func (m *matchEnv) matchedEntries(orderID string) []store.AuditEntry {
	m.t.Helper()
	log, err := m.store.AuditLog(m.ctx, orderID)
	require.NoError(m.t, err)
	var out []store.AuditEntry
	for _, e := range log {
		if e.Action == api.ActionPaymentMatched {
			out = append(out, e)
		}
	}
	return out
}

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// A mistyped RF reference is applied to the one invoice it is a typing
// error from, with the rule and the evidence in the order's audit log.
func TestMatcherAppliesMistypedRF(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	id := m.invoiced(acme, "INV-7001", 250_00, m.now.AddDate(0, 0, 20))
	m.invoiced(acme, "INV-7002", 250_00, m.now.AddDate(0, 0, 25))
	rf := []byte(order.CreditorReferenceOf("INV-7001"))
	rf[2], rf[3] = rf[3], rf[2] // swapped check digits
	m.expectSignal(id)
	ans := m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-rf", BankTransactionID: "btx-rf", Amount: eur(250_00),
		Reference: "Payment " + string(rf), Payer: "Someone Else Ltd"}))
	require.Equal(t, map[string]string{"status": api.WebhookAccepted, "rule": string(matching.RuleRFCorrected), "invoice": "INV-7001"}, ans)

	sigs := m.signals(id, workflows.SignalPayment)
	require.Len(t, sigs, 1)
	require.Equal(t, workflows.PaymentSignal{BankTransactionID: "btx-rf", Amount: eur(250_00), Reference: "INV-7001",
		ReceivedAt: m.now.Add(-time.Minute)}, sigs[0])

	p, err := m.store.Payment(m.ctx, "btx-rf")
	require.NoError(t, err)
	require.Equal(t, id, p.OrderID)
	require.Equal(t, "INV-7001", p.InvoiceNumber)
	require.Equal(t, string(matching.RuleRFCorrected), p.MatchRule)
	require.InDelta(t, matching.ConfidenceRFCorrected, *p.MatchConfidence, 1e-9)
	require.Empty(t, p.AllocatedBy, "applied without finance")

	entries := m.matchedEntries(id)
	require.Len(t, entries, 1)
	require.Equal(t, order.System, entries[0].Actor)
	require.Contains(t, entries[0].Reason, "rf-corrected")
	var data struct {
		Rule       string   `json:"rule"`
		Confidence float64  `json:"confidence"`
		Evidence   []string `json:"evidence"`
		Invoice    string   `json:"invoice_number"`
	}
	require.NoError(t, json.Unmarshal(entries[0].Data, &data))
	require.Equal(t, "rf-corrected", data.Rule)
	require.Equal(t, "INV-7001", data.Invoice)
	require.NotEmpty(t, data.Evidence)
	require.Contains(t, data.Evidence[0], "fails its check")
}

// A payment without a reference from an account on file for the customer
// pays the customer's only open invoice of that amount; from another
// customer's account it is never applied to this customer's invoice.
func TestMatcherAppliesByPayerAccount(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	id := m.invoiced(acme, "INV-7101", 480_00, m.now.AddDate(0, 0, 20))
	m.invoiced(acme, "INV-7102", 120_00, m.now.AddDate(0, 0, 20))

	// Globex's account paying Acme's amount: Globex has no such invoice.
	before := len(m.calls("SignalWorkflow"))
	ans := m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-other", BankTransactionID: "btx-other", Amount: eur(480_00),
		Payer: "Acme Industrial GmbH", PayerAccount: store.DemoPayerAccounts["GLOBEX-002"]}))
	require.Equal(t, api.WebhookUnmatched, ans["status"])
	require.Len(t, m.calls("SignalWorkflow"), before, "never applied to another customer's invoice")

	m.expectSignal(id)
	ans = m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-acct", BankTransactionID: "btx-acct", Amount: eur(480_00),
		Payer: "ACME IND", PayerAccount: "de89 3704 0044 0532 0130 00"}))
	require.Equal(t, map[string]string{"status": api.WebhookAccepted, "rule": string(matching.RulePayerAmount), "invoice": "INV-7101"}, ans)
	sigs := m.signals(id, workflows.SignalPayment)
	require.Len(t, sigs, 1)
	require.Equal(t, "btx-acct", sigs[0].(workflows.PaymentSignal).BankTransactionID)
	require.Len(t, m.matchedEntries(id), 1)

	p, err := m.store.Payment(m.ctx, "btx-acct")
	require.NoError(t, err)
	require.Equal(t, "ACME IND", p.Payer)
	require.Equal(t, "de89 3704 0044 0532 0130 00", p.PayerAccount)
}

// Two open invoices of the amount: finance gets both, ranked, with the
// rule and evidence; confirming one applies the payment under finance's
// name, takes it off the list and learns the account.
func TestMatcherCandidatesConfirmedByFinance(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	older := m.invoiced("GLOBEX-002", "INV-7201", 99_00, m.now.AddDate(0, 0, 10))
	m.invoiced("GLOBEX-002", "INV-7202", 99_00, m.now.AddDate(0, 0, 30))
	const newAccount = "DE02120300000000202051"

	before := len(m.calls("SignalWorkflow"))
	ans := m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-2", BankTransactionID: "btx-2", Amount: eur(99_00),
		Payer: "Globex Corporation", PayerAccount: newAccount}))
	require.Equal(t, map[string]string{"status": api.WebhookUnmatched, "rule": string(matching.RuleNameAmount)}, ans)
	require.Len(t, m.calls("SignalWorkflow"), before)

	w := m.do(req{method: http.MethodGet, path: "/v1/worklists/unmatched-payments", token: m.token(order.RoleFinance)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var page struct {
		Items []store.Payment `json:"items"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	require.Len(t, page.Items, 1)
	got := page.Items[0]
	require.Equal(t, "btx-2", got.BankTransactionID)
	require.Equal(t, string(matching.RuleNameAmount), got.MatchRule)
	require.NotEmpty(t, got.MatchEvidence)
	require.Len(t, got.Candidates, 2)
	require.Equal(t, "INV-7201", got.Candidates[0].Invoice, "the older due first")
	require.Equal(t, "INV-7202", got.Candidates[1].Invoice)
	require.NotEmpty(t, got.Candidates[0].Reasons)
	require.Positive(t, got.Candidates[0].Score)

	// The dashboard's table shows them too.
	w = m.do(req{method: http.MethodGet, path: "/dashboard", token: m.token(order.RoleFinance)})
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "1. INV-7201 (0.50: ")
	require.Contains(t, w.Body.String(), "2. INV-7202 (0.50: ")

	allocate := func(body map[string]any) *responseRecorder {
		return m.do(req{method: http.MethodPost, path: "/v1/payments/btx-2/allocate", token: m.token(order.RoleFinance), body: body})
	}
	p := requireProblem(t, allocate(map[string]any{"candidate": 3, "reason": "x"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"candidate"}, p.fields())
	p = requireProblem(t, allocate(map[string]any{"candidate": -1, "reason": "x"}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"candidate"}, p.fields())

	m.expectSignal(older)
	w = allocate(map[string]any{"candidate": 1, "reason": "remittance advice by mail names the first delivery"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	applied := decode[store.Payment](t, w)
	require.Equal(t, "INV-7201", applied.InvoiceNumber)
	require.Equal(t, older, applied.OrderID)
	require.Equal(t, order.MatchExact, applied.MatchKind)
	require.NotEmpty(t, applied.AllocatedBy, "finance confirmed it")
	sigs := m.signals(older, workflows.SignalPayment)
	require.Equal(t, "INV-7201", sigs[len(sigs)-1].(workflows.PaymentSignal).Reference)

	queue, err := m.store.UnmatchedPayments(m.ctx)
	require.NoError(t, err)
	require.Empty(t, queue, "off finance's list once applied")
	log, err := m.store.AuditLog(m.ctx, older)
	require.NoError(t, err)
	last := log[len(log)-1]
	require.Equal(t, api.ActionPaymentAllocated, last.Action)
	require.Contains(t, string(last.Data), `"candidate": 1`)

	// The account is on file now: its next payment needs no finance.
	accts, err := m.store.PayerAccounts(m.ctx, "GLOBEX-002")
	require.NoError(t, err)
	var on []string
	for _, a := range accts {
		on = append(on, a.Account)
	}
	require.Contains(t, on, newAccount)
	later := m.invoiced("GLOBEX-002", "INV-7203", 77_00, m.now.AddDate(0, 0, 30))
	m.expectSignal(later)
	ans = m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-3", BankTransactionID: "btx-3", Amount: eur(77_00),
		Payer: "Globex Corporation", PayerAccount: newAccount}))
	require.Equal(t, api.WebhookAccepted, ans["status"])
	require.Equal(t, string(matching.RulePayerAmount), ans["rule"])
}

// The matcher's match is told to the order once per payment id: a failed
// signal is retried by the bank's redelivery, a redelivery under a new
// event id sends the same id again (which the order drops), and the audit
// entry is written once.
func TestMatcherRedeliveryAppliesOnce(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	id := m.invoiced(acme, "INV-7301", 310_00, m.now.AddDate(0, 0, 20))
	ev := webhook.PaymentEvent{EventID: "ev-r", BankTransactionID: "btx-r", Amount: eur(310_00),
		PayerAccount: store.DemoPayerAccounts[acme]}

	m.tc.On("SignalWorkflow", mock.Anything, id, "", workflows.SignalPayment, mock.Anything).Return(errors.New("deadline exceeded")).Once()
	requireProblem(t, m.pay(ev), http.StatusServiceUnavailable)

	m.expectSignal(id)
	require.Equal(t, api.WebhookAccepted, m.answer(m.pay(ev))["status"])
	require.Equal(t, api.WebhookDuplicate, m.answer(m.pay(ev))["status"], "the same event")

	again := ev
	again.EventID = "ev-r2"
	m.expectSignal(id)
	require.Equal(t, api.WebhookAccepted, m.answer(m.pay(again))["status"], "not recorded by the order yet: told again")
	for _, s := range m.signals(id, workflows.SignalPayment) {
		require.Equal(t, "btx-r", s.(workflows.PaymentSignal).BankTransactionID, "always under the payment's id")
	}
	require.Len(t, m.matchedEntries(id), 1)

	// The order recorded it: a redelivery tells nobody.
	require.NoError(t, m.store.MatchPayment(m.ctx, "btx-r", id, "INV-7301", order.MatchExact, "orderflow"))
	before := len(m.calls("SignalWorkflow"))
	again.EventID = "ev-r3"
	require.Equal(t, api.WebhookDuplicate, m.answer(m.pay(again))["status"])
	require.Len(t, m.calls("SignalWorkflow"), before)
	require.Len(t, m.matchedEntries(id), 1)
}

// One amount that is the sum of the customer's open invoices, from its
// account, without a reference: each invoice gets its part, under its own
// payment id.
func TestMatcherAppliesGroupedPayment(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	first := m.invoiced(acme, "INV-7401", 100_00, m.now.AddDate(0, 0, 10))
	second := m.invoiced(acme, "INV-7402", 230_50, m.now.AddDate(0, 0, 20))
	m.expectSignal(first)
	m.expectSignal(second)
	ans := m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-g", BankTransactionID: "btx-g", Amount: eur(330_50),
		Reference: "Sammelzahlung Dezember", PayerAccount: store.DemoPayerAccounts[acme]}))
	require.Equal(t, api.WebhookAccepted, ans["status"])
	require.Equal(t, string(matching.RulePayerSum), ans["rule"])

	received := m.now.Add(-time.Minute)
	require.Equal(t, []any{workflows.PaymentSignal{BankTransactionID: webhook.PartTransactionID("btx-g", "INV-7401"),
		Amount: eur(100_00), Reference: "INV-7401", ReceivedAt: received}}, m.signals(first, workflows.SignalPayment))
	require.Equal(t, []any{workflows.PaymentSignal{BankTransactionID: webhook.PartTransactionID("btx-g", "INV-7402"),
		Amount: eur(230_50), Reference: "INV-7402", ReceivedAt: received}}, m.signals(second, workflows.SignalPayment))
	require.Len(t, m.matchedEntries(first), 1)
	require.Len(t, m.matchedEntries(second), 1)

	p, err := m.store.Payment(m.ctx, "btx-g")
	require.NoError(t, err)
	require.Equal(t, store.MatchSplit, p.MatchKind)
	require.Len(t, p.MatchParts, 2)

	// Finance cannot allocate the whole payment a second time.
	w := m.do(req{method: http.MethodPost, path: "/v1/payments/btx-g/allocate", token: m.token(order.RoleFinance),
		body: map[string]any{"order_id": first, "reason": "x"}})
	requireProblem(t, w, http.StatusConflict)

	// The orders record their parts; a redelivery applies nothing twice.
	for _, part := range p.MatchParts {
		require.NoError(t, m.store.MatchPayment(m.ctx, part.BankTransactionID, part.OrderID, part.InvoiceNumber, order.MatchExact, "orderflow"))
	}
	before := len(m.calls("SignalWorkflow"))
	require.Equal(t, api.WebhookDuplicate, m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-g2", BankTransactionID: "btx-g", Amount: eur(330_50),
		Reference: "Sammelzahlung Dezember", PayerAccount: store.DemoPayerAccounts[acme]}))["status"])
	require.Len(t, m.calls("SignalWorkflow"), before)
	queue, err := m.store.UnmatchedPayments(m.ctx)
	require.NoError(t, err)
	require.Empty(t, queue)
}

// A payment applied by its exact reference teaches its payer's account.
func TestExactReferenceLearnsPayerAccount(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	id := m.invoiced("GLOBEX-002", "INV-7501", 10_00, m.now.AddDate(0, 0, 10))
	m.expectSignal(id)
	require.Equal(t, api.WebhookAccepted, m.answer(m.pay(webhook.PaymentEvent{EventID: "ev-x", BankTransactionID: "btx-x",
		Amount: eur(10_00), Reference: "INV-7501", PayerAccount: "GB33BUKB20201555555555"}))["status"])
	accts, err := m.store.PayerAccounts(m.ctx, "GLOBEX-002")
	require.NoError(t, err)
	var on []string
	for _, a := range accts {
		on = append(on, a.Account)
	}
	require.Contains(t, on, "GB33BUKB20201555555555")

	// An account too long, or not printable, is refused naming the field.
	for _, bad := range []string{string(make([]byte, 71)), "DE89\x00"} {
		p := requireProblem(t, m.pay(webhook.PaymentEvent{EventID: "ev-bad", BankTransactionID: "btx-bad", Amount: eur(10_00),
			PayerAccount: bad}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"payer_account"}, p.fields())
	}
}

// Sales admins and finance keep a customer's payer accounts; GET terms
// lists them with the terms (the demo customers' seeded ones too).
func TestPayerAccountsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type accounts struct {
		PayerAccounts []store.PayerAccount `json:"payer_accounts"`
	}
	list := func(w *responseRecorder) []string {
		t.Helper()
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var out []string
		for _, a := range decode[accounts](t, w).PayerAccounts {
			out = append(out, a.Account)
		}
		return out
	}
	const path = "/v1/customers/GLOBEX-002/payer-accounts"
	require.Equal(t, []string{store.DemoPayerAccounts["GLOBEX-002"]},
		list(e.do(req{method: http.MethodGet, path: "/v1/customers/GLOBEX-002/terms", token: e.token(order.RoleSalesAdmin)})))

	w := e.do(req{method: http.MethodPut, path: path + "/gb33%20bukb%202020%201555%205555%2055", token: e.token(order.RoleFinance),
		body: map[string]any{"reason": "customer's new house bank"}})
	require.Equal(t, []string{"DE12500105170648489890", "GB33BUKB20201555555555"}, list(w))
	w = e.do(req{method: http.MethodPut, path: path + "/GB33BUKB20201555555555", token: e.token(order.RoleSalesAdmin),
		body: map[string]any{"reason": "again"}})
	require.Len(t, list(w), 2, "once")
	require.Len(t, list(e.do(req{method: http.MethodGet, path: path, token: e.token(order.RoleSalesManager)})), 2)

	requireProblem(t, e.do(req{method: http.MethodPut, path: path + "/X1", token: e.token(order.RoleSalesRep),
		body: map[string]any{"reason": "x"}}), http.StatusForbidden)
	p := requireProblem(t, e.do(req{method: http.MethodPut, path: path + "/---", token: e.token(order.RoleFinance),
		body: map[string]any{"reason": "x"}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"account"}, p.fields())
	p = requireProblem(t, e.do(req{method: http.MethodPut, path: path + "/%3Cscript%3E", token: e.token(order.RoleFinance),
		body: map[string]any{"reason": "x"}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"account"}, p.fields(), "not an account: refused, not stored as SCRIPT")
	p = requireProblem(t, e.do(req{method: http.MethodPut, path: path + "/DE1", token: e.token(order.RoleFinance),
		body: map[string]any{}}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"reason"}, p.fields())
	requireProblem(t, e.do(req{method: http.MethodPut, path: "/v1/customers/NOPE/payer-accounts/DE1", token: e.token(order.RoleFinance),
		body: map[string]any{"reason": "x"}}), http.StatusNotFound)

	w = e.do(req{method: http.MethodDelete, path: path + "/GB33BUKB20201555555555?reason=closed", token: e.token(order.RoleFinance)})
	require.Equal(t, []string{"DE12500105170648489890"}, list(w))

	log, err := e.store.AuditLog(context.Background(), store.CustomerAuditID("GLOBEX-002"))
	require.NoError(t, err)
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action)
	}
	require.Equal(t, []string{api.ActionPayerAccountAdded, api.ActionPayerAccountRemoved}, actions, "each change once, with its reason")
}

// A remittance part whose reference is a mistyped RF goes to the matcher
// too, under the part's id.
func TestMatcherAppliesRemittancePart(t *testing.T) {
	t.Parallel()
	m := newMatchEnv(t)
	first := m.invoiced(acme, "INV-7601", 60_00, m.now.AddDate(0, 0, 20))
	second := m.invoiced(acme, "INV-7602", 40_00, m.now.AddDate(0, 0, 20))
	rf := []byte(order.CreditorReferenceOf("INV-7602"))
	rf[2], rf[3] = rf[3], rf[2]
	m.expectSignal(first)
	m.expectSignal(second)
	w := m.pay(webhook.PaymentEvent{EventID: "ev-rm", BankTransactionID: "btx-rm", Amount: eur(100_00),
		Remittance: []webhook.RemittancePart{{Reference: "INV-7601", Amount: eur(60_00)}, {Reference: string(rf), Amount: eur(40_00)}}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	ack := decode[struct {
		Status string `json:"status"`
		Parts  []struct {
			BankTransactionID string `json:"bank_transaction_id"`
			Status            string `json:"status"`
			Rule              string `json:"rule"`
			Invoice           string `json:"invoice"`
		} `json:"parts"`
	}](t, w)
	require.Equal(t, api.WebhookAccepted, ack.Status)
	require.Len(t, ack.Parts, 2)
	require.Equal(t, api.WebhookAccepted, ack.Parts[1].Status)
	require.Equal(t, string(matching.RuleRFCorrected), ack.Parts[1].Rule)
	require.Equal(t, "INV-7602", ack.Parts[1].Invoice)
	sigs := m.signals(second, workflows.SignalPayment)
	require.Len(t, sigs, 1)
	require.Equal(t, workflows.PaymentSignal{BankTransactionID: webhook.PartTransactionID("btx-rm", string(rf)), Amount: eur(40_00),
		Reference: "INV-7602", ReceivedAt: m.now.Add(-time.Minute)}, sigs[0])
	require.Len(t, m.matchedEntries(second), 1)
	require.Empty(t, m.matchedEntries(first), "the exact part is no matcher's")
}
