package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/orderflow/orderflow/internal/matching"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// Sentinel errors; callers test with errors.Is.
var (
	// ErrNotFound: no such row.
	ErrNotFound = errors.New("not found")
	// ErrIdempotencyConflict: the idempotency key was used with another request body.
	ErrIdempotencyConflict = errors.New("idempotency key reused with a different request")
	// ErrDuplicate: another row holds the unique key, or a replayed write
	// names an existing key with other contents.
	ErrDuplicate = errors.New("duplicate")
	// ErrSurveyClosed: the survey was closed or its window has passed.
	ErrSurveyClosed = errors.New("survey closed")
	// ErrPaymentMatched: the payment is applied to another invoice already.
	ErrPaymentMatched = errors.New("payment already matched to another invoice")
)

// OrderRecord is one row of the order projection that GET /v1/orders reads.
type OrderRecord struct {
	ID             string       `json:"id"`
	CustomerID     string       `json:"customer_id"`
	PONumber       string       `json:"po_number,omitempty"`
	Status         order.Status `json:"status"`
	NeedsAttention bool         `json:"needs_attention"`
	Total          money.Money  `json:"total"`
	QuoteRevision  int          `json:"quote_revision"`
	// Details says in words what the order waits for.
	Details       string `json:"details"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	// CreatedAt and UpdatedAt are zero (and left out of JSON) only in an
	// answer the API made from the workflow before any row existed.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// LastSeq is the workflow's transition counter last applied.
	LastSeq int64 `json:"-"`
}

// InvoiceState is one invoice of an order as the projection holds it.
type InvoiceState struct {
	Number   string
	Amount   money.Money
	IssuedAt time.Time
	DueDate  time.Time
	// Open is what the order last recorded as open on the invoice; nil
	// until it has recorded its ledger.
	Open     *money.Money
	Disputed bool
}

// NewOrder is what POST /v1/quotes writes, atomically with its idempotency key.
type NewOrder struct {
	// IdempotencyScope separates keys of different callers (the token subject).
	IdempotencyScope string
	IdempotencyKey   string
	// RequestHash is a digest of the request body: the same key with another
	// body is a conflict.
	RequestHash string
	Order       OrderRecord
	Actor       order.Actor
}

// Transition is one change of an order's state, written by the workflow
// through an activity. (Fence, Seq) orders them per order and makes the
// write idempotent: a retried write of the same pair changes nothing.
type Transition struct {
	OrderID string
	// CustomerID and PONumber let the first transition create the projection
	// row of an order that was started outside the API.
	CustomerID string
	PONumber   string
	Seq        int64
	// Fence orders the records of different workflow tasks: the deciding
	// task's history length, above every fence of the order's earlier
	// runs. A record with a higher fence is newer whatever its seq: a task
	// whose worker died may have written records that the task's retry,
	// on a longer history, decides otherwise under the same seqs. Records
	// of one task share the fence and order by seq; 0 (workers before the
	// fence) orders by seq alone.
	Fence          int64
	Status         order.Status
	NeedsAttention bool
	Total          money.Money
	QuoteRevision  int
	Details        string
	InvoiceNumber  string
	// Audit entry
	Actor  order.Actor
	Action string // e.g. "quote.priced", "status.changed", "action.retry"
	Reason string
	Data   json.RawMessage
	At     time.Time
	// Facts, when set, are what the dashboard and worklists read.
	Facts *order.Facts
}

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID         int64           `json:"id"`
	OrderID    string          `json:"order_id"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Actor      order.Actor     `json:"actor"`
	Action     string          `json:"action"`
	FromStatus order.Status    `json:"from_status,omitempty"`
	ToStatus   order.Status    `json:"to_status"`
	Reason     string          `json:"reason,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// Superseded marks the record of a workflow task that was lost (its
	// worker died before the task completed) and whose retry decided this
	// seq again: an entry of a later task carries the same or an earlier
	// seq. It stays in the log, which is append-only, but the order's
	// history is the entries that are not superseded.
	Superseded bool `json:"superseded,omitempty"`
}

// OrderFilter narrows ListOrders; zero fields do not filter.
type OrderFilter struct {
	CustomerID     string
	Status         order.Status
	NeedsAttention *bool
	// After is the id of the last order of the previous page (ids sort by creation).
	After string
	Limit int
}

// Survey is the NPS survey of one order.
type Survey struct {
	Token   string `json:"-"`
	OrderID string `json:"order_id"`
	// ShipmentID, Warehouse, Carrier and SKUs are the fulfilment the
	// survey asks about; ShipmentID "" for an order surveyed whole.
	ShipmentID string     `json:"shipment_id,omitempty"`
	CustomerID string     `json:"customer_id,omitempty"`
	Warehouse  string     `json:"warehouse,omitempty"`
	Carrier    string     `json:"carrier,omitempty"`
	SKUs       []string   `json:"skus,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	Score      *int       `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	Closed     bool       `json:"closed"`
}

// Payment is an incoming bank payment.
type Payment struct {
	BankTransactionID string      `json:"bank_transaction_id"`
	Amount            money.Money `json:"amount"`
	Reference         string      `json:"reference"`
	ReceivedAt        time.Time   `json:"received_at"`
	// OrderID and InvoiceNumber are set once the payment is matched or allocated.
	OrderID       string          `json:"order_id,omitempty"`
	InvoiceNumber string          `json:"invoice_number,omitempty"`
	MatchKind     order.MatchKind `json:"match_kind,omitempty"`
	AllocatedBy   string          `json:"allocated_by,omitempty"`
	// Payer and PayerAccount are the account holder's name and account as
	// the bank gave them.
	Payer        string `json:"payer,omitempty"`
	PayerAccount string `json:"payer_account,omitempty"`
	// MatchRule is the rule of internal/matching that decided, "" when the
	// reference was an invoice's number or RF reference; MatchConfidence
	// its confidence when it applied the payment; MatchEvidence what it
	// saw, in words; Candidates finance's invoices, best first, when it
	// left the payment for finance.
	MatchRule       string               `json:"match_rule,omitempty"`
	MatchConfidence *float64             `json:"match_confidence,omitempty"`
	MatchEvidence   []string             `json:"match_evidence,omitempty"`
	Candidates      []matching.Candidate `json:"candidates,omitempty"`
	// MatchParts is what the matcher applied, one part per invoice.
	MatchParts []PaymentPart `json:"match_parts,omitempty"`
}

// PaymentPart is what of a payment the matcher applied to one invoice,
// under which payment id: the payment's own, or for a split one per
// invoice (webhook.PartTransactionID).
type PaymentPart struct {
	BankTransactionID string      `json:"bank_transaction_id"`
	OrderID           string      `json:"order_id"`
	InvoiceNumber     string      `json:"invoice_number"`
	Amount            money.Money `json:"amount"`
}

// MatchSplit is the match kind of a payment the matcher split across
// several invoices: it is applied through one payment per invoice (see
// webhook.PartTransactionID), and has no order of its own.
const MatchSplit order.MatchKind = "split"
