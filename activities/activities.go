package activities

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/bank"
	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities holds the clients the order workflow's activities use.
type Activities struct {
	Store   *store.Store
	ERP     *erp.Client
	Carrier *carrier.Client
	// Bank pays refunds out (outgoing transfers).
	Bank *bank.Client
	Mail Mailer
	// PublicURL is where buyers reach this system (survey and document links).
	PublicURL string
	// Seller is the seller party of invoices and credit notes, with the
	// account buyers pay into.
	Seller document.Party
	// Mailboxes of the seller's teams, for alerts and approval requests.
	CSEmail, FinanceEmail, SalesManagersEmail string
	// Links signs the order and accept links of buyer mails (nil: none).
	Links *links.Signer
	// Transitions, when set, hears of each change of an order's status
	// Record writes for the first time (*metrics.Metrics is one).
	Transitions TransitionObserver
	// Customers hands order milestones to the customers' workflows
	// (TellCustomer).
	Customers CustomerTeller
	// CustomerSettings are the customer workflow's rules
	// (ORDERFLOW_CUSTOMER_*); the worker hands them to each run through
	// CustomerSettingsLoader. Zero: the defaults.
	CustomerSettings customer.Settings
}

// TransitionObserver hears of a status change once, when its record is
// first written: from, to, and how long the order was in from (negative
// when unknown).
type TransitionObserver interface {
	ObserveTransition(from, to string, inStatus time.Duration)
}

// Mailer sends one mail; *mail.Sender is the production one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Key is the idempotency key of one step of one order: the same order and step
// always give the same key, so a retried call is recognised downstream.
func Key(orderID string, step ...string) string {
	return orderID + "/" + strings.Join(step, "/")
}

// SalesOrderKey is the idempotency key Reserve creates the order's ERP sales
// order under; CancelSalesOrderInput.ForwardKey takes it.
func SalesOrderKey(orderID string) string { return Key(orderID, "sales-order") }

// ShipmentKey is the idempotency key BookShipment books the shipment from
// warehouse under; CancelShipmentInput.ForwardKey takes it.
func ShipmentKey(orderID, warehouse string) string { return Key(orderID, "shipment", warehouse) }

// InvoiceKey is the idempotency key Invoice raises the ERP invoice under;
// VoidInvoiceInput.ForwardKey takes it.
func InvoiceKey(orderID string) string { return Key(orderID, "invoice") }

// ShipmentInvoiceKey is the idempotency key of the invoice of one
// shipment, for a customer invoiced per shipment.
func ShipmentInvoiceKey(orderID, shipmentID string) string {
	return Key(orderID, "invoice", shipmentID)
}

// undoKey is the idempotency key of the undo, by key, of the write made
// under forwardKey: one per forward write, so retries of the undo replay.
func undoKey(forwardKey string) string { return forwardKey + "/undo" }

// noUndoTarget is the error of an undo that names neither the thing to undo
// nor the key it was made under.
func noUndoTarget(what, id string) error {
	return temporal.NewNonRetryableApplicationError(what+": neither "+id+" nor forward_key is set", ErrTypeInvalidInput, nil)
}

// PriceQuoteInput asks for one quote revision.
type PriceQuoteInput struct {
	OrderID             string       `json:"order_id"`
	CustomerID          string       `json:"customer_id"`
	Revision            int          `json:"revision"`
	Lines               []order.Line `json:"lines"`
	RequestedDiscountBP int64        `json:"requested_discount_bp,omitempty"`
	// DiscountBy asked for the discount: a sales rep's own discount
	// authority (their rep record) decides whether it needs a manager.
	DiscountBy order.Actor `json:"discount_by,omitzero"`
	// At is the workflow's time of pricing: validity counts from it.
	At time.Time `json:"at"`
	// TimeScale is the order's (workflows.OrderInput): the quote of a
	// scaled order is valid for its validity compressed by it, counted
	// from At, and is saved so (order.CompressDate).
	TimeScale float64 `json:"time_scale,omitempty"`
}

// PriceQuoteResult is the priced, persisted quote and the terms it used.
type PriceQuoteResult struct {
	Quote order.Quote `json:"quote"`
	Terms order.Terms `json:"terms"`
}

