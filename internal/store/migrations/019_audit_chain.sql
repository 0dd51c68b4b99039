-- Tamper evidence for audit_log (docs/design.md, "The audit chain").
--
-- Each order's entries form a hash chain: entry n of an order carries
-- chain_index n (1, 2, 3, … without gaps), prev_hash (the hash of entry n-1,
-- 32 zero bytes for entry 1) and
--
--     hash = sha256(prev_hash || content)
--
-- where content is the canonical encoding of the entry: each field as its
-- length in bytes in decimal, ':', and its bytes (UTF-8), in this order:
-- order_id, chain_index, seq, at (microseconds since 1970-01-01 UTC, in
-- decimal), actor_subject, actor_role, actor_customer_id, action,
-- from_status, to_status, reason, data (jsonb's text form). A NULL field
-- (seq, from_status, to_status, data) is the single byte '-' instead, so
-- that NULL and '' differ. internal/store/auditchain.go encodes the same,
-- and verification recomputes every hash there, not with this function.
--
-- The trigger below computes the chain for every insert, whichever code
-- inserts. It serialises the inserts of one order on an advisory lock held
-- to commit; under READ COMMITTED the trigger's query then sees the entry
-- the previous holder committed. The unique index on (order_id,
-- chain_index) turns anything else (a REPEATABLE READ writer that cannot
-- see it) into an error rather than a fork. A transaction that also locks
-- the order's projection row (orders) must lock it before inserting the
-- entry, as RecordTransition does; the other way round can deadlock.
--
-- xid is the inserting transaction: audit_seals seal the entries by it.

CREATE FUNCTION audit_log_field(v text) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x2d'::bytea
        ELSE convert_to(octet_length(convert_to(v, 'UTF8'))::text || ':', 'UTF8') || convert_to(v, 'UTF8') END
$$;

CREATE FUNCTION audit_log_content(e audit_log, chain_index bigint) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT audit_log_field(e.order_id)
        || audit_log_field(chain_index::text)
        || audit_log_field(e.seq::text)
        || audit_log_field((extract(epoch FROM e.at) * 1000000)::bigint::text)
        || audit_log_field(e.actor_subject)
        || audit_log_field(e.actor_role)
        || audit_log_field(e.actor_customer_id)
        || audit_log_field(e.action)
        || audit_log_field(e.from_status)
        || audit_log_field(e.to_status)
        || audit_log_field(e.reason)
        || audit_log_field(e.data::text)
$$;

ALTER TABLE audit_log
    ADD COLUMN chain_index bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea,
    -- Existing rows get this migration's transaction id.
    ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();

-- Chain the entries written before this migration: per order, in id order
-- (the order they were inserted in). The append-only trigger is off for the
-- backfill only; this migration runs in one transaction, so it is back on
-- (or the whole migration undone) at commit.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
DO $$
DECLARE
    r          audit_log;
    cur_order  text;
    idx        bigint;
    prev       bytea;
    h          bytea;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY order_id, id LOOP
        IF cur_order IS DISTINCT FROM r.order_id THEN
            cur_order := r.order_id;
            idx := 0;
            prev := decode(repeat('00', 32), 'hex');
        END IF;
        idx := idx + 1;
        h := sha256(prev || audit_log_content(r, idx));
        UPDATE audit_log SET chain_index = idx, prev_hash = prev, hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
END
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;

ALTER TABLE audit_log
    ALTER COLUMN chain_index SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_log_chain_index_check CHECK (chain_index >= 1),
    ADD CONSTRAINT audit_log_hash_check CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32);
CREATE UNIQUE INDEX audit_log_chain_idx ON audit_log (order_id, chain_index);
CREATE INDEX audit_log_xid_idx ON audit_log (xid, id);

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_index bigint;
    last_hash  bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('audit_log:' || NEW.order_id, 0));
    SELECT chain_index, hash INTO last_index, last_hash
    FROM audit_log
    WHERE order_id = NEW.order_id
    ORDER BY chain_index DESC
    LIMIT 1;
    NEW.chain_index := COALESCE(last_index, 0) + 1;
    NEW.prev_hash := COALESCE(last_hash, decode(repeat('00', 32), 'hex'));
    NEW.hash := sha256(NEW.prev_hash || audit_log_content(NEW, NEW.chain_index));
    -- Whatever the insert said: the seals rely on it.
    NEW.xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- audit_seals is a chain over all orders' entries, one link per seal: seal
-- n covers every entry whose transaction id lies in [from_xid, to_xid),
-- where from_xid is seal n-1's to_xid (0 for the first) and to_xid was the
-- oldest transaction still running when the seal was made, so no entry can
-- appear later in a sealed range. Its hash (computed in Go, see
-- internal/store/auditchain.go) covers the previous seal's hash, its own
-- fields and the hashes of the entries it covers, in (xid, id) order. The
-- latest seal's number and hash are the published head.
CREATE TABLE audit_seals (
    seal_no   bigint      PRIMARY KEY CHECK (seal_no >= 1),
    sealed_at timestamptz NOT NULL,
    from_xid  xid8        NOT NULL,
    to_xid    xid8        NOT NULL,
    entries   bigint      NOT NULL CHECK (entries >= 0),
    prev_hash bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash      bytea       NOT NULL CHECK (octet_length(hash) = 32),
    CHECK (from_xid <= to_xid)
);

CREATE FUNCTION audit_seals_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_seals is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_seals_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seals_refuse_change();

CREATE TRIGGER audit_seals_no_truncate
    BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_refuse_change();

---- create above / drop below ----

DROP TABLE audit_seals;
DROP FUNCTION audit_seals_refuse_change();
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP INDEX audit_log_xid_idx;
DROP INDEX audit_log_chain_idx;
ALTER TABLE audit_log
    DROP COLUMN xid,
    DROP COLUMN hash,
    DROP COLUMN prev_hash,
    DROP COLUMN chain_index;
DROP FUNCTION audit_log_content(audit_log, bigint);
DROP FUNCTION audit_log_field(text);
