package erpsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// TestLedgerProperty runs random sequences of the ERP's receivables writes
// (invoices, bank statement lines: exact, short, over, to a wrong
// reference, split remittances, lines imported twice; credit notes in
// full, by amount and by lines; refunds of payments and of the credit
// balance, some beyond what is allowed; write-offs, credit allocations,
// voids of each, replays of a write under its key) against the simulator's
// real code and PostgreSQL, and after every step checks the ledger and a
// model of what the ERP should hold.
//
// The identity, per customer and currency (ledgerRow says where each term
// comes from):
//
//	invoiced − credited − written off = payments − refunds + (receivables open − credit balance)
//
// receivables open − credit balance is the customer's open balance: what it
// owes less what the seller holds for it. Credit allocations move money
// from the credit balance to an invoice and so appear on neither side.
// Besides: the receivables open equal the sum of what is open on the
// customer's invoices; each invoice's paid, credited, written-off and
// allocated amounts equal the sum of the statement lines, credit notes,
// write-offs and allocations recorded against it (a statement line is
// applied once, even when imported twice); what credit notes moved to the
// credit balance came in on the invoice as payments or allocations; each
// statement line's refunds add up to its refunded amount, never more than
// it paid; the credit balance is never negative and, with what is held on
// the invoices, is exactly what came in less what was refunded, so no
// refund ever pays out more than was paid.
//
// The checks share one database: each clears what the last one wrote and
// gets customers of its own. Unless -rapid.checks is given, it runs 50
// checks of about 30 steps (rapid's -rapid.steps default), some 6 seconds
// here, and 10 under -short; for a longer run:
//
//	go test ./internal/sim/erpsim -run TestLedgerProperty -rapid.checks=2000 -rapid.steps=60
//
// A failing sequence is shrunk and saved under testdata/rapid/ to be
// replayed with -rapid.failfile.
func TestLedgerProperty(t *testing.T) {
	t.Parallel()
	defaultChecks(t, 50)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	require.NoError(t, err)
	// A throw-away database: a crash may lose its last commits, and no
	// commit waits for the disk.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	sim := erpsim.New(pool, zerolog.Nop())
	require.NoError(t, sim.Migrate(ctx))
	require.NoError(t, sim.Seed(ctx))
	w := &ledgerWorld{pool: pool, sim: sim, handler: sim.Handler()}
	rapid.Check(t, func(rt *rapid.T) {
		m := w.newMachine(rt)
		rt.Repeat(rapid.StateMachineActions(m))
	})
}

// defaultChecks sets rapid's number of checks to n unless the command line
// set it: rapid's own default, 100, takes too long here for every go test
// run. (rapid runs a fifth of them under -short.)
func defaultChecks(t *testing.T, n int) {
	t.Helper()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	if !given {
		require.NoError(t, flag.Set("rapid.checks", strconv.Itoa(n)))
	}
}

// ledgerWorld is what every check shares: one database and simulator.
type ledgerWorld struct {
	pool    *pgxpool.Pool
	sim     *erpsim.Sim
	handler http.Handler
	checks  atomic.Int64
}

// custCur is one customer's account in one currency.
type custCur struct{ customer, currency string }

type mInvoice struct {
	id, number, customer, currency                       string
	amount                                               int64
	paid, credited, creditApplied, writtenOff, allocated int64
	void                                                 bool
	sold, creditedQty                                    map[string]int64 // per SKU
}

func (i *mInvoice) open() int64 {
	return i.amount - i.paid - i.creditApplied - i.writtenOff - i.allocated
}

type mPosting struct {
	txn, reference, currency string
	customer                 string // "" when it named no open invoice
	amount, applied          int64
	refunded                 int64
}

type mCreditNote struct {
	key                        string
	inv                        *mInvoice
	amount, applied, toBalance int64
	lines                      map[string]int64
	void                       bool
}

// mLedgerEntry is a write-off or a credit allocation.
type mLedgerEntry struct {
	key    string
	inv    *mInvoice
	amount int64
	void   bool
}

// sentWrite is a successful write, kept to be sent again under its key.
type sentWrite struct {
	path, key string
	body      any
	status    int
	answer    []byte
}

// ledgerMachine is one check: its customers and the model of what the ERP
// holds for them.
type ledgerMachine struct {
	w         *ledgerWorld
	prefix    string
	customers []string
	seq       int

	invoices    []*mInvoice
	byNumber    map[string]*mInvoice
	postings    []*mPosting
	creditNotes []*mCreditNote
	writeOffs   []*mLedgerEntry
	allocations []*mLedgerEntry
	balance     map[custCur]int64
	last        *sentWrite
}

var currencies = []string{"EUR", "USD"}

