-- What each webhook event came to, so events we could not route can be found
-- later. Rows from before this migration carry the outcome '' (handled; what
-- it answered was not kept).
ALTER TABLE webhook_events
    ADD COLUMN outcome    text        NOT NULL DEFAULT '',
    ADD COLUMN attempts   integer     NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Operators list the events for shipments we do not know.
CREATE INDEX webhook_events_unknown_shipment_idx ON webhook_events (source, received_at)
    WHERE outcome = 'unknown_shipment';

---- create above / drop below ----

DROP INDEX webhook_events_unknown_shipment_idx;
ALTER TABLE webhook_events DROP COLUMN updated_at, DROP COLUMN attempts, DROP COLUMN outcome;