// PriceQuote prices lines through the ERP under the customer's terms and
// persists the quote revision.
func (a *Activities) PriceQuote(ctx context.Context, in PriceQuoteInput) (PriceQuoteResult, error) {
	terms, err := a.Store.Terms(ctx, in.CustomerID)
	if err != nil {
		return PriceQuoteResult{}, classify(ctx, "load terms of customer "+in.CustomerID, err)
	}
	skus := make([]string, len(in.Lines))
	for i, l := range in.Lines {
		skus[i] = l.SKU
	}
	list, err := a.ERP.Prices(ctx, in.CustomerID, terms.Currency, skus)
	var refused *erp.SKURefusedError
	if errors.As(err, &refused) {
		return PriceQuoteResult{}, linesRefused(ctx, in.Lines, refused)
	}
	if err != nil {
		return PriceQuoteResult{}, classify(ctx, "price lines in the ERP", err)
	}
	// A rep's discount above the customer's standing one is in force: the
	// rep's own authority decides whether a manager approves it.
	repDiscount := in.RequestedDiscountBP > terms.DiscountBP && in.DiscountBy.Role == order.RoleSalesRep
	if repDiscount {
		// The rep's own authority, from their record; without one, the
		// customer's terms say what its reps may grant.
		rep, err := a.Store.Rep(ctx, in.DiscountBy.Subject)
		switch {
		case err == nil:
			terms.RepDiscountAuthorityBP = rep.DiscountAuthorityBP
		case !errors.Is(err, store.ErrNotFound):
			return PriceQuoteResult{}, classify(ctx, "load the record of rep "+in.DiscountBy.Subject, err)
		}
	}
	q, err := order.Price(in.Revision, in.Lines, list, terms, in.RequestedDiscountBP, in.At)
	if err != nil {
		return PriceQuoteResult{}, classify(ctx, "price quote", err)
	}
	if repDiscount {
		q.DiscountBy, q.DiscountAuthorityBP = in.DiscountBy.Subject, terms.RepDiscountAuthorityBP
	}
	q.ValidUntil = order.CompressDate(in.At, q.ValidUntil, in.TimeScale)
	// A retry that priced differently gets the revision the first attempt
	// saved: that is the one the order shows.
	if q, err = a.Store.SaveQuote(ctx, in.OrderID, q); err != nil {
		return PriceQuoteResult{}, classify(ctx, "save quote", err)
	}
	return PriceQuoteResult{Quote: q, Terms: terms}, nil
}

// linesRefused is the non-retryable error of a quote the ERP will not price:
// its details name each refused line as the API names request fields.
func linesRefused(ctx context.Context, lines []order.Line, r *erp.SKURefusedError) error {
	var fields []order.FieldError
	for i, l := range lines {
		if l.SKU == r.SKU {
			fields = append(fields, order.FieldError{Field: fmt.Sprintf("lines[%d].sku", i), Reason: r.Reason()})
		}
	}
	if len(fields) == 0 {
		// The ERP named a SKU nobody asked for: a contract break, not the buyer's fault.
		return classify(ctx, "price lines in the ERP", r.Err)
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("price lines in the ERP: %v", r), ErrTypeLinesRefused,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{fields}})
}

// RecordInput is one transition of the order for the projection and the
// audit log: the order's state after it (the projection row) and what
// happened (the audit entry). It is the workflow's own shape of a
// store.Transition, so the workflow needs no store types.
type RecordInput struct {
	OrderID string `json:"order_id"`
	// CustomerID and PONumber let the first transition create the projection
	// row of an order that was started outside the API.
	CustomerID string `json:"customer_id"`
	PONumber   string `json:"po_number,omitempty"`
	// Seq orders the transitions of one order: the store ignores a seq
	// older than the one it holds, so records may arrive in any order and
	// be retried.
	Seq int64 `json:"seq"`
	// Fence orders records of different workflow tasks: a record of a
	// later task wins over one of an earlier task whatever their seqs,
	// so the writes of a task that was lost (its worker died) and run
	// again give way to the run that counts (store.Transition.Fence).
	// 0 for workers before it; their records order by seq alone.
	Fence          int64        `json:"fence,omitempty"`
	Status         order.Status `json:"status"`
	NeedsAttention bool         `json:"needs_attention"`
	Total          money.Money  `json:"total"`
	QuoteRevision  int          `json:"quote_revision,omitempty"`
	// Details says in words what the order waits for.
	Details       string `json:"details"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	// The audit entry.
	Actor  order.Actor `json:"actor"`
	Action string      `json:"action"`
	Reason string      `json:"reason,omitempty"`
	At     time.Time   `json:"at"`
	// Fields, when set, are field errors (lines the ERP refused) kept as
	// the audit entry's data; the workflow cannot encode JSON itself.
	Fields []order.FieldError `json:"fields,omitempty"`
	// Facts are what the dashboard and worklists read of the order now.
	Facts *order.Facts `json:"facts,omitempty"`
}

// UnmarshalJSON also reads the shape workers wrote before RecordInput had
// fields of its own, {"transition": {store.Transition's fields}, "fields":
// [...]}: a Record scheduled by an older worker (during a rollout, or
// retrying through a database outage) is run by a newer one.
func (in *RecordInput) UnmarshalJSON(b []byte) error {
	type plain RecordInput // without this method
	var v struct {
		plain
		Transition *store.Transition `json:"transition"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*in = RecordInput(v.plain)
	if t := v.Transition; t != nil {
		fields := in.Fields
		*in = RecordInput{
			OrderID: t.OrderID, CustomerID: t.CustomerID, PONumber: t.PONumber, Seq: t.Seq,
			Status: t.Status, NeedsAttention: t.NeedsAttention, Total: t.Total, QuoteRevision: t.QuoteRevision,
			Details: t.Details, InvoiceNumber: t.InvoiceNumber,
			Actor: t.Actor, Action: t.Action, Reason: t.Reason, At: t.At, Fields: fields,
		}
	}
	return nil
}

