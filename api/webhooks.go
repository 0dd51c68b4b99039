package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"

	"github.com/orderflow/orderflow/internal/creditref"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// Webhook sources, as recorded for duplicate detection.
const (
	SourceLogistics = "logistics"
	SourcePayments  = "payments"
)

// Statuses a webhook answers with (200 {"status": …}).
const (
	WebhookAccepted  = "accepted"
	WebhookDuplicate = "duplicate"
	WebhookIgnored   = "ignored"
	WebhookUnmatched = "unmatched"
)

// maxWebhookID bounds event, shipment and transaction ids; maxWebhookText
// bounds free text such as a reference or an exception's detail.
const (
	maxWebhookID   = 200
	maxWebhookText = 2000
)

// verifyWebhook checks the signature header against the body. A missing
// header or a signature that does not match is a 401 (webhook.ErrBadSignature);
// a timestamp that is malformed or outside the tolerance is a 400 naming the
// header, so the sender can tell a clock or formatting fault from a secret
// that does not match.
func (s *server) verifyWebhook(secret []byte, r *http.Request, body []byte) error {
	if len(secret) == 0 {
		// Verifying against an empty key would accept forgeries.
		return unavailable("this webhook is not configured", errors.New("webhook secret is empty"))
	}
	err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, s.now(), s.tolerance)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, webhook.ErrBadTimestamp):
		return &apiError{status: http.StatusBadRequest, slug: ProblemBadRequest,
			detail: "the " + webhook.SignatureHeader + " header's timestamp is malformed",
			fields: []order.FieldError{{Field: webhook.SignatureHeader, Reason: "t= must be given once, as the signing time in unix seconds"}},
			err:    err}
	case errors.Is(err, webhook.ErrStale):
		return &apiError{status: http.StatusBadRequest, slug: ProblemStaleSignature,
			detail: "the signature timestamp is outside the accepted window; sign again and resend",
			fields: []order.FieldError{{Field: webhook.SignatureHeader, Reason: fmt.Sprintf("t= must lie within %s of our clock", s.tolerance)}},
			err:    err}
	case errors.Is(err, webhook.ErrBadSignature):
		return err
	}
	return fmt.Errorf("%w: %w", webhook.ErrBadSignature, err)
}

// checkID checks an identifier from an outside sender: required or not,
// bounded, printable, so it is safe in PostgreSQL text, logs and Temporal.
func checkID(field, v string, required bool) *order.FieldError {
	switch {
	case v == "" && required:
		return &order.FieldError{Field: field, Reason: "required"}
	case len(v) > maxWebhookID:
		return &order.FieldError{Field: field, Reason: fmt.Sprintf("at most %d bytes", maxWebhookID)}
	case !utf8.ValidString(v):
		return &order.FieldError{Field: field, Reason: "not valid UTF-8"}
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return &order.FieldError{Field: field, Reason: "printable characters only"}
		}
	}
	return nil
}

// checkFreeText checks free text from an outside sender: bounded, and free of
// NUL, which PostgreSQL text cannot hold.
func checkFreeText(field, v string) *order.FieldError {
	if utf8.RuneCountInString(v) > maxWebhookText || strings.ContainsRune(v, 0) {
		return &order.FieldError{Field: field, Reason: fmt.Sprintf("at most %d characters, no NUL", maxWebhookText)}
	}
	return nil
}

func validateLogistics(ev webhook.LogisticsEvent) error {
	var kind *order.FieldError
	switch ev.Type {
	case webhook.LogisticsDelivered, webhook.LogisticsException, webhook.LogisticsInTransit, webhook.LogisticsReturned:
	default:
		kind = &order.FieldError{Field: "type", Reason: "one of delivered, exception, in_transit, returned"}
	}
	// Deliveries, exceptions and returns go to an order: they must name it
	// and the shipment (for a return, the return pickup).
	routed := ev.Type == webhook.LogisticsDelivered || ev.Type == webhook.LogisticsException || ev.Type == webhook.LogisticsReturned
	// The order weighs a delivery or an exception by when it happened.
	var when *order.FieldError
	if routed && ev.OccurredAt.IsZero() {
		when = &order.FieldError{Field: "occurred_at", Reason: "required for a delivery, an exception or a return"}
	}
	return collect(
		checkID("event_id", ev.EventID, true),
		kind,
		checkID("shipment_id", ev.ShipmentID, routed),
		checkID("tracking_number", ev.TrackingNumber, false),
		checkID("reference", ev.Reference, routed),
		when,
		checkFreeText("detail", ev.Detail),
	)
}

