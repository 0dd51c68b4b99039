package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orderflow/orderflow/internal/money"
)

// SignatureHeader is the HTTP header that carries the signature.
const SignatureHeader = "Webhook-Signature"

// DefaultTolerance is how far a signature's timestamp may lie from the
// receiver's clock when the caller passes no tolerance of its own.
const DefaultTolerance = 5 * time.Minute

// Sentinel errors of Verify; they come wrapped with what exactly is wrong.
var (
	// ErrBadSignature means the header is malformed or no signature in it
	// matches the body under the secret.
	ErrBadSignature = errors.New("bad webhook signature")
	// ErrStale means the signature is genuine but its timestamp lies outside
	// the tolerance: a replay, or a sender whose clock is far off.
	ErrStale = errors.New("stale webhook signature")
	// ErrBadTimestamp means the header's timestamp (t=) is missing, given
	// twice, or not unix seconds as Sign writes them. It is an
	// ErrBadSignature too (nothing can be verified without it), so callers
	// that only tell forged from stale need not know it; a receiver may
	// answer it as a malformed request rather than a failed authentication.
	ErrBadTimestamp = fmt.Errorf("%w: malformed timestamp", ErrBadSignature)
)

// maxHeader bounds the header Verify will look at; a rotation carries two or
// three signatures, never kilobytes.
const maxHeader = 4096

// Sign returns the SignatureHeader value for body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + unix + ",v1=" + hex.EncodeToString(mac(secret, unix, body))
}

func mac(secret []byte, unix string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(unix))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks that header signs body under secret and that its timestamp
// lies within tolerance of now, in either direction (a tolerance of zero or
// less means DefaultTolerance). Any one matching v1 entry suffices, so a
// sender may sign with an old and a new secret during rotation.
//
// The signature is checked before the timestamp: ErrStale therefore only ever
// reports a genuine but old (or future) request, never a forged one.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	unix, ts, sigs, err := parse(header)
	if err != nil {
		return err
	}
	want := mac(secret, unix, body)
	matched := false
	for _, s := range sigs {
		// Compare every entry, without early exit, in constant time each.
		if hmac.Equal(want, s) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("%w: no v1 signature matches the body", ErrBadSignature)
	}
	if d := distance(ts, now.Unix()); d > uint64(tolerance/time.Second) {
		return fmt.Errorf("%w: signed at %d, %d s away from now (%d), tolerance %s", ErrStale, ts, d, now.Unix(), tolerance)
	}
	return nil
}

// distance is |a-b| in seconds. Both are int64, so the true distance fits in a
// uint64 and two's-complement subtraction yields it exactly, where int64
// arithmetic on an absurd timestamp would overflow.
func distance(a, b int64) uint64 {
	if a >= b {
		return uint64(a) - uint64(b)
	}
	return uint64(b) - uint64(a)
}

// parse splits "t=…,v1=…[,v1=…]" into the timestamp, as signed and as a
// number, and the decoded v1 signatures.
func parse(header string) (unix string, ts int64, sigs [][]byte, err error) {
	bad := func(format string, a ...any) (string, int64, [][]byte, error) {
		return "", 0, nil, fmt.Errorf("%w: %s", ErrBadSignature, fmt.Sprintf(format, a...))
	}
	badTime := func(format string, a ...any) (string, int64, [][]byte, error) {
		return "", 0, nil, fmt.Errorf("%w: %s", ErrBadTimestamp, fmt.Sprintf(format, a...))
	}
	if header == "" {
		return bad("header %s missing", SignatureHeader)
	}
	if len(header) > maxHeader {
		return bad("header longer than %d bytes", maxHeader)
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return bad("element %q is not key=value", part)
		}
		switch k {
		case "t":
			if seenT {
				return badTime("timestamp given twice")
			}
			seenT = true
			if !canonicalUnix(v) {
				return badTime("timestamp %q is not unix seconds", v)
			}
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil {
				return badTime("timestamp %q: %v", v, perr)
			}
			unix, ts = v, n
		case "v1":
			s, herr := hex.DecodeString(v)
			if herr != nil || len(s) != sha256.Size {
				return bad("v1 signature %q is not %d hex bytes", v, sha256.Size)
			}
			sigs = append(sigs, s)
		default:
			// Unknown schemes are skipped: senders may add them ahead of receivers.
		}
	}
	if !seenT {
		return badTime("no timestamp (t=)")
	}
	if len(sigs) == 0 {
		return bad("no v1 signature")
	}
	return unix, ts, sigs, nil
}