// clearLedger empties what the previous check wrote (the checks run one
// after another) and fills the shelves it took from, so every check starts
// on small tables and a long run neither slows down nor runs out of stock.
const clearLedger = `
DELETE FROM erpsim_refunds;
DELETE FROM erpsim_credit_allocations;
DELETE FROM erpsim_write_offs;
DELETE FROM erpsim_credit_note_lines;
DELETE FROM erpsim_credit_notes;
DELETE FROM erpsim_bank_postings;
DELETE FROM erpsim_invoices;
DELETE FROM erpsim_reservations;
DELETE FROM erpsim_sales_order_lines;
DELETE FROM erpsim_sales_orders;
DELETE FROM erpsim_receivables;
DELETE FROM erpsim_credit_balances;
DELETE FROM erpsim_idempotency_keys;
UPDATE erpsim_stock SET on_hand = 100000, reserved = 0 WHERE sku IN ('BOLT-M8', 'NUT-M8');`

func (w *ledgerWorld) newMachine(t *rapid.T) *ledgerMachine {
	n := w.checks.Add(1)
	if _, err := w.pool.Exec(context.Background(), clearLedger); err != nil {
		t.Fatalf("clear the ledger: %v", err)
	}
	m := &ledgerMachine{w: w, prefix: fmt.Sprintf("P%d", n), byNumber: map[string]*mInvoice{}, balance: map[custCur]int64{}}
	for i := range 2 {
		id := fmt.Sprintf("%s-C%d", m.prefix, i)
		if _, err := w.pool.Exec(context.Background(), `INSERT INTO erpsim_customers (id, name) VALUES ($1, $1)`, id); err != nil {
			t.Fatalf("insert customer: %v", err)
		}
		m.customers = append(m.customers, id)
	}
	return m
}

func (m *ledgerMachine) next(what string) string {
	m.seq++
	return fmt.Sprintf("%s/%s-%d", m.prefix, what, m.seq)
}

// send posts body to the simulator's handler under key; it answers the
// status, the decoded body and whether the answer was a replay.
func (m *ledgerMachine) send(t *rapid.T, path, key string, body any) (int, map[string]any, []byte, bool) {
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(data))
	req.Header.Set("Idempotency-Key", key)
	rec := httptest.NewRecorder()
	m.w.handler.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s answered %d %s: %v", path, rec.Code, rec.Body.String(), err)
	}
	return rec.Code, out, rec.Body.Bytes(), rec.Header().Get("Idempotent-Replayed") == "true"
}

// write sends a write and requires the status and error code the model
// expects (wantErr "" for a success); a success is kept for Replay.
func (m *ledgerMachine) write(t *rapid.T, path string, body any, wantStatus int, wantErr string) map[string]any {
	key := m.next("key")
	status, out, raw, _ := m.send(t, path, key, body)
	got, _ := out["error"].(string)
	if status != wantStatus || got != wantErr {
		t.Fatalf("%s %v: want %d %q, got %d %s", path, body, wantStatus, wantErr, status, raw)
	}
	if status >= 200 && status < 300 {
		m.last = &sentWrite{path: path, key: key, body: body, status: status, answer: raw}
	}
	return out
}

// undo sends an undo by key of the write made under forwardKey.
func (m *ledgerMachine) undo(t *rapid.T, path, forwardKey string, wantStatus int, wantErr string) {
	m.write(t, path, map[string]any{"forward_key": forwardKey}, wantStatus, wantErr)
}

func minorOf(t *rapid.T, v any) int64 {
	mm, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is no amount", v)
	}
	return int64(mm["minor"].(float64))
}

// pickInvoice draws one of the check's invoices (void ones too); none
// skips the action.
func (m *ledgerMachine) pickInvoice(t *rapid.T) *mInvoice {
	if len(m.invoices) == 0 {
		t.Skip("no invoice yet")
	}
	return rapid.SampledFrom(m.invoices).Draw(t, "invoice")
}

// amountAround draws an amount near limit: at it, below it, or above it
// (which the ERP must refuse where limit is a bound).
func amountAround(t *rapid.T, limit int64, label string) int64 {
	switch rapid.IntRange(0, 3).Draw(t, label+" kind") {
	case 0:
		if limit > 0 {
			return limit
		}
	case 1:
		if limit > 1 {
			return rapid.Int64Range(1, limit-1).Draw(t, label)
		}
	case 2:
		return limit + rapid.Int64Range(1, 500).Draw(t, label)
	}
	return rapid.Int64Range(1, max(2*limit, 10)).Draw(t, label)
}

