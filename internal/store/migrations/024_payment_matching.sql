-- Matching payments without a clean reference (docs/design.md, "Matching
-- payments"): who paid, what the matcher decided, and the accounts known to
-- pay for each customer.

ALTER TABLE payments
    -- The account holder's name and account (IBAN or other) as the bank
    -- gave them; '' when it gave none.
    ADD COLUMN payer            text             NOT NULL DEFAULT '',
    ADD COLUMN payer_account    text             NOT NULL DEFAULT '',
    -- The matcher's rule (internal/matching), '' when it was not asked (a
    -- reference that is an invoice's number or RF reference). With
    -- order_id set and match_kind NULL the matcher applied the payment and
    -- the order has not recorded it yet.
    ADD COLUMN match_rule       text             NOT NULL DEFAULT '',
    -- Its confidence when it applied the payment; NULL otherwise.
    ADD COLUMN match_confidence double precision CHECK (match_confidence BETWEEN 0 AND 1),
    -- The evidence in words, and finance's ranked candidates (invoice,
    -- rule, score, reasons) when it left the payment for finance.
    ADD COLUMN match_evidence   jsonb            NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(match_evidence) = 'array'),
    ADD COLUMN candidates       jsonb            NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(candidates) = 'array'),
    -- What the matcher applied: one part (order, invoice, amount, the
    -- payment id it is signalled under) per invoice.
    ADD COLUMN match_parts      jsonb            NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(match_parts) = 'array');

-- A payment the matcher split across several invoices is applied through
-- one payment per invoice (its id webhook.PartTransactionID of the
-- payment's id and the invoice number); the payment itself is 'split',
-- with no order of its own.
ALTER TABLE payments
    DROP CONSTRAINT payments_match_kind_check,
    ADD CONSTRAINT payments_match_kind_check CHECK (match_kind IN ('exact', 'partial', 'overpayment', 'unmatched', 'split')),
    DROP CONSTRAINT payments_check,
    ADD CONSTRAINT payments_check CHECK (match_kind IS NULL OR match_kind IN ('unmatched', 'split')
        OR (order_id IS NOT NULL AND invoice_number <> ''));

-- The accounts known to pay for a customer: learned from a payment
-- applied to the customer's invoice by its reference or by finance, or
-- recorded by a sales admin or finance, or the demo seed. account is the
-- account's letters and digits, upper case, as the matcher compares them.
CREATE TABLE customer_payer_accounts (
    customer_id         text        NOT NULL CHECK (customer_id <> ''),
    account             text        NOT NULL CHECK (account ~ '^[A-Z0-9]+$'),
    source              text        NOT NULL CHECK (source IN ('learned', 'api', 'seed')),
    -- The payment it was learned from; who recorded it.
    bank_transaction_id text        NOT NULL DEFAULT '',
    added_by            text        NOT NULL DEFAULT '',
    added_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, account)
);
CREATE INDEX customer_payer_accounts_account_idx ON customer_payer_accounts (account);

---- create above / drop below ----

DROP TABLE customer_payer_accounts;
DELETE FROM payments WHERE match_kind = 'split';
ALTER TABLE payments
    DROP CONSTRAINT payments_check,
    ADD CONSTRAINT payments_check CHECK (match_kind IS NULL OR match_kind = 'unmatched'
        OR (order_id IS NOT NULL AND invoice_number <> '')),
    DROP CONSTRAINT payments_match_kind_check,
    ADD CONSTRAINT payments_match_kind_check CHECK (match_kind IN ('exact', 'partial', 'overpayment', 'unmatched'));
ALTER TABLE payments
    DROP COLUMN match_parts,
    DROP COLUMN candidates,
    DROP COLUMN match_evidence,
    DROP COLUMN match_confidence,
    DROP COLUMN match_rule,
    DROP COLUMN payer_account,
    DROP COLUMN payer;
