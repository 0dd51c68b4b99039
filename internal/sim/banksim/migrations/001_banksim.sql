-- Incoming payments on the seller's account, as the bank books them.
CREATE TABLE banksim_transactions (
    bank_transaction_id text        PRIMARY KEY,
    -- reference is the payer's remittance text; it may be empty or wrong.
    reference           text        NOT NULL,
    amount_minor        bigint      NOT NULL CHECK (amount_minor > 0),
    currency            text        NOT NULL,
    payer               text        NOT NULL,
    received_at         timestamptz NOT NULL,
    -- The payment's webhook event.
    event_id            text        NOT NULL UNIQUE
);

CREATE INDEX banksim_transactions_reference ON banksim_transactions (reference);

---- create above / drop below ----

DROP TABLE banksim_transactions;
