package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebhookOutcomeUnknownShipment is the outcome of a carrier event for a
// shipment orderflow does not know. Such an event is recorded but not
// handled: a redelivery is looked at again (the booking may have landed
// since), and RecordWebhookOutcome may replace the outcome once.
const WebhookOutcomeUnknownShipment = "unknown_shipment"

// WebhookEvent is one recorded webhook event.
type WebhookEvent struct {
	Source  string `json:"source"`
	EventID string `json:"event_id"`
	// Outcome is what the receiver made of it (the status it answered,
	// e.g. "accepted", "ignored", "unmatched", WebhookOutcomeUnknownShipment);
	// "" for events recorded before outcomes were kept.
	Outcome string          `json:"outcome"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// Attempts counts the deliveries recorded: more than one only for an
	// event that was not handled the first time.
	Attempts   int       `json:"attempts"`
	ReceivedAt time.Time `json:"received_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Handled reports whether the event was acted on, so that a redelivery is a
// duplicate to acknowledge and ignore.
func (e WebhookEvent) Handled() bool { return e.Outcome != WebhookOutcomeUnknownShipment }

// RecordWebhookEvent remembers a webhook delivery by its source and event id.
// fresh is false when the event was recorded before: senders redeliver, and
// the handler must act on each event once.
func (s *Store) RecordWebhookEvent(ctx context.Context, source, eventID string, payload []byte) (fresh bool, err error) {
	return s.RecordWebhookOutcome(ctx, source, eventID, "", payload)
}

// RecordWebhookOutcome records a webhook event with its outcome. An event
// recorded before is left as it is (fresh=false), unless it was not handled
// (WebhookOutcomeUnknownShipment): then its outcome and payload are replaced
// and its attempts counted (fresh=true).
func (s *Store) RecordWebhookOutcome(ctx context.Context, source, eventID, outcome string, payload []byte) (fresh bool, err error) {
	what := fmt.Sprintf("record %s webhook event %q", source, eventID)
	if source == "" || eventID == "" {
		return false, fmt.Errorf("%s: source and event id are required", what)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO webhook_events AS e (source, event_id, outcome, payload)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, event_id) DO UPDATE
			SET outcome = EXCLUDED.outcome, payload = EXCLUDED.payload,
				attempts = e.attempts + 1, updated_at = now()
			WHERE e.outcome = $5`,
		source, eventID, outcome, jsonOrNull(payload), WebhookOutcomeUnknownShipment)
	if err != nil {
		return false, dbError(what, err)
	}
	return tag.RowsAffected() == 1, nil
}

// WebhookEventSeen reports whether an event was recorded already.
func (s *Store) WebhookEventSeen(ctx context.Context, source, eventID string) (bool, error) {
	var seen bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM webhook_events WHERE source = $1 AND event_id = $2)`,
		source, eventID).Scan(&seen)
	if err != nil {
		return false, dbError(fmt.Sprintf("look up %s webhook event %q", source, eventID), err)
	}
	return seen, nil
}

// LookupWebhookEvent returns a recorded event; ErrNotFound when there is none.
func (s *Store) LookupWebhookEvent(ctx context.Context, source, eventID string) (WebhookEvent, error) {
	e, err := scanWebhookEvent(s.pool.QueryRow(ctx, `
		SELECT source, event_id, outcome, payload, attempts, received_at, updated_at
		FROM webhook_events
		WHERE source = $1 AND event_id = $2`, source, eventID))
	if err != nil {
		return WebhookEvent{}, dbError(fmt.Sprintf("look up %s webhook event %q", source, eventID), err)
	}
	return e, nil
}

// WebhookEventsByOutcome lists a source's events of one outcome, oldest
// first, at most limit (1 to MaxListLimit; other values mean MaxListLimit).
func (s *Store) WebhookEventsByOutcome(ctx context.Context, source, outcome string, limit int) ([]WebhookEvent, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	what := fmt.Sprintf("%s webhook events with outcome %q", source, outcome)
	rows, err := s.pool.Query(ctx, `
		SELECT source, event_id, outcome, payload, attempts, received_at, updated_at
		FROM webhook_events
		WHERE source = $1 AND outcome = $2
		ORDER BY received_at, event_id
		LIMIT $3`, source, outcome, limit)
	if err != nil {
		return nil, dbError(what, err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WebhookEvent, error) { return scanWebhookEvent(row) })
	if err != nil {
		return nil, dbError(what, err)
	}
	return events, nil
}

func scanWebhookEvent(row pgx.Row) (WebhookEvent, error) {
	var e WebhookEvent
	var payload []byte
	err := row.Scan(&e.Source, &e.EventID, &e.Outcome, &payload, &e.Attempts, &e.ReceivedAt, &e.UpdatedAt)
	if payload != nil {
		e.Payload = payload
	}
	e.ReceivedAt, e.UpdatedAt = e.ReceivedAt.UTC(), e.UpdatedAt.UTC()
	return e, err
}
