package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// MaxDelegation is the longest an approver may hand their decisions to a
// colleague in one delegation.
const MaxDelegation = 90 * 24 * time.Hour

// delegationRequest is the body of POST /v1/delegations.
type delegationRequest struct {
	// To is the colleague's subject (their token's sub).
	To string `json:"to"`
	// StartsAt defaults to now; Until ends the delegation.
	StartsAt *time.Time `json:"starts_at"`
	Until    *time.Time `json:"until"`
	Reason   string     `json:"reason"`
}

// createDelegation is POST /v1/delegations: an approver (buyer_approver,
// sales_manager) out of office names a colleague who decides approvals
// for them until a date. A buyer approver's colleague must act for the
// same customer when they approve.
func (s *server) createDelegation(w http.ResponseWriter, r *http.Request) error {
	a := actorFrom(r.Context())
	if err := requireRole(a, order.RoleBuyerApprover, order.RoleSalesManager); err != nil {
		return err
	}
	var in delegationRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	now := s.now().UTC()
	start := now
	if in.StartsAt != nil {
		start = in.StartsAt.UTC()
	}
	var to, until *order.FieldError
	switch {
	case checkID("to", in.To, true) != nil:
		to = checkID("to", in.To, true)
	case in.To == a.Subject:
		to = &order.FieldError{Field: "to", Reason: "a colleague, not yourself"}
	}
	switch {
	case in.Until == nil:
		until = &order.FieldError{Field: "until", Reason: "required: when you are back"}
	case !in.Until.After(start) || !in.Until.After(now):
		until = &order.FieldError{Field: "until", Reason: "after starts_at and in the future"}
	case in.Until.Sub(start) > MaxDelegation:
		until = &order.FieldError{Field: "until", Reason: fmt.Sprintf("at most %d days after starts_at", int(MaxDelegation.Hours()/24))}
	}
	if err := collect(to, until, checkText("reason", in.Reason, true)); err != nil {
		return err
	}
	// With an Idempotency-Key, a retried request is the same delegation
	// (its id is the caller's and the key's), and the same key with
	// another body is a 409.
	id := "dlg_" + s.ids.next(now)
	if key := r.Header.Get(IdempotencyKeyHeader); key != "" {
		if !validIdempotencyKey(key) {
			return badRequest("bad Idempotency-Key header",
				order.FieldError{Field: IdempotencyKeyHeader, Reason: fmt.Sprintf("1 to %d printable ASCII characters", maxIdemKeyLen)})
		}
		sum := sha256.Sum256([]byte(a.Subject + "\x00delegation\x00" + key))
		id = "dlg_" + hex.EncodeToString(sum[:12])
	}
	d, err := s.store.CreateDelegation(r.Context(), store.Delegation{ID: id, From: a, To: in.To,
		StartsAt: start, EndsAt: in.Until.UTC(), Reason: in.Reason, CreatedAt: now})
	if errors.Is(err, store.ErrDuplicate) {
		return conflict("this Idempotency-Key was used for another delegation")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

// listDelegations is GET /v1/delegations: those the caller gave or was
// given.
func (s *server) listDelegations(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.store.Delegations(r.Context(), actorFrom(r.Context()).Subject)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []store.Delegation{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"delegations": ds})
	return nil
}

// revokeDelegation is DELETE /v1/delegations/{id}: the approver is back
// early. Only who gave a delegation revokes it; it stays on record.
func (s *server) revokeDelegation(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if checkID("id", id, true) != nil {
		return notFound(fmt.Sprintf("no delegation %q of yours", id))
	}
	d, err := s.store.RevokeDelegation(r.Context(), id, actorFrom(r.Context()).Subject, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no delegation %q of yours", id))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// onBehalfOf finds the delegation under which a actor, not an approver
// themself, decides on rec: the one named (id), or the first in force
// whose approver may decide on the order (a buyer approver of its
// customer, for a colleague of that customer; a sales manager). Nil when
// there is none: the order then refuses the actor as it would anyone
// without the role.
func (s *server) onBehalfOf(ctx context.Context, a order.Actor, rec store.OrderRecord, id string) (*workflows.Delegation, error) {
	if a.Role == order.RoleBuyerApprover || a.Role == order.RoleSalesManager {
		if id != "" {
			return nil, invalidField("delegation_id", "you approve in your own right; no delegation is needed")
		}
		return nil, nil
	}
	ds, err := s.store.DelegationsTo(ctx, a.Subject, s.now().UTC())
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if id != "" && d.ID != id {
			continue
		}
		fits := d.From.Role == order.RoleSalesManager && !a.Role.CustomerScoped()
		fits = fits || (d.From.Role == order.RoleBuyerApprover && d.From.CustomerID == rec.CustomerID && a.CustomerID == rec.CustomerID)
		if fits {
			return &workflows.Delegation{ID: d.ID, From: d.From, Until: d.EndsAt}, nil
		}
	}
	if id != "" {
		return nil, invalidField("delegation_id", fmt.Sprintf("no delegation %q to you is in force for this order", id))
	}
	return nil, nil
}
