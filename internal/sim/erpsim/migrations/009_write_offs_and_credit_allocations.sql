-- Write-offs and credit allocations, the last two ways an invoice's open
-- amount goes down. A write-off is finance giving up what is left open on
-- an invoice (a short payment within the customer's tolerance): it comes
-- off the invoice and the receivables, and no money moves. A credit
-- allocation applies part of the customer's credit balance to an open
-- invoice: it comes off the invoice, the receivables and the balance.
-- What is open on an invoice is now
--   amount - paid - credit_applied - written_off - allocated.
ALTER TABLE erpsim_invoices
    ADD COLUMN written_off_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN allocated_minor   bigint NOT NULL DEFAULT 0;
ALTER TABLE erpsim_invoices DROP CONSTRAINT erpsim_invoices_credit;
-- Beside what was checked before: nothing credited that was written off
-- (a credit note cannot hand out as credit balance what nobody paid), and
-- what credit notes put on the credit balance came in as payments or
-- allocations on the invoice.
ALTER TABLE erpsim_invoices ADD CONSTRAINT erpsim_invoices_credit CHECK (
    credit_applied_minor >= 0 AND credit_applied_minor <= credited_minor
    AND written_off_minor >= 0 AND allocated_minor >= 0
    AND credited_minor + written_off_minor <= amount_minor
    AND credited_minor - credit_applied_minor <= paid_minor + allocated_minor
    AND paid_minor + credit_applied_minor + written_off_minor + allocated_minor <= amount_minor);

-- Write-off and allocation numbers have no gaps, like invoice numbers.
INSERT INTO erpsim_counters (name, value) VALUES ('write_off_number', 0), ('credit_allocation_number', 0);

CREATE TABLE erpsim_write_offs (
    id           text        PRIMARY KEY,
    invoice_id   text        NOT NULL REFERENCES erpsim_invoices (id),
    order_id     text        NOT NULL,
    customer_id  text        NOT NULL REFERENCES erpsim_customers (id),
    currency     text        NOT NULL,
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    reason       text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('posted', 'void')),
    created_at   timestamptz NOT NULL,
    voided_at    timestamptz
);
CREATE INDEX erpsim_write_offs_invoice_id ON erpsim_write_offs (invoice_id);
CREATE INDEX erpsim_write_offs_customer ON erpsim_write_offs (customer_id, created_at);

CREATE TABLE erpsim_credit_allocations (
    id           text        PRIMARY KEY,
    invoice_id   text        NOT NULL REFERENCES erpsim_invoices (id),
    order_id     text        NOT NULL,
    customer_id  text        NOT NULL REFERENCES erpsim_customers (id),
    currency     text        NOT NULL,
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    reason       text        NOT NULL DEFAULT '',
    status       text        NOT NULL CHECK (status IN ('applied', 'void')),
    created_at   timestamptz NOT NULL,
    voided_at    timestamptz
);
CREATE INDEX erpsim_credit_allocations_invoice_id ON erpsim_credit_allocations (invoice_id);
CREATE INDEX erpsim_credit_allocations_customer ON erpsim_credit_allocations (customer_id, created_at);

---- create above / drop below ----

DROP TABLE erpsim_credit_allocations;
DROP TABLE erpsim_write_offs;
DELETE FROM erpsim_counters WHERE name IN ('write_off_number', 'credit_allocation_number');
ALTER TABLE erpsim_invoices DROP CONSTRAINT erpsim_invoices_credit;
ALTER TABLE erpsim_invoices DROP COLUMN allocated_minor, DROP COLUMN written_off_minor;
ALTER TABLE erpsim_invoices ADD CONSTRAINT erpsim_invoices_credit CHECK (
    credit_applied_minor >= 0 AND credit_applied_minor <= credited_minor AND credited_minor <= amount_minor
    AND paid_minor + credit_applied_minor <= amount_minor);
