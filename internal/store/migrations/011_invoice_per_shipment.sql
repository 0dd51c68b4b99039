-- Whether a customer is invoiced per shipment (each delivered shipment
-- invoiced on delivery, for its lines) instead of once per order when
-- everything is delivered (the default).
ALTER TABLE customers
    ADD COLUMN invoice_per_shipment boolean NOT NULL DEFAULT false;
