// Package activities holds the order workflow's activities: every call to the
// ERP, the carrier, the mail system and orderflow's own database.
//
// Activities are methods on Activities, which holds the clients; each takes one
// XInput and returns one XResult. Every call that changes something outside
// carries an idempotency key derived from the order and the step (see Key), so a
// retried activity never books, reserves or invoices twice; a retried mail
// may be delivered twice (SMTP cannot promise more), with the same Message-ID
// so that the receiver can tell the copy.
//
// The undos (CancelSalesOrder, CancelShipment, VoidInvoice) take the id
// the forward call returned or, when its answer never came, the forward
// call's key (SalesOrderKey, ShipmentKey, InvoiceKey): the outside system
// finds what was made under it. Registered with the key before the forward
// call runs, an undo also takes back a change whose answer was lost; when
// nothing was made under the key, the result says NothingToUndo, and the
// outside system refuses the forward call under that key from then on.
//
// The after-sales writes (IssueCreditNote, Refund, CreateRMA,
// BookReturnPickup, CreateReplacementOrder, and BookShipment for a reship)
// happen more than once per order, so they take their key in the input
// (CreditNoteKey, RefundKey, RMAKey, ReturnPickupKey, ReplacementOrderKey,
// ReshipKey number them); their undos (VoidCreditNote, CancelRMA,
// CancelReturnPickup, CancelReplacementOrder) take the id or that key as
// ForwardKey, like the others. A refund has no undo: it is itself the undo
// of a payment. It books the ERP's refund and then the bank's transfer,
// each under a key derived from its own (RefundKeys), so a retry after
// either answer was lost pays once.
//
// Finance's ledger writes (WriteOff, AllocateCredit: cash.go) take their
// key in the input too (WriteOffKey, CreditAllocationKey); their undos
// (VoidWriteOff, VoidCreditAllocation) go by that key alone.
//
// Errors say whether a retry can help. A permanent failure (a 4xx the outside
// system will give again, an unknown customer) is a non-retryable
// ApplicationError. A transient outside failure and a call an open breaker
// refused carry their own NextRetryDelay (RetryDelay): exponential by the
// attempt, capped, never before the breaker lets a probe through, and
// jittered so that orders which failed together do not retry together.
// Errors of our own database are left to the workflow's retry policy.
package activities
