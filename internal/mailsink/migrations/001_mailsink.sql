-- The mail sink's messages, so `orderflow dev` restarted still shows the
-- mails it received before. The message is kept as received with its
-- envelope; the sink parses it again when it loads it.
CREATE TABLE mailsink_messages (
    id            bigserial   PRIMARY KEY,
    envelope_from text        NOT NULL,
    envelope_to   text[]      NOT NULL,
    raw           bytea       NOT NULL,
    received_at   timestamptz NOT NULL,
    -- A message with a Message-ID the sink already held: a resend.
    duplicate     boolean     NOT NULL
);

---- create above / drop below ----

DROP TABLE mailsink_messages;
