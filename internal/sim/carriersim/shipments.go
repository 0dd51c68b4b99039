package carriersim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
)

// Shipment statuses.
const (
	StatusBooked    = "booked"
	StatusInTransit = "in_transit"
	StatusDelivered = "delivered"
	StatusCancelled = "cancelled"
	StatusException = "exception"
)

// Errors of the Go accessors; the control endpoints map them to 404 and 409.
var (
	ErrNotFound  = errors.New("carriersim: not found")
	ErrCancelled = errors.New("carriersim: shipment is cancelled")
	ErrDelivered = errors.New("carriersim: shipment is delivered")
)

// Shipment is one booked shipment as the carrier keeps it: a delivery or,
// Kind KindReturn, a return pickup.
type Shipment struct {
	ShipmentID     string       `json:"shipment_id"`
	Kind           string       `json:"kind"`
	TrackingNumber string       `json:"tracking_number"`
	Reference      string       `json:"reference"`
	Warehouse      string       `json:"warehouse"`
	Lines          []order.Line `json:"lines"`
	Status         string       `json:"status"`
	PromisedDate   time.Time    `json:"promised_date"`
	BookedAt       time.Time    `json:"booked_at"`
	CancelledAt    time.Time    `json:"cancelled_at,omitzero"`
	DeliveredAt    time.Time    `json:"delivered_at,omitzero"`
	// DeliveredEventID is the "delivered" event, once there is one.
	DeliveredEventID string `json:"delivered_event_id,omitempty"`
	// A return pickup's RMA, pickup date, return and "returned" event.
	RMA             string    `json:"rma,omitempty"`
	PickupDate      time.Time `json:"pickup_date,omitzero"`
	ReturnedAt      time.Time `json:"returned_at,omitzero"`
	ReturnedEventID string    `json:"returned_event_id,omitempty"`
}

// bookRequest is the body of POST /v1/shipments.
type bookRequest struct {
	Reference string       `json:"reference"`
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

// validate names the first field at fault.
func (b bookRequest) validate() *order.FieldError {
	switch {
	case strings.TrimSpace(b.Reference) == "" || len(b.Reference) > 100:
		return &order.FieldError{Field: "reference", Reason: "1 to 100 characters"}
	case strings.TrimSpace(b.Warehouse) == "" || len(b.Warehouse) > 64:
		return &order.FieldError{Field: "warehouse", Reason: "1 to 64 characters"}
	}
	return order.ValidateLines(b.Lines)
}

// bookAnswer is the 201 of POST /v1/shipments.
type bookAnswer struct {
	ShipmentID     string    `json:"shipment_id"`
	TrackingNumber string    `json:"tracking_number"`
	PromisedDate   time.Time `json:"promised_date"`
	Status         string    `json:"status"`
	// Carrier is the service that moves the goods: parcel up to
	// ParcelUnits units, freight above.
	Carrier string `json:"carrier"`
}

// ParcelUnits is the most units the simulated carrier sends as a parcel.
const ParcelUnits = 20

// serviceFor is the carrier service for lines: parcel or freight.
func serviceFor(lines []order.Line) string {
	units := int64(0)
	for _, l := range lines {
		units += int64(l.Quantity)
	}
	if units <= ParcelUnits {
		return "parcel"
	}
	return "freight"
}

// statusAnswer is the 200 of cancel.
type statusAnswer struct {
	ShipmentID string `json:"shipment_id"`
	Status     string `json:"status"`
}

// trackAnswer is the 200 of GET /v1/shipments/{id}.
type trackAnswer struct {
	ShipmentID     string    `json:"shipment_id"`
	TrackingNumber string    `json:"tracking_number"`
	Reference      string    `json:"reference"`
	Status         string    `json:"status"`
	PromisedDate   time.Time `json:"promised_date"`
	DeliveredAt    time.Time `json:"delivered_at,omitzero"`
	// ReturnedAt is when a return pickup's goods came back.
	ReturnedAt time.Time `json:"returned_at,omitzero"`
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return prefix + strings.ToUpper(hex.EncodeToString(b))
}

// newTrackingNumber returns a carrier-looking tracking number: 1Z and 16 digits.
func newTrackingNumber() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return "1Z" + string(b)
}

func (s *Sim) handleBook(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req bookRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		if fe := req.validate(); fe != nil {
			return http.StatusUnprocessableEntity, jsonapi.Error{Error: "invalid_request", Field: fe.Field, Detail: fe.Reason}, nil
		}
		now := s.now()
		a := bookAnswer{
			ShipmentID:     newID("SHP-"),
			TrackingNumber: newTrackingNumber(),
			PromisedDate:   now.AddDate(0, 0, s.opts.PromiseDays),
			Status:         StatusBooked,
			Carrier:        serviceFor(req.Lines),
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO carriersim_shipments
				(shipment_id, tracking_number, reference, warehouse, lines, status, promised_date, booked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			a.ShipmentID, a.TrackingNumber, req.Reference, req.Warehouse, req.Lines, StatusBooked, a.PromisedDate, now)
		if err != nil {
			return 0, nil, fmt.Errorf("book shipment for %s: %w", req.Reference, err)
		}
		s.log.Info().Str("shipment_id", a.ShipmentID).Str("reference", req.Reference).
			Str("warehouse", req.Warehouse).Msg("shipment booked")
		return http.StatusCreated, a, nil
	})
}

