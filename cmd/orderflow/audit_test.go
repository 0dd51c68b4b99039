package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/store"
)

func TestAuditVerifyAndSeal(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate"}, &out, &out))
	pool, err := pgdb.Open(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	st := store.New(pool)
	fiona := order.Actor{Subject: "fiona", Role: order.RoleFinance}
	for i := range 3 {
		require.NoError(t, st.AppendAudit(ctx, store.AuditEntry{OrderID: "ord-1", Actor: fiona, Action: "note", Reason: fmt.Sprint(i)}))
	}

	// Seal until the entries are covered (other tests' transactions on the
	// server may hold the horizon back for a moment).
	var head string
	deadline := time.Now().Add(30 * time.Second)
	for head == "" {
		out.Reset()
		require.NoError(t, run(ctx, []string{"audit", "seal"}, &out, &out))
		if m := regexp.MustCompile(`audit chain head (1:[0-9a-f]{64})\n`).FindStringSubmatch(out.String()); m != nil {
			head = m[1]
		}
		require.True(t, time.Now().Before(deadline), out.String())
	}

	out.Reset()
	require.NoError(t, run(ctx, []string{"audit", "verify", "--head", head}, &out, &out))
	assert.Contains(t, out.String(), "3 entries of 1 orders and 1 seals checked; 0 entries not sealed yet")
	assert.Contains(t, out.String(), "head "+head)
	assert.Contains(t, out.String(), "OK\n")

	out.Reset()
	require.NoError(t, run(ctx, []string{"audit", "verify", "--order", "ord-1", "--json"}, &out, &out))
	var rep store.AuditReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.True(t, rep.OK)
	assert.Equal(t, int64(3), rep.Entries)

	// An edit made with the append-only trigger off: a non-zero exit, and
	// the entry named.
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM audit_log WHERE chain_index = 2`).Scan(&id))
	_, err = pool.Exec(ctx, `BEGIN;
		ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
		UPDATE audit_log SET reason = 'x' WHERE chain_index = 2;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;
		COMMIT`)
	require.NoError(t, err)
	out.Reset()
	err = run(ctx, []string{"audit", "verify"}, &out, &out)
	require.ErrorIs(t, err, errAuditFailed)
	assert.Contains(t, out.String(), fmt.Sprintf("FAILED (changed): entry 2 of order ord-1 (id %d) does not match its hash", id))
	assert.Contains(t, out.String(), fmt.Sprintf("at order ord-1, chain index 2, entry id %d", id))

	for _, args := range [][]string{{"audit"}, {"audit", "check"}, {"audit", "verify", "--head", "1:abc"}, {"audit", "seal", "--order", "x"}} {
		require.Error(t, run(ctx, args, &out, &out), "%v", args)
	}
}
