package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/api/serviceerror"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// winBackRequest is the body of POST /v1/customers/{id}/win-back.
type winBackRequest struct {
	Reason string `json:"reason"`
}

// winBackAnswer is the 202 of POST /v1/customers/{id}/win-back.
type winBackAnswer struct {
	CustomerID  string      `json:"customer_id"`
	RequestID   string      `json:"request_id"`
	RequestedBy order.Actor `json:"requested_by"`
	Reason      string      `json:"reason"`
	At          time.Time   `json:"at"`
}

// winBack is POST /v1/customers/{id}/win-back: the customer's rep or a
// sales manager asks the customer's workflow for one more "we miss you"
// mail, sent at once through the marketing-mail claim (opt-outs and the
// frequency cap still apply). The request is audited on the customer's
// chain (marketing.win-back-requested, as the caller). With an
// Idempotency-Key, a repeat names the same mail, which no contact gets
// twice.
func (s *server) winBack(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := actorFrom(ctx)
	if err := requireRole(a, order.RoleSalesRep, order.RoleSalesManager); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	var in winBackRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := collect(checkText("reason", in.Reason, true)); err != nil {
		return err
	}
	key := r.Header.Get(IdempotencyKeyHeader)
	if key != "" && !validIdempotencyKey(key) {
		return badRequest("bad header", order.FieldError{Field: IdempotencyKeyHeader, Reason: "1 to 200 printable ASCII characters"})
	}
	if _, err := s.repCustomer(r, a, id); err != nil {
		return err
	}
	now := s.now().UTC()
	// The request id ends the mail's key: from the caller's
	// Idempotency-Key (scoped to the caller), else a new one.
	requestID := s.ids.next(now)
	if key != "" {
		sum := sha256.Sum256([]byte(a.Subject + "\x00" + key))
		requestID = hex.EncodeToString(sum[:12])
	}
	reason := strings.TrimSpace(in.Reason)
	err := s.temporal.SignalWorkflow(ctx, workflows.CustomerWorkflowID(id), "", workflows.SignalWinBack,
		workflows.WinBackInput{RequestID: requestID, RequestedBy: a, Reason: reason})
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return conflict(fmt.Sprintf("customer %s has no customer workflow yet: it starts with the customer's first order", id))
	case err != nil:
		return unavailable("the customer's workflow could not be asked just now; try again", fmt.Errorf("signal win-back to %s: %w", id, err))
	}
	data, err := json.Marshal(map[string]string{"request_id": requestID})
	if err != nil {
		return err
	}
	if err := s.store.AppendAudit(ctx, store.AuditEntry{OrderID: store.CustomerAuditID(id), At: now, Actor: a,
		Action: "marketing.win-back-requested", Reason: "win-back mail asked for: " + reason, Data: data}); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, winBackAnswer{CustomerID: id, RequestID: requestID, RequestedBy: a, Reason: reason, At: now})
	return nil
}

// repCustomer loads customer id's terms (404 when there is no such
// customer) and refuses a sales rep a customer whose terms name another
// rep.
func (s *server) repCustomer(r *http.Request, a order.Actor, id string) (order.Terms, error) {
	terms, err := s.store.Terms(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return order.Terms{}, notFound(fmt.Sprintf("no customer %q", id))
	} else if err != nil {
		return order.Terms{}, err
	}
	if a.Role != order.RoleSalesRep {
		return terms, nil
	}
	mine, err := s.repNames(r.Context(), a)
	if err != nil {
		return order.Terms{}, err
	}
	if !slices.ContainsFunc(mine, func(n string) bool { return strings.EqualFold(n, terms.RepEmail) }) {
		return order.Terms{}, forbidden("a sales rep sees and acts for their own customers only")
	}
	return terms, nil
}
