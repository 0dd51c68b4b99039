-- Return pickups: the carrier collects goods from the customer and brings
-- them back to a warehouse. A return pickup is a shipment of kind 'return'
-- (its own id, tracking number and events), booked by key like any other;
-- it ends 'returned', with a "returned" event, when the goods are back.
ALTER TABLE carriersim_shipments
    ADD COLUMN kind              text NOT NULL DEFAULT 'delivery' CHECK (kind IN ('delivery', 'return')),
    ADD COLUMN rma               text NOT NULL DEFAULT '',
    ADD COLUMN pickup_date       timestamptz,
    ADD COLUMN returned_at       timestamptz,
    ADD COLUMN returned_event_id text;
ALTER TABLE carriersim_shipments DROP CONSTRAINT carriersim_shipments_status_check;
ALTER TABLE carriersim_shipments ADD CONSTRAINT carriersim_shipments_status_check
    CHECK (status IN ('booked', 'in_transit', 'delivered', 'cancelled', 'exception', 'returned'));
ALTER TABLE carriersim_events DROP CONSTRAINT carriersim_events_type_check;
ALTER TABLE carriersim_events ADD CONSTRAINT carriersim_events_type_check
    CHECK (type IN ('delivered', 'exception', 'in_transit', 'returned'));

-- The auto-delivery loop looks for open deliveries, the auto-return loop
-- for open returns, by age.
DROP INDEX carriersim_shipments_open;
CREATE INDEX carriersim_shipments_open ON carriersim_shipments (kind, booked_at)
    WHERE status IN ('booked', 'in_transit');

---- create above / drop below ----

DROP INDEX carriersim_shipments_open;
DELETE FROM carriersim_events WHERE shipment_id IN (SELECT shipment_id FROM carriersim_shipments WHERE kind = 'return');
DELETE FROM carriersim_shipments WHERE kind = 'return';
CREATE INDEX carriersim_shipments_open ON carriersim_shipments (booked_at)
    WHERE status IN ('booked', 'in_transit');
ALTER TABLE carriersim_events DROP CONSTRAINT carriersim_events_type_check;
ALTER TABLE carriersim_events ADD CONSTRAINT carriersim_events_type_check
    CHECK (type IN ('delivered', 'exception', 'in_transit'));
ALTER TABLE carriersim_shipments DROP CONSTRAINT carriersim_shipments_status_check;
ALTER TABLE carriersim_shipments ADD CONSTRAINT carriersim_shipments_status_check
    CHECK (status IN ('booked', 'in_transit', 'delivered', 'cancelled', 'exception'));
ALTER TABLE carriersim_shipments DROP COLUMN returned_event_id, DROP COLUMN returned_at, DROP COLUMN pickup_date,
    DROP COLUMN rma, DROP COLUMN kind;
