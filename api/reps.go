package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// repRequest is the body of PUT /v1/reps/{subject}.
type repRequest struct {
	Name                string `json:"name"`
	Email               string `json:"email"`
	DiscountAuthorityBP *int64 `json:"discount_authority_bp"`
}

// putRep is PUT /v1/reps/{subject}: a sales admin or manager sets a rep's record,
// above all the discount the rep may grant alone. The rep's next quote or
// revision is priced under it; quotes priced before keep the authority
// they were priced under.
func (s *server) putRep(w http.ResponseWriter, r *http.Request) error {
	a := actorFrom(r.Context())
	if err := requireRole(a, order.RoleSalesAdmin, order.RoleSalesManager); err != nil {
		return err
	}
	subject := mux.Vars(r)["subject"]
	var in repRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var authority *order.FieldError
	switch {
	case in.DiscountAuthorityBP == nil:
		authority = &order.FieldError{Field: "discount_authority_bp", Reason: "required: 0 to 10000 basis points"}
	case *in.DiscountAuthorityBP < 0 || *in.DiscountAuthorityBP > 10000:
		authority = &order.FieldError{Field: "discount_authority_bp", Reason: "0 to 10000 basis points"}
	}
	if err := collect(checkID("subject", subject, true), authority, checkText("name", in.Name, false), checkText("email", in.Email, false)); err != nil {
		return err
	}
	rep, err := s.store.UpsertRep(r.Context(), store.Rep{Subject: subject, Name: in.Name, Email: in.Email,
		DiscountAuthorityBP: *in.DiscountAuthorityBP, UpdatedAt: s.now().UTC(), UpdatedBy: a.Subject})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// listReps is GET /v1/reps: the reps' records, for sales managers and reps.
func (s *server) listReps(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(actorFrom(r.Context()), order.RoleSalesAdmin, order.RoleSalesManager, order.RoleSalesRep); err != nil {
		return err
	}
	reps, err := s.store.Reps(r.Context())
	if err != nil {
		return err
	}
	if reps == nil {
		reps = []store.Rep{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reps": reps})
	return nil
}