// CreateInvoice raises an invoice (gross with or without 19% tax) on a new
// sales order of bolts and nuts for one of the customers.
func (m *ledgerMachine) CreateInvoice(t *rapid.T) {
	customer := rapid.SampledFrom(m.customers).Draw(t, "customer")
	cur := rapid.SampledFrom(currencies).Draw(t, "currency")
	sold := map[string]int64{
		"BOLT-M8": rapid.Int64Range(1, 5).Draw(t, "bolts"),
		"NUT-M8":  rapid.Int64Range(1, 5).Draw(t, "nuts"),
	}
	orderID := m.next("order")
	so := m.write(t, "/v1/sales-orders", soBody(orderID, customer, cur,
		line{"BOLT-M8", sold["BOLT-M8"]}, line{"NUT-M8", sold["NUT-M8"]}), http.StatusCreated, "")
	net := rapid.Int64Range(100, 20000).Draw(t, "net")
	var tax int64
	if rapid.Bool().Draw(t, "taxed") {
		tax = net * 19 / 100
	}
	out := m.write(t, "/v1/invoices", map[string]any{"order_id": orderID, "sales_order_id": so["sales_order_id"],
		"customer_id": customer, "amount": money.New(net+tax, cur), "net": money.New(net, cur), "tax": money.New(tax, cur),
		"payment_terms_days": 30}, http.StatusCreated, "")
	inv := &mInvoice{id: out["invoice_id"].(string), number: out["number"].(string), customer: customer, currency: cur,
		amount: net + tax, sold: sold, creditedQty: map[string]int64{}}
	m.invoices = append(m.invoices, inv)
	m.byNumber[inv.number] = inv
}

// post imports one statement line and checks what it applied against the model.
func (m *ledgerMachine) post(t *rapid.T, txn, reference string, amount money.Money) {
	applied, err := m.w.sim.PostBankPayment(context.Background(), txn, reference, amount)
	if err != nil {
		t.Fatalf("post %s: %v", txn, err)
	}
	p := &mPosting{txn: txn, reference: reference, currency: amount.Currency, amount: amount.Minor}
	if inv := m.byNumber[reference]; inv != nil && !inv.void && inv.currency == amount.Currency {
		p.customer, p.applied = inv.customer, min(inv.open(), amount.Minor)
		inv.paid += p.applied
		m.balance[custCur{inv.customer, inv.currency}] += amount.Minor - p.applied
	}
	m.postings = append(m.postings, p)
	if applied != money.New(p.applied, amount.Currency) {
		t.Fatalf("post %s of %s to %s: applied %s, the model %d", txn, amount, reference, applied, p.applied)
	}
}

// Pay posts a payment naming an invoice: exact, short, over, or any amount.
func (m *ledgerMachine) Pay(t *rapid.T) {
	inv := m.pickInvoice(t)
	m.post(t, m.next("BTX"), inv.number, money.New(amountAround(t, inv.open(), "paid"), inv.currency))
}

// PayWrongReference posts a payment that names no invoice, or an invoice
// in another currency: it stays unapplied.
func (m *ledgerMachine) PayWrongReference(t *rapid.T) {
	ref, cur := "PO "+m.next("ref"), rapid.SampledFrom(currencies).Draw(t, "currency")
	if len(m.invoices) > 0 && rapid.Bool().Draw(t, "other currency") {
		inv := rapid.SampledFrom(m.invoices).Draw(t, "invoice")
		ref = inv.number
		cur = map[string]string{"EUR": "USD", "USD": "EUR"}[inv.currency]
	}
	m.post(t, m.next("BTX"), ref, money.New(rapid.Int64Range(1, 20000).Draw(t, "paid"), cur))
}

// PaySplitRemittance posts one payment that names several invoices: the
// bank books a statement line per part.
func (m *ledgerMachine) PaySplitRemittance(t *rapid.T) {
	if len(m.invoices) < 2 {
		t.Skip("a remittance needs two invoices")
	}
	n := rapid.IntRange(2, min(4, len(m.invoices))).Draw(t, "parts")
	parts := rapid.Permutation(m.invoices).Draw(t, "remittance")[:n]
	txn := m.next("BTX")
	for i, inv := range parts {
		m.post(t, fmt.Sprintf("%s:%d", txn, i+1), inv.number, money.New(amountAround(t, inv.open(), "part"), inv.currency))
	}
}

// ImportTwice imports a statement line again: it applies nothing.
func (m *ledgerMachine) ImportTwice(t *rapid.T) {
	if len(m.postings) == 0 {
		t.Skip("no statement line yet")
	}
	p := rapid.SampledFrom(m.postings).Draw(t, "posting")
	applied, err := m.w.sim.PostBankPayment(context.Background(), p.txn, p.reference, money.New(p.amount, p.currency))
	if err != nil {
		t.Fatalf("post %s again: %v", p.txn, err)
	}
	if applied.Minor != 0 {
		t.Fatalf("%s imported twice applied %s again", p.txn, applied)
	}
}