// MaxPaymentMinor bounds an incoming payment: 10^12 minor units (ten
// billion in a two-decimal currency), far above any B2B payment, and far
// enough below the int64 range that sums of payments cannot overflow.
const MaxPaymentMinor = 1_000_000_000_000

// validatePayment checks a bank's payment event: ids, a positive amount no
// larger than MaxPaymentMinor, a currency orderflow trades in (the
// currency of some customer's terms or of some invoice, from the store),
// and a remittance list, when there is one, whose parts add up to the
// amount (webhook.PaymentEvent.CheckRemittance names the field at fault).
func (s *server) validatePayment(ctx context.Context, ev webhook.PaymentEvent) error {
	var amount, currency *order.FieldError
	switch {
	case ev.Amount.Minor <= 0:
		amount = &order.FieldError{Field: "amount.minor", Reason: "a positive number of minor units"}
	case ev.Amount.Minor > MaxPaymentMinor:
		amount = &order.FieldError{Field: "amount.minor", Reason: fmt.Sprintf("at most %d minor units", int64(MaxPaymentMinor))}
	}
	if !money.ValidCurrency(ev.Amount.Currency) {
		currency = &order.FieldError{Field: "amount.currency", Reason: "an ISO 4217 code such as EUR"}
	} else {
		traded, err := s.store.CurrencyTraded(ctx, ev.Amount.Currency)
		if err != nil {
			return err
		}
		if !traded {
			currency = &order.FieldError{Field: "amount.currency",
				Reason: fmt.Sprintf("%s is not a currency orderflow trades in (no customer's terms or invoice is in it)", ev.Amount.Currency)}
		}
	}
	return collect(
		checkID("event_id", ev.EventID, true),
		checkID("bank_transaction_id", ev.BankTransactionID, true),
		amount,
		currency,
		checkFreeText("reference", ev.Reference),
		checkFreeText("payer", ev.Payer),
		checkPayerAccount(ev.PayerAccount),
		remittanceError(ev),
	)
}

// checkPayerAccount checks the payer's account: optional, at most
// webhook.MaxPayerAccount bytes of printable characters.
func checkPayerAccount(v string) *order.FieldError {
	if len(v) > webhook.MaxPayerAccount {
		return &order.FieldError{Field: "payer_account", Reason: fmt.Sprintf("at most %d bytes: an IBAN or account number", webhook.MaxPayerAccount)}
	}
	return checkID("payer_account", v, false)
}

// remittanceError is the field error of a bad remittance list, nil when
// there is none or it is good. A list is only weighed against an amount
// that is itself good.
func remittanceError(ev webhook.PaymentEvent) *order.FieldError {
	if ev.Amount.Minor <= 0 || ev.Amount.Minor > MaxPaymentMinor {
		return nil
	}
	if re := ev.CheckRemittance(); re != nil {
		return &order.FieldError{Field: re.Field, Reason: re.Reason}
	}
	return nil
}

// webhookPrelude reads, verifies and decodes a webhook and tells whether its
// event was handled before. An event recorded but not handled (a carrier
// event for a shipment we did not know) is not: its redelivery is looked at
// again.
func (s *server) webhookPrelude(w http.ResponseWriter, r *http.Request, secret []byte, source string, ev any, validate func() error, eventID func() string) (handled bool, err error) {
	body, err := readBody(w, r)
	if err != nil {
		return false, err
	}
	if err := s.verifyWebhook(secret, r, body); err != nil {
		return false, err
	}
	if err := decodeLenient(body, ev); err != nil {
		return false, err
	}
	if err := validate(); err != nil {
		return false, err
	}
	rec, err := s.store.LookupWebhookEvent(r.Context(), source, eventID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return rec.Handled(), nil
}

// recordEvent remembers an event with what came of it (the status answered,
// or store.WebhookOutcomeUnknownShipment). The known fields are stored, not
// the raw body: unknown fields may hold what jsonb refuses (\u0000).
func (s *server) recordEvent(ctx context.Context, source, eventID, outcome string, ev any) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event %s: %w", source, eventID, err)
	}
	if _, err := s.store.RecordWebhookOutcome(ctx, source, eventID, outcome, payload); err != nil {
		return err
	}
	return nil
}

