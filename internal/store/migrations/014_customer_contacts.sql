-- A customer's contacts and what each takes care of (purchaser, approver,
-- accounts_payable, receiving): each mail goes to the contacts whose role
-- it concerns, else to the customer's buyer_email.
CREATE TABLE customer_contacts (
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email       text NOT NULL,
    name        text NOT NULL DEFAULT '',
    roles       text[] NOT NULL CHECK (cardinality(roles) > 0),
    position    int  NOT NULL,
    PRIMARY KEY (customer_id, email)
);

---- create above / drop below ----

DROP TABLE customer_contacts;
