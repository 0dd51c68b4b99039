-- A workflow writes its transitions from local activities, inside the
-- workflow task that decides them and before that task completes. When the
-- task is lost (its worker dies, the task times out) its writes stay, and
-- the task is run again, possibly deciding other transitions under the same
-- seqs. The fence (the deciding task's history length, above every fence of
-- the order's earlier runs) orders the records of different tasks: a later
-- task's record wins over an earlier task's whatever their seqs, so the
-- projection ends where the history that counts ends.
--
-- orders keeps the fence of the record it shows; order_exceptions the fence
-- of the record that raised the exception, so that a lost task's exceptions
-- give way; audit_log keeps every record, the lost task's too, and an entry
-- is superseded when a record of a later task carries the same or an
-- earlier seq (AuditLog). The chain's content gains the fence where it is
-- not 0, so the hashes of the entries written before stay as they are.
ALTER TABLE orders ADD COLUMN last_fence bigint NOT NULL DEFAULT 0;
ALTER TABLE order_exceptions ADD COLUMN fence bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN fence bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_order_seq_key,
    ADD CONSTRAINT audit_log_order_seq_key UNIQUE (order_id, seq, fence);

CREATE OR REPLACE FUNCTION audit_log_content(e audit_log, chain_index bigint) RETURNS bytea
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
        || CASE WHEN e.fence = 0 THEN ''::bytea ELSE audit_log_field(e.fence::text) END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION audit_log_content(e audit_log, chain_index bigint) RETURNS bytea
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
    DROP CONSTRAINT audit_log_order_seq_key,
    ADD CONSTRAINT audit_log_order_seq_key UNIQUE (order_id, seq);
ALTER TABLE audit_log DROP COLUMN fence;
ALTER TABLE order_exceptions DROP COLUMN fence;
ALTER TABLE orders DROP COLUMN last_fence;
