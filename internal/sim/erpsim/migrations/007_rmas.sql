-- Return authorisations: the ERP agrees to take back lines of a delivered
-- sales order, a quantity each, never more than left the warehouse. The
-- goods coming back are received against the RMA and go back on the shelf.
CREATE SEQUENCE erpsim_rma_seq;

CREATE TABLE erpsim_rmas (
    id             text        PRIMARY KEY,
    sales_order_id text        NOT NULL REFERENCES erpsim_sales_orders (id),
    order_id       text        NOT NULL,
    customer_id    text        NOT NULL REFERENCES erpsim_customers (id),
    status         text        NOT NULL CHECK (status IN ('authorised', 'received', 'cancelled')),
    reason         text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    cancelled_at   timestamptz,
    received_at    timestamptz
);
CREATE INDEX erpsim_rmas_order_id ON erpsim_rmas (order_id);
CREATE INDEX erpsim_rmas_sales_order_id ON erpsim_rmas (sales_order_id);

CREATE TABLE erpsim_rma_lines (
    rma_id   text   NOT NULL REFERENCES erpsim_rmas (id),
    position int    NOT NULL,
    sku      text   NOT NULL,
    quantity bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (rma_id, position),
    UNIQUE (rma_id, sku)
);

---- create above / drop below ----

DROP TABLE erpsim_rma_lines;
DROP TABLE erpsim_rmas;
DROP SEQUENCE erpsim_rma_seq;
