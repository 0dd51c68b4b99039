-- The seller's sales reps and the discount each may grant alone: a rep's
-- discount above it needs a sales manager's approval. A rep without a row
-- has the authority the customer's terms give its reps.
CREATE TABLE sales_reps (
    subject               text PRIMARY KEY,
    name                  text NOT NULL DEFAULT '',
    email                 text NOT NULL DEFAULT '',
    discount_authority_bp bigint NOT NULL CHECK (discount_authority_bp BETWEEN 0 AND 10000),
    updated_at            timestamptz NOT NULL,
    updated_by            text NOT NULL
);

---- create above / drop below ----

DROP TABLE sales_reps;
