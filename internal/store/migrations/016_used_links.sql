-- Single-use links of buyer mails (accept a quote) that were used, by
-- their nonce: a used link says so instead of acting again.
CREATE TABLE used_links (
    nonce    text PRIMARY KEY,
    order_id text NOT NULL,
    purpose  text NOT NULL,
    used_at  timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE used_links;
