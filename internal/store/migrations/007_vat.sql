-- VAT per customer: the rate charged on net amounts, in basis points
-- (1900 = 19 %), and the reverse-charge flag of intra-EU B2B customers, who
-- account for the VAT themselves (none is charged; documents say so).
ALTER TABLE customers
    ADD COLUMN vat_rate_bp    bigint  NOT NULL DEFAULT 0 CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    ADD COLUMN reverse_charge boolean NOT NULL DEFAULT false;
