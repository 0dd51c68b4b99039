-- Credit notes: a credit against an invoice, in full, by lines or by an
-- amount. What it credits comes off what is still open on the invoice (and
-- off the customer's receivables); what goes beyond that (the invoice was
-- paid) is kept for the customer as a credit balance, to be refunded or
-- applied. credited_minor is everything credited on the invoice,
-- credit_applied_minor the part of it that took the open amount down, so
-- what is open on an invoice is amount - paid - credit_applied.
ALTER TABLE erpsim_invoices
    ADD COLUMN credited_minor       bigint NOT NULL DEFAULT 0,
    ADD COLUMN credit_applied_minor bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT erpsim_invoices_credit CHECK (
        credit_applied_minor >= 0 AND credit_applied_minor <= credited_minor AND credited_minor <= amount_minor
        AND paid_minor + credit_applied_minor <= amount_minor);

-- Money the seller holds for a customer beyond what the customer owes:
-- overpayments, credit notes beyond what was open, what was paid on an
-- invoice that was then voided. Refunds pay it out.
CREATE TABLE erpsim_credit_balances (
    customer_id   text   NOT NULL REFERENCES erpsim_customers (id),
    currency      text   NOT NULL,
    balance_minor bigint NOT NULL CHECK (balance_minor >= 0),
    PRIMARY KEY (customer_id, currency)
);

-- Credit note numbers have no gaps, like invoice numbers.
INSERT INTO erpsim_counters (name, value) VALUES ('credit_note_number', 0);

CREATE TABLE erpsim_credit_notes (
    id               text        PRIMARY KEY DEFAULT gen_random_uuid()::text,
    number           text        NOT NULL UNIQUE,
    invoice_id       text        NOT NULL REFERENCES erpsim_invoices (id),
    order_id         text        NOT NULL,
    customer_id      text        NOT NULL REFERENCES erpsim_customers (id),
    kind             text        NOT NULL CHECK (kind IN ('full', 'lines', 'amount')),
    currency         text        NOT NULL,
    amount_minor     bigint      NOT NULL CHECK (amount_minor > 0),
    net_minor        bigint      NOT NULL CHECK (net_minor >= 0),
    tax_minor        bigint      NOT NULL CHECK (tax_minor >= 0),
    -- applied_minor came off the invoice's open amount, to_balance_minor
    -- went to the customer's credit balance.
    applied_minor    bigint      NOT NULL CHECK (applied_minor >= 0),
    to_balance_minor bigint      NOT NULL CHECK (to_balance_minor >= 0),
    reason           text        NOT NULL DEFAULT '',
    status           text        NOT NULL CHECK (status IN ('issued', 'void')),
    issued_at        timestamptz NOT NULL,
    voided_at        timestamptz,
    CHECK (net_minor + tax_minor = amount_minor),
    CHECK (applied_minor + to_balance_minor = amount_minor)
);
CREATE INDEX erpsim_credit_notes_invoice_id ON erpsim_credit_notes (invoice_id);
CREATE INDEX erpsim_credit_notes_order_id ON erpsim_credit_notes (order_id);

-- The lines of a credit note by lines: which SKU, how many, for how much.
CREATE TABLE erpsim_credit_note_lines (
    credit_note_id text   NOT NULL REFERENCES erpsim_credit_notes (id),
    position       int    NOT NULL,
    sku            text   NOT NULL,
    quantity       bigint NOT NULL CHECK (quantity > 0),
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (credit_note_id, position)
);

---- create above / drop below ----

DROP TABLE erpsim_credit_note_lines;
DROP TABLE erpsim_credit_notes;
DELETE FROM erpsim_counters WHERE name = 'credit_note_number';
DROP TABLE erpsim_credit_balances;
ALTER TABLE erpsim_invoices DROP CONSTRAINT erpsim_invoices_credit;
ALTER TABLE erpsim_invoices DROP COLUMN credit_applied_minor, DROP COLUMN credited_minor;
