// Package e2e drives orderflow end to end: the embedded Temporal server, the
// simulators, the mail sink, the worker and the REST API run in this process
// (internal/devstack, the same assembly as `orderflow dev`) against a
// throw-away PostgreSQL database, and the tests speak HTTP only.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// sys is one running orderflow and the tokens to talk to it.
type sys struct {
	t      *testing.T
	s      *devstack.Stack
	tokens map[order.Role]string
	http   *http.Client
}

func start(t *testing.T) *sys {
	t.Helper()
	return startWith(t, func(*devstack.Options) {})
}

// startWith starts the system with options changed by tune.
func startWith(t *testing.T, tune func(*devstack.Options)) *sys {
	t.Helper()
	o := devstack.Options{
		DatabaseURL: pgtest.NewURL(t), TemporalAddr: "127.0.0.1:0",
		APIAddr: "127.0.0.1:0", ERPAddr: "127.0.0.1:0", CarrierAddr: "127.0.0.1:0", BankAddr: "127.0.0.1:0",
		MailAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0",
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	}
	tune(&o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := devstack.Start(ctx, o)
	require.NoError(t, err)
	t.Cleanup(s.Stop)
	x := &sys{t: t, s: s, tokens: map[order.Role]string{}, http: &http.Client{Timeout: time.Minute}}
	for _, a := range []order.Actor{
		{Subject: "shop", Role: order.RoleStorefront},
		{Subject: "pat@acme", Role: order.RoleBuyer, CustomerID: "ACME-001"},
		{Subject: "sam@cs", Role: order.RoleCS},
		{Subject: "fin@seller", Role: order.RoleFinance},
		{Subject: "cfo@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"},
		{Subject: "rita@seller", Role: order.RoleSalesRep},
	} {
		tok, err := s.Tokens.Mint(a, time.Hour)
		require.NoError(t, err)
		x.tokens[a.Role] = tok
	}
	return x
}

type answer struct {
	status int
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

// call sends a JSON request; role "" sends no token.
func (x *sys) call(method, rawURL string, role order.Role, body any, header map[string]string) answer {
	x.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(x.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	require.NoError(x.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+x.tokens[role])
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := x.http.Do(req)
	require.NoError(x.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(x.t, err)
	return answer{status: resp.StatusCode, body: b}
}

func (x *sys) api(method, path string, role order.Role, body any) answer {
	x.t.Helper()
	return x.call(method, x.s.APIURL+path, role, body, nil)
}

// signed posts a webhook the way the carrier or the bank does.
func (x *sys) signed(path string, secret string, event any) answer {
	x.t.Helper()
	b, err := json.Marshal(event)
	require.NoError(x.t, err)
	req, err := http.NewRequest(http.MethodPost, x.s.APIURL+path, bytes.NewReader(b))
	require.NoError(x.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), time.Now(), b))
	resp, err := x.http.Do(req)
	require.NoError(x.t, err)
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: rb}
}

// orderView is the part of GET /v1/orders/{id} the tests read.
type orderView struct {
	ID             string       `json:"id"`
	Status         order.Status `json:"status"`
	NeedsAttention bool         `json:"needs_attention"`
	InvoiceNumber  string       `json:"invoice_number"`
	Total          struct {
		Minor    int64  `json:"minor"`
		Currency string `json:"currency"`
	} `json:"total"`
	Live *struct {
		Shipments []order.Shipment `json:"shipments"`
		Waiting   string           `json:"waiting"`
		Failure   *struct {
			Step      string `json:"step"`
			Error     string `json:"error"`
			Skippable bool   `json:"skippable"`
		} `json:"failure"`
	} `json:"live"`
}

func (x *sys) order(id string) orderView {
	x.t.Helper()
	a := x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleCS, nil)
	require.Equal(x.t, http.StatusOK, a.status, "GET order: %s", a.body)
	var v orderView
	require.NoError(x.t, json.Unmarshal(a.body, &v))
	return v
}

// waitAttention polls the order until it needs attention and its workflow
// names the failed step (or fails the test).
func (x *sys) waitAttention(id string, within time.Duration) orderView {
	x.t.Helper()
	var v orderView
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		if v = x.order(id); v.NeedsAttention && v.Live != nil && v.Live.Failure != nil {
			return v
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	x.t.Fatalf("order %s is %s and does not need attention after %s", id, v.Status, within)
	return v
}

// waitStatus polls the order until it reaches want (or fails the test).
func (x *sys) waitStatus(id string, want order.Status, within time.Duration) orderView {
	x.t.Helper()
	deadline := time.Now().Add(within)
	var v orderView
	for time.Now().Before(deadline) {
		v = x.order(id)
		if v.Status == want && (want != order.StatusShipping || (v.Live != nil && len(v.Live.Shipments) > 0)) {
			return v
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	x.t.Fatalf("order %s is %s (needs attention: %v), want %s after %s", id, v.Status, v.NeedsAttention, want, within)
	return v
}

func (x *sys) createQuote(key string, lines ...order.Line) string {
	x.t.Helper()
	body := map[string]any{"customer_id": "ACME-001", "po_number": "PO-" + key, "lines": lines}
	a := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer, body, map[string]string{"Idempotency-Key": key})
	require.Equal(x.t, http.StatusCreated, a.status, "POST /v1/quotes: %s", a.body)
	id, _ := a.json(x.t)["id"].(string)
	require.NotEmpty(x.t, id)
	// The same key and body is the same order, not a second one.
	again := x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleBuyer, body, map[string]string{"Idempotency-Key": key})
	require.Equal(x.t, http.StatusOK, again.status, "replay: %s", again.body)
	require.Equal(x.t, id, again.json(x.t)["id"])
	return id
}

func (x *sys) accept(id string) {
	x.t.Helper()
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)
	a := x.api(http.MethodPost, "/v1/orders/"+id+"/accept", order.RoleBuyer, map[string]any{"revision": 1})
	require.Equal(x.t, http.StatusOK, a.status, "accept: %s", a.body)
}

