// Package mail renders and sends the mails orderflow writes: quotes and their
// reminders to the buyer, follow-up notes to the sales rep, approval requests,
// order, shipment and invoice notices, credit notes, the NPS survey, dunning
// in three levels (a friendly reminder, a second notice, a final notice; see
// [DunningKind]), and the alerts to CS and finance. Invoice, credit-note and
// dunning mails link the buyer's printable document and its UBL export when
// Data.DocumentURL is set (the SendMail activity sets it).
//
// # Rendering
//
// [Render] turns a [Kind] and the [Data] a workflow holds into a subject and a
// plain-text body. There is one text/template per kind (templates/*.tmpl,
// embedded); the helpers they share (greeting, order reference, quote table,
// signature) live in templates/common.tmpl. Amounts are printed with
// money.Money.String ("1234.50 EUR") and dates as 2006-01-02 in UTC, so a mail
// reads the same wherever the worker runs. Render refuses Data that lacks what
// the kind is about (an invoice mail without an invoice) instead of sending a
// mail with holes in it.
//
// # Sending
//
// [Sender.Send] delivers one [Message] over SMTP (github.com/wneessen/go-mail)
// through the mail system's circuit breaker. Message.ID is the idempotency key
// the activity derives from the order and the step; it becomes the Message-ID
// "<ID@orderflow>" and the X-Orderflow-Id header, next to X-Orderflow-Kind and
// X-Orderflow-Order. SMTP has no idempotency of its own, so a retried activity
// may deliver the same mail twice; the stable Message-ID lets mail clients and
// the dev sink (internal/mailsink) recognise the second copy as the same mail.
//
// Every failure is a *downstream.Error with System "mail", classified so the
// activity can decide whether to retry:
//
//   - the message itself is wrong (no recipient, an address that does not
//     parse, no subject or body, an ID that cannot be a Message-ID), or the
//     Config is: Permanent, found before dialling;
//   - the server refuses the sender, a recipient or the content with a 5xx
//     reply (550 mailbox unavailable, 553 bad address, 554 rejected): Permanent,
//     the same mail will be refused again;
//   - everything else is transient: 4xx replies (451, 452), refused
//     connections, timeouts, a server that greets with 421 or 554, a failed
//     STARTTLS or login. These say the mail system is unwell rather than that
//     the mail is bad, they count towards the breaker, and an open breaker
//     answers with BreakerOpen set.
//
// A mail the server accepted counts as sent even if closing the connection
// afterwards fails: retrying it would deliver it a second time.
package mail