// logisticsWebhook is POST /v1/webhooks/logistics.
func (s *server) logisticsWebhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var ev webhook.LogisticsEvent
	handled, err := s.webhookPrelude(w, r, s.logistics, SourceLogistics, &ev,
		func() error { return validateLogistics(ev) }, func() string { return ev.EventID })
	if err != nil {
		return err
	}
	if handled {
		writeJSON(w, http.StatusOK, map[string]string{"status": WebhookDuplicate})
		return nil
	}
	l := zerolog.Ctx(ctx).With().Str("event_id", ev.EventID).Str("event_type", ev.Type).
		Str("shipment_id", ev.ShipmentID).Str("order_id", ev.Reference).Logger()
	status := WebhookAccepted
	switch ev.Type {
	case webhook.LogisticsDelivered:
		status, err = s.signalShipment(ctx, &l, ev, workflows.SignalDelivered, workflows.DeliveredSignal{
			ShipmentID: ev.ShipmentID, EventID: ev.EventID, DeliveredAt: ev.OccurredAt})
	case webhook.LogisticsException:
		status, err = s.signalShipment(ctx, &l, ev, workflows.SignalShipmentException, workflows.ShipmentExceptionSignal{
			ShipmentID: ev.ShipmentID, EventID: ev.EventID, Detail: ev.Detail, OccurredAt: ev.OccurredAt})
	case webhook.LogisticsReturned:
		status, err = s.signalReturned(ctx, &l, ev)
	default:
		l.Info().Str("detail", ev.Detail).Msg("logistics event recorded")
	}
	if err != nil {
		return err
	}
	if err := s.recordEvent(ctx, SourceLogistics, ev.EventID, status, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": status})
	return nil
}

// signalReturned tells the order named in the event's reference that the
// goods of its return pickup (the event's shipment_id) are back. The order
// knows its pickups; one it does not know is recorded in its audit log.
func (s *server) signalReturned(ctx context.Context, l *zerolog.Logger, ev webhook.LogisticsEvent) (string, error) {
	if _, err := s.store.Order(ctx, ev.Reference); errors.Is(err, store.ErrNotFound) {
		if err := s.recordEvent(ctx, SourceLogistics, ev.EventID, store.WebhookOutcomeUnknownShipment, ev); err != nil {
			return "", err
		}
		return "", &apiError{status: http.StatusNotFound, slug: ProblemUnknownShipment,
			detail: fmt.Sprintf("no order %q, the event's reference, exists to have booked return %q; the event is recorded for CS", ev.Reference, ev.ShipmentID),
			fields: []order.FieldError{{Field: "reference", Reason: "no such order"}}}
	} else if err != nil {
		return "", err
	}
	err := s.temporal.SignalWorkflow(ctx, ev.Reference, "", workflows.SignalGoodsReturned, workflows.GoodsReturnedSignal{
		EventID: ev.EventID, ReturnID: ev.ShipmentID, OccurredAt: ev.OccurredAt})
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		l.Warn().Err(err).Msg("return event for an order whose workflow is closed ignored")
		return WebhookIgnored, nil
	case err != nil:
		return "", unavailable("the order could not be told; retry later", fmt.Errorf("signal %s to %s: %w", workflows.SignalGoodsReturned, ev.Reference, err))
	}
	l.Info().Msg("return event signalled")
	return WebhookAccepted, nil
}

// signalShipment tells the order named in the event's reference what
// happened to its shipment (delivered, or an exception). An event for a
// shipment we do not know is recorded as such and refused with a 404
// naming shipment_id (see unknownShipment).
func (s *server) signalShipment(ctx context.Context, l *zerolog.Logger, ev webhook.LogisticsEvent, signal string, arg any) (string, error) {
	unknown, err := s.unknownShipment(ctx, ev)
	if err != nil {
		return "", err
	}
	if unknown != "" {
		l.Warn().Str("why", unknown).Msg("shipment event for a shipment we do not know; recorded, answered 404")
		if err := s.recordEvent(ctx, SourceLogistics, ev.EventID, store.WebhookOutcomeUnknownShipment, ev); err != nil {
			return "", err
		}
		return "", &apiError{status: http.StatusNotFound, slug: ProblemUnknownShipment,
			detail: fmt.Sprintf("no shipment %q is booked for order %q; the event is recorded for CS", ev.ShipmentID, ev.Reference),
			fields: []order.FieldError{{Field: "shipment_id", Reason: unknown}}}
	}
	err = s.temporal.SignalWorkflow(ctx, ev.Reference, "", signal, arg)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		l.Warn().Err(err).Msg("shipment event for an order whose workflow is closed ignored")
		return WebhookIgnored, nil
	case err != nil:
		// Not recorded: the carrier's retry must reach the order.
		return "", unavailable("the order could not be told; retry later", fmt.Errorf("signal %s to %s: %w", signal, ev.Reference, err))
	}
	l.Info().Str("signal", signal).Msg("shipment event signalled")
	return WebhookAccepted, nil
}

