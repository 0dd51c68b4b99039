// Package erp is orderflow's client of the ERP: list prices, a customer's open
// receivables and credit balance, sales orders with their stock
// reservations, replacement orders for reships, invoices (net, tax and gross), credit notes, refunds,
// return authorisations (RMAs), write-offs and credit allocations (the
// credit balance applied to an invoice).
//
// Every call goes through internal/downstream, behind the ERP's own circuit
// breaker, and every failure is the *downstream.Error that package returns,
// unwrapped, so callers classify it with downstream.AsError:
//
//   - Permanent: the ERP refused and the same call cannot succeed on retry —
//     409 insufficient_stock, 409 for cancelling an invoiced sales order,
//     422 unknown SKU or reused idempotency key, 404 unknown customer, sales
//     order or invoice; also a write without an idempotency key, which is
//     refused before it is sent.
//   - Transient: 5xx, 408, 429, timeouts and transport errors; retry with
//     the same idempotency key.
//   - BreakerOpen: the call was not made; back off for RetryAfter.
//
// Writes (CreateSalesOrder, CancelSalesOrder, CreateInvoice, VoidInvoice,
// IssueCreditNote, VoidCreditNote and the rest) take an idempotency key
// that callers derive from the order and the step. The ERP stores the first successful answer under it, so a retry after a
// lost answer returns the same sales order or invoice instead of reserving or
// invoicing twice. The same key with a different request is a permanent 422.
//
// A write whose answer was lost can still be undone: CancelSalesOrderByKey,
// VoidInvoiceByKey, VoidCreditNoteByKey and CancelRMAByKey name what to
// undo by the idempotency key it was created under (POST
// /v1/sales-orders/cancel-by-key, /v1/invoices/void-by-key,
// /v1/credit-notes/void-by-key, /v1/rmas/cancel-by-key, body
// {"forward_key": …}) and carry a key of their own; write-offs and credit
// allocations are undone by key only (VoidWriteOff, VoidCreditAllocation). Undo.Found is false when nothing was ever created under the
// key: nothing to undo, a success; the ERP then refuses a later write under
// that key (409 undone_by_key), so nothing appears behind the undo's back.
//
// The wire shapes (JSON, money as {"minor", "currency"}, RFC 3339 times) are
// the ERP contract; internal/sim/erpsim implements the other side for dev
// mode and tests and deliberately shares no code with this package, so each
// checks the other.
package erp
