-- The ERP simulator's state. Everything a real ERP would remember lives here,
-- so a restarted simulator (or a second process on the same database) carries
-- on where the last one stopped. Fault knobs are not ERP state and stay in memory.

CREATE TABLE erpsim_products (
    sku  text PRIMARY KEY,
    name text NOT NULL
);

-- List prices per currency: a product without a row here cannot be sold in it.
CREATE TABLE erpsim_prices (
    sku        text   NOT NULL REFERENCES erpsim_products (sku),
    currency   text   NOT NULL,
    unit_minor bigint NOT NULL CHECK (unit_minor >= 0),
    PRIMARY KEY (sku, currency)
);

-- reserved counts units promised to open sales orders; what can still be
-- promised is on_hand - reserved, and the checks make overselling impossible
-- even if the code had a bug.
CREATE TABLE erpsim_stock (
    warehouse text   NOT NULL,
    sku       text   NOT NULL REFERENCES erpsim_products (sku),
    on_hand   bigint NOT NULL CHECK (on_hand >= 0),
    reserved  bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    PRIMARY KEY (warehouse, sku)
);

CREATE TABLE erpsim_customers (
    id   text PRIMARY KEY,
    name text NOT NULL
);

-- Open receivables per customer and currency: the opening balance from the
-- seed plus open invoices minus voided ones.
CREATE TABLE erpsim_receivables (
    customer_id text   NOT NULL REFERENCES erpsim_customers (id),
    currency    text   NOT NULL,
    open_minor  bigint NOT NULL,
    PRIMARY KEY (customer_id, currency)
);

CREATE SEQUENCE erpsim_sales_order_seq;

CREATE TABLE erpsim_sales_orders (
    id           text        PRIMARY KEY,
    order_id     text        NOT NULL,
    customer_id  text        NOT NULL REFERENCES erpsim_customers (id),
    currency     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('reserved', 'invoiced', 'cancelled')),
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz
);
CREATE INDEX erpsim_sales_orders_order_id ON erpsim_sales_orders (order_id);

CREATE TABLE erpsim_sales_order_lines (
    sales_order_id text   NOT NULL REFERENCES erpsim_sales_orders (id),
    position       int    NOT NULL,
    sku            text   NOT NULL REFERENCES erpsim_products (sku),
    quantity       bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (sales_order_id, position),
    UNIQUE (sales_order_id, sku)
);

-- One row per (sales order, warehouse, sku): a line split across warehouses
-- has a row per warehouse. Rows stay after a cancel as history; the order's
-- status says whether they still hold stock.
CREATE TABLE erpsim_reservations (
    sales_order_id text   NOT NULL,
    warehouse      text   NOT NULL,
    sku            text   NOT NULL,
    quantity       bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (sales_order_id, warehouse, sku),
    FOREIGN KEY (sales_order_id, sku) REFERENCES erpsim_sales_order_lines (sales_order_id, sku),
    FOREIGN KEY (warehouse, sku) REFERENCES erpsim_stock (warehouse, sku)
);

-- Invoice numbers must have no gaps (auditors ask about every missing number),
-- which a sequence cannot promise: a counter row updated in the invoice's own
-- transaction can, at the price of serialising invoice creation.
CREATE TABLE erpsim_counters (
    name  text   PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO erpsim_counters (name, value) VALUES ('invoice_number', 0);

CREATE TABLE erpsim_invoices (
    id             text        PRIMARY KEY DEFAULT gen_random_uuid()::text,
    number         text        NOT NULL UNIQUE,
    order_id       text        NOT NULL,
    sales_order_id text        NOT NULL REFERENCES erpsim_sales_orders (id),
    customer_id    text        NOT NULL REFERENCES erpsim_customers (id),
    amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
    currency       text        NOT NULL,
    issued_at      timestamptz NOT NULL,
    due_date       timestamptz NOT NULL,
    status         text        NOT NULL CHECK (status IN ('open', 'void')),
    voided_at      timestamptz
);
CREATE INDEX erpsim_invoices_order_id ON erpsim_invoices (order_id);
CREATE INDEX erpsim_invoices_sales_order_id ON erpsim_invoices (sales_order_id);

-- The answer is kept as bytes, not jsonb, because a replay must return the
-- first answer byte for byte and jsonb would reorder its keys.
CREATE TABLE erpsim_idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    status       int,
    answer       bytea,
    created_at   timestamptz NOT NULL
);

CREATE TABLE erpsim_calls (
    route text   PRIMARY KEY,
    calls bigint NOT NULL
);

---- create above / drop below ----

DROP TABLE erpsim_calls;
DROP TABLE erpsim_idempotency_keys;
DROP TABLE erpsim_invoices;
DROP TABLE erpsim_counters;
DROP TABLE erpsim_reservations;
DROP TABLE erpsim_sales_order_lines;
DROP TABLE erpsim_sales_orders;
DROP SEQUENCE erpsim_sales_order_seq;
DROP TABLE erpsim_receivables;
DROP TABLE erpsim_customers;
DROP TABLE erpsim_stock;
DROP TABLE erpsim_prices;
DROP TABLE erpsim_products;
