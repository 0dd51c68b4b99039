package banksim

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/faults"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/sim/schema"
	"github.com/orderflow/orderflow/internal/webhook"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable is where tern records the simulator's schema version.
const VersionTable = "banksim_schema_version"

// Sender names the bank's rows in the shared webhook outbox.
const Sender = "banksim"

// Route names for fault rules.
const (
	RouteTransfersCreate = "transfers.create"
	// RouteAll in a fault rule matches every route.
	RouteAll = faults.All
)

// Routes lists the bank routes fault rules may name.
var Routes = []string{RouteTransfersCreate}

// FaultRule makes a bank route misbehave; see package faults.
type FaultRule = faults.Rule

// maxBody bounds a request body.
const maxBody = 64 << 10

// ErrNotFound is returned by Redeliver for an event the bank never sent.
var ErrNotFound = errors.New("banksim: not found")

// Options tune the simulated bank.
type Options struct {
	// WebhookURL receives the signed payment events, e.g.
	// http://localhost:8080/v1/webhooks/payments. Empty: events are queued
	// until a run with a URL.
	WebhookURL string
	// WebhookSecret signs them.
	WebhookSecret []byte
	// Statement, if set, hears every booked payment after it is booked, as
	// the ERP imports the bank's statement (erpsim.Sim.PostBankPayment).
	// Its failure is logged; the payment and its webhook stand.
	Statement func(ctx context.Context, bankTxnID, reference string, amount money.Money) error
}

// Sim is the simulated bank.
type Sim struct {
	pool      *pgxpool.Pool
	log       zerolog.Logger
	outbox    *outbox.Outbox
	faults    *faults.Set
	keys      *idempotency.Store
	statement func(ctx context.Context, bankTxnID, reference string, amount money.Money) error
	// now stamps payments, truncated to PostgreSQL's microseconds so what is
	// sent is what is stored.
	now func() time.Time
}