// CreditNote credits an invoice in full, by an amount or by a line.
func (m *ledgerMachine) CreditNote(t *rapid.T) {
	inv := m.pickInvoice(t)
	kind := rapid.SampledFrom([]string{erpsim.CreditFull, erpsim.CreditAmount, erpsim.CreditLines}).Draw(t, "kind")
	creditable := inv.amount - inv.credited - inv.writtenOff
	body := map[string]any{"invoice_id": inv.id, "customer_id": inv.customer, "kind": kind, "reason": "property"}
	amount, lines := creditable, map[string]int64{}
	switch kind {
	case erpsim.CreditAmount:
		amount = amountAround(t, creditable, "credit")
		body["amount"] = money.New(amount, inv.currency)
	case erpsim.CreditLines:
		sku := rapid.SampledFrom([]string{"BOLT-M8", "NUT-M8"}).Draw(t, "sku")
		lines[sku] = rapid.Int64Range(1, inv.sold[sku]+1).Draw(t, "quantity")
		amount = amountAround(t, creditable/2, "line amount")
		body["lines"] = []erpsim.CreditLine{{SKU: sku, Quantity: lines[sku], Amount: money.New(amount, inv.currency)}}
	}
	wantStatus, wantErr := http.StatusCreated, ""
	switch {
	case inv.void:
		wantStatus, wantErr = http.StatusConflict, "invoice_void"
	case creditable == 0:
		wantStatus, wantErr = http.StatusConflict, "nothing_to_credit"
	default:
		for sku, q := range lines {
			if q > inv.sold[sku]-inv.creditedQty[sku] {
				wantStatus, wantErr = http.StatusUnprocessableEntity, "credit_exceeds_quantity"
			}
		}
		if wantErr == "" && amount > creditable {
			wantStatus, wantErr = http.StatusUnprocessableEntity, "credit_exceeds_invoice"
		}
	}
	out := m.write(t, "/v1/credit-notes", body, wantStatus, wantErr)
	if wantErr != "" {
		return
	}
	cn := &mCreditNote{key: m.last.key, inv: inv, amount: amount, applied: min(inv.open(), amount), lines: lines}
	cn.toBalance = amount - cn.applied
	if got := minorOf(t, out["applied_to_invoice"]); got != cn.applied {
		t.Fatalf("credit note applied %d to %s, the model %d", got, inv.number, cn.applied)
	}
	inv.credited += amount
	inv.creditApplied += cn.applied
	for sku, q := range lines {
		inv.creditedQty[sku] += q
	}
	m.balance[custCur{inv.customer, inv.currency}] += cn.toBalance
	m.creditNotes = append(m.creditNotes, cn)
}

// VoidCreditNote takes a credit note back by its key.
func (m *ledgerMachine) VoidCreditNote(t *rapid.T) {
	if len(m.creditNotes) == 0 {
		t.Skip("no credit note yet")
	}
	cn := rapid.SampledFrom(m.creditNotes).Draw(t, "credit note")
	bal := custCur{cn.inv.customer, cn.inv.currency}
	switch {
	case cn.void:
		m.undo(t, "/v1/credit-notes/void-by-key", cn.key, http.StatusOK, "")
	case m.balance[bal] < cn.toBalance:
		m.undo(t, "/v1/credit-notes/void-by-key", cn.key, http.StatusConflict, "credit_note_refunded")
	default:
		m.undo(t, "/v1/credit-notes/void-by-key", cn.key, http.StatusOK, "")
		cn.void = true
		cn.inv.credited -= cn.amount
		cn.inv.creditApplied -= cn.applied
		for sku, q := range cn.lines {
			cn.inv.creditedQty[sku] -= q
		}
		m.balance[bal] -= cn.toBalance
	}
}