// unknownShipment says why the event's shipment is not one of ours, or ""
// when it is or may be. The order named in reference must exist, and the
// order's workflow must list the shipment. When the workflow does not answer
// its details query, or one of its shipments is not booked yet (the carrier's
// event may beat the booking's result, which the workflow then keeps for
// when the booking lands), the shipment may be ours: it is signalled.
func (s *server) unknownShipment(ctx context.Context, ev webhook.LogisticsEvent) (string, error) {
	if _, err := s.store.Order(ctx, ev.Reference); errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("no order %q, the event's reference, exists to have booked it", ev.Reference), nil
	} else if err != nil {
		return "", err
	}
	// Live: the projection's shipments come a transition after the
	// booking, so a prompt carrier event would be refused as unknown.
	d := s.live(ctx, ev.Reference)
	if d == nil {
		return "", nil
	}
	for _, sh := range d.Shipments {
		if sh.ShipmentID == ev.ShipmentID || sh.ShipmentID == "" {
			return "", nil
		}
	}
	return fmt.Sprintf("order %q has booked no shipment %q", ev.Reference, ev.ShipmentID), nil
}

// paymentsWebhook is POST /v1/webhooks/payments.
func (s *server) paymentsWebhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var ev webhook.PaymentEvent
	handled, err := s.webhookPrelude(w, r, s.payments, SourcePayments, &ev,
		func() error { return s.validatePayment(ctx, ev) }, func() string { return ev.EventID })
	if err != nil {
		return err
	}
	if handled {
		writeJSON(w, http.StatusOK, map[string]string{"status": WebhookDuplicate})
		return nil
	}
	l := zerolog.Ctx(ctx).With().Str("event_id", ev.EventID).Str("bank_transaction_id", ev.BankTransactionID).Logger()
	if len(ev.Remittance) > 0 {
		return s.remittance(ctx, w, &l, ev)
	}
	p, _, err := s.store.RecordPayment(ctx, store.Payment{
		BankTransactionID: ev.BankTransactionID,
		Amount:            ev.Amount,
		Reference:         ev.Reference,
		ReceivedAt:        ev.ReceivedAt,
		Payer:             ev.Payer,
		PayerAccount:      ev.PayerAccount,
	})
	if err != nil {
		return err
	}
	res, err := s.routePayment(ctx, &l, p, true)
	if err != nil {
		return err
	}
	if err := s.recordEvent(ctx, SourcePayments, ev.EventID, res.Status, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// partAck is what came of one part of a remittance, in the webhook's answer.
type partAck struct {
	Reference         string `json:"reference"`
	BankTransactionID string `json:"bank_transaction_id"`
	Status            string `json:"status"`
	Rule              string `json:"rule,omitempty"`
	Invoice           string `json:"invoice,omitempty"`
}

// remittance handles a payment whose remittance list splits it across
// invoices: each part is a payment of its own, stored under its part id
// (webhook.PartTransactionID, e.g. "BTX-1:INV-000002") with the part's
// reference and amount, and routed like a single payment: signalled to the
// order whose invoice it names, or left unmatched for finance. The answer's
// status is accepted when any part reached an order, else unmatched when
// any waits for finance, else duplicate; parts says what came of each. A
// part whose signal fails fails the event (503, not recorded), so the
// bank's retry reaches it; parts told before are told again, and orders
// drop a payment they have by its id.
func (s *server) remittance(ctx context.Context, w http.ResponseWriter, l *zerolog.Logger, ev webhook.PaymentEvent) error {
	acks := make([]partAck, 0, len(ev.Remittance))
	seen := map[string]bool{}
	for _, part := range ev.Remittance {
		ref := strings.TrimSpace(part.Reference)
		id := webhook.PartTransactionID(ev.BankTransactionID, ref)
		pl := l.With().Str("part_id", id).Logger()
		p, _, err := s.store.RecordPayment(ctx, store.Payment{
			BankTransactionID: id,
			Amount:            part.Amount,
			Reference:         ref,
			ReceivedAt:        ev.ReceivedAt,
			Payer:             ev.Payer,
			PayerAccount:      ev.PayerAccount,
		})
		if err != nil {
			return err
		}
		res, err := s.routePayment(ctx, &pl, p, false)
		if err != nil {
			return err
		}
		seen[res.Status] = true
		acks = append(acks, partAck{Reference: ref, BankTransactionID: id, Status: res.Status, Rule: res.Rule, Invoice: res.Invoice})
	}
	status := WebhookDuplicate
	switch {
	case seen[WebhookAccepted]:
		status = WebhookAccepted
	case seen[WebhookUnmatched]:
		status = WebhookUnmatched
	}
	if err := s.recordEvent(ctx, SourcePayments, ev.EventID, status, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Status string    `json:"status"`
		Parts  []partAck `json:"parts"`
	}{status, acks})
	return nil
}

