// Package store keeps orderflow's own state in PostgreSQL. Temporal holds each
// order's workflow, which is the source of truth for the order; the store
// holds what must be queryable or durable outside it:
//
//   - customers and contract_prices: the commercial terms that pricing,
//     approvals and the credit check read;
//   - orders: a projection of each workflow (status, total, what it waits
//     for) that the API lists and filters, with the workflow's last applied
//     transition counter (last_seq);
//   - quotes and invoices: each priced revision as sent, and the ERP invoice
//     whose number payment references carry;
//   - payments: incoming bank payments and how each was matched or allocated;
//   - surveys: the NPS survey of each order behind its secret token;
//   - marketing_optouts: a contact's opt-out of a customer's marketing mails
//     (reorder reminders, we-miss-you, quote nudges), honoured at once;
//   - marketing_mails: every marketing mail decided per contact, by its
//     idempotency key (sent, opted-out, capped): ClaimMarketingMail
//     enforces the frequency cap in one transaction and audits the
//     decision on the customer's chain (CustomerAuditID);
//   - customer_insights: the customer workflow's view of each customer for
//     the rep (last order, next expected order, open quotes, dormancy);
//   - followups of kind quote-lost: an expired or rejected quote for the rep;
//   - webhook_events and idempotency_keys: what makes redelivered webhooks and
//     retried POST /v1/quotes harmless;
//   - audit_log: every transition and manual action with its actor. The table
//     is append-only in the database too: a trigger refuses UPDATE, DELETE and
//     TRUNCATE. Each order's entries form a hash chain, computed by an insert
//     trigger, and audit_seals chain all orders' entries together; Seal adds
//     a seal, AuditHead is the head to publish, VerifyAudit recomputes it all
//     in Go (auditchain.go, docs/design.md "The audit chain").
//
// # Idempotency
//
// Activities are retried and webhooks are redelivered, so every write can be
// replayed without effect:
//
//   - CreateOrder claims (scope, key) with INSERT … ON CONFLICT DO NOTHING in
//     the same transaction as the order row and its "order.created" audit
//     entry (seq 0). A replay with the same request hash returns the first
//     order (created=false); another hash is ErrIdempotencyConflict.
//   - RecordTransition is keyed by (order_id, seq, fence): the audit entry
//     is written once, and the projection moves only forward ((fence, seq)
//     above (last_fence, last_seq)), so replayed or late transitions never
//     roll an order back, and the records of a workflow task that was lost
//     give way to those of its retry (Transition.Fence).
//   - SaveQuote is keyed by (order_id, revision), SaveInvoice by invoice id,
//     RecordPayment by bank transaction id, RecordWebhookEvent by (source,
//     event id), CreateSurvey by order: the first write stands and a replay
//     returns or accepts it. A replay with other contents is ErrDuplicate.
//   - AnswerSurvey: the first answer wins; MatchPayment: the first
//     application to an invoice wins (ErrPaymentMatched for another one).
//   - RecordWebhookOutcome is keyed by (source, event id) too, but an event
//     recorded as not handled (WebhookOutcomeUnknownShipment) may be
//     recorded again, once, with the outcome of its handling.
//
// Unique violations map to ErrDuplicate and missing rows to ErrNotFound;
// callers test with errors.Is. Validation failures a caller can show a user
// are *order.FieldError.
//
// Timestamps are timestamptz, which keeps microseconds: a time read back
// equals the written one truncated to the microsecond, in UTC.
//
// Child rows (quotes, invoices, surveys, payments, audit entries) carry no
// foreign key to orders: they are written by separate activities whose order
// is not fixed, and a bookkeeping write must not wedge a workflow.
package store