// transition is the store's form of in.
func (in RecordInput) transition() (store.Transition, error) {
	t := store.Transition{
		OrderID: in.OrderID, CustomerID: in.CustomerID, PONumber: in.PONumber, Seq: in.Seq, Fence: in.Fence,
		Status: in.Status, NeedsAttention: in.NeedsAttention, Total: in.Total, QuoteRevision: in.QuoteRevision,
		Details: in.Details, InvoiceNumber: in.InvoiceNumber,
		Actor: in.Actor, Action: in.Action, Reason: in.Reason, At: in.At, Facts: in.Facts,
	}
	if len(in.Fields) > 0 {
		data, err := json.Marshal(in.Fields)
		if err != nil {
			return store.Transition{}, err
		}
		t.Data = data
	}
	return t, nil
}

// RecordResult is empty: the write either happened or will be retried.
type RecordResult struct{}

// Record writes a transition to the order projection and the audit log.
// It is idempotent by the transition's sequence number.
func (a *Activities) Record(ctx context.Context, in RecordInput) (RecordResult, error) {
	t, err := in.transition()
	if err != nil {
		return RecordResult{}, temporal.NewNonRetryableApplicationError("encode the audit entry's fields", ErrTypeInvalidInput, err)
	}
	out, err := a.Store.RecordTransitionOutcome(ctx, t)
	if err != nil {
		return RecordResult{}, classify(ctx, "record transition", err)
	}
	// A retried Record finds its entry written and counts nothing.
	if a.Transitions != nil && out.StatusChanged() {
		in, ok := out.InStatus()
		if !ok {
			in = -1
		}
		a.Transitions.ObserveTransition(string(out.From), string(out.To), in)
	}
	return RecordResult{}, nil
}

// Audience says who a mail goes to; the activity resolves it to addresses, so
// the workflow never holds mail addresses that may change.
type Audience string

// Audiences.
const (
	AudienceBuyer         Audience = "buyer"
	AudienceRep           Audience = "rep"
	AudienceCS            Audience = "cs"
	AudienceFinance       Audience = "finance"
	AudienceSalesManagers Audience = "sales-managers"
)

