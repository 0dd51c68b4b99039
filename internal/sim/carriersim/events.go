package carriersim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/sim/jsonapi"
	"github.com/orderflow/orderflow/internal/sim/outbox"
	"github.com/orderflow/orderflow/internal/webhook"
)

// Deliver marks the shipment delivered now and queues a signed "delivered"
// event for the webhook. Delivering again returns the first event's id and
// queues nothing. A cancelled shipment is ErrCancelled, an unknown one
// ErrNotFound.
func (s *Sim) Deliver(ctx context.Context, shipmentID string) (eventID string, err error) {
	eventID, _, err = s.deliver(ctx, shipmentID)
	return eventID, err
}

// deliver is Deliver that also says whether the shipment was delivered before.
func (s *Sim) deliver(ctx context.Context, shipmentID string) (eventID string, already bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", false, fmt.Errorf("carriersim: deliver %s: begin: %w", shipmentID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	var kind, status string
	var delivered *string
	err = tx.QueryRow(ctx, `
		SELECT kind, status, delivered_event_id FROM carriersim_shipments WHERE shipment_id = $1 FOR UPDATE`,
		shipmentID).Scan(&kind, &status, &delivered)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("deliver shipment %s: %w", shipmentID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("carriersim: deliver %s: %w", shipmentID, err)
	}
	if kind == KindReturn {
		return "", false, fmt.Errorf("deliver shipment %s: %w", shipmentID, ErrIsAReturn)
	}
	switch status {
	case StatusDelivered:
		return *delivered, true, nil
	case StatusCancelled:
		return "", false, fmt.Errorf("deliver shipment %s: %w", shipmentID, ErrCancelled)
	}

	now := s.now()
	eventID = newID("EVT-")
	if _, err := tx.Exec(ctx, `
		UPDATE carriersim_shipments SET status = $2, delivered_at = $3, delivered_event_id = $4
		WHERE shipment_id = $1`, shipmentID, StatusDelivered, now, eventID); err != nil {
		return "", false, fmt.Errorf("carriersim: deliver %s: %w", shipmentID, err)
	}
	if err := s.emit(ctx, tx, eventID, shipmentID, webhook.LogisticsDelivered, "signed for at the consignee's dock", now); err != nil {
		return "", false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", false, fmt.Errorf("carriersim: deliver %s: commit: %w", shipmentID, err)
	}
	s.outbox.Wake()
	s.log.Info().Str("shipment_id", shipmentID).Str("event_id", eventID).Msg("shipment delivered")
	return eventID, false, nil
}

