-- Refunds: money paid back to a customer, from what one of its payments
-- brought in or from its credit balance. A statement line now keeps what
-- it paid in all (amount_minor; applied_minor is the part applied to its
-- invoice), whose it was (customer_id, from the invoice it names; NULL when
-- it named none) and what was refunded of it. Lines imported before this
-- migration knew only what they applied: that is their amount.
ALTER TABLE erpsim_bank_postings
    ADD COLUMN amount_minor   bigint,
    ADD COLUMN currency       text   NOT NULL DEFAULT '',
    ADD COLUMN customer_id    text   REFERENCES erpsim_customers (id),
    ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0;
UPDATE erpsim_bank_postings p SET currency = i.currency, customer_id = i.customer_id
FROM erpsim_invoices i WHERE i.id = p.invoice_id;
UPDATE erpsim_bank_postings SET amount_minor = applied_minor;
ALTER TABLE erpsim_bank_postings
    ALTER COLUMN amount_minor SET NOT NULL,
    ADD CONSTRAINT erpsim_bank_postings_refunded CHECK (
        applied_minor <= amount_minor AND refunded_minor >= 0 AND refunded_minor <= amount_minor);

-- Refund numbers have no gaps, like invoice numbers.
INSERT INTO erpsim_counters (name, value) VALUES ('refund_number', 0);

CREATE TABLE erpsim_refunds (
    id                  text        PRIMARY KEY,
    customer_id         text        NOT NULL REFERENCES erpsim_customers (id),
    currency            text        NOT NULL,
    amount_minor        bigint      NOT NULL CHECK (amount_minor > 0),
    -- The payment refunded; NULL for a refund of the credit balance.
    bank_transaction_id text        REFERENCES erpsim_bank_postings (bank_transaction_id),
    reason              text        NOT NULL DEFAULT '',
    issued_at           timestamptz NOT NULL
);
CREATE INDEX erpsim_refunds_customer ON erpsim_refunds (customer_id, issued_at);

---- create above / drop below ----

DROP TABLE erpsim_refunds;
DELETE FROM erpsim_counters WHERE name = 'refund_number';
ALTER TABLE erpsim_bank_postings DROP CONSTRAINT erpsim_bank_postings_refunded;
ALTER TABLE erpsim_bank_postings DROP COLUMN refunded_minor, DROP COLUMN customer_id, DROP COLUMN currency,
    DROP COLUMN amount_minor;