func (s *Sim) handleCancel(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	// Cancel has no body worth reading: the path names the shipment.
	s.keys.Run(w, r, nil, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.cancel(ctx, tx, id)
	})
}

// cancel cancels shipment id unless it is delivered; cancelling twice is fine.
func (s *Sim) cancel(ctx context.Context, tx pgx.Tx, id string) (int, any, error) {
	var status string
	err := tx.QueryRow(ctx, `
		SELECT status FROM carriersim_shipments WHERE shipment_id = $1 FOR UPDATE`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return http.StatusNotFound, jsonapi.Error{Error: "shipment_not_found", Detail: id}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read shipment %s: %w", id, err)
	}
	switch status {
	case StatusDelivered, StatusReturned:
		return http.StatusConflict, jsonapi.Error{Error: "shipment_delivered",
			Detail: "a delivered shipment cannot be cancelled"}, nil
	case StatusCancelled:
		return http.StatusOK, statusAnswer{ShipmentID: id, Status: StatusCancelled}, nil
	}
	if _, err := tx.Exec(ctx, `
		UPDATE carriersim_shipments SET status = $2, cancelled_at = $3 WHERE shipment_id = $1`,
		id, StatusCancelled, s.now()); err != nil {
		return 0, nil, fmt.Errorf("cancel shipment %s: %w", id, err)
	}
	s.log.Info().Str("shipment_id", id).Msg("shipment cancelled")
	return http.StatusOK, statusAnswer{ShipmentID: id, Status: StatusCancelled}, nil
}

// handleCancelByKey cancels the shipment booked under forward_key, for a
// shipper that lost the booking's answer and so its shipment id. When
// nothing was booked under the key there is nothing to cancel: 200 with
// found false, and the key is fenced so a booking under it that comes later
// is refused (see idempotency.Store.Fence).
func (s *Sim) handleCancelByKey(w http.ResponseWriter, r *http.Request) {
	s.keys.ServeUndo(w, r, maxBody, idempotency.Undoing{IDField: "shipment_id", MadeNone: "booked no shipment",
		WrongKey: "not_a_booking_key", Undone: StatusCancelled, Undo: s.cancel})
}

func (s *Sim) handleGet(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var a trackAnswer
	var deliveredAt, returnedAt *time.Time
	err := s.pool.QueryRow(r.Context(), `
		SELECT shipment_id, tracking_number, reference, status, promised_date, delivered_at, returned_at
		FROM carriersim_shipments WHERE shipment_id = $1`, id).
		Scan(&a.ShipmentID, &a.TrackingNumber, &a.Reference, &a.Status, &a.PromisedDate, &deliveredAt, &returnedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		jsonapi.WriteError(w, http.StatusNotFound, "shipment_not_found", id)
		return
	}
	if err != nil {
		jsonapi.InternalError(w, r, s.log, fmt.Errorf("read shipment %s: %w", id, err))
		return
	}
	a.PromisedDate = a.PromisedDate.UTC()
	if deliveredAt != nil {
		a.DeliveredAt = deliveredAt.UTC()
	}
	if returnedAt != nil {
		a.ReturnedAt = returnedAt.UTC()
	}
	jsonapi.WriteJSON(w, http.StatusOK, a)
}

// Shipments lists the shipments booked under reference (every shipment when
// reference is empty), oldest first.
func (s *Sim) Shipments(ctx context.Context, reference string) ([]Shipment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT shipment_id, kind, tracking_number, reference, warehouse, lines, status,
		       promised_date, booked_at, cancelled_at, delivered_at, delivered_event_id,
		       rma, pickup_date, returned_at, returned_event_id
		FROM carriersim_shipments
		WHERE $1 = '' OR reference = $1
		ORDER BY booked_at, shipment_id`, reference)
	if err != nil {
		return nil, fmt.Errorf("carriersim: list shipments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Shipment, error) {
		var sh Shipment
		var cancelledAt, deliveredAt, pickup, returnedAt *time.Time
		var eventID, returnedEvent *string
		err := row.Scan(&sh.ShipmentID, &sh.Kind, &sh.TrackingNumber, &sh.Reference, &sh.Warehouse, &sh.Lines, &sh.Status,
			&sh.PromisedDate, &sh.BookedAt, &cancelledAt, &deliveredAt, &eventID,
			&sh.RMA, &pickup, &returnedAt, &returnedEvent)
		if pickup != nil {
			sh.PickupDate = pickup.UTC()
		}
		if returnedAt != nil {
			sh.ReturnedAt = returnedAt.UTC()
		}
		if returnedEvent != nil {
			sh.ReturnedEventID = *returnedEvent
		}
		sh.PromisedDate, sh.BookedAt = sh.PromisedDate.UTC(), sh.BookedAt.UTC()
		if cancelledAt != nil {
			sh.CancelledAt = cancelledAt.UTC()
		}
		if deliveredAt != nil {
			sh.DeliveredAt = deliveredAt.UTC()
		}
		if eventID != nil {
			sh.DeliveredEventID = *eventID
		}
		return sh, err
	})
	if err != nil {
		return nil, fmt.Errorf("carriersim: list shipments: %w", err)
	}
	return list, nil
}
