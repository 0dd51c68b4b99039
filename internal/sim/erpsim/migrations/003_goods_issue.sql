-- Goods issue: when a sales order is invoiced its reserved stock leaves the
-- warehouse (on_hand and reserved both drop by the reservation), so stock is
-- consumed rather than held for ever. goods_issued_at says it happened; a
-- sales order cancelled after it (void, then cancel: the goods never left or
-- came back) returns the units to on_hand instead of releasing a reservation.
ALTER TABLE erpsim_sales_orders ADD COLUMN goods_issued_at timestamptz;

-- Sales orders invoiced before this migration still hold their stock as
-- reserved: issue it now, so an old database gets its stock figures right.
WITH issued AS (
    SELECT r.warehouse, r.sku, sum(r.quantity) AS quantity
    FROM erpsim_reservations r
    JOIN erpsim_sales_orders so ON so.id = r.sales_order_id
    WHERE so.status = 'invoiced'
    GROUP BY r.warehouse, r.sku
)
UPDATE erpsim_stock s
SET on_hand = s.on_hand - i.quantity, reserved = s.reserved - i.quantity
FROM issued i
WHERE s.warehouse = i.warehouse AND s.sku = i.sku;

UPDATE erpsim_sales_orders SET goods_issued_at = now() WHERE status = 'invoiced';

---- create above / drop below ----

ALTER TABLE erpsim_sales_orders DROP COLUMN goods_issued_at;
