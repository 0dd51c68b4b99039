package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

// addCustomer stores a EUR customer with the given credit limit.
func addCustomer(t *testing.T, s *store.Store, id string, limit money.Money) {
	t.Helper()
	terms := store.DemoCustomers()[1]
	terms.CustomerID, terms.CreditLimit = id, limit
	require.NoError(t, s.UpsertCustomer(context.Background(), terms))
}

// moveOrder records the order's next status, as the workflow's Record
// activity does; invoice is the invoice number, if any.
func moveOrder(t *testing.T, s *store.Store, id string, seq int64, status order.Status, invoice string) {
	t.Helper()
	require.NoError(t, s.RecordTransition(context.Background(), store.Transition{
		OrderID: id, Seq: seq, Status: status, Total: money.Zero(""), InvoiceNumber: invoice, Action: "status.changed"}))
}

// decide checks an order with nothing open in the ERP and fails the test on error.
func decide(t *testing.T, s *store.Store, id, customerID string, amount money.Money) order.Exposure {
	t.Helper()
	e, err := s.DecideCredit(context.Background(), store.CreditCheck{
		OrderID: id, CustomerID: customerID, Amount: amount, Receivables: eur(0)})
	require.NoError(t, err)
	return e
}

// TestDecideCreditCountsOpenOrders: which of the customer's other orders
// count towards its exposure, by status, by whether they hold a credit
// commitment, and by whether they are invoiced. Each case has a customer of
// its own with one other order of 100.00, and checks a new order of 1.00.
func TestDecideCreditCountsOpenOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)

	// Accepted and not invoiced: approval, hold, confirmed, shipping.
	withoutCommitment := map[order.Status]bool{
		order.StatusAwaitingApproval: true, order.StatusCreditHold: true,
		order.StatusConfirmed: true, order.StatusShipping: true,
	}
	// A commitment also counts while its order is still in CREDIT_CHECK
	// (the workflow has not recorded the next status yet).
	withCommitment := map[order.Status]bool{
		order.StatusAwaitingApproval: true, order.StatusCreditCheck: true, order.StatusCreditHold: true,
		order.StatusConfirmed: true, order.StatusShipping: true,
	}
	type tc struct {
		status    order.Status
		committed bool
		invoice   string
		counts    bool
	}
	var cases []tc
	for _, st := range order.Statuses {
		cases = append(cases, tc{st, false, "", withoutCommitment[st]}, tc{st, true, "", withCommitment[st]})
	}
	// Prepayment: invoiced after the reservation, shipped once paid. The
	// invoice is the ERP's receivable from then on, whatever the status.
	for _, st := range []order.Status{order.StatusConfirmed, order.StatusShipping} {
		cases = append(cases, tc{st, false, "INV-1", false}, tc{st, true, "INV-1", false})
	}

	// Invoiced per shipment: an order still SHIPPING with 40.00 of its
	// 100.00 invoiced counts the 60.00 not invoiced yet.
	for _, committed := range []bool{false, true} {
		cases = append(cases, tc{order.StatusShipping, committed, "INV-PART", true})
	}

	for i, c := range cases {
		name := fmt.Sprintf("%s committed=%t invoiced=%s", c.status, c.committed, c.invoice)
		t.Run(name, func(t *testing.T) {
			cust := fmt.Sprintf("CUST-%02d", i)
			addCustomer(t, s, cust, eur(1_000_000))
			other := cust + "-other"
			if c.committed {
				createOrder(t, s, other, cust, order.StatusCreditCheck, eur(10000))
				require.True(t, decide(t, s, other, cust, eur(10000)).WithinLimit)
				if c.status != order.StatusCreditCheck || c.invoice != "" {
					moveOrder(t, s, other, 1, c.status, c.invoice)
				}
			} else {
				createOrder(t, s, other, cust, c.status, eur(10000))
				if c.invoice != "" {
					moveOrder(t, s, other, 1, c.status, c.invoice)
				}
			}
			want := eur(0)
			if c.invoice == "INV-PART" {
				require.NoError(t, s.SaveInvoice(ctx, other, order.Invoice{InvoiceID: "id-" + other, Number: "INV-PART-" + other,
					Amount: eur(4000), Net: eur(4000), Tax: eur(0)}))
				c.invoice = "INV-PART-" + other
				want = eur(6000)
			} else if c.counts {
				want = eur(10000)
			}
			rec, err := s.Order(ctx, other)
			require.NoError(t, err)
			require.Equal(t, c.status, rec.Status)
			require.Equal(t, c.invoice, rec.InvoiceNumber)

			createOrder(t, s, cust+"-this", cust, order.StatusCreditCheck, eur(100))
			e := decide(t, s, cust+"-this", cust, eur(100))
			require.Equal(t, want, e.OpenOrders)
			require.Equal(t, eur(100), e.ThisOrder)
			require.Equal(t, eur(0), e.OpenReceivables)
			require.Equal(t, money.New(want.Minor+100, "EUR"), e.Total)
		})
	}
}