// routed is what came of a payment: the webhook's status and, when the
// matcher decided, its rule and the invoice it applied the payment to
// (for a split, the first).
type routed struct {
	Status  string `json:"status"`
	Rule    string `json:"rule,omitempty"`
	Invoice string `json:"invoice,omitempty"`
}

// tellPayment signals a payment to the order, which applies it to the
// invoice of that number. An order whose workflow has ended answers an
// error workflowClosed recognises.
func (s *server) tellPayment(ctx context.Context, orderID string, p store.Payment, invoice string) error {
	return s.temporal.SignalWorkflow(ctx, orderID, "", workflows.SignalPayment, workflows.PaymentSignal{
		BankTransactionID: p.BankTransactionID, Amount: p.Amount, Reference: invoice, ReceivedAt: p.ReceivedAt,
	})
}

// workflowClosed reports whether a signal failed because the order's
// workflow is no longer running.
func workflowClosed(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// routePayment signals a payment to the order whose invoice its reference
// names (the invoice's number or RF reference, exactly), or else asks the
// matcher (matchPayment); what it cannot match waits in finance's queue.
// split allows the matcher to split the payment across invoices (not for
// a remittance part, which is a part already).
func (s *server) routePayment(ctx context.Context, l *zerolog.Logger, p store.Payment, split bool) (routed, error) {
	switch {
	case p.MatchKind == order.MatchExact || p.MatchKind == order.MatchPartial || p.MatchKind == order.MatchOver:
		l.Info().Str("order_id", p.OrderID).Msg("payment redelivered under a new event id; already applied")
		return routed{Status: WebhookDuplicate}, nil
	case len(p.MatchParts) > 0:
		// The matcher applied it; the order may not have been told.
		return s.resignalMatched(ctx, l, p)
	case p.OrderID != "" && p.MatchKind != order.MatchUnmatched:
		l.Info().Str("order_id", p.OrderID).Msg("payment redelivered under a new event id; already applied")
		return routed{Status: WebhookDuplicate}, nil
	}
	ref := strings.TrimSpace(p.Reference)
	if ref == "" {
		return s.matchPayment(ctx, l, p, split)
	}
	orderID, inv, err := s.store.InvoiceByNumber(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		// The invoice's creditor reference (RF…), as the invoice asks.
		if body, perr := creditref.Parse(ref); perr == nil {
			orderID, inv, err = s.store.InvoiceByReferenceBody(ctx, body)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.matchPayment(ctx, l, p, split)
	}
	if err != nil {
		return routed{}, err
	}
	// The invoice's number, however the payer named it: the order applies
	// a payment to the invoice its reference names.
	err = s.tellPayment(ctx, orderID, p, inv.Number)
	switch {
	case workflowClosed(err):
		l.Warn().Err(err).Str("order_id", orderID).Msg("payment for an order whose workflow is closed; queued for finance")
		return routed{Status: WebhookUnmatched}, nil
	case err != nil:
		return routed{}, unavailable("the order could not be told; retry later", fmt.Errorf("signal payment to %s: %w", orderID, err))
	}
	s.learnPayerAccount(ctx, l, orderID, p)
	l.Info().Str("order_id", orderID).Msg("payment signalled")
	return routed{Status: WebhookAccepted}, nil
}
