-- One outbox for every simulator that sends webhooks; sender tells them apart
-- so that each sim's loop only delivers its own events, to its own URL.
CREATE TABLE sim_outbox (
    id              bigserial   PRIMARY KEY,
    sender          text        NOT NULL,
    event_id        text        NOT NULL,
    -- The exact bytes that are signed and sent; text, not jsonb, because jsonb
    -- would reorder keys and the receiver verifies the bytes it gets.
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- rejections counts permanent 4xx answers; a few of them mark the row failed.
    rejections      integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (sender, event_id)
);

CREATE INDEX sim_outbox_due ON sim_outbox (sender, next_attempt_at) WHERE status = 'pending';

---- create above / drop below ----

DROP TABLE sim_outbox;
