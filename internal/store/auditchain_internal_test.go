package store

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

// TestChainEncodingIsPinned fixes the canonical encoding: changing it would
// make every stored hash fail to verify.
func TestChainEncodingIsPinned(t *testing.T) {
	t.Parallel()
	seq := int64(7)
	from, data := "QUOTING", `{"a": "ü"}`
	r := chainRow{
		orderID: "ord-1", chainIndex: 3, seq: &seq, at: time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC),
		subject: "fiona", role: "finance", customerID: "", action: "status.changed",
		fromStatus: &from, toStatus: nil, reason: "Grüße", data: &data,
	}
	require.Equal(t, "5:ord-11:31:716:17724438001234565:fiona7:finance0:14:status.changed7:QUOTING-7:Grüße11:{\"a\": \"ü\"}",
		string(r.content()))
	// sha256 of 32 zero bytes and the content, as sha256sum computes it.
	require.Equal(t, "606d9db4d58f3407200cd58b3a4a853a0569cb114c2c97b054c1686c5b834087",
		hex.EncodeToString(entryHash(zeroHash, r.content())))
}

// TestGoEncodingEqualsTheTriggers writes entries with every kind of field
// through the trigger and recomputes their content and hash in Go.
func TestGoEncodingEqualsTheTriggers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, Migrate)
	_, err := pool.Exec(ctx, `
		INSERT INTO audit_log (order_id, seq, at, actor_subject, actor_role, actor_customer_id, action, from_status, to_status, reason, data)
		VALUES ('ord-ü', 0, '2026-03-02 09:30:00.123456+00', 'alice', 'buyer', 'ACME-001', 'order.created', NULL, 'QUOTING', '', NULL),
			('ord-ü', NULL, '1969-12-31 23:59:59.999999+00', 'fiona', 'finance', '', 'payment.allocated', '', NULL, 'Grüße 😀', '{"b": [1, 2.50], "a": {"z": null}}'),
			('ord-ü', 12, now(), '', '', '', 'x', 'A', 'B', e'line\nbreak', '"just a string"')`)
	require.NoError(t, err)
	rows, err := pool.Query(ctx, `
		SELECT id, order_id, chain_index, seq, at, actor_subject, actor_role, actor_customer_id,
			action, from_status, to_status, reason, data::text, prev_hash, hash,
			audit_log_content(a, a.chain_index)
		FROM audit_log a ORDER BY chain_index`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r chainRow
		var sqlContent []byte
		require.NoError(t, rows.Scan(&r.id, &r.orderID, &r.chainIndex, &r.seq, &r.at, &r.subject, &r.role,
			&r.customerID, &r.action, &r.fromStatus, &r.toStatus, &r.reason, &r.data, &r.prevHash, &r.hash, &sqlContent))
		require.Equal(t, string(sqlContent), string(r.content()), "entry %d", r.chainIndex)
		require.Equal(t, hex.EncodeToString(r.hash), hex.EncodeToString(entryHash(r.prevHash, r.content())), "entry %d", r.chainIndex)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 3, n)
}