// canonicalUnix accepts what Sign writes: decimal digits, no sign, no leading
// zero, so that one instant has exactly one signed form.
func canonicalUnix(s string) bool {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Logistics event types.
const (
	LogisticsDelivered = "delivered"
	LogisticsException = "exception"
	LogisticsInTransit = "in_transit"
	// LogisticsReturned: the goods of a return pickup are back at the
	// warehouse; the event's ShipmentID is the return pickup's id.
	LogisticsReturned = "returned"
)

// LogisticsEvent is what the carrier posts to POST /v1/webhooks/logistics.
type LogisticsEvent struct {
	// EventID is unique per event; receivers drop duplicates by it.
	EventID string `json:"event_id"`
	// Type is LogisticsDelivered, LogisticsException, LogisticsInTransit
	// or LogisticsReturned.
	Type           string `json:"type"`
	ShipmentID     string `json:"shipment_id"`
	TrackingNumber string `json:"tracking_number"`
	// Reference is the reference given at booking: our order id.
	Reference  string    `json:"reference"`
	OccurredAt time.Time `json:"occurred_at"`
	// Detail is free text, e.g. what went wrong for an exception.
	Detail string `json:"detail,omitempty"`
}

// PaymentEvent is what the bank posts to POST /v1/webhooks/payments.
type PaymentEvent struct {
	// EventID is unique per event; receivers drop duplicates by it.
	EventID           string      `json:"event_id"`
	BankTransactionID string      `json:"bank_transaction_id"`
	Amount            money.Money `json:"amount"`
	// Reference is the remittance text the payer wrote; it should carry an
	// invoice or order reference but may be empty or wrong.
	Reference string `json:"reference"`
	Payer     string `json:"payer"`
	// PayerAccount is the payer's IBAN or account number, when the bank
	// gives it (at most MaxPayerAccount bytes); orderflow matches a
	// payment without a usable reference by it.
	PayerAccount string    `json:"payer_account,omitempty"`
	ReceivedAt   time.Time `json:"received_at"`
	// Remittance, when present, splits the payment across several
	// invoices: each part names one reference and what of Amount pays it.
	// Without it the payment is one part: Reference and Amount. See Parts.
	Remittance []RemittancePart `json:"remittance,omitempty"`
}

// RemittancePart is one invoice reference of a remittance and the amount
// paid on it.
type RemittancePart struct {
	Reference string      `json:"reference"`
	Amount    money.Money `json:"amount"`
}

// Remittance bounds. A part's reference is an invoice or order reference,
// at most MaxRemittanceReference bytes: the length of an ISO 20022
// structured creditor reference (Max35Text).
const (
	MaxRemittanceParts     = 500
	MaxRemittanceReference = 35
)

// MaxPayerAccount bounds a payer's account: an IBAN has at most 34
// characters, printed in groups of four at most 42; other account ids
// (ISO 20022 Max34Text) fit too.
const MaxPayerAccount = 70

// Parts returns the payment's parts: the remittance list, or, without one,
// the single part Reference and Amount.
func (e PaymentEvent) Parts() []RemittancePart {
	if len(e.Remittance) == 0 {
		return []RemittancePart{{Reference: e.Reference, Amount: e.Amount}}
	}
	return e.Remittance
}

// CheckRemittance checks the remittance list against the payment, naming
// the field at fault as a request field: "remittance" when the list as a
// whole is wrong (too long, or its parts do not add up to the amount),
// "remittance[2].amount" or "remittance[2].reference" for one part. A part
// must carry a reference (trimmed, 1 to MaxRemittanceReference bytes,
// printable, not given twice) and a positive amount in the payment's
// currency. No list is valid: the payment is today's single reference and
// amount. The amount itself is the caller's to check.
func (e PaymentEvent) CheckRemittance() *RemittanceError {
	if len(e.Remittance) == 0 {
		return nil
	}
	if len(e.Remittance) > MaxRemittanceParts {
		return &RemittanceError{Field: "remittance", Reason: fmt.Sprintf("at most %d parts", MaxRemittanceParts)}
	}
	seen := make(map[string]bool, len(e.Remittance))
	var sum int64
	for i, p := range e.Remittance {
		field := func(name string) string { return fmt.Sprintf("remittance[%d].%s", i, name) }
		ref := strings.TrimSpace(p.Reference)
		switch {
		case ref == "":
			return &RemittanceError{Field: field("reference"), Reason: "required: the invoice this part pays"}
		case len(ref) > MaxRemittanceReference:
			return &RemittanceError{Field: field("reference"), Reason: fmt.Sprintf("at most %d bytes", MaxRemittanceReference)}
		case !printable(ref):
			return &RemittanceError{Field: field("reference"), Reason: "printable characters only"}
		case seen[ref]:
			return &RemittanceError{Field: field("reference"), Reason: "given twice; one part per reference"}
		case p.Amount.Currency != e.Amount.Currency:
			return &RemittanceError{Field: field("amount"), Reason: fmt.Sprintf("in %q, the payment's currency", e.Amount.Currency)}
		case p.Amount.Minor <= 0:
			return &RemittanceError{Field: field("amount"), Reason: "a positive number of minor units"}
		case p.Amount.Minor > e.Amount.Minor-sum:
			// Checked before adding, so the sum never overflows.
			return &RemittanceError{Field: "remittance", Reason: fmt.Sprintf("the parts add up to more than the payment's %d minor units", e.Amount.Minor)}
		}
		seen[ref] = true
		sum += p.Amount.Minor
	}
	if sum != e.Amount.Minor {
		return &RemittanceError{Field: "remittance", Reason: fmt.Sprintf("the parts add up to %d minor units, the payment is %d", sum, e.Amount.Minor)}
	}
	return nil
}

// RemittanceError names the remittance field at fault and why.
type RemittanceError struct {
	Field  string
	Reason string
}

func (e *RemittanceError) Error() string { return e.Field + ": " + e.Reason }

// PartTransactionID is the id a remittance part goes by where one id
// stands for one applied amount (orderflow's payments, the ERP's statement
// lines): the bank transaction id, ":" and the part's reference, e.g.
// "BTX-1:INV-000002". The bank and the receiver derive it alike. Not "/":
// the id stands in REST paths (POST /v1/payments/{id}/allocate).
func PartTransactionID(bankTransactionID, reference string) string {
	return bankTransactionID + ":" + strings.TrimSpace(reference)
}

// printable reports whether s is valid UTF-8 of printable characters only.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