// Refund pays back part of a payment or of the credit balance, sometimes
// more than is allowed.
func (m *ledgerMachine) Refund(t *rapid.T) {
	customer := rapid.SampledFrom(m.customers).Draw(t, "customer")
	cur := rapid.SampledFrom(currencies).Draw(t, "currency")
	var p *mPosting
	if len(m.postings) > 0 && rapid.Bool().Draw(t, "of a payment") {
		p = rapid.SampledFrom(m.postings).Draw(t, "payment")
		cur = p.currency
		if p.customer != "" && rapid.IntRange(0, 4).Draw(t, "other customer") > 0 {
			customer = p.customer
		}
	}
	bal := custCur{customer, cur}
	limit := m.balance[bal]
	if p != nil {
		limit = p.amount - p.refunded
		if p.customer != "" {
			limit = min(limit, m.balance[bal])
		}
	}
	amount := amountAround(t, limit, "refund")
	body := map[string]any{"customer_id": customer, "amount": money.New(amount, cur), "reason": "property"}
	wantStatus, wantErr := http.StatusCreated, ""
	switch {
	case p == nil && amount > m.balance[bal]:
		wantStatus, wantErr = http.StatusUnprocessableEntity, "refund_exceeds_credit_balance"
	case p == nil:
	case p.customer != "" && p.customer != customer:
		wantStatus, wantErr = http.StatusUnprocessableEntity, "customer_mismatch"
	case amount > p.amount-p.refunded:
		wantStatus, wantErr = http.StatusUnprocessableEntity, "refund_exceeds_payment"
	case p.customer != "" && amount > m.balance[bal]:
		wantStatus, wantErr = http.StatusUnprocessableEntity, "refund_exceeds_credit_balance"
	}
	if p != nil {
		body["bank_transaction_id"] = p.txn
	}
	m.write(t, "/v1/refunds", body, wantStatus, wantErr)
	if wantErr != "" {
		return
	}
	if p != nil {
		p.refunded += amount
	}
	if p == nil || p.customer != "" {
		m.balance[bal] -= amount
	}
}

// openInvoiceRefusal is what the ERP answers a write-off or an allocation
// on inv for customer in cur before it looks at the amount.
func openInvoiceRefusal(inv *mInvoice, customer, cur string) (int, string) {
	switch {
	case inv.void:
		return http.StatusConflict, "invoice_void"
	case inv.customer != customer:
		return http.StatusUnprocessableEntity, "customer_mismatch"
	case inv.currency != cur:
		return http.StatusUnprocessableEntity, "currency_mismatch"
	case inv.open() == 0:
		return http.StatusConflict, "invoice_settled"
	}
	return 0, ""
}

// drawParty is mostly the invoice's customer and currency, sometimes not.
func (m *ledgerMachine) drawParty(t *rapid.T, inv *mInvoice) (string, string) {
	customer, cur := inv.customer, inv.currency
	if rapid.IntRange(0, 9).Draw(t, "stranger") == 0 {
		customer = rapid.SampledFrom(m.customers).Draw(t, "customer")
		cur = rapid.SampledFrom(currencies).Draw(t, "currency")
	}
	return customer, cur
}

// WriteOff writes off what is open on an invoice, or part of it, or more.
func (m *ledgerMachine) WriteOff(t *rapid.T) {
	inv := m.pickInvoice(t)
	customer, cur := m.drawParty(t, inv)
	amount := amountAround(t, inv.open(), "write-off")
	wantStatus, wantErr := openInvoiceRefusal(inv, customer, cur)
	switch {
	case wantErr != "":
	case amount > inv.open():
		wantStatus, wantErr = http.StatusUnprocessableEntity, "write_off_exceeds_open"
	default:
		wantStatus = http.StatusCreated
	}
	out := m.write(t, "/v1/write-offs", map[string]any{"invoice_id": inv.id, "customer_id": customer,
		"amount": money.New(amount, cur), "reason": "within tolerance"}, wantStatus, wantErr)
	if wantErr != "" {
		return
	}
	inv.writtenOff += amount
	if got := minorOf(t, out["invoice_open_after"]); got != inv.open() {
		t.Fatalf("write-off leaves %d open on %s, the model %d", got, inv.number, inv.open())
	}
	m.writeOffs = append(m.writeOffs, &mLedgerEntry{key: m.last.key, inv: inv, amount: amount})
}

// VoidWriteOff takes a write-off back by its key.
func (m *ledgerMachine) VoidWriteOff(t *rapid.T) {
	if len(m.writeOffs) == 0 {
		t.Skip("no write-off yet")
	}
	wo := rapid.SampledFrom(m.writeOffs).Draw(t, "write-off")
	m.undo(t, "/v1/write-offs/void-by-key", wo.key, http.StatusOK, "")
	if !wo.void {
		wo.void = true
		wo.inv.writtenOff -= wo.amount
	}
}

// AllocateCredit applies credit balance to an invoice.
func (m *ledgerMachine) AllocateCredit(t *rapid.T) {
	inv := m.pickInvoice(t)
	customer, cur := m.drawParty(t, inv)
	bal := custCur{customer, cur}
	amount := amountAround(t, min(inv.open(), m.balance[bal]), "allocation")
	wantStatus, wantErr := openInvoiceRefusal(inv, customer, cur)
	switch {
	case wantErr != "":
	case amount > inv.open():
		wantStatus, wantErr = http.StatusUnprocessableEntity, "allocation_exceeds_open"
	case amount > m.balance[bal]:
		wantStatus, wantErr = http.StatusUnprocessableEntity, "allocation_exceeds_credit_balance"
	default:
		wantStatus = http.StatusCreated
	}
	out := m.write(t, "/v1/credit-allocations", map[string]any{"invoice_id": inv.id, "customer_id": customer,
		"amount": money.New(amount, cur)}, wantStatus, wantErr)
	if wantErr != "" {
		return
	}
	inv.allocated += amount
	m.balance[bal] -= amount
	if got := minorOf(t, out["credit_balance_after"]); got != m.balance[bal] {
		t.Fatalf("allocation leaves a balance of %d, the model %d", got, m.balance[bal])
	}
	m.allocations = append(m.allocations, &mLedgerEntry{key: m.last.key, inv: inv, amount: amount})
}

