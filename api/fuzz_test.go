package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/orderflow/orderflow/api"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
)

// fuzzClient is a Temporal mock that accepts whatever the handlers send.
func fuzzClient(t testing.TB) *mocks.Client {
	tc := &mocks.Client{}
	allowStart(t, tc, pricedQuote)
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, serviceerror.NewNotFound("no"))
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	return tc
}

// FuzzQuoteRequest sends arbitrary bodies to POST /v1/quotes: whatever
// arrives, the answer is a success or a 4xx problem naming what is wrong,
// never a 500.
func FuzzQuoteRequest(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	// A sales rep may send every field, discount_bp included.
	token := e.token(order.RoleSalesRep)
	for _, seed := range []string{
		`{"customer_id":"ACME-001","lines":[{"sku":"BOLT-M8","quantity":1}]}`,
		`{"customer_id":"ACME-001","po_number":"PO-1","lines":[{"sku":"A","quantity":1},{"sku":"B","quantity":2}],"discount_bp":500}`,
		`{"customer_id":"NOBODY","lines":[{"sku":"A","quantity":1}]}`,
		`{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1e30}]}`,
		`{"customer_id":"ACME-001","lines":null,"discount_bp":-9223372036854775808}`,
		`{"customer_id":"\u0000","lines":[{"sku":"\u0000","quantity":1}]}`,
		`{"customer_id":"ACME-001","lines":[{"sku":"A","quantity":1}],"po_number":"\ud800"}`,
		`[]`, `null`, `""`, `{`, ``, `{"a":1}`, `{"customer_id":{}}`,
		`{"Customer_ID":"ACME-001","lines":[{"sku":"BOLT-M8","quantity":1}]}`,
		`{"customer_id":"ACME-001","lines":[{"SKU":"BOLT-M8","quantity":1}]}`,
		`{"customer_id":"ACME-001","customer_iD":"GLOBEX-002","lines":[{"sku":"BOLT-M8","quantity":1}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha256.Sum256(body)
		w := e.with(t).do(req{method: http.MethodPost, path: "/v1/quotes", token: token, body: body,
			header: map[string]string{"Idempotency-Key": hex.EncodeToString(sum[:])}})
		switch w.Code {
		case http.StatusCreated, http.StatusOK, http.StatusAccepted:
			var v orderView
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.ID == "" {
				t.Fatalf("success without an order: %s", w.Body.String())
			}
			// Keys are matched exactly: an order is only ever made from them.
			var top map[string]json.RawMessage
			var lines []map[string]json.RawMessage
			if err := json.Unmarshal(body, &top); err != nil {
				t.Fatalf("body %q made an order but is no object", body)
			}
			_ = json.Unmarshal(top["lines"], &lines)
			for k := range top {
				if k != "customer_id" && k != "po_number" && k != "lines" && k != "discount_bp" {
					t.Fatalf("body %q made an order with the key %q", body, k)
				}
			}
			for _, l := range lines {
				for k := range l {
					if k != "sku" && k != "quantity" {
						t.Fatalf("body %q made an order with the line key %q", body, k)
					}
				}
			}
		case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict, http.StatusRequestEntityTooLarge:
			var p problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code {
				t.Fatalf("%d without a problem document: %s", w.Code, w.Body.String())
			}
			if w.Code == http.StatusUnprocessableEntity && len(p.Errors) == 0 {
				t.Fatalf("422 names no field: %s", w.Body.String())
			}
		default:
			t.Fatalf("body %q answered %d: %s", body, w.Code, w.Body.String())
		}
	})
}

// FuzzWebhooks sends arbitrary bodies and signature headers to both webhooks,
// signed correctly or not: never a 5xx.
func FuzzWebhooks(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	ev, _ := json.Marshal(webhook.LogisticsEvent{EventID: "e1", Type: "delivered", ShipmentID: "s", Reference: "ord_X",
		OccurredAt: e.now})
	pay := []byte(`{"event_id":"p1","bank_transaction_id":"t1","amount":{"minor":100,"currency":"EUR"},"reference":"INV-1","received_at":"2026-01-01T00:00:00Z"}`)
	f.Add(false, true, ev, "")
	f.Add(true, true, pay, "")
	f.Add(true, true, []byte(`{"event_id":"p2","bank_transaction_id":"t2","amount":{"minor":1,"currency":"EUR"},"received_at":"0000-01-01T00:00:00Z"}`), "")
	f.Add(true, true, []byte(`{"event_id":"p3","bank_transaction_id":"t3","amount":{"minor":9223372036854775807,"currency":"USD"},"reference":"`+string(rune(0xfffd))+`"}`), "")
	f.Add(false, true, []byte(`{"event_id":"e2","type":"in_transit","detail":"\u0000"}`), "")
	f.Add(false, false, ev, "t=1,v1=00")
	f.Add(true, false, pay, "garbage")
	f.Add(false, true, []byte(`null`), "")
	f.Add(true, true, []byte(`{"event_id":"p4","bank_transaction_id":"t4","amount":{"minor":1000000000001,"currency":"EUR"}}`), "")
	f.Add(true, true, []byte(`{"event_id":"p5","bank_transaction_id":"t5","amount":{"minor":100,"currency":"JPY"}}`), "")
	f.Add(true, true, []byte(`{"event_id":"p6","bank_transaction_id":"t6","Amount":{"minor":100,"currency":"EUR"},"amount":{"MINOR":5,"minor":7,"currency":"USD"}}`), "")
	f.Add(false, true, []byte(`{"EVENT_ID":"e3","event_id":"e4","type":"in_transit","Occurred_At":"yesterday"}`), "")
	f.Add(false, true, []byte(`{"event_id":"e5","type":"delivered","shipment_id":"s","reference":"ord_X","occurred_at":"yesterday"}`), "")
	f.Add(false, false, ev, "t=yesterday,v1=00")
	// Remittances: good, not adding up, a bad part, a part reference repeated, a huge part.
	f.Add(true, true, []byte(`{"event_id":"p7","bank_transaction_id":"t7","amount":{"minor":300,"currency":"EUR"},"remittance":[{"reference":"INV-1","amount":{"minor":100,"currency":"EUR"}},{"reference":"INV-2","amount":{"minor":200,"currency":"EUR"}}]}`), "")
	f.Add(true, true, []byte(`{"event_id":"p8","bank_transaction_id":"t8","amount":{"minor":300,"currency":"EUR"},"remittance":[{"reference":"INV-1","amount":{"minor":100,"currency":"EUR"}}]}`), "")
	f.Add(true, true, []byte(`{"event_id":"p9","bank_transaction_id":"t9","amount":{"minor":300,"currency":"EUR"},"remittance":[{"reference":"INV-1","amount":{"minor":400,"currency":"EUR"}},{"reference":"INV-2","amount":{"minor":-100,"currency":"EUR"}}]}`), "")
	f.Add(true, true, []byte(`{"event_id":"p10","bank_transaction_id":"t10","amount":{"minor":300,"currency":"EUR"},"remittance":[{"reference":"INV-1","amount":{"minor":150,"currency":"EUR"}},{"reference":" INV-1","amount":{"minor":150,"currency":"EUR"}}]}`), "")
	f.Add(true, true, []byte(`{"event_id":"p11","bank_transaction_id":"t11","amount":{"minor":1,"currency":"EUR"},"remittance":[{"reference":"INV-1","amount":{"minor":9223372036854775807,"currency":"EUR"}},{"reference":"INV-2","amount":{"minor":2,"currency":"EUR"}}]}`), "")
	f.Add(true, true, []byte(`{"event_id":"p12","bank_transaction_id":"t12","amount":{"minor":5,"currency":"EUR"},"remittance":null,"Remittance":[{"reference":"\u0000","amount":{"minor":5,"currency":"EUR"}}]}`), "")
	// The payer's account: an IBAN, one on file, too long, with NUL or a
	// control character, not a string.
	f.Add(true, true, []byte(`{"event_id":"p13","bank_transaction_id":"t13","amount":{"minor":100,"currency":"EUR"},"payer":"Acme Industrial GmbH","payer_account":"DE89 3704 0044 0532 0130 00"}`), "")
	f.Add(true, true, []byte(`{"event_id":"p14","bank_transaction_id":"t14","amount":{"minor":100,"currency":"EUR"},"payer_account":"`+strings.Repeat("9", 71)+`"}`), "")
	f.Add(true, true, []byte(`{"event_id":"p15","bank_transaction_id":"t15","amount":{"minor":100,"currency":"EUR"},"payer_account":"DE89\u0000"}`), "")
	f.Add(true, true, []byte(`{"event_id":"p16","bank_transaction_id":"t16","amount":{"minor":100,"currency":"EUR"},"payer_account":"\u001b[31m"}`), "")
	f.Add(true, true, []byte(`{"event_id":"p17","bank_transaction_id":"t17","amount":{"minor":100,"currency":"EUR"},"payer_account":42}`), "")
	f.Add(true, true, []byte(`{"event_id":"p18","bank_transaction_id":"t18","amount":{"minor":300,"currency":"EUR"},"payer_account":"DE12500105170648489890","remittance":[{"reference":"RF18INV1","amount":{"minor":300,"currency":"EUR"}}]}`), "")
	f.Fuzz(func(t *testing.T, payments, sign bool, body []byte, header string) {
		path, secret := "/v1/webhooks/logistics", logisticsSecret
		if payments {
			path, secret = "/v1/webhooks/payments", paymentsSecret
		}
		if sign {
			header = webhook.Sign(secret, e.now, body)
		}
		hr := req{method: http.MethodPost, path: path, body: body, header: map[string]string{webhook.SignatureHeader: header}}
		w := e.with(t).do(hr)
		if w.Code >= 500 {
			t.Fatalf("%s with body %q and header %q answered %d: %s", path, body, header, w.Code, w.Body.String())
		}
		if !sign && w.Code == http.StatusOK {
			t.Fatalf("an unsigned body was accepted: %q %q", body, header)
		}
		if payments && w.Code == http.StatusOK {
			// No invoice exists here, so every payment taken waits for finance:
			// each must be positive, bounded, in a currency we trade in.
			ps, err := e.store.UnmatchedPayments(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Amount.Minor <= 0 || p.Amount.Minor > api.MaxPaymentMinor || (p.Amount.Currency != "EUR" && p.Amount.Currency != "USD") {
					t.Fatalf("body %q stored the payment %+v", body, p)
				}
			}
		}
	})
}

// FuzzSurveyAnswer posts arbitrary form bodies to a fresh survey each time:
// never a 5xx, and an answer is stored only from a form with exactly one
// score from 0 to 10 and at most one comment.
func FuzzSurveyAnswer(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	for _, seed := range []string{
		"score=9&comment=on+time", "score=9&score=3", "score=9&comment=a&comment=b", "score=10", "score=11",
		"score=%zz", "score=1;comment=x", "comment=only", "", "score=+7+", "score=07", "score=9&Score=3",
		"score=3&comment=%00", "score=3&comment=%ff",
	} {
		f.Add([]byte(seed))
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := context.Background()
		i := n.Add(1)
		token := fmt.Sprintf("tok-fuzz-%d", i)
		if _, err := e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: fmt.Sprintf("ord_FUZZ%d", i), Token: token, ExpiresAt: e.now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		w := e.with(t).do(req{method: http.MethodPost, path: "/survey/" + token, body: body,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		if w.Code >= 500 {
			t.Fatalf("body %q answered %d: %s", body, w.Code, w.Body.String())
		}
		sv, err := e.store.SurveyByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusOK {
			if sv.Score != nil {
				t.Fatalf("body %q answered %d but stored a score", body, w.Code)
			}
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["score"]) != 1 || len(form["comment"]) > 1 {
			t.Fatalf("body %q (%v, %v) was taken as an answer", body, form, err)
		}
		score, err := strconv.Atoi(strings.TrimSpace(form.Get("score")))
		if err != nil || sv.Score == nil || *sv.Score != score || score < 0 || score > 10 {
			t.Fatalf("body %q stored %v", body, sv.Score)
		}
	})
}

// FuzzAllocatePayment sends arbitrary bodies to POST
// /v1/payments/{id}/allocate for an unmatched payment and an invoiced order:
// never a 5xx, a 422 names its field, and the payment is applied only from
// a body whose keys are exactly order_id and reason.
func FuzzAllocatePayment(f *testing.F) {
	e := newEnv(f, withClient(fuzzClient(f)))
	ctx := context.Background()
	e.expectStart()
	id := e.createOrder("fuzz-allocate", quoteBody())
	if err := e.store.SaveInvoice(ctx, id, order.Invoice{InvoiceID: "inv-fz", Number: "INV-FZ",
		Amount: money.New(100_00, "EUR"), IssuedAt: e.now, DueDate: e.now.AddDate(0, 0, 30)}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"order_id":"` + id + `","reason":"customer called"}`,
		`{"Order_ID":"` + id + `","reason":"customer called"}`,
		`{"order_id":"` + id + `","REASON":"x","reason":"y"}`,
		`{"order_id":"ord_NOPE","reason":"x"}`, `{"order_id":"` + id + `"}`, `{"order_id":"` + id + `","reason":"\u0000"}`,
		`[]`, `null`, `{`, ``, `{"order_id":1}`,
		`{"invoice_number":"INV-FZ","reason":"x"}`, `{"candidate":1,"reason":"x"}`, `{"candidate":-1,"reason":"x"}`,
		`{"candidate":1,"invoice_number":"INV-FZ","reason":"x"}`, `{"candidate":9223372036854775807,"reason":"x"}`, `{"candidate":"1","reason":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	finance := e.token(order.RoleFinance)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		txn := fmt.Sprintf("txn-fz-%d", n.Add(1))
		if _, _, err := e.store.RecordPayment(ctx, store.Payment{BankTransactionID: txn, Amount: money.New(10_00, "EUR"),
			Reference: "misc", ReceivedAt: e.now}); err != nil {
			t.Fatal(err)
		}
		w := e.with(t).do(req{method: http.MethodPost, path: "/v1/payments/" + txn + "/allocate", token: finance, body: body})
		switch w.Code {
		case http.StatusOK:
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("body %q applied the payment but is no object: %v", body, err)
			}
			for k := range m {
				if k != "order_id" && k != "reason" && k != "invoice_number" && k != "candidate" {
					t.Fatalf("body %q applied the payment with the key %q", body, k)
				}
			}
		case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
			var p problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code {
				t.Fatalf("%d without a problem document: %s", w.Code, w.Body.String())
			}
			if w.Code == http.StatusUnprocessableEntity && len(p.Errors) == 0 {
				t.Fatalf("422 names no field: %s", w.Body.String())
			}
			if pay, err := e.store.Payment(ctx, txn); err != nil || pay.OrderID != "" {
				t.Fatalf("body %q refused with %d, but the payment reads %+v (%v)", body, w.Code, pay, err)
			}
		default:
			t.Fatalf("body %q answered %d: %s", body, w.Code, w.Body.String())
		}
	})
}