// Exception puts the shipment in exception (damaged, address unknown, …) and
// queues an "exception" event with detail. Each call is a new exception and
// a new event; a delivered or cancelled shipment is ErrDelivered or ErrCancelled.
func (s *Sim) Exception(ctx context.Context, shipmentID, detail string) (eventID string, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("carriersim: exception on %s: begin: %w", shipmentID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	var status string
	err = tx.QueryRow(ctx, `
		SELECT status FROM carriersim_shipments WHERE shipment_id = $1 FOR UPDATE`, shipmentID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("exception on shipment %s: %w", shipmentID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("carriersim: exception on %s: %w", shipmentID, err)
	}
	switch status {
	case StatusDelivered, StatusReturned:
		return "", fmt.Errorf("exception on shipment %s: %w", shipmentID, ErrDelivered)
	case StatusCancelled:
		return "", fmt.Errorf("exception on shipment %s: %w", shipmentID, ErrCancelled)
	}
	now := s.now()
	eventID = newID("EVT-")
	if _, err := tx.Exec(ctx, `
		UPDATE carriersim_shipments SET status = $2 WHERE shipment_id = $1`, shipmentID, StatusException); err != nil {
		return "", fmt.Errorf("carriersim: exception on %s: %w", shipmentID, err)
	}
	if err := s.emit(ctx, tx, eventID, shipmentID, webhook.LogisticsException, detail, now); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("carriersim: exception on %s: commit: %w", shipmentID, err)
	}
	s.outbox.Wake()
	s.log.Info().Str("shipment_id", shipmentID).Str("event_id", eventID).Str("detail", detail).Msg("shipment exception")
	return eventID, nil
}

// emit records an event in tx and, unless webhooks are dropped, queues it
// in the outbox in the same transaction.
func (s *Sim) emit(ctx context.Context, tx pgx.Tx, eventID, shipmentID, typ, detail string, at time.Time) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO carriersim_events (event_id, shipment_id, type, detail, occurred_at)
		VALUES ($1, $2, $3, $4, $5)`, eventID, shipmentID, typ, detail, at); err != nil {
		return fmt.Errorf("carriersim: record %s event for %s: %w", typ, shipmentID, err)
	}
	if s.opts.DropWebhooks {
		return nil
	}
	ev, err := s.event(ctx, tx, eventID)
	if err != nil {
		return err
	}
	return s.outbox.Enqueue(ctx, tx, eventID, ev)
}

// eventsQuery reads events with what the webhook body needs from the shipment.
const eventsQuery = `
	SELECT e.event_id, e.type, e.shipment_id, s.tracking_number, s.reference, e.occurred_at, e.detail
	FROM carriersim_events e JOIN carriersim_shipments s USING (shipment_id)`

func scanEvent(row pgx.CollectableRow) (webhook.LogisticsEvent, error) {
	var e webhook.LogisticsEvent
	err := row.Scan(&e.EventID, &e.Type, &e.ShipmentID, &e.TrackingNumber, &e.Reference, &e.OccurredAt, &e.Detail)
	e.OccurredAt = e.OccurredAt.UTC()
	return e, err
}

// event reads one event as the webhook body, inside tx so it sees the
// transaction's own writes.
func (s *Sim) event(ctx context.Context, tx pgx.Tx, eventID string) (webhook.LogisticsEvent, error) {
	rows, err := tx.Query(ctx, eventsQuery+` WHERE e.event_id = $1`, eventID)
	if err != nil {
		return webhook.LogisticsEvent{}, fmt.Errorf("carriersim: read event %s: %w", eventID, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanEvent)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("event %s: %w", eventID, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("carriersim: read event %s: %w", eventID, err)
	}
	return e, nil
}

// Events lists the events emitted for a shipment (every event when
// shipmentID is empty), oldest first, whether sent or dropped.
func (s *Sim) Events(ctx context.Context, shipmentID string) ([]webhook.LogisticsEvent, error) {
	rows, err := s.pool.Query(ctx, eventsQuery+`
		WHERE $1 = '' OR e.shipment_id = $1
		ORDER BY e.occurred_at, e.event_id`, shipmentID)
	if err != nil {
		return nil, fmt.Errorf("carriersim: list events: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("carriersim: list events: %w", err)
	}
	return list, nil
}

// Redeliver sends an event (again) now: a duplicate for a receiver that got
// it, or a late webhook for one that never did because webhooks were dropped.
func (s *Sim) Redeliver(ctx context.Context, eventID string) error {
	err := s.outbox.Requeue(ctx, eventID)
	if !errors.Is(err, outbox.ErrNotFound) {
		return err
	}
	// Dropped at the time, so never queued: queue it now.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("carriersim: redeliver %s: begin: %w", eventID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	ev, err := s.event(ctx, tx, eventID)
	if err != nil {
		return err
	}
	if err := s.outbox.Enqueue(ctx, tx, eventID, ev); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("carriersim: redeliver %s: commit: %w", eventID, err)
	}
	s.outbox.Wake()
	return nil
}

// every runs due (deliverDue, returnDue) every quarter of after (between
// 10 ms and a second) until ctx ends. The loops lock each row and check its
// status, so several processes running them act on each shipment once.
func (s *Sim) every(ctx context.Context, after time.Duration, what string, due func(context.Context) error) {
	t := time.NewTicker(min(max(after/4, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		if err := due(ctx); err != nil && ctx.Err() == nil {
			s.log.Error().Err(err).Msg(what)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliverDue delivers the open shipments booked AutoDeliverAfter ago or earlier.
func (s *Sim) deliverDue(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `
		SELECT shipment_id FROM carriersim_shipments
		WHERE kind = 'delivery' AND status IN ('booked', 'in_transit') AND booked_at <= $1
		ORDER BY booked_at
		LIMIT 100`, s.now().Add(-s.opts.AutoDeliverAfter))
	if err != nil {
		return fmt.Errorf("carriersim: find shipments due for delivery: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("carriersim: find shipments due for delivery: %w", err)
	}
	for _, id := range ids {
		// Cancelled meanwhile is fine: it just is not delivered.
		if _, err := s.Deliver(ctx, id); err != nil && !errors.Is(err, ErrCancelled) {
			return err
		}
	}
	return nil
}

// eventAnswer is the answer of the deliver and exception controls.
type eventAnswer struct {
	ShipmentID string `json:"shipment_id,omitempty"`
	EventID    string `json:"event_id"`
}

func (s *Sim) writeControlError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		jsonapi.WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrCancelled):
		jsonapi.WriteError(w, http.StatusConflict, "shipment_cancelled", err.Error())
	case errors.Is(err, ErrDelivered):
		jsonapi.WriteError(w, http.StatusConflict, "shipment_delivered", err.Error())
	case errors.Is(err, ErrNotAReturn):
		jsonapi.WriteError(w, http.StatusConflict, "not_a_return", err.Error())
	case errors.Is(err, ErrIsAReturn):
		jsonapi.WriteError(w, http.StatusConflict, "is_a_return", err.Error())
	default:
		jsonapi.InternalError(w, r, s.log, err)
	}
}

func (s *Sim) handleDeliver(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	eventID, already, err := s.deliver(r.Context(), id)
	if err != nil {
		s.writeControlError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if already {
		status = http.StatusOK
	}
	jsonapi.WriteJSON(w, status, eventAnswer{ShipmentID: id, EventID: eventID})
}

func (s *Sim) handleException(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var body struct {
		Detail string `json:"detail"`
	}
	if r.ContentLength != 0 && !jsonapi.Decode(w, r, maxBody, &body) {
		return
	}
	if body.Detail == "" {
		body.Detail = "delivery attempt failed"
	}
	eventID, err := s.Exception(r.Context(), id, body.Detail)
	if err != nil {
		s.writeControlError(w, r, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusAccepted, eventAnswer{ShipmentID: id, EventID: eventID})
}

func (s *Sim) handleEvents(w http.ResponseWriter, r *http.Request) {
	list, err := s.Events(r.Context(), r.URL.Query().Get("shipment_id"))
	if err != nil {
		jsonapi.InternalError(w, r, s.log, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, struct {
		Events []webhook.LogisticsEvent `json:"events"`
	}{jsonapi.NonNil(list)})
}

func (s *Sim) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := s.Redeliver(r.Context(), id); err != nil {
		s.writeControlError(w, r, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusAccepted, eventAnswer{EventID: id})
}