// VoidCreditAllocation takes an allocation back by its key.
func (m *ledgerMachine) VoidCreditAllocation(t *rapid.T) {
	if len(m.allocations) == 0 {
		t.Skip("no allocation yet")
	}
	a := rapid.SampledFrom(m.allocations).Draw(t, "allocation")
	inv := a.inv
	switch {
	case a.void:
		m.undo(t, "/v1/credit-allocations/void-by-key", a.key, http.StatusOK, "")
	case inv.credited-inv.creditApplied > inv.paid+inv.allocated-a.amount:
		m.undo(t, "/v1/credit-allocations/void-by-key", a.key, http.StatusConflict, "allocation_credited")
	default:
		m.undo(t, "/v1/credit-allocations/void-by-key", a.key, http.StatusOK, "")
		a.void = true
		inv.allocated -= a.amount
		m.balance[custCur{inv.customer, inv.currency}] += a.amount
	}
}

// VoidInvoice voids an invoice: what was paid and allocated on it goes to
// the credit balance, its write-offs and allocations are void with it.
func (m *ledgerMachine) VoidInvoice(t *rapid.T) {
	inv := m.pickInvoice(t)
	switch {
	case inv.void:
		m.write(t, "/v1/invoices/"+inv.id+"/void", nil, http.StatusOK, "")
	case inv.credited > 0:
		m.write(t, "/v1/invoices/"+inv.id+"/void", nil, http.StatusConflict, "invoice_credited")
	default:
		m.write(t, "/v1/invoices/"+inv.id+"/void", nil, http.StatusOK, "")
		inv.void = true
		m.balance[custCur{inv.customer, inv.currency}] += inv.paid + inv.allocated
		for _, e := range append(append([]*mLedgerEntry{}, m.writeOffs...), m.allocations...) {
			if e.inv == inv {
				e.void = true
			}
		}
		inv.writtenOff, inv.allocated = 0, 0
	}
}

// Replay sends the last successful write again under its key: the same
// answer, and nothing changes.
func (m *ledgerMachine) Replay(t *rapid.T) {
	if m.last == nil {
		t.Skip("no write yet")
	}
	status, _, raw, replayed := m.send(t, m.last.path, m.last.key, m.last.body)
	if status != m.last.status || !bytes.Equal(raw, m.last.answer) || !replayed {
		t.Fatalf("replay of %s under %s: %d %s (replayed %v), first %d %s", m.last.path, m.last.key, status, raw, replayed,
			m.last.status, m.last.answer)
	}
}

// ledgerRow is one customer's account in one currency, from the tables:
//
//	invoiced     sum of amount_minor of its invoices that are not void
//	credited     sum of amount_minor of its issued credit notes
//	writtenOff   sum of amount_minor of its posted write-offs
//	payments     sum of amount_minor of the statement lines that named one
//	             of its invoices (bank_postings.customer_id), applied or not
//	refunds      sum of amount_minor of its refunds of the credit balance or
//	             of such a statement line (a refund of a line that named no
//	             invoice pays back nobody's money and is on neither side)
//	receivables  erpsim_receivables.open_minor
//	balance      erpsim_credit_balances.balance_minor
//	openInvoices sum over its invoices that are not void of amount - paid -
//	             credit_applied - written_off - allocated
//	heldOnInvoices sum over the same of paid + allocated - (credited -
//	             credit_applied): money that came in and still stands on them
type ledgerRow struct {
	custCur
	invoiced, credited, writtenOff, payments, refunds, receivables, balance, openInvoices, heldOnInvoices int64
}

