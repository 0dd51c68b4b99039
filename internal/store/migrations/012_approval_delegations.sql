-- An approver's decisions handed to a colleague for a period (out of
-- office). from_customer is a buyer approver's customer, '' for the
-- seller's sales managers. A delegation is never deleted: revoking it sets
-- revoked_at, so the record of who could decide when stays.
CREATE TABLE approval_delegations (
    id            text PRIMARY KEY,
    from_subject  text NOT NULL,
    from_role     text NOT NULL,
    from_customer text NOT NULL DEFAULT '',
    to_subject    text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CHECK (ends_at > starts_at),
    CHECK (to_subject <> from_subject)
);
CREATE INDEX approval_delegations_to_idx ON approval_delegations (to_subject, ends_at);
CREATE INDEX approval_delegations_from_idx ON approval_delegations (from_subject, ends_at);

---- create above / drop below ----

DROP TABLE approval_delegations;
