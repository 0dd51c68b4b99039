-- Outgoing transfers: money the seller's bank pays out on orderflow's
-- instruction (refunds), idempotent by key like every simulator write.
-- refund_of is the incoming transaction paid back, refund_of_part the id
-- as the instruction named it: the transaction's, or one remittance
-- part's ("BTX-…:<reference>").
CREATE TABLE banksim_transfers (
    transfer_id    text        PRIMARY KEY,
    to_name        text        NOT NULL,
    to_account     text        NOT NULL DEFAULT '',
    amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
    currency       text        NOT NULL,
    reference      text        NOT NULL DEFAULT '',
    refund_of      text        REFERENCES banksim_transactions (bank_transaction_id),
    refund_of_part text        NOT NULL DEFAULT '',
    executed_at    timestamptz NOT NULL
);
CREATE INDEX banksim_transfers_refund_of ON banksim_transfers (refund_of) WHERE refund_of IS NOT NULL;

-- The parts of a payment that carried a remittance list.
CREATE TABLE banksim_remittance_parts (
    bank_transaction_id text   NOT NULL REFERENCES banksim_transactions (bank_transaction_id),
    position            int    NOT NULL,
    reference           text   NOT NULL,
    amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (bank_transaction_id, position),
    UNIQUE (bank_transaction_id, reference)
);

-- A key is claimed (status NULL) in the transaction of its effect and keeps
-- the answer once that commits; refusals roll the claim back.
CREATE TABLE banksim_idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    status       integer,
    answer       bytea,
    created_at   timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE banksim_idempotency_keys;
DROP TABLE banksim_remittance_parts;
DROP TABLE banksim_transfers;
