-- orderflow's own tables. The workflow is the source of truth for an order;
-- these tables are what the API reads and what must survive outside Temporal
-- (terms, idempotency keys, webhook dedup, survey tokens, payments, audit).
--
-- Child rows of an order (quotes, invoices, surveys, payments, audit) carry no
-- foreign key to orders: the projection row and these rows are written by
-- separate activities whose order is not fixed (an order started outside the
-- API gets its projection row from its first transition), and a failed foreign
-- key would wedge the workflow on a bookkeeping write.

CREATE TABLE customers (
    id                            text        PRIMARY KEY CHECK (id <> ''),
    name                          text        NOT NULL,
    buyer_email                   text        NOT NULL,
    rep_email                     text        NOT NULL,
    currency                      text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    credit_limit_minor            bigint      NOT NULL CHECK (credit_limit_minor >= 0),
    payment_terms_days            integer     NOT NULL CHECK (payment_terms_days >= 0),
    discount_bp                   bigint      NOT NULL CHECK (discount_bp BETWEEN 0 AND 10000),
    rep_discount_authority_bp     bigint      NOT NULL CHECK (rep_discount_authority_bp BETWEEN 0 AND 10000),
    -- 0 means "no limit": no buyer-side approval is ever needed.
    purchasing_limit_minor        bigint      NOT NULL CHECK (purchasing_limit_minor >= 0),
    -- 0 means "no threshold": never two seller approvers.
    dual_approval_threshold_minor bigint      NOT NULL CHECK (dual_approval_threshold_minor >= 0),
    quote_validity_days           integer     NOT NULL CHECK (quote_validity_days > 0),
    lead_time_days                integer     NOT NULL CHECK (lead_time_days >= 0),
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contract_prices (
    customer_id      text   NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    sku              text   NOT NULL CHECK (sku <> ''),
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
    currency         text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    PRIMARY KEY (customer_id, sku)
);

-- orders is the projection of each order workflow that GET /v1/orders reads.
CREATE TABLE orders (
    id              text        PRIMARY KEY CHECK (id <> ''),
    -- No foreign key to customers: the projection records what the workflow
    -- did, even for a customer whose terms were removed since.
    customer_id     text        NOT NULL CHECK (customer_id <> ''),
    po_number       text        NOT NULL DEFAULT '',
    status          text        NOT NULL CHECK (status IN (
                        'QUOTING', 'AWAITING_ACCEPTANCE', 'AWAITING_APPROVAL', 'CREDIT_CHECK',
                        'CREDIT_HOLD', 'CONFIRMED', 'SHIPPING', 'INVOICED', 'AWAITING_PAYMENT',
                        'COMPLETED', 'CANCELLED', 'QUOTE_EXPIRED', 'QUOTE_REJECTED', 'REJECTED',
                        'CREDIT_DECLINED')),
    needs_attention boolean     NOT NULL DEFAULT false,
    total_minor     bigint      NOT NULL DEFAULT 0,
    -- Empty until the first quote is priced.
    currency        text        NOT NULL DEFAULT '' CHECK (currency = '' OR currency ~ '^[A-Z]{3}$'),
    quote_revision  integer     NOT NULL DEFAULT 0 CHECK (quote_revision >= 0),
    details         text        NOT NULL DEFAULT '',
    invoice_number  text        NOT NULL DEFAULT '',
    -- The workflow's transition counter last applied; 0 is the creation.
    last_seq        bigint      NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Lists are ordered by id (ids sort by creation), so id ends each index.
CREATE INDEX orders_customer_status_idx ON orders (customer_id, status, id);
CREATE INDEX orders_status_idx ON orders (status, id);
-- Few orders need attention at any time: a partial index stays small.
CREATE INDEX orders_needs_attention_idx ON orders (id) WHERE needs_attention;

CREATE TABLE quotes (
    order_id    text        NOT NULL,
    revision    integer     NOT NULL CHECK (revision >= 0),
    body        jsonb       NOT NULL,
    total_minor bigint      NOT NULL,
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    valid_until timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, revision)
);

CREATE TABLE invoices (
    invoice_id   text        PRIMARY KEY CHECK (invoice_id <> ''),
    order_id     text        NOT NULL,
    number       text        NOT NULL UNIQUE CHECK (number <> ''),
    amount_minor bigint      NOT NULL,
    currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    issued_at    timestamptz NOT NULL,
    due_date     timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_order_idx ON invoices (order_id);

CREATE TABLE payments (
    bank_transaction_id text        PRIMARY KEY CHECK (bank_transaction_id <> ''),
    -- No sign check: a nonsensical amount is stored and left unmatched for
    -- finance rather than refused, which would make the bank redeliver forever.
    amount_minor        bigint      NOT NULL,
    currency            text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reference           text        NOT NULL DEFAULT '',
    received_at         timestamptz NOT NULL,
    -- NULL until matched or allocated.
    order_id            text,
    invoice_number      text        NOT NULL DEFAULT '',
    match_kind          text        CHECK (match_kind IN ('exact', 'partial', 'overpayment', 'unmatched')),
    allocated_by        text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (match_kind IS NULL OR match_kind = 'unmatched' OR (order_id IS NOT NULL AND invoice_number <> ''))
);
-- The finance queue: payments not (yet) applied to an invoice.
CREATE INDEX payments_unmatched_idx ON payments (received_at)
    WHERE match_kind IS NULL OR match_kind = 'unmatched';
CREATE INDEX payments_order_idx ON payments (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE webhook_events (
    source      text        NOT NULL CHECK (source <> ''),
    event_id    text        NOT NULL CHECK (event_id <> ''),
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     jsonb,
    PRIMARY KEY (source, event_id)
);

CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL CHECK (key <> ''),
    request_hash text        NOT NULL CHECK (request_hash <> ''),
    order_id     text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE TABLE surveys (
    token       text        PRIMARY KEY CHECK (token <> ''),
    order_id    text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    score       smallint    CHECK (score BETWEEN 0 AND 10),
    comment     text        NOT NULL DEFAULT '',
    answered_at timestamptz,
    closed      boolean     NOT NULL DEFAULT false,
    CHECK ((score IS NULL) = (answered_at IS NULL))
);

-- audit_log is append-only: every workflow transition (with its seq) and every
-- action taken outside the workflow (without one), with its actor.
CREATE TABLE audit_log (
    id                bigserial   PRIMARY KEY,
    order_id          text        NOT NULL,
    -- NULL for entries written outside the workflow; NULLs are distinct, so
    -- the unique constraint binds workflow entries only.
    seq               bigint      CHECK (seq >= 0),
    at                timestamptz NOT NULL,
    actor_subject     text        NOT NULL,
    actor_role        text        NOT NULL,
    actor_customer_id text        NOT NULL DEFAULT '',
    action            text        NOT NULL CHECK (action <> ''),
    from_status       text,
    to_status         text,
    reason            text        NOT NULL DEFAULT '',
    data              jsonb,
    CONSTRAINT audit_log_order_seq_key UNIQUE (order_id, seq)
);
CREATE INDEX audit_log_order_idx ON audit_log (order_id, id);

-- The application never rewrites history; the database makes sure nobody does.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

---- create above / drop below ----

DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
DROP TABLE surveys;
DROP TABLE idempotency_keys;
DROP TABLE webhook_events;
DROP TABLE payments;
DROP TABLE invoices;
DROP TABLE quotes;
DROP TABLE orders;
DROP TABLE contract_prices;
DROP TABLE customers;
