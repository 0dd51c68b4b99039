// Package banksim simulates the seller's bank: money arrives on the
// account, and the bank tells orderflow with a signed webhook.
//
//	POST /sim/payments {reference, amount:{minor, currency}, payer, remittance:[{reference, amount}]}
//	                   → 202 {bank_transaction_id, event_id}
//	GET  /sim/payments?reference=  → {payments:[…]}
//	POST /sim/events/{id}/redeliver → 202 {event_id}: send the event again (a duplicate)
//	POST /v1/transfers {to:{name, account}, amount, reference, refund_of} (Idempotency-Key)
//	                   → 201 {transfer_id, status:"executed", to, amount, reference, refund_of, executed_at}
//	GET  /sim/transfers?refund_of=  → {transfers:[…]}: the outgoing transfers, e.g. a refund
//	GET|PUT|DELETE /sim/faults     → fault rules on route transfers.create or "*" (package faults)
//
// A payment is stored as a bank transaction ("BTX-…") and its
// [webhook.PaymentEvent] is queued in the outbox in the same transaction;
// [Sim.Run] sends it, signed, to Options.WebhookURL until the receiver answers
// 2xx (see package outbox). The reference is the payer's remittance text and
// is deliberately not checked: payments with no reference, a wrong one or an
// amount that does not match the invoice are what finance's unmatched-payment
// queue is for, and the simulator must be able to send them.
//
// A payment may carry a remittance list: several invoice references with an
// amount each, adding up to the amount, in its currency (checked as
// webhook.PaymentEvent.CheckRemittance does; 422 naming the field
// otherwise). Its webhook carries the list.
//
// Every booked payment also goes to Options.Statement, if set: the ERP
// simulator imports it as a bank statement line (erpsim.Sim.PostBankPayment),
// so paid invoices leave the customer's receivables. A payment with a
// remittance list is one statement line per part, under the part's id
// (webhook.PartTransactionID: "BTX-…:INV-000002").
//
// # Outgoing transfers
//
// orderflow pays refunds through POST /v1/transfers, idempotent by key like
// every simulator write (package idempotency; the keys live in
// banksim_idempotency_keys): the same key and request is the same transfer,
// another request under it 422 idempotency_key_reused. A refund names the
// incoming payment it pays back in refund_of (a bank transaction id, or a
// remittance part's id); it goes to that payment's payer unless to.name
// says otherwise, back to the account the money came from unless
// to.account says otherwise, in the payment's currency (422
// currency_mismatch), and never for more than the payment (or the part)
// brought in less what was paid back of it before (422
// refund_exceeds_payment, 422 unknown_payment for an id the bank never
// saw). A transfer that pays back no payment names its payee and account.
// The simulated bank executes every transfer at once. The route has fault
// rules like the ERP's and the carrier's: "mode":"drop_answer" pays out
// and then loses the answer, so a retry under the same key must find the
// transfer instead of paying twice.
//
// To simulate an outage of incoming payments, stop sending them; to
// simulate a receiver outage, point the webhook at it while it is down and
// watch the outbox retry.
package banksim