// New returns a bank on pool. Call Migrate before serving.
func New(pool *pgxpool.Pool, opts Options, log zerolog.Logger) *Sim {
	log = log.With().Str("component", "banksim").Logger()
	s := &Sim{
		pool:      pool,
		log:       log,
		outbox:    outbox.New(pool, outbox.Config{Sender: Sender, URL: opts.WebhookURL, Secret: opts.WebhookSecret}, log),
		faults:    faults.New(Routes, log),
		statement: opts.Statement,
		now:       func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	s.keys = idempotency.New(pool, "banksim_idempotency_keys", log, func() time.Time { return s.now() })
	return s
}

// SetFaults replaces every fault rule.
func (s *Sim) SetFaults(rules []FaultRule) { s.faults.Replace(rules) }

// ClearFaults removes every fault rule: the bank behaves again.
func (s *Sim) ClearFaults() { s.faults.Clear() }

// Migrate creates the simulator's tables (banksim_*) and the shared outbox.
func (s *Sim) Migrate(ctx context.Context) error {
	if err := outbox.Migrate(ctx, s.pool); err != nil {
		return fmt.Errorf("banksim: %w", err)
	}
	if err := schema.Apply(ctx, s.pool, migrations, VersionTable); err != nil {
		return fmt.Errorf("banksim: %w", err)
	}
	return nil
}

// Webhooks is the bank's outbox: tests and dev tools wait on it (Drain,
// Pending) for the events to arrive.
func (s *Sim) Webhooks() *outbox.Outbox { return s.outbox }

// Run sends the queued webhooks until ctx ends, then returns nil.
func (s *Sim) Run(ctx context.Context) error { return s.outbox.Run(ctx) }

// Payment is one incoming bank transaction.
type Payment struct {
	BankTransactionID string      `json:"bank_transaction_id"`
	Reference         string      `json:"reference"`
	Amount            money.Money `json:"amount"`
	Payer             string      `json:"payer"`
	ReceivedAt        time.Time   `json:"received_at"`
	EventID           string      `json:"event_id"`
	// Remittance is the payment's split across invoice references, when
	// the payer sent one.
	Remittance []webhook.RemittancePart `json:"remittance,omitempty"`
}

// Incoming is a payment arriving on the seller's account: the payer's
// remittance text, the amount, the payer and, optionally, a remittance
// list that splits the amount across invoice references.
type Incoming struct {
	Reference  string                   `json:"reference"`
	Amount     money.Money              `json:"amount"`
	Payer      string                   `json:"payer"`
	Remittance []webhook.RemittancePart `json:"remittance,omitempty"`
	// PayerAccount is the payer's IBAN or account number, optional; the
	// event carries it.
	PayerAccount string `json:"payer_account,omitempty"`
}

// validatePayment names the first field at fault.
func validatePayment(in Incoming) *order.FieldError {
	if fe := validateSingle(in.Reference, in.Amount, in.Payer); fe != nil {
		return fe
	}
	if len(in.PayerAccount) > webhook.MaxPayerAccount || strings.ContainsFunc(in.PayerAccount, func(r rune) bool { return !unicode.IsPrint(r) }) || !utf8.ValidString(in.PayerAccount) {
		return &order.FieldError{Field: "payer_account", Reason: fmt.Sprintf("at most %d printable bytes: an IBAN or account number", webhook.MaxPayerAccount)}
	}
	ev := webhook.PaymentEvent{Amount: in.Amount, Remittance: in.Remittance}
	if re := ev.CheckRemittance(); re != nil {
		return &order.FieldError{Field: re.Field, Reason: re.Reason}
	}
	return nil
}

// validateSingle names the first field at fault in a payment's text, amount and payer.
func validateSingle(reference string, amount money.Money, payer string) *order.FieldError {
	switch {
	case len(reference) > 140: // a SEPA remittance line
		return &order.FieldError{Field: "reference", Reason: "at most 140 characters"}
	case !money.ValidCurrency(amount.Currency):
		return &order.FieldError{Field: "amount.currency", Reason: "an ISO 4217 code such as EUR"}
	case amount.Minor <= 0:
		return &order.FieldError{Field: "amount.minor", Reason: "a positive amount in minor units"}
	case strings.TrimSpace(payer) == "" || len(payer) > 140:
		return &order.FieldError{Field: "payer", Reason: "1 to 140 characters"}
	}
	return nil
}

// Pay books an incoming payment of amount from payer with the remittance
// text reference and queues its signed webhook. An invalid payment is an
// *order.FieldError.
func (s *Sim) Pay(ctx context.Context, reference string, amount money.Money, payer string) (bankTxnID, eventID string, err error) {
	return s.Receive(ctx, Incoming{Reference: reference, Amount: amount, Payer: payer})
}

// Receive books an incoming payment and queues its signed webhook, which
// carries the remittance list when there is one. The statement gets one
// line per remittance part, under the part's id
// (webhook.PartTransactionID), or the one line of a payment without a
// list. An invalid payment is an *order.FieldError naming the field.
func (s *Sim) Receive(ctx context.Context, in Incoming) (bankTxnID, eventID string, err error) {
	if fe := validatePayment(in); fe != nil {
		return "", "", fe
	}
	for i := range in.Remittance {
		in.Remittance[i].Reference = strings.TrimSpace(in.Remittance[i].Reference)
	}
	ev := webhook.PaymentEvent{
		EventID:           newID("EVT-"),
		BankTransactionID: newID("BTX-"),
		Amount:            in.Amount,
		Reference:         in.Reference,
		Payer:             in.Payer,
		PayerAccount:      in.PayerAccount,
		ReceivedAt:        s.now(),
		Remittance:        in.Remittance,
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", "", fmt.Errorf("banksim: pay: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `
		INSERT INTO banksim_transactions
			(bank_transaction_id, reference, amount_minor, currency, payer, received_at, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ev.BankTransactionID, in.Reference, in.Amount.Minor, in.Amount.Currency, in.Payer, ev.ReceivedAt, ev.EventID); err != nil {
		return "", "", fmt.Errorf("banksim: book payment %s from %s: %w", in.Amount, in.Payer, err)
	}
	for i, p := range in.Remittance {
		if _, err := tx.Exec(ctx, `
			INSERT INTO banksim_remittance_parts (bank_transaction_id, position, reference, amount_minor)
			VALUES ($1, $2, $3, $4)`, ev.BankTransactionID, i, p.Reference, p.Amount.Minor); err != nil {
			return "", "", fmt.Errorf("banksim: book remittance part %d of %s: %w", i, ev.BankTransactionID, err)
		}
	}
	if err := s.outbox.Enqueue(ctx, tx, ev.EventID, ev); err != nil {
		return "", "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", "", fmt.Errorf("banksim: pay: commit: %w", err)
	}
	s.outbox.Wake()
	s.log.Info().Str("bank_transaction_id", ev.BankTransactionID).Str("event_id", ev.EventID).
		Str("reference", in.Reference).Int("remittance_parts", len(in.Remittance)).Stringer("amount", in.Amount).
		Msg("payment received")
	if s.statement != nil {
		lines := []webhook.RemittancePart{{Reference: in.Reference, Amount: in.Amount}}
		ids := []string{ev.BankTransactionID}
		if len(in.Remittance) > 0 {
			lines, ids = in.Remittance, nil
			for _, p := range in.Remittance {
				ids = append(ids, webhook.PartTransactionID(ev.BankTransactionID, p.Reference))
			}
		}
		for i, l := range lines {
			if err := s.statement(ctx, ids[i], l.Reference, l.Amount); err != nil {
				s.log.Warn().Err(err).Str("bank_transaction_id", ids[i]).Msg("statement line not imported")
			}
		}
	}
	return ev.BankTransactionID, ev.EventID, nil
}

// Payments lists the payments with the given reference (every payment when
// reference is empty), oldest first.
func (s *Sim) Payments(ctx context.Context, reference string) ([]Payment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT bank_transaction_id, reference, amount_minor, currency, payer, received_at, event_id
		FROM banksim_transactions
		WHERE $1 = '' OR reference = $1
		ORDER BY received_at, bank_transaction_id`, reference)
	if err != nil {
		return nil, fmt.Errorf("banksim: list payments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Payment, error) {
		var p Payment
		err := row.Scan(&p.BankTransactionID, &p.Reference, &p.Amount.Minor, &p.Amount.Currency, &p.Payer,
			&p.ReceivedAt, &p.EventID)
		p.ReceivedAt = p.ReceivedAt.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("banksim: list payments: %w", err)
	}
	index := make(map[string]int, len(list))
	ids := make([]string, len(list))
	for i, p := range list {
		index[p.BankTransactionID], ids[i] = i, p.BankTransactionID
	}
	rows, err = s.pool.Query(ctx, `
		SELECT bank_transaction_id, reference, amount_minor FROM banksim_remittance_parts
		WHERE bank_transaction_id = ANY($1) ORDER BY bank_transaction_id, position`, ids)
	if err != nil {
		return nil, fmt.Errorf("banksim: list remittance parts: %w", err)
	}
	var id string
	var part webhook.RemittancePart
	if _, err := pgx.ForEachRow(rows, []any{&id, &part.Reference, &part.Amount.Minor}, func() error {
		p := &list[index[id]]
		part.Amount.Currency = p.Amount.Currency
		p.Remittance = append(p.Remittance, part)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("banksim: list remittance parts: %w", err)
	}
	return list, nil
}

// Redeliver sends a payment's event again now, to exercise the receiver's
// duplicate check.
func (s *Sim) Redeliver(ctx context.Context, eventID string) error {
	err := s.outbox.Requeue(ctx, eventID)
	if errors.Is(err, outbox.ErrNotFound) {
		return fmt.Errorf("redeliver event %s: %w", eventID, ErrNotFound)
	}
	return err
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return prefix + strings.ToUpper(hex.EncodeToString(b))
}

// Handler serves the bank's API under /v1 (outgoing transfers) and the
// control endpoints under /sim.
func (s *Sim) Handler() http.Handler {
	r := jsonapi.NewRouter()
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.HandleFunc("/transfers", s.faults.Wrap(RouteTransfersCreate, s.handleTransfer)).Methods(http.MethodPost)
	sim := r.PathPrefix("/sim").Subrouter()
	sim.HandleFunc("/transfers", jsonapi.List(s.log, "transfers", "refund_of", s.Transfers)).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandleGet).Methods(http.MethodGet)
	sim.HandleFunc("/faults", s.faults.HandlePut).Methods(http.MethodPut)
	sim.HandleFunc("/faults", s.faults.HandleDelete).Methods(http.MethodDelete)
	sim.HandleFunc("/payments", s.handlePay).Methods(http.MethodPost)
	sim.HandleFunc("/payments", jsonapi.List(s.log, "payments", "reference", s.Payments)).Methods(http.MethodGet)
	sim.HandleFunc("/events/{id}/redeliver", s.handleRedeliver).Methods(http.MethodPost)
	return r
}

type payAnswer struct {
	BankTransactionID string `json:"bank_transaction_id,omitempty"`
	EventID           string `json:"event_id"`
}

func (s *Sim) handlePay(w http.ResponseWriter, r *http.Request) {
	var req Incoming
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	txnID, eventID, err := s.Receive(r.Context(), req)
	var fe *order.FieldError
	if errors.As(err, &fe) {
		jsonapi.WriteJSON(w, http.StatusUnprocessableEntity, jsonapi.Error{Error: "invalid_request", Field: fe.Field, Detail: fe.Reason})
		return
	}
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusAccepted, payAnswer{BankTransactionID: txnID, EventID: eventID})
}

func (s *Sim) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	err := s.Redeliver(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		jsonapi.WriteError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusAccepted, payAnswer{EventID: id})
}