const ledgerQuery = `
WITH cc AS (
    SELECT customer_id, currency FROM erpsim_invoices WHERE customer_id = ANY($1)
    UNION SELECT customer_id, currency FROM erpsim_receivables WHERE customer_id = ANY($1)
    UNION SELECT customer_id, currency FROM erpsim_credit_balances WHERE customer_id = ANY($1)
    UNION SELECT customer_id, currency FROM erpsim_bank_postings WHERE customer_id = ANY($1)
    UNION SELECT customer_id, currency FROM erpsim_refunds WHERE customer_id = ANY($1)
)
SELECT cc.customer_id, cc.currency,
    (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_invoices i
     WHERE i.customer_id = cc.customer_id AND i.currency = cc.currency AND i.status = 'open'),
    (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_credit_notes c
     WHERE c.customer_id = cc.customer_id AND c.currency = cc.currency AND c.status = 'issued'),
    (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_write_offs w
     WHERE w.customer_id = cc.customer_id AND w.currency = cc.currency AND w.status = 'posted'),
    (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_bank_postings p
     WHERE p.customer_id = cc.customer_id AND p.currency = cc.currency),
    (SELECT COALESCE(sum(r.amount_minor), 0) FROM erpsim_refunds r
     LEFT JOIN erpsim_bank_postings p ON p.bank_transaction_id = r.bank_transaction_id
     WHERE r.customer_id = cc.customer_id AND r.currency = cc.currency
       AND (r.bank_transaction_id IS NULL OR p.customer_id IS NOT NULL)),
    (SELECT COALESCE(sum(open_minor), 0) FROM erpsim_receivables x
     WHERE x.customer_id = cc.customer_id AND x.currency = cc.currency),
    (SELECT COALESCE(sum(balance_minor), 0) FROM erpsim_credit_balances b
     WHERE b.customer_id = cc.customer_id AND b.currency = cc.currency),
    (SELECT COALESCE(sum(amount_minor - paid_minor - credit_applied_minor - written_off_minor - allocated_minor), 0)
     FROM erpsim_invoices i WHERE i.customer_id = cc.customer_id AND i.currency = cc.currency AND i.status = 'open'),
    (SELECT COALESCE(sum(paid_minor + allocated_minor - (credited_minor - credit_applied_minor)), 0)
     FROM erpsim_invoices i WHERE i.customer_id = cc.customer_id AND i.currency = cc.currency AND i.status = 'open')
FROM cc ORDER BY 1, 2`

// invoiceDriftQuery finds invoices whose amounts disagree with what is
// recorded against them, or whose open amount is negative.
const invoiceDriftQuery = `
SELECT i.number FROM erpsim_invoices i
WHERE i.customer_id = ANY($1) AND (
    i.paid_minor <> (SELECT COALESCE(sum(applied_minor), 0) FROM erpsim_bank_postings p WHERE p.invoice_id = i.id)
    OR i.credited_minor <> (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_credit_notes c
                            WHERE c.invoice_id = i.id AND c.status = 'issued')
    OR i.credit_applied_minor <> (SELECT COALESCE(sum(applied_minor), 0) FROM erpsim_credit_notes c
                                  WHERE c.invoice_id = i.id AND c.status = 'issued')
    OR i.written_off_minor <> (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_write_offs w
                               WHERE w.invoice_id = i.id AND w.status = 'posted')
    OR i.allocated_minor <> (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_credit_allocations a
                             WHERE a.invoice_id = i.id AND a.status = 'applied')
    OR i.amount_minor - i.paid_minor - i.credit_applied_minor - i.written_off_minor - i.allocated_minor < 0
    OR i.credited_minor - i.credit_applied_minor > i.paid_minor + i.allocated_minor)`

// postingDriftQuery finds statement lines whose refunds do not add up, or
// that refunded or applied more than they paid.
const postingDriftQuery = `
SELECT p.bank_transaction_id FROM erpsim_bank_postings p
WHERE p.bank_transaction_id LIKE $1 || '/%' AND (
    p.refunded_minor <> (SELECT COALESCE(sum(amount_minor), 0) FROM erpsim_refunds r
                         WHERE r.bank_transaction_id = p.bank_transaction_id)
    OR p.refunded_minor > p.amount_minor OR p.applied_minor > p.amount_minor)`

