package auditseal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/auditseal"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
)

type headMetric struct {
	sealNo           int64
	hash             string
	sealed, unsealed int64
}

func (h *headMetric) AuditHead(sealNo int64, hash string, sealed, unsealed int64) {
	*h = headMetric{sealNo, hash, sealed, unsealed}
}

func TestRunSealsAndPublishesTheHead(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := store.New(pgtest.NewPool(t, store.Migrate))
	require.NoError(t, st.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Action: "note",
		Actor: order.Actor{Subject: "fiona", Role: order.RoleFinance}}))

	var logs syncBuffer
	var m headMetric
	done := make(chan error, 1)
	go func() { done <- auditseal.Run(ctx, st, 10*time.Millisecond, zerolog.New(&logs), &m) }()

	// The entry is sealed once the server's older transactions (other
	// tests') have ended; the head is published every round.
	var line map[string]any
	require.Eventually(t, func() bool {
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if err := json.Unmarshal([]byte(l), &line); err == nil && line["seal_no"] == float64(1) {
				return true
			}
		}
		return false
	}, 30*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	head, err := st.AuditHead(context.Background())
	require.NoError(t, err)
	require.Equal(t, "audit chain head", line["message"])
	require.Equal(t, head.Hash, line["hash"])
	require.Equal(t, float64(1), line["entries"])
	require.Equal(t, head.Ref(), line["head"])
	require.Equal(t, headMetric{1, head.Hash, 1, 0}, m)

	ref, err := store.ParseSealRef(head.Ref())
	require.NoError(t, err)
	rep, err := st.VerifyAudit(context.Background(), store.AuditVerifyOptions{Head: &ref})
	require.NoError(t, err)
	require.True(t, rep.OK, "%+v", rep.Problem)
}

// syncBuffer is a bytes.Buffer the sealer writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
