// Package api is orderflow's HTTP surface: the v1 REST API the storefront,
// buyers, approvers, finance and CS call; the signed webhooks of the carrier
// and the bank; the buyer's NPS survey page; and the health, readiness,
// metrics and OpenAPI endpoints. New builds the whole handler from Deps.
//
// # Authentication
//
// Everything under /v1 needs a bearer token (see internal/auth) except the
// webhooks, which are authenticated by an HMAC-SHA256 signature in the
// Webhook-Signature header, and /survey/{token}, where the unguessable token in
// the path is the secret. A buyer-role token sees only its own customer's
// orders: another customer's order answers 404, exactly like a missing one, so
// that order ids do not leak across customers.
//
// # Errors
//
// Every error is an RFC 7807 application/problem+json document
// {type, title, status, detail, instance, request_id, errors: [{field, reason}]}
// produced by one function, problemFor, which is the only place that chooses
// an HTTP status for an error. Bad input never answers 500: malformed JSON,
// unknown fields and wrong types are 400 naming the field, values that parse
// but break a rule are 422 naming the field, bodies over 1 MiB are 413. A 500
// means a real fault; its cause is logged with the request id and never sent
// to the client.
//
// # Orders are workflows
//
// POST /v1/quotes writes the order's projection row and idempotency key to
// PostgreSQL first and then starts the order workflow whose id is the order
// id. A replay of the same Idempotency-Key and body starts the workflow again
// (a no-op when it runs), because the first request may have died between the
// two steps. The POST /v1/orders/{id}/… endpoints are Temporal Updates that
// wait for the workflow's answer. Their validators reject with
// ApplicationErrors whose Type the API maps to a status:
//
//	workflows.ErrTypeForbidden       "Forbidden"        403
//	workflows.ErrTypeInvalidState    "InvalidState"     409
//	workflows.ErrTypeInvalidArgument "InvalidArgument"  422
//
// An update to a workflow that has closed answers 409 "order is finished".
// Any other ApplicationError out of an update is a fault (500): the workflow
// broke the contract above.
//
// Reads answer from the projection: GET /v1/orders and GET /v1/orders/{id}
// query no workflow, so polling does not compete with the orders for the
// worker. GET /v1/orders/{id}?live=true adds the workflow's details query
// (workflows.QueryDetails), and so does a read of an order the projection
// holds no row of yet; the answer's source ("projection" or "workflow") and
// seq say which answered and how new the projection part is.
//
// # Webhooks
//
// A webhook event is acted on (signalled to its order) before it is recorded
// as seen, so that when the signal fails the sender's retry is not dropped as
// a duplicate; the workflow ignores a repeated signal. Delivered events signal
// workflows.SignalDelivered, exceptions workflows.SignalShipmentException;
// payments are stored, matched to an invoice by
// the reference and signalled as workflows.SignalPayment, or left unmatched
// for finance, who allocates them with POST /v1/payments/{id}/allocate.
// Webhook bodies are decoded leniently (unknown fields are ignored): the
// senders are outside systems that add fields ahead of us.
package api
