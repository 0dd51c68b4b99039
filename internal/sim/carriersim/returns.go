package carriersim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
	"github.com/orderflow/orderflow/internal/webhook"
)

// StatusReturned is a return pickup whose goods are back at the warehouse.
const StatusReturned = "returned"

// Shipment kinds.
const (
	KindDelivery = "delivery"
	KindReturn   = "return"
)

// Errors of the return accessors; the control endpoints map them to 409.
var (
	ErrNotAReturn = errors.New("carriersim: not a return pickup")
	ErrIsAReturn  = errors.New("carriersim: a return pickup is not delivered, it is returned")
)

// returnRequest is the body of POST /v1/returns.
type returnRequest struct {
	// Reference is the shipper's reference (our order id); the events echo it.
	Reference string `json:"reference"`
	// RMA is the shipper's return authorisation, printed on the label.
	RMA string `json:"rma,omitempty"`
	// Warehouse is where the goods go back to.
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

func (b returnRequest) validate() *order.FieldError {
	switch {
	case strings.TrimSpace(b.Reference) == "" || len(b.Reference) > 100:
		return &order.FieldError{Field: "reference", Reason: "1 to 100 characters"}
	case len(b.RMA) > 64:
		return &order.FieldError{Field: "rma", Reason: "at most 64 characters"}
	case strings.TrimSpace(b.Warehouse) == "" || len(b.Warehouse) > 64:
		return &order.FieldError{Field: "warehouse", Reason: "1 to 64 characters"}
	}
	return order.ValidateLines(b.Lines)
}

// returnAnswer is the 201 of POST /v1/returns.
type returnAnswer struct {
	ReturnID       string    `json:"return_id"`
	TrackingNumber string    `json:"tracking_number"`
	PickupDate     time.Time `json:"pickup_date"`
	Status         string    `json:"status"`
}

func (s *Sim) handleBookReturn(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req returnRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		if fe := req.validate(); fe != nil {
			return http.StatusUnprocessableEntity, jsonapi.Error{Error: "invalid_request", Field: fe.Field, Detail: fe.Reason}, nil
		}
		now := s.now()
		a := returnAnswer{
			ReturnID:       newID("RET-"),
			TrackingNumber: newTrackingNumber(),
			PickupDate:     now.AddDate(0, 0, s.opts.PickupDays),
			Status:         StatusBooked,
		}
		// The promised date of a return is when the goods are expected
		// back: the pickup plus the delivery promise.
		_, err := tx.Exec(ctx, `
			INSERT INTO carriersim_shipments
				(shipment_id, kind, tracking_number, reference, rma, warehouse, lines, status, pickup_date, promised_date, booked_at)
			VALUES ($1, 'return', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.ReturnID, a.TrackingNumber, req.Reference, req.RMA, req.Warehouse, req.Lines, StatusBooked,
			a.PickupDate, a.PickupDate.AddDate(0, 0, s.opts.PromiseDays), now)
		if err != nil {
			return 0, nil, fmt.Errorf("book return pickup for %s: %w", req.Reference, err)
		}
		s.log.Info().Str("return_id", a.ReturnID).Str("reference", req.Reference).Str("rma", req.RMA).
			Str("warehouse", req.Warehouse).Msg("return pickup booked")
		return http.StatusCreated, a, nil
	})
}

func (s *Sim) handleCancelReturn(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.cancelReturn(ctx, tx, id)
	})
}

// handleCancelReturnByKey cancels the return pickup booked under
// forward_key; nothing booked under it is 200 with found false, and the key
// is fenced.
func (s *Sim) handleCancelReturnByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "return_id", MadeNone: "booked no return pickup",
		WrongKey: "not_a_return_key", Undone: StatusCancelled, Undo: s.cancelReturn})
}

// cancelReturn cancels a return pickup whose goods are not back yet.
func (s *Sim) cancelReturn(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var kind, status string
	err := tx.QueryRow(ctx, `
		SELECT kind, status FROM carriersim_shipments WHERE shipment_id = $1 FOR UPDATE`, id).Scan(&kind, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && kind != KindReturn):
		return http.StatusNotFound, jsonapi.Error{Error: "return_not_found", Detail: id}, nil
	case err != nil:
		return 0, nil, fmt.Errorf("read return pickup %s: %w", id, err)
	case status == StatusReturned:
		return http.StatusConflict, jsonapi.Error{Error: "return_returned",
			Detail: "the goods of " + id + " are back: it cannot be cancelled"}, nil
	}
	if status != StatusCancelled {
		if _, err := tx.Exec(ctx, `
			UPDATE carriersim_shipments SET status = $2, cancelled_at = $3 WHERE shipment_id = $1`,
			id, StatusCancelled, s.now()); err != nil {
			return 0, nil, fmt.Errorf("cancel return pickup %s: %w", id, err)
		}
		s.log.Info().Str("return_id", id).Msg("return pickup cancelled")
	}
	return http.StatusOK, struct {
		ReturnID string `json:"return_id"`
		Status   string `json:"status"`
	}{id, StatusCancelled}, nil
}

// Return marks a return pickup's goods as back at the warehouse and queues
// a signed "returned" event. Returning again returns the first event's id
// and queues nothing. A cancelled return is ErrCancelled, a delivery
// ErrNotAReturn, an unknown id ErrNotFound.
func (s *Sim) Return(ctx context.Context, returnID string) (eventID string, err error) {
	eventID, _, err = s.returned(ctx, returnID)
	return eventID, err
}

// returned is Return that also says whether the goods were back before.
func (s *Sim) returned(ctx context.Context, id string) (eventID string, already bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", false, fmt.Errorf("carriersim: return %s: begin: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	var kind, status string
	var event *string
	err = tx.QueryRow(ctx, `
		SELECT kind, status, returned_event_id FROM carriersim_shipments WHERE shipment_id = $1 FOR UPDATE`,
		id).Scan(&kind, &status, &event)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, fmt.Errorf("return %s: %w", id, ErrNotFound)
	case err != nil:
		return "", false, fmt.Errorf("carriersim: return %s: %w", id, err)
	case kind != KindReturn:
		return "", false, fmt.Errorf("return %s: %w", id, ErrNotAReturn)
	case status == StatusReturned:
		return *event, true, nil
	case status == StatusCancelled:
		return "", false, fmt.Errorf("return %s: %w", id, ErrCancelled)
	}
	now := s.now()
	eventID = newID("EVT-")
	if _, err := tx.Exec(ctx, `
		UPDATE carriersim_shipments SET status = $2, returned_at = $3, returned_event_id = $4
		WHERE shipment_id = $1`, id, StatusReturned, now, eventID); err != nil {
		return "", false, fmt.Errorf("carriersim: return %s: %w", id, err)
	}
	if err := s.emit(ctx, tx, eventID, id, webhook.LogisticsReturned, "goods received back at the warehouse", now); err != nil {
		return "", false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", false, fmt.Errorf("carriersim: return %s: commit: %w", id, err)
	}
	s.outbox.Wake()
	s.log.Info().Str("return_id", id).Str("event_id", eventID).Msg("return pickup back at the warehouse")
	return eventID, false, nil
}

// returnDue brings back the open return pickups booked AutoReturnAfter ago
// or earlier.
func (s *Sim) returnDue(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `
		SELECT shipment_id FROM carriersim_shipments
		WHERE kind = 'return' AND status IN ('booked', 'in_transit') AND booked_at <= $1
		ORDER BY booked_at
		LIMIT 100`, s.now().Add(-s.opts.AutoReturnAfter))
	if err != nil {
		return fmt.Errorf("carriersim: find return pickups due: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("carriersim: find return pickups due: %w", err)
	}
	for _, id := range ids {
		if _, err := s.Return(ctx, id); err != nil && !errors.Is(err, ErrCancelled) {
			return err
		}
	}
	return nil
}

func (s *Sim) handleReturned(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	eventID, already, err := s.returned(r.Context(), id)
	if err != nil {
		s.writeControlError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if already {
		status = http.StatusOK
	}
	jsonapi.WriteJSON(w, status, struct {
		ReturnID string `json:"return_id"`
		EventID  string `json:"event_id"`
	}{id, eventID})
}
