-- A quote request whose first revision the ERP refuses to price ends
-- QUOTE_REFUSED (POST /v1/quotes answers 422 naming the line).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'QUOTING', 'AWAITING_ACCEPTANCE', 'AWAITING_APPROVAL', 'CREDIT_CHECK',
    'CREDIT_HOLD', 'CONFIRMED', 'SHIPPING', 'INVOICED', 'AWAITING_PAYMENT',
    'COMPLETED', 'CANCELLED', 'QUOTE_EXPIRED', 'QUOTE_REJECTED', 'REJECTED',
    'CREDIT_DECLINED', 'QUOTE_REFUSED'));
