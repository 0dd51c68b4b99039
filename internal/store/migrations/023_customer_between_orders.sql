-- The customer between orders (docs/design.md, "The customer between
-- orders"): consent and frequency of marketing mails, the rep's follow-up
-- of a lost quote, and the customer workflow's projection for the rep.

-- A contact's opt-out of marketing mails (reorder reminders, we-miss-you,
-- quote nudges), honoured from the moment it is written. Transactional
-- mails (quotes, invoices) are not affected. email is lower-case.
CREATE TABLE marketing_optouts (
    customer_id  text        NOT NULL CHECK (customer_id <> ''),
    email        text        NOT NULL CHECK (email <> '' AND email = lower(email)),
    opted_out_at timestamptz NOT NULL,
    -- How it was asked for: 'link' (the unsubscribe link of a mail), 'api'.
    how          text        NOT NULL CHECK (how <> ''),
    PRIMARY KEY (customer_id, email)
);

-- Every marketing mail decided for a contact, keyed by the mail's
-- idempotency key: the claim that decides it (sent, or suppressed because
-- the contact opted out or the frequency cap was reached) is written once;
-- a replay of the key answers the first decision. sent_at is set once the
-- mail system took the mail.
CREATE TABLE marketing_mails (
    key         text        NOT NULL CHECK (key <> ''),
    email       text        NOT NULL CHECK (email <> '' AND email = lower(email)),
    customer_id text        NOT NULL CHECK (customer_id <> ''),
    kind        text        NOT NULL CHECK (kind <> ''),
    decision    text        NOT NULL CHECK (decision IN ('sent', 'opted-out', 'capped')),
    decided_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    PRIMARY KEY (key, email)
);
-- The frequency cap counts a contact's mails sent in a window.
CREATE INDEX marketing_mails_cap_idx ON marketing_mails (customer_id, email, decided_at) WHERE decision = 'sent';

-- A quote that expired or was rejected becomes a follow-up for the rep:
-- kind 'quote-lost', one per order, the reason in comment. It comes from
-- no survey: survey_token may be NULL (NULLs do not collide in UNIQUE).
ALTER TABLE followups
    DROP CONSTRAINT followups_kind_check,
    ADD CONSTRAINT followups_kind_check CHECK (kind IN ('detractor', 'quote-lost')),
    ALTER COLUMN survey_token DROP NOT NULL;
CREATE UNIQUE INDEX followups_quote_lost_idx ON followups (order_id) WHERE kind = 'quote-lost';

-- What the customer workflow knows of each customer, for the rep's view:
-- written by the workflow (a local activity) whenever it changes. version
-- is the workflow's own counter, carried across continue-as-new; a write
-- with an older version is ignored.
CREATE TABLE customer_insights (
    customer_id       text        PRIMARY KEY CHECK (customer_id <> ''),
    orders            integer     NOT NULL DEFAULT 0 CHECK (orders >= 0),
    last_order_at     timestamptz,
    -- The median interval between the customer's orders (NULL: fewer than two).
    usual_interval    interval,
    next_expected_at  timestamptz,
    next_expected_sku text        NOT NULL DEFAULT '',
    open_quotes       integer     NOT NULL DEFAULT 0 CHECK (open_quotes >= 0),
    dormant_since     timestamptz,
    version           bigint      NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX customer_insights_dormant_idx ON customer_insights (dormant_since) WHERE dormant_since IS NOT NULL;

---- create above / drop below ----

DROP TABLE customer_insights;
DROP INDEX followups_quote_lost_idx;
DELETE FROM followups WHERE kind = 'quote-lost';
ALTER TABLE followups
    ALTER COLUMN survey_token SET NOT NULL,
    DROP CONSTRAINT followups_kind_check,
    ADD CONSTRAINT followups_kind_check CHECK (kind IN ('detractor'));
DROP TABLE marketing_mails;
DROP TABLE marketing_optouts;