// SendMailInput is one mail about an order.
type SendMailInput struct {
	// Key is the mail's idempotency key (order + step), its Message-ID.
	Key        string    `json:"key"`
	Kind       mail.Kind `json:"kind"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Audience   Audience  `json:"audience"`
	Data       mail.Data `json:"data"`
	// RequestedBy is who asked for the order (a token's subject): a mail
	// for purchasers goes to that purchaser alone when they are one of the
	// customer's contacts.
	RequestedBy string `json:"requested_by,omitempty"`
}

// SendMailResult names who was mailed.
type SendMailResult struct {
	To []string `json:"to"`
}

// SendMail renders and sends one mail. A buyer's invoice or credit-note
// mail first has its document stored and linked (see attachDocument).
func (a *Activities) SendMail(ctx context.Context, in SendMailInput) (SendMailResult, error) {
	to, err := a.recipients(ctx, in.CustomerID, in.Audience, in.Kind, in.RequestedBy)
	if err != nil {
		return SendMailResult{}, err
	}
	if in.Data.CustomerName == "" && in.CustomerID != "" {
		if t, err := a.Store.Terms(ctx, in.CustomerID); err == nil {
			in.Data.CustomerName = t.CustomerName
		}
	}
	if in.Data.OrderID == "" {
		in.Data.OrderID = in.OrderID
	}
	if err := a.attachDocument(ctx, &in); err != nil {
		return SendMailResult{}, err
	}
	if err := a.attachLinks(&in, to); err != nil {
		return SendMailResult{}, temporal.NewNonRetryableApplicationError("sign the mail's links", ErrTypeInvalidInput, err)
	}
	subject, text, err := mail.Render(in.Kind, in.Data)
	if err != nil {
		return SendMailResult{}, temporal.NewNonRetryableApplicationError("render "+string(in.Kind)+" mail: "+err.Error(), ErrTypeInvalidInput, err)
	}
	// Kept before it goes out, so CS can have it sent again (ResendMail)
	// without the workflow keeping its data.
	data, err := json.Marshal(in.Data)
	if err != nil {
		return SendMailResult{}, temporal.NewNonRetryableApplicationError("encode "+string(in.Kind)+" mail data", ErrTypeInvalidInput, err)
	}
	if err := a.Store.SaveMail(ctx, store.Mail{Key: in.Key, OrderID: in.OrderID, CustomerID: in.CustomerID,
		Kind: string(in.Kind), Audience: string(in.Audience), Data: data}); err != nil {
		return SendMailResult{}, classify(ctx, "keep "+string(in.Kind)+" mail", err)
	}
	if kept, err := a.Store.Mail(ctx, in.Key); err == nil && kept.SentAt != nil {
		// Sent by an earlier attempt whose answer was lost, or by an
		// earlier try of the batch it belongs to: not again.
		return SendMailResult{To: to}, nil
	}
	m := mail.Message{ID: in.Key, Kind: in.Kind, OrderID: in.OrderID, To: to, Subject: subject, Text: text}
	if err := a.Mail.Send(ctx, m); err != nil {
		return SendMailResult{}, classify(ctx, "send "+string(in.Kind)+" mail", err)
	}
	if err := a.Store.MarkMailSent(ctx, in.Key, time.Now()); err != nil {
		// The mail is out; a retry of this send would mail it again,
		// which is all that marking it prevents.
		activity.GetLogger(ctx).Warn("mail sent but not marked sent", "Key", in.Key, "Error", err)
	}
	return SendMailResult{To: to}, nil
}

// SendMailsInput is the mails one step of an order sends together.
type SendMailsInput struct {
	Mails []SendMailInput `json:"mails"`
}

// SendMailsResult says, per mail in the input's order, who was mailed or
// why it could not be sent.
type SendMailsResult struct {
	Mails []MailOutcome `json:"mails"`
}

// MailOutcome is one mail of SendMails.
type MailOutcome struct {
	Key string   `json:"key"`
	To  []string `json:"to,omitempty"`
	// Failed says why the mail cannot be sent (a permanent failure, e.g. a
	// template that does not render, or no address for the audience); ""
	// when it was sent.
	Failed string `json:"failed,omitempty"`
}

// SendMails sends several mails of one order in one activity: one task and
// one billed Action where each mail alone would cost one. A mail that
// fails for good is reported in its outcome and does not hold the others
// up. When one fails for now (the mail system is down), the others are
// still sent, and the activity fails with that error to be retried: a mail
// already sent is marked so (MarkMailSent) and the retry does not send it
// again.
func (a *Activities) SendMails(ctx context.Context, in SendMailsInput) (SendMailsResult, error) {
	if len(in.Mails) == 0 {
		return SendMailsResult{}, temporal.NewNonRetryableApplicationError("send mails: no mail given", ErrTypeInvalidInput, nil)
	}
	res := SendMailsResult{Mails: make([]MailOutcome, len(in.Mails))}
	var retry error
	for i, m := range in.Mails {
		if err := ctx.Err(); err != nil {
			return SendMailsResult{}, err
		}
		sent, err := a.SendMail(ctx, m)
		res.Mails[i] = MailOutcome{Key: m.Key, To: sent.To}
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
		case errors.As(err, &appErr) && appErr.NonRetryable():
			res.Mails[i].Failed = err.Error()
		case retry == nil:
			retry = err
		}
	}
	if retry != nil {
		return SendMailsResult{}, retry
	}
	return res, nil
}

// ResendMailInput asks for a mail the order sent before to be sent again.
type ResendMailInput struct {
	// Key is the original mail's key; NewKey the resend's own (a new
	// Message-ID, so the recipient's mail system does not drop it).
	Key    string `json:"key"`
	NewKey string `json:"new_key"`
}

// ResendMailResult names who was mailed, and the mail's kind and audience.
type ResendMailResult struct {
	To       []string  `json:"to"`
	Kind     mail.Kind `json:"kind"`
	Audience Audience  `json:"audience"`
}

// ResendMail sends a kept mail again, to its audience's address of today.
// A key with no mail kept (the original never reached the mail step) is a
// permanent failure: there is nothing to resend yet.
func (a *Activities) ResendMail(ctx context.Context, in ResendMailInput) (ResendMailResult, error) {
	if in.Key == "" || in.NewKey == "" {
		return ResendMailResult{}, temporal.NewNonRetryableApplicationError("resend mail: key and new key are required", ErrTypeInvalidInput, nil)
	}
	kept, err := a.Store.Mail(ctx, in.Key)
	if err != nil {
		return ResendMailResult{}, classify(ctx, "find the mail to resend", err)
	}
	var d mail.Data
	if err := json.Unmarshal(kept.Data, &d); err != nil {
		return ResendMailResult{}, temporal.NewNonRetryableApplicationError("decode the kept mail "+in.Key, ErrTypeInvalidInput, err)
	}
	res, err := a.SendMail(ctx, SendMailInput{Key: in.NewKey, Kind: mail.Kind(kept.Kind), OrderID: kept.OrderID,
		CustomerID: kept.CustomerID, Audience: Audience(kept.Audience), Data: d})
	if err != nil {
		return ResendMailResult{}, err
	}
	return ResendMailResult{To: res.To, Kind: mail.Kind(kept.Kind), Audience: Audience(kept.Audience)}, nil
}

// contactRole is the buyer contact a mail kind concerns.
func contactRole(k mail.Kind) order.ContactRole {
	switch k {
	case mail.KindApprovalRequest, mail.KindApprovalReminder:
		return order.ContactApprover
	case mail.KindInvoice, mail.KindDunning, mail.KindDunningSecond, mail.KindDunningFinal, mail.KindCreditNote:
		return order.ContactAccountsPayable
	case mail.KindShipmentBooked, mail.KindReturnAuthorised, mail.KindSurvey, mail.KindSurveyReminder:
		return order.ContactReceiving
	}
	return order.ContactPurchaser // quotes, confirmations, cancellations
}

// recipients resolves a mail's audience to addresses: a buyer mail goes to
// the customer's contacts whose role it concerns, else to the customer's
// main address.
func (a *Activities) recipients(ctx context.Context, customerID string, aud Audience, kind mail.Kind, requestedBy string) ([]string, error) {
	var addr string
	switch aud {
	case AudienceBuyer, AudienceRep:
		t, err := a.Store.Terms(ctx, customerID)
		if err != nil {
			return nil, classify(ctx, "find the "+string(aud)+" of customer "+customerID, err)
		}
		addr = t.BuyerEmail
		if aud == AudienceRep {
			addr = t.RepEmail
		} else if to := order.ContactsFor(t.Contacts, contactRole(kind)); len(to) > 0 {
			if contactRole(kind) == order.ContactPurchaser {
				for _, addr := range to {
					if strings.EqualFold(addr, requestedBy) {
						return []string{addr}, nil // the purchaser who asked
					}
				}
			}
			return to, nil
		}
	case AudienceCS:
		addr = a.CSEmail
	case AudienceFinance:
		addr = a.FinanceEmail
	case AudienceSalesManagers:
		addr = a.SalesManagersEmail
	}
	if addr == "" {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no mail address for audience %q", aud), ErrTypeInvalidInput, nil)
	}
	return []string{addr}, nil
}

// CheckCreditInput asks whether an order fits the customer's credit limit.
type CheckCreditInput struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Total      money.Money `json:"total"`
}

// CheckCreditResult is the customer's exposure with this order.
type CheckCreditResult struct {
	Exposure order.Exposure `json:"exposure"`
}

// CheckCredit adds the ERP's open receivables, this system's accepted orders
// that are not invoiced yet and this order, and compares the sum with the
// credit limit (store.DecideCredit has the rules). An order within the limit
// holds a credit commitment from then on, so the customer's next check
// counts it even before the order's status moves on; checks of one customer
// take turns. A retry answers the first granted decision again.
//
// The receivables are read first: an HTTP call does not belong in the
// transaction that holds the customer's lock.
func (a *Activities) CheckCredit(ctx context.Context, in CheckCreditInput) (CheckCreditResult, error) {
	terms, err := a.Store.Terms(ctx, in.CustomerID)
	if err != nil {
		return CheckCreditResult{}, classify(ctx, "load terms of customer "+in.CustomerID, err)
	}
	if in.Total.Currency != terms.Currency {
		msg := fmt.Sprintf("check credit: order total %s, credit limit of customer %s in %s", in.Total, in.CustomerID, terms.Currency)
		return CheckCreditResult{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalidInput, money.ErrCurrencyMismatch)
	}
	receivables, err := a.ERP.OpenReceivables(ctx, in.CustomerID, terms.Currency)
	if err != nil {
		return CheckCreditResult{}, classify(ctx, "read open receivables from the ERP", err)
	}
	e, err := a.Store.DecideCredit(ctx, store.CreditCheck{
		OrderID: in.OrderID, CustomerID: in.CustomerID, Amount: in.Total, Receivables: receivables,
	})
	if err != nil {
		return CheckCreditResult{}, classify(ctx, "decide credit", err)
	}
	return CheckCreditResult{Exposure: e}, nil
}

// ReserveInput asks the ERP for a sales order with stock reserved.
type ReserveInput struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	Currency   string       `json:"currency"`
	Lines      []order.Line `json:"lines"`
}

// ReserveResult is the sales order and one planned shipment per warehouse.
type ReserveResult struct {
	SalesOrderID string           `json:"sales_order_id"`
	Shipments    []order.Shipment `json:"shipments"`
}

// Reserve creates the ERP sales order and reserves its stock.
func (a *Activities) Reserve(ctx context.Context, in ReserveInput) (ReserveResult, error) {
	so, err := a.ERP.CreateSalesOrder(ctx, SalesOrderKey(in.OrderID), erp.SalesOrderRequest{
		OrderID: in.OrderID, CustomerID: in.CustomerID, Currency: in.Currency, Lines: in.Lines,
	})
	if err != nil {
		return ReserveResult{}, classify(ctx, "create ERP sales order and reserve stock", err)
	}
	res := ReserveResult{SalesOrderID: so.ID}
	for _, r := range so.Reservations {
		res.Shipments = append(res.Shipments, order.Shipment{Warehouse: r.Warehouse, Lines: r.Lines})
	}
	return res, nil
}

// CancelSalesOrderInput undoes Reserve: by SalesOrderID when Reserve's
// answer came back, else by ForwardKey.
type CancelSalesOrderInput struct {
	OrderID      string `json:"order_id"`
	SalesOrderID string `json:"sales_order_id"`
	// ForwardKey is the key Reserve created the sales order under,
	// SalesOrderKey(OrderID). With SalesOrderID empty the ERP cancels the
	// sales order created under it, so an undo registered before Reserve
	// runs also undoes a reservation whose answer was lost; when nothing was
	// created under it there is nothing to undo, and the ERP refuses a later
	// Reserve under that key.
	ForwardKey string `json:"forward_key,omitempty"`
}

// CancelSalesOrderResult says what was undone.
type CancelSalesOrderResult struct {
	// SalesOrderID is the cancelled sales order; empty when NothingToUndo.
	SalesOrderID string `json:"sales_order_id,omitempty"`
	// NothingToUndo is true when the ERP holds no sales order under
	// ForwardKey: Reserve never took effect.
	NothingToUndo bool `json:"nothing_to_undo,omitempty"`
}

// CancelSalesOrder cancels the ERP sales order and releases its reservation.
func (a *Activities) CancelSalesOrder(ctx context.Context, in CancelSalesOrderInput) (CancelSalesOrderResult, error) {
	switch {
	case in.SalesOrderID != "":
		err := a.ERP.CancelSalesOrder(ctx, Key(in.OrderID, "cancel-sales-order"), in.SalesOrderID)
		if err != nil {
			return CancelSalesOrderResult{}, classify(ctx, "cancel ERP sales order "+in.SalesOrderID, err)
		}
		return CancelSalesOrderResult{SalesOrderID: in.SalesOrderID}, nil
	case in.ForwardKey != "":
		u, err := a.ERP.CancelSalesOrderByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return CancelSalesOrderResult{}, classify(ctx, "cancel the ERP sales order created under "+in.ForwardKey, err)
		}
		return CancelSalesOrderResult{SalesOrderID: u.SalesOrderID, NothingToUndo: !u.Found}, nil
	}
	return CancelSalesOrderResult{}, noUndoTarget("cancel ERP sales order", "sales_order_id")
}

// BookShipmentInput books one warehouse's shipment.
type BookShipmentInput struct {
	OrderID   string       `json:"order_id"`
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
	// Key is the booking's idempotency key; empty is ShipmentKey(OrderID,
	// Warehouse), the order's first booking from the warehouse. A reship
	// books under a key of its own (ReshipKey), as a second booking.
	Key string `json:"key,omitempty"`
}

// BookShipmentResult is the carrier's booking.
type BookShipmentResult struct {
	ShipmentID     string    `json:"shipment_id"`
	TrackingNumber string    `json:"tracking_number"`
	PromisedDate   time.Time `json:"promised_date"`
	Carrier        string    `json:"carrier,omitempty"`
}

// BookShipment books the carrier for one warehouse's shipment.
func (a *Activities) BookShipment(ctx context.Context, in BookShipmentInput) (BookShipmentResult, error) {
	key := in.Key
	if key == "" {
		key = ShipmentKey(in.OrderID, in.Warehouse)
	}
	b, err := a.Carrier.Book(ctx, key, carrier.BookingRequest{
		Reference: in.OrderID, Warehouse: in.Warehouse, Lines: in.Lines,
	})
	if err != nil {
		return BookShipmentResult{}, classify(ctx, "book carrier from "+in.Warehouse, err)
	}
	return BookShipmentResult{ShipmentID: b.ShipmentID, TrackingNumber: b.TrackingNumber, PromisedDate: b.PromisedDate, Carrier: b.Carrier}, nil
}

// CancelShipmentInput undoes BookShipment: by ShipmentID when the
// booking's answer came back, else by ForwardKey.
type CancelShipmentInput struct {
	OrderID    string `json:"order_id"`
	ShipmentID string `json:"shipment_id"`
	// ForwardKey is the key BookShipment booked under,
	// ShipmentKey(OrderID, warehouse). With ShipmentID empty the carrier
	// cancels the shipment booked under it; when nothing was booked under it
	// there is nothing to undo, and the carrier refuses a later booking
	// under that key.
	ForwardKey string `json:"forward_key,omitempty"`
}

// CancelShipmentResult says what was undone.
type CancelShipmentResult struct {
	// ShipmentID is the cancelled shipment; empty when NothingToUndo.
	ShipmentID string `json:"shipment_id,omitempty"`
	// NothingToUndo is true when the carrier holds no booking under
	// ForwardKey: BookShipment never took effect.
	NothingToUndo bool `json:"nothing_to_undo,omitempty"`
}

// CancelShipment cancels a booked shipment with the carrier.
func (a *Activities) CancelShipment(ctx context.Context, in CancelShipmentInput) (CancelShipmentResult, error) {
	switch {
	case in.ShipmentID != "":
		err := a.Carrier.Cancel(ctx, Key(in.OrderID, "cancel-shipment", in.ShipmentID), in.ShipmentID)
		if err != nil {
			return CancelShipmentResult{}, classify(ctx, "cancel shipment "+in.ShipmentID, err)
		}
		return CancelShipmentResult{ShipmentID: in.ShipmentID}, nil
	case in.ForwardKey != "":
		u, err := a.Carrier.CancelByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return CancelShipmentResult{}, classify(ctx, "cancel the shipment booked under "+in.ForwardKey, err)
		}
		return CancelShipmentResult{ShipmentID: u.ShipmentID, NothingToUndo: !u.Found}, nil
	}
	return CancelShipmentResult{}, noUndoTarget("cancel shipment", "shipment_id")
}

// TrackShipmentInput asks the carrier where a shipment is: the fallback when
// the delivery webhook does not come.
type TrackShipmentInput struct {
	ShipmentID string `json:"shipment_id"`
}

// TrackShipmentResult is the carrier's answer.
type TrackShipmentResult struct {
	Status      string    `json:"status"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// TrackShipment reads a shipment's status from the carrier.
func (a *Activities) TrackShipment(ctx context.Context, in TrackShipmentInput) (TrackShipmentResult, error) {
	t, err := a.Carrier.Track(ctx, in.ShipmentID)
	if err != nil {
		return TrackShipmentResult{}, classify(ctx, "track shipment "+in.ShipmentID, err)
	}
	return TrackShipmentResult{Status: t.Status, DeliveredAt: t.DeliveredAt}, nil
}

// InvoiceInput asks the ERP to invoice the order.
type InvoiceInput struct {
	// Key is the idempotency key: ShipmentInvoiceKey for one shipment's
	// invoice; "" is the order's InvoiceKey.
	Key              string      `json:"key,omitempty"`
	OrderID          string      `json:"order_id"`
	CustomerID       string      `json:"customer_id"`
	SalesOrderID     string      `json:"sales_order_id"`
	Amount           money.Money `json:"amount"`
	PaymentTermsDays int         `json:"payment_terms_days"`
	// IssuedAt is when the workflow asked for the invoice. The ERP dates the
	// invoice itself and counts the due date from that day, so an ERP outage
	// in between does not shorten the customer's terms.
	IssuedAt time.Time `json:"issued_at"`
	// Net and Tax, when set, split Amount (the gross): Net + Tax = Amount.
	// Unset, the ERP books the invoice all net, as before tax was split.
	Net money.Money `json:"net,omitzero"`
	Tax money.Money `json:"tax,omitzero"`
	// Shipment and Lines say what an invoice of one shipment bills; the
	// answer carries them (the ERP does not keep them).
	Shipment string       `json:"shipment,omitempty"`
	Lines    []order.Line `json:"lines,omitempty"`
	// TimeScale is the order's (workflows.OrderInput): a scaled order's
	// invoice is recorded with its due date on the order's clock (the
	// issue date plus the payment terms at the scale), so the buyer's view,
	// the overdue-invoices worklist and the order's dunning agree. The
	// answer is the ERP's invoice as it stands; the order moves its date.
	TimeScale float64 `json:"time_scale,omitempty"`
}

// InvoiceResult is the ERP's invoice.
type InvoiceResult struct {
	Invoice order.Invoice `json:"invoice"`
}

// Invoice raises the ERP invoice with the due date from the payment terms and
// records it so incoming payments can be matched by its number.
func (a *Activities) Invoice(ctx context.Context, in InvoiceInput) (InvoiceResult, error) {
	// The request carries the terms, not a date: every retry is the same
	// request under the same key, and the ERP's first answer comes back.
	req := erp.InvoiceRequest{
		OrderID: in.OrderID, SalesOrderID: in.SalesOrderID, CustomerID: in.CustomerID,
		Amount: in.Amount, PaymentTermsDays: in.PaymentTermsDays,
	}
	if in.Net.Currency != "" {
		// A net comes with its tax, which may be nothing (no VAT, reverse
		// charge): a zero amount is left out of the JSON, so it is set here.
		net, tax := in.Net, in.Tax
		if tax.Currency == "" {
			tax = money.Zero(net.Currency)
		}
		req.Net, req.Tax = &net, &tax
	}
	key := in.Key
	if key == "" {
		key = InvoiceKey(in.OrderID)
	}
	inv, err := a.ERP.CreateInvoice(ctx, key, req)
	if err != nil {
		return InvoiceResult{}, classify(ctx, "create ERP invoice", err)
	}
	inv.Shipment, inv.Lines = in.Shipment, in.Lines
	recorded := inv
	recorded.DueDate = order.CompressDate(inv.IssuedAt, inv.DueDate, in.TimeScale)
	if err := a.Store.SaveInvoice(ctx, in.OrderID, recorded); err != nil {
		return InvoiceResult{}, classify(ctx, "record invoice "+inv.Number, err)
	}
	return InvoiceResult{Invoice: inv}, nil
}

// VoidInvoiceInput undoes Invoice: by InvoiceID when the invoice's answer
// came back, else by ForwardKey.
type VoidInvoiceInput struct {
	OrderID   string `json:"order_id"`
	InvoiceID string `json:"invoice_id"`
	// ForwardKey is the key Invoice raised the invoice under,
	// InvoiceKey(OrderID). With InvoiceID empty the ERP voids the invoice
	// raised under it; when nothing was raised under it there is nothing to
	// undo, and the ERP refuses a later Invoice under that key.
	ForwardKey string `json:"forward_key,omitempty"`
}

// VoidInvoiceResult says what was undone.
type VoidInvoiceResult struct {
	// InvoiceID is the voided invoice; empty when NothingToUndo.
	InvoiceID string `json:"invoice_id,omitempty"`
	// NothingToUndo is true when the ERP holds no invoice under ForwardKey:
	// Invoice never took effect.
	NothingToUndo bool `json:"nothing_to_undo,omitempty"`
}

// VoidInvoice voids the ERP invoice.
func (a *Activities) VoidInvoice(ctx context.Context, in VoidInvoiceInput) (VoidInvoiceResult, error) {
	switch {
	case in.InvoiceID != "":
		err := a.ERP.VoidInvoice(ctx, Key(in.OrderID, "void-invoice"), in.InvoiceID)
		if err != nil {
			return VoidInvoiceResult{}, classify(ctx, "void ERP invoice "+in.InvoiceID, err)
		}
		return VoidInvoiceResult{InvoiceID: in.InvoiceID}, nil
	case in.ForwardKey != "":
		u, err := a.ERP.VoidInvoiceByKey(ctx, undoKey(in.ForwardKey), in.ForwardKey)
		if err != nil {
			return VoidInvoiceResult{}, classify(ctx, "void the ERP invoice raised under "+in.ForwardKey, err)
		}
		return VoidInvoiceResult{InvoiceID: u.InvoiceID, NothingToUndo: !u.Found}, nil
	}
	return VoidInvoiceResult{}, noUndoTarget("void ERP invoice", "invoice_id")
}

// OpenSurveyInput opens an NPS survey: of one delivered shipment (its
// fulfilment scenario), or with ShipmentID "" the one survey of an order
// surveyed whole.
type OpenSurveyInput struct {
	OrderID    string    `json:"order_id"`
	ExpiresAt  time.Time `json:"expires_at"`
	ShipmentID string    `json:"shipment_id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Warehouse  string    `json:"warehouse,omitempty"`
	Carrier    string    `json:"carrier,omitempty"`
	SKUs       []string  `json:"skus,omitempty"`
}

// OpenSurveyResult is the link the buyer gets.
type OpenSurveyResult struct {
	URL string `json:"url"`
}

// OpenSurvey creates the survey token (once per order and shipment) and
// returns its link.
func (a *Activities) OpenSurvey(ctx context.Context, in OpenSurveyInput) (OpenSurveyResult, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return OpenSurveyResult{}, fmt.Errorf("make survey token: %w", err)
	}
	s, err := a.Store.CreateSurvey(ctx, store.NewSurvey{
		OrderID: in.OrderID, ShipmentID: in.ShipmentID, CustomerID: in.CustomerID, Warehouse: in.Warehouse,
		Carrier: in.Carrier, SKUs: in.SKUs, Token: base64.RawURLEncoding.EncodeToString(b), ExpiresAt: in.ExpiresAt,
	})
	if err != nil {
		return OpenSurveyResult{}, classify(ctx, "create survey", err)
	}
	return OpenSurveyResult{URL: strings.TrimRight(a.PublicURL, "/") + "/survey/" + s.Token}, nil
}

// CloseSurveyInput closes a survey: of one shipment, or "" the order's one.
type CloseSurveyInput struct {
	OrderID    string `json:"order_id"`
	ShipmentID string `json:"shipment_id,omitempty"`
}

// CloseSurveyResult is empty.
type CloseSurveyResult struct{}

// CloseSurvey closes the survey so late answers are refused.
func (a *Activities) CloseSurvey(ctx context.Context, in CloseSurveyInput) (CloseSurveyResult, error) {
	return CloseSurveyResult{}, classify(ctx, "close survey", a.Store.CloseSurvey(ctx, in.OrderID, in.ShipmentID))
}

// ApplyPaymentInput records how a payment was applied to the order's invoice.
type ApplyPaymentInput struct {
	OrderID           string          `json:"order_id"`
	BankTransactionID string          `json:"bank_transaction_id"`
	InvoiceNumber     string          `json:"invoice_number"`
	Kind              order.MatchKind `json:"kind"`
}

// ApplyPaymentResult is empty.
type ApplyPaymentResult struct{}

// ApplyPayment marks a bank payment as matched to the invoice.
func (a *Activities) ApplyPayment(ctx context.Context, in ApplyPaymentInput) (ApplyPaymentResult, error) {
	err := a.Store.MatchPayment(ctx, in.BankTransactionID, in.OrderID, in.InvoiceNumber, in.Kind, "orderflow")
	return ApplyPaymentResult{}, classify(ctx, "record payment "+in.BankTransactionID, err)
}
