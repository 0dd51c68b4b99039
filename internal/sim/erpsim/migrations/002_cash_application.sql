-- Cash application: the ERP imports the bank's statement lines and takes
-- what they pay off the invoice they name and off the customer's receivables.
ALTER TABLE erpsim_invoices ADD COLUMN paid_minor bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0);

-- One row per statement line, so a line imported twice is applied once.
CREATE TABLE erpsim_bank_postings (
    bank_transaction_id text        PRIMARY KEY,
    invoice_id          text        REFERENCES erpsim_invoices (id),
    applied_minor       bigint      NOT NULL CHECK (applied_minor >= 0),
    posted_at           timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE erpsim_bank_postings;
ALTER TABLE erpsim_invoices DROP COLUMN paid_minor;
