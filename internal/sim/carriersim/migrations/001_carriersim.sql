CREATE TABLE carriersim_shipments (
    shipment_id        text        PRIMARY KEY,
    tracking_number    text        NOT NULL UNIQUE,
    -- reference is the shipper's reference: orderflow's order id.
    reference          text        NOT NULL,
    warehouse          text        NOT NULL,
    lines              jsonb       NOT NULL,
    status             text        NOT NULL
                       CHECK (status IN ('booked', 'in_transit', 'delivered', 'cancelled', 'exception')),
    promised_date      timestamptz NOT NULL,
    booked_at          timestamptz NOT NULL,
    cancelled_at       timestamptz,
    delivered_at       timestamptz,
    -- The one "delivered" event; delivering again returns it instead of a new one.
    delivered_event_id text
);

CREATE INDEX carriersim_shipments_reference ON carriersim_shipments (reference);
-- The auto-delivery loop looks for open shipments by age.
CREATE INDEX carriersim_shipments_open ON carriersim_shipments (booked_at)
    WHERE status IN ('booked', 'in_transit');

-- Every event the carrier emitted, sent or not (DropWebhooks records without sending).
CREATE TABLE carriersim_events (
    event_id    text        PRIMARY KEY,
    shipment_id text        NOT NULL REFERENCES carriersim_shipments (shipment_id),
    type        text        NOT NULL CHECK (type IN ('delivered', 'exception', 'in_transit')),
    detail      text        NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL
);

CREATE INDEX carriersim_events_shipment ON carriersim_events (shipment_id, occurred_at);

-- A key is claimed (status NULL) in the transaction of its effect and keeps
-- the answer once that commits; refusals roll the claim back.
CREATE TABLE carriersim_idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    status       integer,
    answer       bytea,
    created_at   timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE carriersim_idempotency_keys;
DROP TABLE carriersim_events;
DROP TABLE carriersim_shipments;
