-- The credit a CS agent may grant alone on one order, by credit notes
-- (gross, cumulative); above it finance issues the credit note. 0: every
-- credit note of the customer is finance's.
ALTER TABLE customers
    ADD COLUMN credit_note_limit_cs_minor bigint NOT NULL DEFAULT 0 CHECK (credit_note_limit_cs_minor >= 0);
