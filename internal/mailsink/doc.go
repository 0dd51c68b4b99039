// Package mailsink is the development SMTP server that swallows every mail
// orderflow sends, so dev mode and tests can read them instead of mailing
// real buyers.
//
// A [Sink] listens for SMTP on the loopback interface (github.com/emersion/go-smtp,
// no authentication, no TLS), accepts every message, and keeps the last
// Options.MaxMessages (1000 by default) in memory, parsed: envelope
// recipients, From, Subject, the plain-text body, the Message-ID, and the
// X-Orderflow-Id, X-Orderflow-Kind and X-Orderflow-Order headers that
// internal/mail sets. With Options.DB (as `orderflow dev` and `orderflow sim`
// run it) every message is also written to PostgreSQL (table
// mailsink_messages, migrated by the package's own tern migrations, version
// table mailsink_schema_version) before the delivery is acknowledged, and a
// new sink on the same database starts with the newest MaxMessages kept
// there, like the simulators carry on after a restart. Without a database
// (unit tests) a restart forgets all.
//
// orderflow's mail sender derives the Message-ID from the order and step, so
// an activity that retries after a delivery it did not see succeed sends the
// same Message-ID again. The sink stores that copy too, because a real server
// would deliver it, but marks it Duplicate: tests assert that a retried step
// produced no second "new" mail by counting the messages that are not
// duplicates.
//
// Tests read mail with [Sink.Messages] or wait for it with [Sink.WaitFor],
// which wakes on each delivery rather than polling. People read it through
// [Sink.Handler]:
//
//	GET    /                    HTML list, newest first, each row linking to the message
//	GET    /messages            JSON list in arrival order; filters ?to= &order= &kind=
//	GET    /messages/{id}       JSON of one message with its text (HTML when the browser asks for it)
//	GET    /messages/{id}/raw   the message as received (RFC 5322)
//	DELETE /messages            forget every message
//	GET|PUT|DELETE /faults      a simulated outage: PUT {"refuse": true} answers
//	                            every MAIL FROM with 421 (transient) until
//	                            {"refuse": false} or DELETE
//
// The links on the HTML pages are relative, so the handler can be mounted
// under a prefix with http.StripPrefix (mount it at "/mail/", with the slash).
package mailsink
