-- What a customer may leave unpaid on an invoice and have written off
-- (a bank fee, rounding): the smaller of an amount and basis points of the
-- invoice's gross. 0: no tolerance.
ALTER TABLE customers
    ADD COLUMN short_pay_tolerance_minor bigint NOT NULL DEFAULT 0 CHECK (short_pay_tolerance_minor >= 0),
    ADD COLUMN short_pay_tolerance_bp bigint NOT NULL DEFAULT 0 CHECK (short_pay_tolerance_bp BETWEEN 0 AND 10000);