// Check holds the ledger's invariants and compares the tables with the model.
func (m *ledgerMachine) Check(t *rapid.T) {
	ctx := context.Background()
	rows, err := m.w.pool.Query(ctx, ledgerQuery, m.customers)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	ledger, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledgerRow, error) {
		var r ledgerRow
		return r, row.Scan(&r.customer, &r.currency, &r.invoiced, &r.credited, &r.writtenOff, &r.payments, &r.refunds,
			&r.receivables, &r.balance, &r.openInvoices, &r.heldOnInvoices)
	})
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	seen := map[custCur]bool{}
	for _, r := range ledger {
		seen[r.custCur] = true
		if lhs, rhs := r.invoiced-r.credited-r.writtenOff, r.payments-r.refunds+r.receivables-r.balance; lhs != rhs {
			t.Fatalf("%v: invoiced %d - credited %d - written off %d = %d, but payments %d - refunds %d + (receivables %d - balance %d) = %d",
				r.custCur, r.invoiced, r.credited, r.writtenOff, lhs, r.payments, r.refunds, r.receivables, r.balance, rhs)
		}
		if r.receivables != r.openInvoices {
			t.Fatalf("%v: receivables %d, open on invoices %d", r.custCur, r.receivables, r.openInvoices)
		}
		if r.balance < 0 || r.payments-r.refunds != r.balance+r.heldOnInvoices {
			t.Fatalf("%v: payments %d - refunds %d, but credit balance %d + held on invoices %d", r.custCur,
				r.payments, r.refunds, r.balance, r.heldOnInvoices)
		}
		if want := m.balance[r.custCur]; r.balance != want {
			t.Fatalf("%v: credit balance %d, the model %d", r.custCur, r.balance, want)
		}
		var open int64
		for _, inv := range m.invoices {
			if !inv.void && inv.customer == r.customer && inv.currency == r.currency {
				open += inv.open()
			}
		}
		if r.receivables != open {
			t.Fatalf("%v: receivables %d, the model %d", r.custCur, r.receivables, open)
		}
	}
	for cc, b := range m.balance {
		if b != 0 && !seen[cc] {
			t.Fatalf("%v: the model holds a credit balance of %d, the ERP none", cc, b)
		}
	}
	for _, q := range []struct {
		what, sql string
		arg       any
	}{{"invoices", invoiceDriftQuery, m.customers}, {"statement lines", postingDriftQuery, m.prefix}} {
		rows, err := m.w.pool.Query(ctx, q.sql, q.arg)
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if len(bad) > 0 {
			t.Fatalf("%s that do not add up: %v", q.what, bad)
		}
	}
	m.checkInvoices(t)
}

// checkInvoices compares every invoice and statement line with the model.
func (m *ledgerMachine) checkInvoices(t *rapid.T) {
	ctx := context.Background()
	rows, err := m.w.pool.Query(ctx, `
		SELECT number, status, paid_minor, credited_minor, credit_applied_minor, written_off_minor, allocated_minor
		FROM erpsim_invoices WHERE customer_id = ANY($1)`, m.customers)
	if err != nil {
		t.Fatalf("invoices: %v", err)
	}
	var number, status string
	var got mInvoice
	n := 0
	if _, err := pgx.ForEachRow(rows, []any{&number, &status, &got.paid, &got.credited, &got.creditApplied, &got.writtenOff, &got.allocated}, func() error {
		n++
		inv := m.byNumber[number]
		if inv == nil {
			return fmt.Errorf("the ERP holds %s, the model does not", number)
		}
		want := mInvoice{paid: inv.paid, credited: inv.credited, creditApplied: inv.creditApplied, writtenOff: inv.writtenOff, allocated: inv.allocated}
		if (status == erpsim.InvoiceVoid) != inv.void || got.paid != want.paid || got.credited != want.credited ||
			got.creditApplied != want.creditApplied || got.writtenOff != want.writtenOff || got.allocated != want.allocated {
			return fmt.Errorf("%s: the ERP %s paid %d credited %d (applied %d) written off %d allocated %d; the model void=%v paid %d credited %d (applied %d) written off %d allocated %d",
				number, status, got.paid, got.credited, got.creditApplied, got.writtenOff, got.allocated,
				inv.void, want.paid, want.credited, want.creditApplied, want.writtenOff, want.allocated)
		}
		return nil
	}); err != nil {
		t.Fatalf("invoices: %v", err)
	}
	if n != len(m.invoices) {
		t.Fatalf("the ERP holds %d invoices, the model %d", n, len(m.invoices))
	}

	rows, err = m.w.pool.Query(ctx, `
		SELECT bank_transaction_id, COALESCE(customer_id, ''), applied_minor, refunded_minor
		FROM erpsim_bank_postings WHERE bank_transaction_id LIKE $1 || '/%'`, m.prefix)
	if err != nil {
		t.Fatalf("statement lines: %v", err)
	}
	byTxn := make(map[string]*mPosting, len(m.postings))
	for _, p := range m.postings {
		byTxn[p.txn] = p
	}
	var txn, customer string
	var applied, refunded int64
	n = 0
	if _, err := pgx.ForEachRow(rows, []any{&txn, &customer, &applied, &refunded}, func() error {
		n++
		p := byTxn[txn]
		if p == nil || p.customer != customer || p.applied != applied || p.refunded != refunded {
			return fmt.Errorf("%s: the ERP customer %q applied %d refunded %d; the model %+v", txn, customer, applied, refunded, p)
		}
		return nil
	}); err != nil {
		t.Fatalf("statement lines: %v", err)
	}
	if n != len(m.postings) {
		t.Fatalf("the ERP holds %d statement lines, the model %d: one was counted twice or lost", n, len(m.postings))
	}
}
