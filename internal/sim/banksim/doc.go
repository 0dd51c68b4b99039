// Package banksim simulates the seller's bank: money arrives on the
// account, and the bank tells orderflow with a signed webhook.
//
//	POST /sim/payments {reference, amount:{minor, currency}, payer}
//	                   → 202 {bank_transaction_id, event_id}
//	GET  /sim/payments?reference=  → {payments:[…]}
//	POST /sim/events/{id}/redeliver → 202 {event_id}: send the event again (a duplicate)
//
// A payment is stored as a bank transaction ("BTX-…") and its
// [webhook.PaymentEvent] is queued in the outbox in the same transaction;
// [Sim.Run] sends it, signed, to Options.WebhookURL until the receiver answers
// 2xx (see package outbox). The reference is the payer's remittance text and
// is deliberately not checked: payments with no reference, a wrong one or an
// amount that does not match the invoice are what finance's unmatched-payment
// queue is for, and the simulator must be able to send them.
//
// Every booked payment also goes to Options.Statement, if set: the ERP
// simulator imports it as a bank statement line (erpsim.Sim.PostBankPayment),
// so paid invoices leave the customer's receivables.
//
// The bank has no API orderflow calls, so it has no fault rules: to simulate
// a bank outage, stop sending payments; to simulate a receiver outage, point
// the webhook at it while it is down and watch the outbox retry.
package banksim
