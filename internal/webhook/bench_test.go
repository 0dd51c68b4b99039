package webhook_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/webhook"
)

// benchSecret is as long as the secrets `orderflow dev` generates (32 bytes).
var benchSecret = []byte("whsec_3b1f0c9a7e5d4c2b8a6f0e1d2c3b")

// benchAt is the signing time; Verify is given the same instant as "now".
var benchAt = time.Date(2026, 11, 25, 10, 15, 42, 0, time.UTC)

// logisticsBody is a carrier's exception scan, the longest logistics event
// the carrier sends, about 400 bytes of JSON.
func logisticsBody(b *testing.B) []byte {
	b.Helper()
	body, err := json.Marshal(webhook.LogisticsEvent{
		EventID:        "EVT-7F3A9C21B04D5E68",
		Type:           webhook.LogisticsException,
		ShipmentID:     "SHP-4C2E91A07B3D8F56",
		TrackingNumber: "1Z999AA10123456784",
		Reference:      "ord_01KBX3Q8M4ZP7R2T6V9W0Y5N1C",
		OccurredAt:     benchAt.Add(-3 * time.Minute),
		Detail: "Delivery attempt failed: consignee premises closed (goods receiving hours 07:00-15:00). " +
			"Parcel 2 of 3 held at depot DE-HAM-07; second attempt scheduled for the next business day, 08:00-12:00.",
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// paymentBody is a bank's incoming-payment notification with a remittance
// text as payers write them, about 400 bytes of JSON.
func paymentBody(b *testing.B) []byte {
	b.Helper()
	body, err := json.Marshal(webhook.PaymentEvent{
		EventID:           "EVT-9D41E07A2C5B3F18",
		BankTransactionID: "BTX-20261125-DEUTDEFF-0004711223",
		Amount:            money.New(483_060, "EUR"),
		Reference:         "INV-000042 / PO-4711 / order ord_01KBX3Q8M4ZP7R2T6V9W0Y5N1C, 2 pumps PUMP-200 and 1 motor MOTOR-7K, less 3% as agreed",
		Payer:             "Acme Industrial Components GmbH, Werkstrasse 12, 20457 Hamburg, IBAN DE89370400440532013000",
		ReceivedAt:        benchAt.Add(-time.Minute),
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func benchSign(b *testing.B, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	var header string
	for b.Loop() {
		header = webhook.Sign(benchSecret, benchAt, body)
	}
	if err := webhook.Verify(benchSecret, header, body, benchAt, 0); err != nil {
		b.Fatalf("Sign wrote a header Verify refuses: %v", err)
	}
}

func benchVerify(b *testing.B, body []byte) {
	header := webhook.Sign(benchSecret, benchAt, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := webhook.Verify(benchSecret, header, body, benchAt, webhook.DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignLogistics: what the carrier side pays to sign one exception event (HMAC-SHA256 over ~400 B).
func BenchmarkSignLogistics(b *testing.B) { benchSign(b, logisticsBody(b)) }

// BenchmarkSignPayment: what the bank side pays to sign one payment notification.
func BenchmarkSignPayment(b *testing.B) { benchSign(b, paymentBody(b)) }

// BenchmarkVerifyLogistics: the CPU the API spends authenticating one genuine logistics webhook.
func BenchmarkVerifyLogistics(b *testing.B) { benchVerify(b, logisticsBody(b)) }

// BenchmarkVerifyPayment: the CPU the API spends authenticating one genuine payment webhook.
func BenchmarkVerifyPayment(b *testing.B) { benchVerify(b, paymentBody(b)) }

// BenchmarkVerifyBadSignature: what a forged payment webhook (signed with the wrong secret) costs the API before it is refused.
func BenchmarkVerifyBadSignature(b *testing.B) {
	body := paymentBody(b)
	header := webhook.Sign([]byte("whsec_not-the-bank-but-an-attacker"), benchAt, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := webhook.Verify(benchSecret, header, body, benchAt, webhook.DefaultTolerance); !errors.Is(err, webhook.ErrBadSignature) {
			b.Fatalf("Verify of a forged signature = %v, want ErrBadSignature", err)
		}
	}
}
