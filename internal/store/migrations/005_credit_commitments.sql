-- credit_commitments holds the credit each order was granted by its credit
-- check, with the figures the check decided on. The check runs under a lock
-- of the customer's row, so concurrent checks of one customer see each
-- other's commitments. A commitment counts towards the customer's exposure
-- while its order's projection shows it accepted and not yet invoiced; from
-- the invoice on, the amount is an open receivable in the ERP. Orders over
-- the limit get no row: a retried check decides again.
CREATE TABLE credit_commitments (
    order_id          text        PRIMARY KEY CHECK (order_id <> ''),
    customer_id       text        NOT NULL CHECK (customer_id <> ''),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- The order's total: what it adds to the exposure.
    amount_minor      bigint      NOT NULL CHECK (amount_minor >= 0),
    -- What the check saw besides the order, so a retry answers the same.
    receivables_minor bigint      NOT NULL,
    open_orders_minor bigint      NOT NULL,
    limit_minor       bigint      NOT NULL,
    decided_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_commitments_customer_idx ON credit_commitments (customer_id);
