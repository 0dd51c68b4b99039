-- The dashboard's receivables read the invoices open at the end of a
-- period: those not settled yet, and those settled after it. Without these
-- the query reads every invoice issued before the end (docs/benchmarks.md,
-- "Dashboard queries").
CREATE INDEX invoices_unsettled_issued_idx ON invoices (issued_at) WHERE settled_at IS NULL;
CREATE INDEX invoices_settled_idx ON invoices (settled_at) WHERE settled_at IS NOT NULL;

---- create above / drop below ----

DROP INDEX invoices_unsettled_issued_idx;
DROP INDEX invoices_settled_idx;
