// Package erpsim is a simulated ERP that follows the HTTP contract orderflow's
// ERP client (internal/erp) speaks. It serves dev mode, tests and benchmarks.
//
// # The ERP contract (under /v1)
//
//	POST /v1/prices                       list prices per SKU and currency
//	GET  /v1/customers/{id}/exposure      open receivables in ?currency=
//	POST /v1/sales-orders                 create a sales order, reserve stock
//	POST /v1/sales-orders/{id}/cancel     release the reservation
//	POST /v1/invoices                     invoice a sales order: amount (the gross) and, optionally,
//	                                      net and tax (both or neither, net + tax = amount);
//	                                      the answer carries amount, net and tax
//	POST /v1/invoices/{id}/void           void an invoice
//	POST /v1/sales-orders/cancel-by-key   {"forward_key"}: cancel the sales order created under that key
//	POST /v1/invoices/void-by-key         {"forward_key"}: void the invoice raised under that key
//	POST /v1/credit-notes                 credit an invoice: {invoice_id, customer_id, kind: full | lines | amount,
//	                                      amount (kind amount), lines: [{sku, quantity, amount}] (kind lines), reason}
//	POST /v1/credit-notes/{id}/void       take a credit note back
//	POST /v1/credit-notes/void-by-key     {"forward_key"}: void the credit note issued under that key
//	POST /v1/refunds                      record a refund: {customer_id, amount, bank_transaction_id (the payment;
//	                                      empty: the credit balance), reason}
//	POST /v1/write-offs                   give up what is open on an invoice: {invoice_id, customer_id, amount,
//	                                      reason (required)}; answers {write_off_id, invoice_id, amount,
//	                                      invoice_open_after}
//	POST /v1/write-offs/void-by-key       {"forward_key"}: void the write-off posted under that key
//	POST /v1/credit-allocations           apply the credit balance to an invoice: {customer_id, invoice_id,
//	                                      amount, reason}; answers {allocation_id, applied,
//	                                      credit_balance_after, invoice_open_after}
//	POST /v1/credit-allocations/void-by-key {"forward_key"}: void the allocation made under that key
//	POST /v1/replacement-orders           a reship from stock: {order_id, customer_id, replaces, lines, reason};
//	                                      cancelled like a sales order (by id or by key)
//	POST /v1/rmas                         authorise a return: {order_id, sales_order_id, customer_id, lines, reason}
//	POST /v1/rmas/{id}/cancel             withdraw it
//	POST /v1/rmas/cancel-by-key           {"forward_key"}: cancel the RMA authorised under that key
//	POST /v1/rmas/{id}/receive            the goods are back: on hand again
//
// The by-key undos are for a caller that lost a write's answer and so never
// learnt the id: forward_key is the Idempotency-Key the create was sent
// with, and the undo carries a key of its own (400 when it is missing or is
// forward_key). They answer 200 {"forward_key","found":true,"status":
// "cancelled"|"void","sales_order_id"|"invoice_id"}, or, when nothing was
// ever created under the key, 200 {"forward_key","found":false,"status":
// "nothing_to_undo"}: undoing what never happened is a success, as a real
// ERP's "cancel of an unknown reference" is treated. The key is then fenced:
// a create that arrives later under it is refused with 409 undone_by_key
// and reserves or invoices nothing. Otherwise they refuse as the undo by id
// does (409 sales_order_invoiced), and 422 not_a_sales_order_key /
// not_an_invoice_key when the key's write made something else. Fault rules
// and call counts treat them as sales-orders.cancel and invoices.void.
//
// Stock is reserved all or nothing, filling each line from the warehouses in
// name order and splitting it when one warehouse runs short; the answer holds
// one reservation per warehouse used, and each becomes one shipment. Invoice
// numbers (INV-000001, …) have no gaps.
//
// # Credit notes and credit balances
//
// A credit note (CN-000001, …, no gaps) credits an invoice in full (what is
// left to credit), by lines (a quantity and a gross amount per SKU, never
// more of a SKU than the invoice's sales order holds less what was credited
// on it before: 422 credit_exceeds_quantity) or by an amount; never more in
// all than the invoice's gross (422 credit_exceeds_invoice; 409
// nothing_to_credit when it is credited in full, 409 invoice_void). Its tax
// is the invoice's share of it, and the credit note that completes the
// invoice's credit takes the rest of the invoice's tax. What it credits
// comes off what is still open on the invoice and so off the customer's
// open receivables (applied_to_invoice); what goes beyond, because the
// invoice was paid, becomes the customer's credit balance
// (to_credit_balance). The credit balance also takes overpayments (a
// statement line paying more than is open on its invoice) and what was paid
// on an invoice that is then voided; refunds pay it out, and GET
// /v1/customers/{id}/exposure answers it as credit_balance beside the open
// receivables. An invoice with issued credit notes cannot be voided (409
// invoice_credited); void the credit notes first. Voiding a credit note
// opens the invoice again and takes its part off the credit balance, which
// is refused (409 credit_note_refunded) when that part was refunded since.
//
// # Refunds
//
// A refund (RF-000001, …) records money paid back to a customer; the bank
// moves it. A refund of a payment (a statement line, by its bank
// transaction id) is never more than the payment brought in less what was
// refunded of it before (422 refund_exceeds_payment). A refund of the
// credit balance, and a refund of a payment that was applied to one of the
// customer's invoices, is never more than the credit balance (422
// refund_exceeds_credit_balance): money still applied to an open invoice is
// paid back only after a credit note or a void took the invoice down. A
// payment that named no invoice is nobody's balance, and its refund is
// bounded by the payment alone. A refund changes no receivables.
//
// # Write-offs and credit allocations
//
// What is open on an invoice is its gross less what payments applied to
// it, what credit notes took off it, what was written off and what credit
// allocations applied: amount - paid - credit_applied - written_off -
// allocated. An invoice with nothing open is settled; it keeps the status
// open (the simulator has no paid status), takes no write-off or
// allocation (409 invoice_settled), and a payment naming it goes to the
// credit balance.
//
// A write-off (WO-000001, …) gives up part or all of what is open on an
// invoice, say a short payment within the customer's tolerance: it comes
// off the invoice and the receivables, and no money moves. Never more than
// is open (422 write_off_exceeds_open, field amount); a void invoice is 409
// invoice_void, another customer's 422 customer_mismatch, another currency
// 422 currency_mismatch (field amount). A write-off must give a reason.
// What was written off cannot be credited (a credit note beyond what is
// open hands out credit balance, and nobody paid that part).
//
// A credit allocation (CA-000001, …) applies part of the customer's credit
// balance in the invoice's currency to one of its open invoices: the
// amount comes off the balance, the invoice and the receivables, at most
// min(balance, open) (422 allocation_exceeds_credit_balance or
// allocation_exceeds_open, field amount). Voiding one gives the balance
// back and opens the invoice again; it is refused (409 allocation_credited)
// when a credit note beyond what was open has since moved that money back
// to the balance: void the credit note first.
//
// Both are undone by key only (void-by-key, as described above; found
// false when nothing was made under the key, which is then fenced).
// Voiding an invoice voids its write-offs and allocations with it: what was
// allocated goes back to the credit balance like what was paid.
//
// The ledger identity, per customer and currency, for customers without an
// opening balance (the seed's): invoiced (non-void invoices) - credited
// (issued credit notes) - written off (posted write-offs) = payments (the
// full amount of every statement line that named one of the customer's
// invoices) - refunds (of the credit balance, or of such a payment) + open
// receivables - credit balance. Allocations move money from the balance to
// an invoice and appear on neither side. ledger_property_test.go holds it
// over random sequences of every write.
//
// # Replacement orders
//
// A replacement order is a sales order (SO-…) that reships goods lost or
// damaged on the way: the lines again, for the order and customer of the
// sales order it replaces (replaces), no SKU that one does not hold and no
// more of one than it held (422 sku_not_on_sales_order,
// replacement_exceeds_sales_order). Stock is reserved as for any sales order
// (all or nothing, one reservation per warehouse, 409 insufficient_stock)
// and issued at once, status "issued": the ERP hears nothing from the
// carrier and no invoice will ever issue it, since the customer is not
// invoiced for a replacement (409 replacement_not_invoiced). Cancelling it
// (by id or by key, like any sales order) puts the goods back on hand.
//
// # Return authorisations
//
// An RMA (RMA-000001, …) authorises the return of lines of a sales order,
// a quantity each: only of goods that left the warehouse (409
// not_delivered before the goods issue), only SKUs the sales order holds
// (422 sku_not_on_sales_order), never more of one than it holds less what
// other RMAs not cancelled take back (422 return_exceeds_delivered).
// Receiving it puts the goods back on hand, each SKU in the first warehouse
// (by name) it was taken from; a received RMA cannot be cancelled (409
// rma_received), a cancelled one not received (409 rma_cancelled). A sales
// order with RMAs that are not cancelled cannot be cancelled (409
// sales_order_returned): the goods would come back twice.
//
// # Stock
//
// Each warehouse keeps on_hand and reserved per SKU; available = on_hand -
// reserved. A sales order reserves; cancelling it releases the reservation.
// The first invoice of a sales order is its goods issue: the reserved units
// leave the warehouse (on_hand and reserved both drop), because orderflow
// invoices once the shipments are delivered and the simulated ERP hears
// nothing from the carrier. A sales order cancelled after its goods issue
// (void, then cancel) puts the units back on hand. Goods come in through
// POST /sim/stock (Restock) or, when SetAutoRestock is on (the dev default of
// `orderflow dev` and `orderflow sim`), by themselves: a sales order that
// finds a seeded SKU with less than half its seed level available in a
// warehouse first refills it to the seed level.
//
// # Idempotency
//
// Every write requires an Idempotency-Key. The key, a hash of the request
// (method, path, decoded body) and the answer are stored in the same
// transaction as the effect, and the key is claimed by the transaction's first
// statement, so concurrent retries queue behind the first and then replay its
// answer byte for byte; the same key with another request is 422
// idempotency_key_reused. Only successful answers are stored: a refusal
// (404, 409, 422) changed nothing and is rolled back with its claim, so a key
// retried after the cause is fixed is evaluated afresh rather than refused
// forever. A retry can therefore never reserve or invoice twice. The
// machinery is package idempotency's; the keys live in erpsim_idempotency_keys.
//
// # State and restarts
//
// Everything the ERP remembers (products, stock, sales orders, reservations,
// invoices, receivables, credit notes, credit balances, refunds, write-offs,
// credit allocations, idempotency keys, per-route call counts) lives in
// PostgreSQL tables prefixed erpsim_, migrated by the package's own embedded
// tern migrations (version table erpsim_schema_version). A new Sim on the same
// database carries on where the last one stopped, and Seed only adds missing
// demo rows, so a restart never refills consumed stock.
//
// # Control endpoints (under /sim; not part of the ERP contract)
//
//	GET    /sim/sales-orders?order_id=    sales orders with status and reservations
//	GET    /sim/invoices?order_id=        invoices
//	GET    /sim/credit-notes?order_id=    credit notes with their lines
//	GET    /sim/credit-balances?customer_id= credit balances per customer and currency
//	GET    /sim/refunds?customer_id=      refunds
//	GET    /sim/write-offs?customer_id=   write-offs, posted and void
//	GET    /sim/credit-allocations?customer_id= credit allocations, applied and void
//	GET    /sim/rmas?order_id=            return authorisations with their lines
//	GET    /sim/stock                     on hand, reserved and available per warehouse and SKU
//	POST   /sim/stock                     receive goods: {"warehouse","sku","add":n} or {…,"available":n}
//	POST   /sim/receivables               book receivables outside orderflow: {"customer_id","amount":{"minor","currency"}} (negative takes off)
//	GET    /sim/calls                     calls received per route, faulted ones included
//	GET|PUT|DELETE /sim/faults            fault rules
//
// Fault rules (FaultRule; also SetFaults and ClearFaults) are knobs, kept in
// memory per Sim: latency, a number of calls to fail next, an error rate and
// an outage window, per route or for every route ("*"). By default
// ("mode":"refuse") a fault answers before the handler touches anything, so
// an injected failure never has an effect — like a request lost before it
// reached the ERP. "mode":"drop_answer" is the other lost message: the call
// commits (and its idempotent answer is stored), then the connection is
// closed without an answer, so the caller cannot tell whether the ERP
// reserved or invoiced (package faults).
package erpsim
