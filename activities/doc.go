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
// Errors say whether a retry can help. A permanent failure (a 4xx the outside
// system will give again, an unknown customer) is a non-retryable
// ApplicationError; a breaker that is open asks Temporal to come back when it
// may let a probe through (NextRetryDelay); anything else is retried with
// backoff until the step's budget runs out and the order asks CS for help.
package activities
