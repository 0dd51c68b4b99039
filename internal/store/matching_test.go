package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/matching"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func TestInvoicesForMatching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	createOrder(t, s, "ord-m1", "ACME-001", order.StatusAwaitingPayment, eur(100_00))
	createOrder(t, s, "ord-m2", "GLOBEX-002", order.StatusAwaitingPayment, eur(50_00))
	createOrder(t, s, "ord-cx", "ACME-001", order.StatusCancelled, eur(70_00))
	for _, inv := range []struct {
		order, number string
		amount        money.Money
	}{
		{"ord-m1", "INV-M-1", eur(100_00)},
		{"ord-m2", "INV-M-2", eur(50_00)},
		{"ord-m2", "INV-M-PAID", eur(20_00)},
		{"ord-cx", "INV-M-CX", eur(70_00)},
		{"ord-m1", "INV-M-USD", money.New(30_00, "USD")},
	} {
		require.NoError(t, s.SaveInvoice(ctx, inv.order, order.Invoice{InvoiceID: "id-" + inv.number, Number: inv.number,
			Amount: inv.amount, IssuedAt: t0, DueDate: t0.AddDate(0, 0, 30)}))
	}
	_, err := pool.Exec(ctx, `UPDATE invoices SET open_minor = 0, settled_at = $1 WHERE number = 'INV-M-PAID'`, t0.AddDate(0, 0, 5))
	require.NoError(t, err)
	// A payment the matcher applied that the order has not recorded yet
	// counts against the open amount.
	_, _, err = s.RecordPayment(ctx, store.Payment{BankTransactionID: "bt-pending", Amount: eur(40_00), ReceivedAt: t0})
	require.NoError(t, err)
	applied, err := s.DecidePayment(ctx, store.PaymentDecision{BankTransactionID: "bt-pending", Rule: "payer-amount", Confidence: 0.95,
		Evidence: []string{"x"}, Parts: []store.PaymentPart{{BankTransactionID: "bt-pending", OrderID: "ord-m1", InvoiceNumber: "INV-M-1", Amount: eur(40_00)}}})
	require.NoError(t, err)
	require.True(t, applied)

	got, err := s.InvoicesForMatching(ctx, "EUR", t0)
	require.NoError(t, err)
	byNumber := map[string]store.MatchingInvoice{}
	for _, inv := range got {
		byNumber[inv.Number] = inv
	}
	require.Len(t, byNumber, 3, "open and recently paid in EUR; not the cancelled order's, not USD")
	m1 := byNumber["INV-M-1"]
	require.Equal(t, "ord-m1", m1.OrderID)
	require.Equal(t, matching.Invoice{Number: "INV-M-1", CreditorRef: order.CreditorReferenceOf("INV-M-1"), CustomerID: "ACME-001",
		CustomerName: "Acme Industrial GmbH", PayerAccounts: []string{store.DemoPayerAccounts["ACME-001"]},
		Open: eur(60_00), DueDate: t0.AddDate(0, 0, 30), IssuedAt: t0}, m1.Invoice)
	require.Equal(t, eur(0), byNumber["INV-M-PAID"].Open)
	require.Equal(t, "GLOBEX-002", byNumber["INV-M-PAID"].CustomerID)

	got, err = s.InvoicesForMatching(ctx, "EUR", t0.AddDate(0, 0, 6))
	require.NoError(t, err)
	require.Len(t, got, 2, "paid before the window: left out")
}

func TestPayerAccountsLearnedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	require.NoError(t, s.SeedDemo(ctx))
	createOrder(t, s, "ord-l1", "INITECH-003", order.StatusAwaitingPayment, money.New(10_00, "EUR"))

	learned, err := s.LearnPayerAccount(ctx, "ord-l1", "de44 5001 0517 5407 3249 31", "bt-1")
	require.NoError(t, err)
	require.True(t, learned)
	learned, err = s.LearnPayerAccount(ctx, "ord-l1", "DE44500105175407324931", "bt-2")
	require.NoError(t, err)
	require.False(t, learned, "the same account, however written, is on file once")
	learned, err = s.LearnPayerAccount(ctx, "ord-unknown", "DE44500105175407324931", "bt-3")
	require.NoError(t, err)
	require.False(t, learned, "no order, no customer")
	learned, err = s.LearnPayerAccount(ctx, "ord-l1", " - ", "bt-4")
	require.NoError(t, err)
	require.False(t, learned, "nothing of an account")

	accts, err := s.PayerAccounts(ctx, "INITECH-003")
	require.NoError(t, err)
	require.Len(t, accts, 2)
	require.Equal(t, "DE44500105175407324931", accts[0].Account)
	require.Equal(t, store.PayerAccountLearned, accts[0].Source)
	require.Equal(t, "bt-1", accts[0].BankTransactionID)
	require.Equal(t, store.DemoPayerAccounts["INITECH-003"], accts[1].Account)
	require.Equal(t, store.PayerAccountSeed, accts[1].Source)

	added, err := s.AddPayerAccount(ctx, "INITECH-003", "DE44500105175407324931", store.PayerAccountAPI, "sam", nil)
	require.NoError(t, err)
	require.False(t, added)
	_, err = s.AddPayerAccount(ctx, "INITECH-003", "--", store.PayerAccountAPI, "sam", nil)
	var fe *order.FieldError
	require.ErrorAs(t, err, &fe)
	removed, err := s.RemovePayerAccount(ctx, "INITECH-003", "de44500105175407324931", nil)
	require.NoError(t, err)
	require.True(t, removed)
	accts, err = s.PayerAccounts(ctx, "INITECH-003")
	require.NoError(t, err)
	require.Len(t, accts, 1)
}

func TestDecidePayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	eur := func(m int64) money.Money { return money.New(m, "EUR") }
	createOrder(t, s, "ord-d1", "ACME-001", order.StatusAwaitingPayment, eur(100_00))
	record := func(id string, amount int64) {
		_, _, err := s.RecordPayment(ctx, store.Payment{BankTransactionID: id, Amount: eur(amount), ReceivedAt: t0,
			Payer: "Acme", PayerAccount: "DE89 3704"})
		require.NoError(t, err)
	}

	// Left for finance: rule, evidence and candidates, replaced by a later look.
	record("bt-c", 10_00)
	cands := []matching.Candidate{{Invoice: "INV-A", Rule: "payer-amount", Score: 0.5, Reasons: []string{"a"}},
		{Invoice: "INV-B", Rule: "payer-amount", Score: 0.5, Reasons: []string{"b"}}}
	applied, err := s.DecidePayment(ctx, store.PaymentDecision{BankTransactionID: "bt-c", Rule: "payer-amount", Evidence: []string{"two"}, Candidates: cands})
	require.NoError(t, err)
	require.False(t, applied)
	queue, err := s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	require.Len(t, queue, 1)
	require.Equal(t, cands, queue[0].Candidates)
	require.Equal(t, "payer-amount", queue[0].MatchRule)
	require.Equal(t, []string{"two"}, queue[0].MatchEvidence)
	require.Equal(t, "Acme", queue[0].Payer)
	require.Equal(t, "DE89 3704", queue[0].PayerAccount)
	require.Nil(t, queue[0].MatchConfidence)

	// Split: a payment per part, the payment itself out of the queue; the
	// audit entries once.
	record("bt-s", 30_00)
	dec := store.PaymentDecision{BankTransactionID: "bt-s", Rule: "payer-sum", Confidence: 0.92, Evidence: []string{"sum"},
		Parts: []store.PaymentPart{
			{BankTransactionID: "bt-s:INV-1", OrderID: "ord-d1", InvoiceNumber: "INV-1", Amount: eur(10_00)},
			{BankTransactionID: "bt-s:INV-2", OrderID: "ord-d1", InvoiceNumber: "INV-2", Amount: eur(20_00)}},
		Audit: []store.AuditEntry{{OrderID: "ord-d1", Actor: order.System, Action: "payment.matched", At: t0}}}
	applied, err = s.DecidePayment(ctx, dec)
	require.NoError(t, err)
	require.True(t, applied)
	applied, err = s.DecidePayment(ctx, dec)
	require.NoError(t, err)
	require.False(t, applied, "decided once")
	log, err := s.AuditLog(ctx, "ord-d1")
	require.NoError(t, err)
	n := 0
	for _, e := range log {
		if e.Action == "payment.matched" {
			n++
		}
	}
	require.Equal(t, 1, n)

	p, err := s.Payment(ctx, "bt-s")
	require.NoError(t, err)
	require.Equal(t, store.MatchSplit, p.MatchKind)
	require.Equal(t, dec.Parts, p.MatchParts)
	part, err := s.Payment(ctx, "bt-s:INV-2")
	require.NoError(t, err)
	require.Equal(t, "ord-d1", part.OrderID)
	require.Equal(t, "INV-2", part.InvoiceNumber)
	require.Equal(t, eur(20_00), part.Amount)
	require.Equal(t, "DE89 3704", part.PayerAccount)
	require.Equal(t, "payer-sum", part.MatchRule)
	require.InDelta(t, 0.92, *part.MatchConfidence, 1e-9)
	require.Empty(t, part.MatchKind, "the order records the match")
	require.NoError(t, s.MatchPayment(ctx, "bt-s:INV-2", "ord-d1", "INV-2", order.MatchExact, "orderflow"))

	queue, err = s.UnmatchedPayments(ctx)
	require.NoError(t, err)
	var ids []string
	for _, q := range queue {
		ids = append(ids, q.BankTransactionID)
	}
	require.Equal(t, []string{"bt-c", "bt-s:INV-1"}, ids, "the split payment is out; a part waits until its order records it")

	// Candidates never replace a match.
	applied, err = s.DecidePayment(ctx, store.PaymentDecision{BankTransactionID: "bt-s", Rule: "none"})
	require.NoError(t, err)
	require.False(t, applied)
	p, err = s.Payment(ctx, "bt-s")
	require.NoError(t, err)
	require.Equal(t, "payer-sum", p.MatchRule)
}
