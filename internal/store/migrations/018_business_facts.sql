-- What the dashboard and the worklists read. The order workflow writes these
-- facts with each transition it records (RecordTransition), under the same
-- newest-seq-wins rule as the projection, so a retried or late record never
-- rolls them back. Milestones keep the earliest time they were reached, so
-- records arriving out of order agree.

ALTER TABLE orders
    -- The step that failed while needs_attention is set ('' otherwise).
    ADD COLUMN attention_step   text        NOT NULL DEFAULT '',
    -- Milestones: the quote first sent, accepted, every shipment delivered,
    -- the invoices reconciled, the order ended (any terminal status).
    ADD COLUMN quoted_at        timestamptz,
    ADD COLUMN accepted_at      timestamptz,
    ADD COLUMN delivered_at     timestamptz,
    ADD COLUMN paid_at          timestamptz,
    ADD COLUMN ended_at         timestamptz,
    -- A CS or finance person acted on the order: it was not automated.
    ADD COLUMN staff_touched    boolean     NOT NULL DEFAULT false,
    -- The lead time the customer's terms promised when the quote was priced.
    ADD COLUMN lead_time_days   integer     CHECK (lead_time_days >= 0);

CREATE INDEX orders_created_idx ON orders (created_at);
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
CREATE INDEX orders_attention_step_idx ON orders (attention_step, id) WHERE needs_attention;

-- One row per shipment the carrier booked, as the order last recorded it.
CREATE TABLE shipments (
    order_id      text        NOT NULL,
    shipment_id   text        NOT NULL CHECK (shipment_id <> ''),
    customer_id   text        NOT NULL,
    warehouse     text        NOT NULL,
    carrier       text        NOT NULL DEFAULT '',
    skus          text[]      NOT NULL DEFAULT '{}',
    booked_at     timestamptz NOT NULL,
    promised_date timestamptz,
    delivered_at  timestamptz,
    overdue       boolean     NOT NULL DEFAULT false,
    exception     text        NOT NULL DEFAULT '',
    -- Reshipped: the shipment that replaced it carries on.
    replaced      boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (order_id, shipment_id)
);
CREATE INDEX shipments_delivered_idx ON shipments (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX shipments_open_idx ON shipments (promised_date) WHERE delivered_at IS NULL AND NOT replaced;

-- Each invoice's state in the order's ledger, as the order last recorded it.
ALTER TABLE invoices
    ADD COLUMN customer_id   text        NOT NULL DEFAULT '',
    -- What is open on the invoice; NULL until the order records it.
    ADD COLUMN open_minor    bigint,
    ADD COLUMN dunning_level integer     NOT NULL DEFAULT 0 CHECK (dunning_level >= 0),
    ADD COLUMN escalated     boolean     NOT NULL DEFAULT false,
    ADD COLUMN disputed      boolean     NOT NULL DEFAULT false,
    ADD COLUMN settled_at    timestamptz;
CREATE INDEX invoices_issued_idx ON invoices (issued_at);
CREATE INDEX invoices_open_due_idx ON invoices (due_date) WHERE open_minor IS NULL OR open_minor > 0;

-- Every exception an order met, by step: a step that failed (stopped for
-- CS, or retrying past its budget), a carrier exception, a late delivery.
CREATE TABLE order_exceptions (
    order_id    text        NOT NULL,
    seq         bigint      NOT NULL,
    customer_id text        NOT NULL,
    step        text        NOT NULL CHECK (step <> ''),
    kind        text        NOT NULL CHECK (kind <> ''),
    at          timestamptz NOT NULL,
    PRIMARY KEY (order_id, seq)
);
CREATE INDEX order_exceptions_at_idx ON order_exceptions (at);

-- A survey per delivered shipment (the fulfilment scenario): its warehouse,
-- carrier and products. Orders surveyed once per order keep shipment_id ''.
ALTER TABLE surveys
    ADD COLUMN shipment_id text   NOT NULL DEFAULT '',
    ADD COLUMN customer_id text   NOT NULL DEFAULT '',
    ADD COLUMN warehouse   text   NOT NULL DEFAULT '',
    ADD COLUMN carrier     text   NOT NULL DEFAULT '',
    ADD COLUMN skus        text[] NOT NULL DEFAULT '{}',
    DROP CONSTRAINT surveys_order_id_key,
    ADD CONSTRAINT surveys_order_shipment_key UNIQUE (order_id, shipment_id);
CREATE INDEX surveys_answered_idx ON surveys (answered_at) WHERE answered_at IS NOT NULL;

-- Follow-ups for people: a detractor's answer opens one for CS and the
-- customer's rep (the owner); it is closed with a note.
CREATE TABLE followups (
    id           bigserial   PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('detractor')),
    order_id     text        NOT NULL,
    customer_id  text        NOT NULL,
    shipment_id  text        NOT NULL DEFAULT '',
    -- The survey the follow-up came from: one follow-up per answer.
    survey_token text        NOT NULL UNIQUE,
    score        smallint    CHECK (score BETWEEN 0 AND 10),
    comment      text        NOT NULL DEFAULT '',
    owner        text        NOT NULL,
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    closed_by    text        NOT NULL DEFAULT '',
    note         text        NOT NULL DEFAULT '',
    CHECK ((closed_at IS NULL) = (closed_by = ''))
);
CREATE INDEX followups_open_idx ON followups (opened_at, id) WHERE closed_at IS NULL;

---- create above / drop below ----

DROP TABLE followups;
DROP INDEX surveys_answered_idx;
ALTER TABLE surveys
    DROP CONSTRAINT surveys_order_shipment_key,
    ADD CONSTRAINT surveys_order_id_key UNIQUE (order_id),
    DROP COLUMN shipment_id, DROP COLUMN customer_id, DROP COLUMN warehouse,
    DROP COLUMN carrier, DROP COLUMN skus;
DROP TABLE order_exceptions;
DROP INDEX invoices_issued_idx;
DROP INDEX invoices_open_due_idx;
ALTER TABLE invoices
    DROP COLUMN customer_id, DROP COLUMN open_minor, DROP COLUMN dunning_level,
    DROP COLUMN escalated, DROP COLUMN disputed, DROP COLUMN settled_at;
DROP TABLE shipments;
DROP INDEX orders_created_idx;
DROP INDEX orders_customer_created_idx;
DROP INDEX orders_attention_step_idx;
ALTER TABLE orders
    DROP COLUMN attention_step, DROP COLUMN quoted_at,
    DROP COLUMN accepted_at, DROP COLUMN delivered_at, DROP COLUMN paid_at,
    DROP COLUMN ended_at, DROP COLUMN staff_touched, DROP COLUMN lead_time_days;
