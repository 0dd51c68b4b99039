package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	fiona := order.Actor{Subject: "fiona", Role: order.RoleFinance}
	for _, id := range []string{"ord-1", "ord-2"} {
		for i := range 3 {
			require.NoError(t, e.store.AppendAudit(ctx, store.AuditEntry{OrderID: id, Actor: fiona, Action: "note", Reason: fmt.Sprint(i)}))
		}
	}
	// Seal them (other tests' transactions on the server may hold the
	// sealing horizon back for a moment).
	var head store.AuditHead
	require.Eventually(t, func() bool {
		_, _, err := e.store.Seal(ctx)
		require.NoError(t, err)
		head, err = e.store.AuditHead(ctx)
		require.NoError(t, err)
		return head.Unsealed == 0
	}, 30*time.Second, 20*time.Millisecond)

	verify := func(role order.Role, query string) *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodGet, path: "/v1/audit/verify" + query, token: e.token(role)})
	}
	for _, role := range []order.Role{order.RoleFinance, order.RoleCS} {
		w := verify(role, "?head="+url.QueryEscape(head.Ref()))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		rep := decode[store.AuditReport](t, w)
		require.True(t, rep.OK, "%+v", rep.Problem)
		require.Equal(t, int64(6), rep.Entries)
		require.Equal(t, int64(2), rep.Orders)
		require.Equal(t, head.SealNo, rep.Head.SealNo)
		require.Equal(t, head.Hash, rep.Head.Hash)
	}
	for _, role := range []order.Role{order.RoleBuyer, order.RoleStorefront, order.RoleSalesRep, order.RoleSalesManager} {
		requireProblem(t, verify(role, ""), http.StatusForbidden)
	}
	requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/audit/verify"}), http.StatusUnauthorized)
	for _, q := range []string{"?head=1:abc", "?head=x", "?order=ord-1", "?order_id=" + strings.Repeat("x", 65)} {
		requireProblem(t, verify(order.RoleFinance, q), http.StatusBadRequest)
	}

	// An edit with the append-only trigger off: 200, ok false, the entry named.
	var id int64
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT id FROM audit_log WHERE order_id = 'ord-2' AND chain_index = 2`).Scan(&id))
	_, err := e.pool.Exec(ctx, `BEGIN;
		ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
		UPDATE audit_log SET actor_subject = 'someone else' WHERE order_id = 'ord-2' AND chain_index = 2;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;
		COMMIT`)
	require.NoError(t, err)
	w := verify(order.RoleCS, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	rep := decode[store.AuditReport](t, w)
	require.False(t, rep.OK)
	require.Equal(t, &store.AuditProblem{Kind: store.AuditChanged, OrderID: "ord-2", ChainIndex: 2, EntryID: id,
		Message: fmt.Sprintf("entry 2 of order ord-2 (id %d) does not match its hash: it was changed after it was written", id)}, rep.Problem)
	logged := false
	for _, l := range e.logs.lines(t) {
		if strings.HasPrefix(fmt.Sprint(l["message"]), "audit log does not verify") && l["kind"] == store.AuditChanged {
			logged = true
		}
	}
	require.True(t, logged, "a failed verification is logged")

	// One order's chain: the other order verifies.
	w = verify(order.RoleFinance, "?order_id=ord-1")
	rep = decode[store.AuditReport](t, w)
	require.True(t, rep.OK)
	require.Equal(t, "ord-1", rep.OrderID)
	require.Equal(t, int64(3), rep.Entries)
}