func (x *sys) deliver(id string, shipments []order.Shipment) {
	x.t.Helper()
	for _, s := range shipments {
		ev := webhook.LogisticsEvent{EventID: "ev-" + s.ShipmentID, Type: "delivered", ShipmentID: s.ShipmentID,
			TrackingNumber: s.TrackingNumber, Reference: id, OccurredAt: time.Now().UTC()}
		a := x.signed("/v1/webhooks/logistics", config.DevLogisticsSecret, ev)
		require.Equal(x.t, http.StatusOK, a.status, "delivery webhook: %s", a.body)
		// The carrier retries; a duplicate changes nothing.
		a = x.signed("/v1/webhooks/logistics", config.DevLogisticsSecret, ev)
		require.Equal(x.t, http.StatusOK, a.status, "duplicate delivery webhook: %s", a.body)
	}
}

// answerSurvey answers every survey the order has mailed so far, one per
// delivered shipment: it reads the links from the mail sink and posts the
// form to each. An answered survey answers again with its thank-you page.
func (x *sys) answerSurvey(id string, score int) {
	x.t.Helper()
	want := 0
	for _, s := range x.order(id).Live.Shipments {
		if s.Delivered {
			want++
		}
	}
	var links []string
	deadline := time.Now().Add(30 * time.Second)
	for (len(links) == 0 || len(links) < want) && time.Now().Before(deadline) {
		links = links[:0]
		a := x.call(http.MethodGet, x.s.MailURL+"/messages?order="+id+"&kind=survey", "", nil, nil)
		require.Equal(x.t, http.StatusOK, a.status)
		var msgs []struct {
			ID int64 `json:"id"`
		}
		require.NoError(x.t, json.Unmarshal(a.body, &msgs), "%s", a.body)
		for _, m := range msgs {
			// The list leaves bodies out; one message carries its text.
			one := x.call(http.MethodGet, fmt.Sprintf("%s/messages/%d", x.s.MailURL, m.ID), "", nil, map[string]string{"Accept": "application/json"})
			require.Equal(x.t, http.StatusOK, one.status)
			text, _ := one.json(x.t)["text"].(string)
			if i := strings.Index(text, x.s.APIURL+"/survey/"); i >= 0 {
				links = append(links, strings.Fields(text[i:])[0])
			}
		}
		if len(links) == 0 || len(links) < want {
			time.Sleep(100 * time.Millisecond)
		}
	}
	require.NotEmpty(x.t, links, "no survey mail for %s", id)
	require.GreaterOrEqual(x.t, len(links), want, "a survey mail per delivered shipment of %s", id)
	for _, link := range links {
		page := x.call(http.MethodGet, link, "", nil, nil)
		require.Equal(x.t, http.StatusOK, page.status)
		resp, err := x.http.PostForm(link, url.Values{"score": {fmt.Sprint(score)}, "comment": {"fast delivery"}})
		require.NoError(x.t, err)
		resp.Body.Close()
		require.Equal(x.t, http.StatusOK, resp.StatusCode)
	}
}

func (x *sys) pay(v orderView) {
	x.t.Helper()
	ev := webhook.PaymentEvent{EventID: "pay-" + v.ID, BankTransactionID: "BTX-" + v.ID, Reference: v.InvoiceNumber,
		Payer: "Acme Industrial GmbH", ReceivedAt: time.Now().UTC()}
	ev.Amount.Minor, ev.Amount.Currency = v.Total.Minor, v.Total.Currency
	a := x.signed("/v1/webhooks/payments", config.DevPaymentsSecret, ev)
	require.Equal(x.t, http.StatusOK, a.status, "payment webhook: %s", a.body)
}

// complete takes an accepted order through delivery, survey and payment.
func (x *sys) complete(id string) orderView {
	x.t.Helper()
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	x.deliver(id, v.Live.Shipments)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)
	require.NotEmpty(x.t, v.InvoiceNumber)
	x.answerSurvey(id, 9)
	x.pay(v)
	return x.waitStatus(id, order.StatusCompleted, 30*time.Second)
}
