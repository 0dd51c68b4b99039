-- The buyer's identity on invoices and credit notes: VAT id and postal
-- address (country as ISO 3166-1 alpha-2). Empty when unknown; documents
-- then leave the field out.
ALTER TABLE customers
    ADD COLUMN vat_id   text NOT NULL DEFAULT '',
    ADD COLUMN street   text NOT NULL DEFAULT '',
    ADD COLUMN city     text NOT NULL DEFAULT '',
    ADD COLUMN postcode text NOT NULL DEFAULT '',
    ADD COLUMN country  text NOT NULL DEFAULT '' CHECK (country = '' OR country ~ '^[A-Z]{2}$');

-- documents keeps each invoice and credit note as issued: body is the
-- document snapshot (internal/document.Document as JSON), never changed
-- afterwards. The buyer opens it by token, a random 128-bit secret in the
-- link of the mail; (order_id, kind, number) makes storing idempotent, so a
-- retried mail activity gets the first token back.
CREATE TABLE documents (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token       text        NOT NULL UNIQUE CHECK (length(token) >= 22),
    order_id    text        NOT NULL CHECK (order_id <> ''),
    customer_id text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('invoice', 'credit-note')),
    number      text        NOT NULL CHECK (number <> ''),
    issued_at   timestamptz NOT NULL,
    body        jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, kind, number)
);
