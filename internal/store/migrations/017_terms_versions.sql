-- Every change of a customer's terms, versioned: who, why, and from when
-- it is in force. customers holds the version in force (terms_version);
-- a version whose effective_from has come is applied to it when the
-- customer's terms are next read. Seeded customers start at version 0.
ALTER TABLE customers
    ADD COLUMN terms_version int NOT NULL DEFAULT 0,
    ADD COLUMN terms_effective_from timestamptz;

CREATE TABLE terms_versions (
    customer_id    text NOT NULL REFERENCES customers (id),
    version        int NOT NULL CHECK (version > 0),
    effective_from timestamptz NOT NULL,
    terms          jsonb NOT NULL,
    hash           text NOT NULL,
    changed_by     text NOT NULL,
    reason         text NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (customer_id, version)
);

---- create above / drop below ----

DROP TABLE terms_versions;
ALTER TABLE customers DROP COLUMN terms_version, DROP COLUMN terms_effective_from;
