// Package webhook signs and verifies the webhooks that the carrier and the
// bank send to orderflow, and defines the event bodies that cross the wire.
//
// # Signature
//
// Every webhook request carries the header
//
//	Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<body>")>
//
// The timestamp is inside the signed bytes, so an attacker who captured a
// request cannot replay it once the receiver's tolerance has passed; the
// receiver additionally drops duplicates by event id. A header may carry
// several v1 entries: while a secret is being rotated the sender signs with
// the old and the new one, and a receiver that knows either accepts. Entries
// with other keys (a future v2, say) are ignored so senders can add schemes
// without breaking receivers.
//
// [Verify] tells a forged or unsigned request ([ErrBadSignature]) from a
// malformed timestamp ([ErrBadTimestamp], also an ErrBadSignature) and from
// a genuine but old one ([ErrStale]).
//
// # Events
//
// [LogisticsEvent] and [PaymentEvent] are the JSON bodies the carrier and the
// bank simulators send and the REST API receives. They are the contract
// between the two sides; change them on both at once. A payment may carry a
// remittance: several invoice references with an amount each
// ([PaymentEvent.Remittance], checked by [PaymentEvent.CheckRemittance]);
// without one it is a single reference and amount, as before the list
// existed. Each part is applied under its own id, [PartTransactionID].
package webhook
