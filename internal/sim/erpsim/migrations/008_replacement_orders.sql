-- Replacement sales orders: a reship of goods lost or damaged on the way,
-- from stock, linked to the sales order it replaces and never invoiced.
-- Its goods leave at once (status 'issued': goods issued, nothing to
-- invoice), because the ERP hears nothing from the carrier and no invoice
-- will ever issue them.
ALTER TABLE erpsim_sales_orders ADD COLUMN replaces text REFERENCES erpsim_sales_orders (id);
ALTER TABLE erpsim_sales_orders DROP CONSTRAINT erpsim_sales_orders_status_check;
ALTER TABLE erpsim_sales_orders ADD CONSTRAINT erpsim_sales_orders_status_check
    CHECK (status IN ('reserved', 'invoiced', 'cancelled', 'issued'));
CREATE INDEX erpsim_sales_orders_replaces ON erpsim_sales_orders (replaces) WHERE replaces IS NOT NULL;

---- create above / drop below ----

DROP INDEX erpsim_sales_orders_replaces;
ALTER TABLE erpsim_sales_orders DROP CONSTRAINT erpsim_sales_orders_status_check;
ALTER TABLE erpsim_sales_orders ADD CONSTRAINT erpsim_sales_orders_status_check
    CHECK (status IN ('reserved', 'invoiced', 'cancelled'));
ALTER TABLE erpsim_sales_orders DROP COLUMN replaces;
