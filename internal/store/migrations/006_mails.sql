-- mails keeps what each mail of an order said, by its idempotency key (its
-- Message-ID), so that CS can have a mail sent again without the workflow
-- keeping every mail's data in its state. Written before the mail goes out;
-- a retried send finds its row and keeps it.
CREATE TABLE mails (
    key         text        PRIMARY KEY CHECK (key <> ''),
    order_id    text        NOT NULL CHECK (order_id <> ''),
    customer_id text        NOT NULL,
    kind        text        NOT NULL CHECK (kind <> ''),
    audience    text        NOT NULL CHECK (audience <> ''),
    data        jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mails_order_idx ON mails (order_id);

