// Package carriersim simulates the logistics provider orderflow books
// shipments with: its HTTP contract, its signed delivery webhooks, and knobs
// for the failures a real carrier has.
//
// # Contract (JSON)
//
// Writes need an Idempotency-Key header (400 without). The same key with the
// same request returns the first answer (header Idempotent-Replayed: true);
// the same key with another request is 422 {"error":"idempotency_key_reused"}.
// Only successful answers are stored: a refusal (404, 409, 422) changed
// nothing, so the same key retried later is evaluated afresh (package
// idempotency; the keys live in carriersim_idempotency_keys).
//
//	POST /v1/shipments              {reference, warehouse, lines:[{sku,quantity}]}
//	                                → 201 {shipment_id, tracking_number, promised_date, status:"booked"}
//	                                  422 {error:"invalid_request", field, detail}
//	POST /v1/shipments/{id}/cancel  → 200 {shipment_id, status:"cancelled"} (also when already cancelled);
//	                                  409 when delivered; 404 when unknown
//	GET  /v1/shipments/{id}         → 200 {shipment_id, tracking_number, reference, status,
//	                                  promised_date, delivered_at} — the polling fallback
//	POST /v1/shipments/cancel-by-key {forward_key}
//	                                → 200 {forward_key, found:true, status:"cancelled", shipment_id};
//	                                  200 {forward_key, found:false, status:"nothing_to_undo"}
//	                                  when nothing was booked under the key; 409 when delivered
//	POST /v1/returns                {reference, rma, warehouse, lines:[{sku,quantity}]}
//	                                → 201 {return_id, tracking_number, pickup_date, status:"booked"}
//	POST /v1/returns/{id}/cancel    → 200 {return_id, status:"cancelled"}; 409 when the goods are back
//	POST /v1/returns/cancel-by-key  {forward_key} → 200 {forward_key, found, status, return_id}
//
// Cancel-by-key is for a shipper that lost a booking's answer and so its
// shipment id: forward_key is the Idempotency-Key the booking was sent with,
// and the cancel carries a key of its own (400 when missing or equal to
// forward_key). Undoing a booking that never happened is a success, and
// the key is then fenced: a booking that arrives later under it is refused
// with 409 undone_by_key. Fault rules treat it as shipments.cancel.
//
// A return pickup collects goods from the customer (from Options.PickupDays
// after booking, default 1) and brings them back to the warehouse named; it
// is a shipment of kind "return" with its own id (RET-…) and tracking
// number, tracked with GET /v1/shipments/{id} like any other, and it ends
// "returned". A second booking for the same order and warehouse (a reship)
// is an ordinary booking under a key of its own.
//
// The promised date is the booking time plus Options.PromiseDays. Statuses
// are booked, in_transit, delivered, cancelled and exception; the simulator
// itself never moves a shipment to in_transit (a real carrier does, and
// clients must accept it).
//
// # Webhooks
//
// Delivering a shipment (POST /sim/shipments/{id}/deliver, [Sim.Deliver], or
// the auto-delivery loop) records a "delivered" [webhook.LogisticsEvent] and
// queues it in the outbox, in the same transaction; [Sim.Run] sends it,
// signed, to Options.WebhookURL until the receiver answers 2xx (see package
// outbox). Delivering twice returns the first event and sends nothing new.
// An exception (POST /sim/shipments/{id}/exception) sends an "exception"
// event. The goods of a return pickup coming back (POST
// /sim/returns/{id}/returned, [Sim.Return], or Options.AutoReturnAfter after
// booking) sends a "returned" event, once, whose shipment_id is the return
// id. With Options.DropWebhooks the events are recorded but never sent,
// so the polling fallback has to notice the delivery;
// POST /sim/events/{id}/redeliver sends one anyway (late, or a second time).
//
// # Control endpoints
//
//	POST /sim/shipments/{id}/deliver    → 202 {shipment_id, event_id}; 200 when already delivered; 409 when cancelled
//	POST /sim/shipments/{id}/exception  {detail} → 202 {shipment_id, event_id}
//	POST /sim/returns/{id}/returned     → 202 {return_id, event_id}; 200 when back already; 409 when cancelled
//	                                      or not a return pickup
//	GET  /sim/shipments?reference=      → {shipments:[…]}
//	GET  /sim/events?shipment_id=       → {events:[…]}
//	POST /sim/events/{id}/redeliver     → 202 {event_id}
//	GET|PUT|DELETE /sim/faults          → fault rules on routes shipments.book,
//	                                      shipments.cancel, shipments.get, returns.book,
//	                                      returns.cancel or "*" (package faults);
//	                                      "mode":"drop_answer" books (or cancels) and then closes
//	                                      the connection without an answer
//
// State lives in PostgreSQL (tables carriersim_*, plus the shared sim_outbox),
// so a restart loses nothing and several processes may share one database.
package carriersim
