package api

import (
	"fmt"
	"net/http"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// auditVerifyParams are the query parameters GET /v1/audit/verify takes.
var auditVerifyParams = map[string]bool{"order_id": true, "head": true}

// auditVerify is GET /v1/audit/verify: finance and CS, who answer for the
// trail, check that the audit log is as it was written. It recomputes
// every order's hash chain and every seal (or one order's chain with
// order_id) and compares a head published earlier (head=N:HEX). A log that
// does not verify is a 200 too: the check ran, and "ok": false with
// "problem" names the first entry or seal that failed.
func (s *server) auditVerify(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), order.RoleFinance, order.RoleCS); err != nil {
		return err
	}
	q := r.URL.Query()
	for k := range q {
		if !auditVerifyParams[k] {
			return badRequest("unknown query parameter",
				order.FieldError{Field: k, Reason: "unknown parameter; use order_id or head"})
		}
	}
	opts := store.AuditVerifyOptions{OrderID: q.Get("order_id")}
	if len(opts.OrderID) > maxIDLen {
		return badRequest("bad query parameter", order.FieldError{Field: "order_id", Reason: fmt.Sprintf("at most %d characters", maxIDLen)})
	}
	if fe := checkID("order_id", opts.OrderID, false); fe != nil {
		return badRequest("bad query parameter", *fe)
	}
	if h := q.Get("head"); h != "" {
		ref, err := store.ParseSealRef(h)
		if err != nil {
			return badRequest("bad query parameter", order.FieldError{Field: "head", Reason: err.Error()})
		}
		opts.Head = &ref
	}
	rep, err := s.store.VerifyAudit(r.Context(), opts)
	if err != nil {
		return err
	}
	if !rep.OK {
		s.log.Warn().Str("order_id", opts.OrderID).Str("kind", rep.Problem.Kind).Int64("problems", rep.Problems).
			Str("subject", actorFrom(r.Context()).Subject).Msg("audit log does not verify: " + rep.Problem.Message)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
