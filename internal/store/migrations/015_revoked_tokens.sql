-- Bearer tokens revoked before they expire, by their token id (jti). A
-- row can go once expires_at has passed: the token is refused anyway.
CREATE TABLE revoked_tokens (
    token_id   text PRIMARY KEY,
    revoked_at timestamptz NOT NULL,
    revoked_by text NOT NULL,
    reason     text NOT NULL,
    expires_at timestamptz
);

---- create above / drop below ----

DROP TABLE revoked_tokens;
