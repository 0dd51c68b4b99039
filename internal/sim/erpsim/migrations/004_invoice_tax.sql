-- Invoices carry net, tax and gross. amount_minor stays the gross (what the
-- customer owes and payments are matched against); an invoice raised before
-- tax was split out is all net.
ALTER TABLE erpsim_invoices
    ADD COLUMN net_minor bigint,
    ADD COLUMN tax_minor bigint NOT NULL DEFAULT 0 CHECK (tax_minor >= 0);
UPDATE erpsim_invoices SET net_minor = amount_minor;
ALTER TABLE erpsim_invoices
    ALTER COLUMN net_minor SET NOT NULL,
    ADD CONSTRAINT erpsim_invoices_net_plus_tax CHECK (net_minor > 0 AND net_minor + tax_minor = amount_minor);

---- create above / drop below ----

ALTER TABLE erpsim_invoices DROP CONSTRAINT erpsim_invoices_net_plus_tax;
ALTER TABLE erpsim_invoices DROP COLUMN tax_minor, DROP COLUMN net_minor;