func TestDecideCredit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	addCustomer(t, s, "LIMIT-1", eur(200000)) // 2000.00
	check := func(id string, amount, receivables money.Money) (order.Exposure, error) {
		return s.DecideCredit(ctx, store.CreditCheck{OrderID: id, CustomerID: "LIMIT-1", Amount: amount, Receivables: receivables})
	}

	t.Run("up to the limit passes and commits", func(t *testing.T) {
		createOrder(t, s, "a", "LIMIT-1", order.StatusCreditCheck, eur(50000))
		e, err := check("a", eur(50000), eur(150000))
		require.NoError(t, err)
		require.Equal(t, order.Exposure{OpenReceivables: eur(150000), OpenOrders: eur(0), ThisOrder: eur(50000),
			Total: eur(200000), Limit: eur(200000), WithinLimit: true}, e)
	})

	t.Run("the commitment counts before the order's status moves on", func(t *testing.T) {
		createOrder(t, s, "b", "LIMIT-1", order.StatusCreditCheck, eur(1))
		e, err := check("b", eur(1), eur(150000))
		require.NoError(t, err)
		require.Equal(t, eur(50000), e.OpenOrders, "a's commitment")
		require.Equal(t, eur(200001), e.Total)
		require.False(t, e.WithinLimit, "one cent over")
	})

	t.Run("a retry answers the granted decision, whatever changed since", func(t *testing.T) {
		first, err := check("a", eur(50000), eur(150000))
		require.NoError(t, err)
		// More receivables in the ERP, and another order on hold.
		createOrder(t, s, "held", "LIMIT-1", order.StatusCreditHold, eur(70000))
		again, err := check("a", eur(50000), eur(190000))
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.True(t, again.WithinLimit)
	})

	t.Run("a retry with another amount is a conflict", func(t *testing.T) {
		_, err := check("a", eur(50001), eur(150000))
		require.ErrorIs(t, err, store.ErrDuplicate)
		addCustomer(t, s, "LIMIT-2", eur(200000))
		_, err = s.DecideCredit(ctx, store.CreditCheck{OrderID: "a", CustomerID: "LIMIT-2", Amount: eur(50000), Receivables: eur(0)})
		require.ErrorIs(t, err, store.ErrDuplicate, "another customer")
	})

	t.Run("an order over the limit holds nothing and is decided again", func(t *testing.T) {
		moveOrder(t, s, "held", 1, order.StatusCreditDeclined, "")
		e, err := check("b", eur(1), eur(100000))
		require.NoError(t, err)
		require.True(t, e.WithinLimit, "declined orders and lower receivables leave room: %+v", e)
	})

	t.Run("invoicing and ending release a commitment", func(t *testing.T) {
		// a and b hold 500.01 now; c would not fit beside them.
		createOrder(t, s, "c", "LIMIT-1", order.StatusCreditCheck, eur(150000))
		e, err := check("c", eur(150000), eur(0))
		require.NoError(t, err)
		require.Equal(t, eur(50001), e.OpenOrders)
		require.False(t, e.WithinLimit)

		moveOrder(t, s, "a", 1, order.StatusConfirmed, "")
		moveOrder(t, s, "a", 2, order.StatusInvoiced, "INV-9")
		moveOrder(t, s, "b", 1, order.StatusCancelled, "")
		e, err = check("c", eur(150000), eur(50000))
		require.NoError(t, err, "a is the ERP's receivable now, b is gone")
		require.Equal(t, eur(0), e.OpenOrders)
		require.True(t, e.WithinLimit)
	})

	t.Run("an open order in another currency is an error", func(t *testing.T) {
		createOrder(t, s, "usd", "LIMIT-1", order.StatusConfirmed, money.New(5, "USD"))
		createOrder(t, s, "d", "LIMIT-1", order.StatusCreditCheck, eur(1))
		_, err := check("d", eur(1), eur(0))
		require.ErrorIs(t, err, money.ErrCurrencyMismatch, "an order in another currency must not vanish from the exposure")
	})

	t.Run("unknown customer", func(t *testing.T) {
		_, err := s.DecideCredit(ctx, store.CreditCheck{OrderID: "x", CustomerID: "NOBODY", Amount: eur(1), Receivables: eur(0)})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestDecideCreditSerializesOneCustomer: ten checks of one customer at once,
// room for five: the lock makes them take turns, so exactly five pass.
func TestDecideCreditSerializesOneCustomer(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	addCustomer(t, s, "BUSY-1", eur(50000))
	within := make([]bool, 10)
	errs := make([]error, 10)
	for i := range within {
		createOrder(t, s, fmt.Sprintf("busy-%d", i), "BUSY-1", order.StatusCreditCheck, eur(10000))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range within {
		wg.Go(func() {
			<-start
			e, err := s.DecideCredit(context.Background(), store.CreditCheck{
				OrderID: fmt.Sprintf("busy-%d", i), CustomerID: "BUSY-1", Amount: eur(10000), Receivables: eur(0)})
			within[i], errs[i] = e.WithinLimit, err
		})
	}
	close(start)
	wg.Wait()
	n := 0
	for i, ok := range within {
		require.NoError(t, errs[i])
		if ok {
			n++
		}
	}
	require.Equal(t, 5, n, "checks within the limit: %v", within)
}
