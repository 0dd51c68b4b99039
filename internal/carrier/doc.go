// Package carrier is orderflow's client of the logistics provider: book a
// shipment, cancel it (the booking's undo), and track it (the polling
// fallback for when the delivery webhook goes missing); book a return
// pickup (BookReturn, POST /v1/returns), whose goods coming back the
// carrier reports with a signed "returned" event, and cancel it.
//
// Every call goes through the carrier's circuit breaker (package
// downstream), and every failure is a *downstream.Error that says whether
// retrying can help: a 4xx such as an invalid booking (422), an unknown
// shipment (404) or a cancel after delivery (409) is permanent; 5xx,
// timeouts, 408/429 and an open breaker are not. Book and Cancel carry an
// idempotency key, so an activity that retries them never books or cancels
// twice; the caller derives the key from the order and the step.
//
// CancelByKey cancels the shipment booked under a key, for a shipper that
// lost the booking's answer (POST /v1/shipments/cancel-by-key, body
// {"forward_key": …}); Undo.Found is false when nothing was booked under it
// (nothing to undo, a success, and the carrier refuses a later booking
// under that key with 409 undone_by_key). CancelReturnByKey does the same
// for a return pickup (POST /v1/returns/cancel-by-key).
package carrier
