package store

import (
	"context"
	"fmt"
)

// RecordWebhookEvent remembers a webhook delivery by its source and event id.
// fresh is false when the event was recorded before: senders redeliver, and
// the handler must act on each event once.
func (s *Store) RecordWebhookEvent(ctx context.Context, source, eventID string, payload []byte) (fresh bool, err error) {
	what := fmt.Sprintf("record %s webhook event %q", source, eventID)
	if source == "" || eventID == "" {
		return false, fmt.Errorf("%s: source and event id are required", what)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO webhook_events (source, event_id, payload)
		VALUES ($1, $2, $3)
		ON CONFLICT (source, event_id) DO NOTHING`,
		source, eventID, jsonOrNull(payload))
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
