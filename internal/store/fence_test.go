package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// A workflow task that runs local Records and dies with its worker leaves
// its writes behind; Temporal runs the task again, by another worker, on a
// history that may hold more (a survey closed meanwhile), and the retry
// decides other transitions under the same seqs: COMPLETED at the seq where
// the lost task wrote PAID, and nothing at the seq where it wrote more.
// The projection must end where the retry ends, whichever reaches the
// store first, and the audit log keeps both but marks the lost task's.
func TestRecordOfARetriedTaskWinsOverTheLostTask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		lostFirst  bool
		wantStatus order.Status
	}{
		{"the lost task's writes land first (its worker died)", true, order.StatusCompleted},
		{"the lost task's writes land last (a slow worker whose task timed out)", false, order.StatusCompleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, pool := newStore(t)
			createOrder(t, s, "ord-f", "ACME-001", order.StatusQuoting, money.Money{})

			at := func(seq int64, fence int64, status order.Status, action string) store.Transition {
				tr := transition("ord-f", seq, status)
				tr.Fence, tr.Action = fence, action
				return tr
			}
			// Committed: the order waits for its payment (task 20).
			require.NoError(t, s.RecordTransition(ctx, at(5, 20, order.StatusAwaitingPayment, "payment.awaiting")))

			// The lost task (30): a payment it could not apply, then
			// PAID, then a third record.
			lost := []store.Transition{
				at(6, 30, order.StatusAwaitingPayment, "payment.not-applied"),
				at(7, 30, order.StatusPaid, "order.paid"),
				at(8, 30, order.StatusPaid, "survey.reminded"),
			}
			// Its retry (34) saw the survey close too: the payment
			// applies, and the order completes at seq 7.
			retry := []store.Transition{
				at(6, 34, order.StatusAwaitingPayment, "payment.reconciled"),
				at(7, 34, order.StatusCompleted, "order.completed"),
			}
			first, second := retry, lost
			if tc.lostFirst {
				first, second = lost, retry
			}
			for _, tr := range append(append([]store.Transition{}, first...), second...) {
				require.NoError(t, s.RecordTransition(ctx, tr))
			}
			// A retried local activity of the lost task writes again.
			require.NoError(t, s.RecordTransition(ctx, lost[2]))

			rec, err := s.Order(ctx, "ord-f")
			require.NoError(t, err)
			require.Equal(t, tc.wantStatus, rec.Status, "the projection ends where the task that counts ended")
			require.Equal(t, int64(7), rec.LastSeq)

			var exceptions int
			require.NoError(t, pool.QueryRow(ctx,
				`SELECT count(*) FROM order_exceptions WHERE order_id = 'ord-f'`).Scan(&exceptions))
			require.Zero(t, exceptions, "the lost task's payment.not-applied never happened in the order's history")

			entries, err := s.AuditLog(ctx, "ord-f")
			require.NoError(t, err)
			type row struct {
				seq        int64
				action     string
				superseded bool
			}
			var got []row
			for _, e := range entries {
				got = append(got, row{e.Seq, e.Action, e.Superseded})
			}
			require.ElementsMatch(t, []row{
				{0, "order.created", false},
				{5, "payment.awaiting", false},
				{6, "payment.not-applied", true},
				{7, "order.paid", true},
				{8, "survey.reminded", true},
				{6, "payment.reconciled", false},
				{7, "order.completed", false},
			}, got, "every record is kept, the lost task's marked superseded")
			for _, e := range entries {
				if e.Action == "order.completed" {
					require.Equal(t, order.StatusAwaitingPayment, e.FromStatus, "the retry's entries chain to the history that counts")
				}
			}

			rep, err := s.VerifyAudit(ctx, store.AuditVerifyOptions{OrderID: "ord-f"})
			require.NoError(t, err)
			require.True(t, rep.OK, "the chain verifies with fenced entries: %+v", rep.Problem)
		})
	}
}

// Records without a fence (workers before it) order by seq alone, and a
// fenced record is newer than any of them.
func TestRecordWithoutFenceOrdersBySeq(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	createOrder(t, s, "ord-u", "ACME-001", order.StatusQuoting, money.Money{})

	require.NoError(t, s.RecordTransition(ctx, transition("ord-u", 3, order.StatusCreditCheck)))
	require.NoError(t, s.RecordTransition(ctx, transition("ord-u", 2, order.StatusAwaitingApproval)))
	rec, err := s.Order(ctx, "ord-u")
	require.NoError(t, err)
	require.Equal(t, order.StatusCreditCheck, rec.Status)

	upgraded := transition("ord-u", 4, order.StatusConfirmed)
	upgraded.Fence = 40
	require.NoError(t, s.RecordTransition(ctx, upgraded))
	require.NoError(t, s.RecordTransition(ctx, transition("ord-u", 5, order.StatusShipping)),
		"an unfenced record after a fenced one (an older worker in a rollout)")
	rec, err = s.Order(ctx, "ord-u")
	require.NoError(t, err)
	require.Equal(t, order.StatusConfirmed, rec.Status, "a fenced record is newer than every unfenced one")
	entries, err := s.AuditLog(ctx, "ord-u")
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, e.Superseded && e.Seq < 4, "entries before the fenced one are the history, not superseded: %+v", e)
	}
}
