package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// customerAudit is GET /v1/customers/{id}/audit: the audit entries the
// customer's workflow and its pages wrote (marketing decisions, opt-outs,
// win-back requests), which chain under customer-<id> rather than under
// an order. The seller's staff only; a sales rep reads their own
// customers' only.
func (s *server) customerAudit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, order.RoleCS, order.RoleFinance, order.RoleSalesManager, order.RoleSalesRep, order.RoleSalesAdmin); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if _, err := s.repCustomer(r, a, id); err != nil {
		return err
	}
	chain := store.CustomerAuditID(id)
	entries, err := s.store.AuditLog(ctx, chain)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer_id": id, "chain": chain, "entries": entries})
	return nil
}
