package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/customer"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// How long the links of a marketing mail work: a reorder link for a
// quarter (the reminder's products and quantities age), an unsubscribe
// link for two years (an old mail must still let its reader opt out).
const (
	ReorderLinkFor     = 90 * 24 * time.Hour
	UnsubscribeLinkFor = 2 * 365 * 24 * time.Hour
)

// CustomerSettingsLoader hands the worker's configured customer settings
// to the customer workflow (its LoadCustomerSettings local activity), so
// that a run's rules come from its worker's configuration and are in the
// history, not read from the wall clock or the environment in workflow
// code. The worker registers it beside *Activities.
type CustomerSettingsLoader struct {
	Settings customer.Settings
}

// LoadCustomerSettingsInput asks for the settings; it carries nothing.
type LoadCustomerSettingsInput struct{}

// LoadCustomerSettingsResult is the worker's settings.
type LoadCustomerSettingsResult struct {
	Settings customer.Settings `json:"settings"`
}

// LoadCustomerSettings returns the configured settings. Settings that do
// not validate are a permanent failure (a worker started from
// config.FromEnv never has them).
func (l *CustomerSettingsLoader) LoadCustomerSettings(_ context.Context, _ LoadCustomerSettingsInput) (LoadCustomerSettingsResult, error) {
	if err := l.Settings.Validate(); err != nil {
		return LoadCustomerSettingsResult{}, temporal.NewNonRetryableApplicationError("customer settings: "+err.Error(), ErrTypeInvalidInput, err)
	}
	return LoadCustomerSettingsResult{Settings: l.Settings}, nil
}

// SendMarketingMailInput is one marketing mail of the customer workflow
// to the customer's purchasers.
type SendMarketingMailInput struct {
	// Key is the mail's idempotency key (customer + step); each contact's
	// mail is claimed under it and sent with a Message-ID derived from it.
	Key        string    `json:"key"`
	Kind       mail.Kind `json:"kind"`
	CustomerID string    `json:"customer_id"`
	// OrderID is the order a quote nudge is about ("" otherwise).
	OrderID string    `json:"order_id,omitempty"`
	Data    mail.Data `json:"data"`
	// Reorder, when set, are the lines of the mail's one-click reorder link.
	Reorder []order.Line `json:"reorder,omitempty"`
	// Cap marketing mails per contact per Window (the settings').
	Cap    int           `json:"cap"`
	Window time.Duration `json:"window"`
	// At is the workflow's time of the decision: the cap counts back from it.
	At time.Time `json:"at"`
}

// SendMarketingMailResult says, per contact, what was decided.
type SendMarketingMailResult struct {
	Sent     []string `json:"sent,omitempty"`
	OptedOut []string `json:"opted_out,omitempty"`
	Capped   []string `json:"capped,omitempty"`
}

// SendMarketingMail sends a marketing mail (mail.Kind.Marketing) to each
// of the customer's purchasers (the contacts SendMail's buyer audience
// resolves to), one mail per contact with the contact's own unsubscribe
// link. Each contact is first claimed in the store, which refuses a
// contact who opted out or had the frequency cap's worth of marketing
// mails, and audits the decision; a retried activity meets the same
// decisions and does not mail a contact whose mail is marked sent.
// Transactional mails do not pass here.
func (a *Activities) SendMarketingMail(ctx context.Context, in SendMarketingMailInput) (SendMarketingMailResult, error) {
	switch {
	case !in.Kind.Marketing():
		return SendMarketingMailResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s is not a marketing mail", in.Kind), ErrTypeInvalidInput, nil)
	case in.Key == "" || in.CustomerID == "":
		return SendMarketingMailResult{}, temporal.NewNonRetryableApplicationError("marketing mail: key and customer are required", ErrTypeInvalidInput, nil)
	case in.Cap < 1 || in.Window <= 0:
		return SendMarketingMailResult{}, temporal.NewNonRetryableApplicationError("marketing mail: a frequency cap of at least 1 per positive window is required", ErrTypeInvalidInput, nil)
	case a.Links == nil:
		// Without signed links there is no unsubscribe link, and a
		// marketing mail must carry one.
		return SendMarketingMailResult{}, temporal.NewNonRetryableApplicationError("marketing mail: no link signer configured", ErrTypeInvalidInput, nil)
	}
	to, err := a.recipients(ctx, in.CustomerID, AudienceBuyer, in.Kind, "")
	if err != nil {
		return SendMarketingMailResult{}, err
	}
	if in.Data.CustomerName == "" {
		if t, err := a.Store.Terms(ctx, in.CustomerID); err == nil {
			in.Data.CustomerName = t.CustomerName
		}
	}
	in.Data.OrderID = in.OrderID
	var res SendMarketingMailResult
	for _, email := range to {
		email = strings.ToLower(strings.TrimSpace(email))
		out, err := a.Store.ClaimMarketingMail(ctx, store.MarketingClaim{Key: in.Key, CustomerID: in.CustomerID, Email: email,
			Kind: string(in.Kind), At: in.At, Cap: in.Cap, Window: in.Window})
		if err != nil {
			return SendMarketingMailResult{}, classify(ctx, "claim "+string(in.Kind)+" mail", err)
		}
		switch {
		case out.Decision == store.MarketingOptedOut:
			res.OptedOut = append(res.OptedOut, email)
			continue
		case out.Decision == store.MarketingCapped:
			res.Capped = append(res.Capped, email)
			continue
		case out.SentAt != nil: // an earlier attempt sent it
			res.Sent = append(res.Sent, email)
			continue
		}
		if err := a.sendMarketing(ctx, in, email); err != nil {
			return SendMarketingMailResult{}, err
		}
		res.Sent = append(res.Sent, email)
	}
	return res, nil
}

// sendMarketing renders and sends the mail to one contact.
func (a *Activities) sendMarketing(ctx context.Context, in SendMarketingMailInput, email string) error {
	d := in.Data
	cd := mail.CustomerData{CustomerID: in.CustomerID}
	if d.Customer != nil {
		cd = *d.Customer
	}
	d.Customer = &cd
	now := time.Now()
	chain := store.CustomerAuditID(in.CustomerID)
	permanent := func(what string, err error) error {
		return temporal.NewNonRetryableApplicationError(what+": "+err.Error(), ErrTypeInvalidInput, err)
	}
	tok, err := a.Links.Sign(links.Link{Purpose: links.Unsubscribe, OrderID: chain, CustomerID: in.CustomerID, To: email,
		Expires: now.Add(UnsubscribeLinkFor)})
	if err != nil {
		return permanent("sign the unsubscribe link", err)
	}
	cd.UnsubscribeURL = a.pageURL("unsubscribe", tok)
	if len(in.Reorder) > 0 {
		lines := make([]links.Line, len(in.Reorder))
		for i, l := range in.Reorder {
			lines[i] = links.Line{SKU: l.SKU, Quantity: l.Quantity}
		}
		tok, err := a.Links.Sign(links.Link{Purpose: links.Reorder, OrderID: chain, CustomerID: in.CustomerID, To: email,
			Lines: lines, Expires: now.Add(ReorderLinkFor)})
		if err != nil {
			return permanent("sign the reorder link", err)
		}
		cd.ReorderURL = a.pageURL("reorder", tok)
	}
	if in.OrderID != "" {
		// A quote nudge: the order page, and the accept link of the
		// revision while it is valid, as in the quote mail.
		tok, err := a.Links.Sign(links.Link{Purpose: links.View, OrderID: in.OrderID, CustomerID: in.CustomerID, To: email,
			Expires: now.Add(ViewLinkFor)})
		if err != nil {
			return permanent("sign the order link", err)
		}
		d.OrderURL = a.linkURL(tok)
		if q := d.Quote; q != nil && q.Revision > 0 && q.ValidUntil.After(now) {
			tok, err := a.Links.Sign(links.Link{Purpose: links.Accept, OrderID: in.OrderID, CustomerID: in.CustomerID, To: email,
				Revision: q.Revision, Expires: q.ValidUntil})
			if err != nil {
				return permanent("sign the accept link", err)
			}
			d.AcceptURL = a.linkURL(tok)
		}
	}
	subject, text, err := mail.Render(in.Kind, d)
	if err != nil {
		return permanent("render "+string(in.Kind)+" mail", err)
	}
	orderID := in.OrderID
	if orderID == "" {
		orderID = chain
	}
	m := mail.Message{ID: contactKey(in.Key, email), Kind: in.Kind, OrderID: orderID, To: []string{email}, Subject: subject, Text: text}
	if err := a.Mail.Send(ctx, m); err != nil {
		return classify(ctx, "send "+string(in.Kind)+" mail", err)
	}
	if err := a.Store.MarkMarketingSent(ctx, in.Key, email, time.Now()); err != nil {
		// The mail is out; marking it only spares a retry sending it again.
		activity.GetLogger(ctx).Warn("marketing mail sent but not marked sent", "Key", in.Key, "Error", err)
	}
	return nil
}

// contactKey is the Message-ID of one contact's copy of a marketing mail:
// the mail's key and a digest of the address (an address cannot be part
// of a Message-ID, and need not be in one).
func contactKey(key, email string) string {
	sum := sha256.Sum256([]byte(email))
	return key + "/" + hex.EncodeToString(sum[:6])
}

// pageURL is a page of this system for a link token: /{page}/{token}.
func (a *Activities) pageURL(page, token string) string {
	return strings.TrimRight(a.PublicURL, "/") + "/" + page + "/" + token
}

// SendCustomerRepMailInput is a mail of the customer workflow to the
// customer's sales rep.
type SendCustomerRepMailInput struct {
	Key        string    `json:"key"`
	Kind       mail.Kind `json:"kind"`
	CustomerID string    `json:"customer_id"`
	// OrderID is the order the mail is about, if any ("" otherwise: the
	// mail is kept under the customer workflow's id).
	OrderID string    `json:"order_id,omitempty"`
	Data    mail.Data `json:"data"`
}

// SendCustomerRepMailResult names who was mailed.
type SendCustomerRepMailResult struct {
	To []string `json:"to"`
}

// SendCustomerRepMail sends the rep's alert of a dormant customer
// (rep-dormant-customer) through SendMail: it is no marketing mail, so neither
// opt-out nor cap apply, and it is kept for a resend like an order's mails.
func (a *Activities) SendCustomerRepMail(ctx context.Context, in SendCustomerRepMailInput) (SendCustomerRepMailResult, error) {
	if in.Kind != mail.KindRepDormant {
		return SendCustomerRepMailResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s is not a rep mail of the customer workflow", in.Kind), ErrTypeInvalidInput, nil)
	}
	orderID := in.OrderID
	if orderID == "" {
		orderID = store.CustomerAuditID(in.CustomerID)
	}
	res, err := a.SendMail(ctx, SendMailInput{Key: in.Key, Kind: in.Kind, OrderID: orderID, CustomerID: in.CustomerID,
		Audience: AudienceRep, Data: in.Data})
	if err != nil {
		return SendCustomerRepMailResult{}, err
	}
	return SendCustomerRepMailResult{To: res.To}, nil
}

// RecordCustomerInsightInput is the customer workflow's view of its
// customer for the rep (store.CustomerInsight; zero times are unknown).
type RecordCustomerInsightInput struct {
	CustomerID      string        `json:"customer_id"`
	Orders          int           `json:"orders"`
	LastOrderAt     time.Time     `json:"last_order_at,omitzero"`
	UsualInterval   time.Duration `json:"usual_interval,omitempty"`
	NextExpectedAt  time.Time     `json:"next_expected_at,omitzero"`
	NextExpectedSKU string        `json:"next_expected_sku,omitempty"`
	OpenQuotes      int           `json:"open_quotes"`
	DormantSince    time.Time     `json:"dormant_since,omitzero"`
	// Version is the workflow's counter of insights, carried across runs.
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
}

// RecordCustomerInsightResult is empty.
type RecordCustomerInsightResult struct{}

// RecordCustomerInsight writes the insight; an older version than the one
// stored changes nothing, so a retried or late write is harmless.
func (a *Activities) RecordCustomerInsight(ctx context.Context, in RecordCustomerInsightInput) (RecordCustomerInsightResult, error) {
	if in.CustomerID == "" {
		return RecordCustomerInsightResult{}, temporal.NewNonRetryableApplicationError("customer insight: no customer", ErrTypeInvalidInput, nil)
	}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	ci := store.CustomerInsight{CustomerID: in.CustomerID, Orders: in.Orders, LastOrderAt: opt(in.LastOrderAt),
		UsualInterval: in.UsualInterval, NextExpectedAt: opt(in.NextExpectedAt), NextExpectedSKU: in.NextExpectedSKU,
		OpenQuotes: in.OpenQuotes, DormantSince: opt(in.DormantSince), Version: in.Version, UpdatedAt: in.At}
	if err := a.Store.UpsertCustomerInsight(ctx, ci); err != nil {
		return RecordCustomerInsightResult{}, classify(ctx, "record the customer insight", err)
	}
	return RecordCustomerInsightResult{}, nil
}

// OpenQuoteLostFollowUpInput is a quote that expired or was rejected.
type OpenQuoteLostFollowUpInput struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// OpenQuoteLostFollowUpResult is the follow-up, the first one on a repeat.
type OpenQuoteLostFollowUpResult struct {
	FollowUpID int64  `json:"followup_id"`
	Owner      string `json:"owner"`
	Created    bool   `json:"created"`
}

// OpenQuoteLostFollowUp opens the rep's follow-up of a lost quote (one
// per order).
func (a *Activities) OpenQuoteLostFollowUp(ctx context.Context, in OpenQuoteLostFollowUpInput) (OpenQuoteLostFollowUpResult, error) {
	if in.OrderID == "" || in.CustomerID == "" {
		return OpenQuoteLostFollowUpResult{}, temporal.NewNonRetryableApplicationError("quote-lost follow-up: order and customer are required", ErrTypeInvalidInput, nil)
	}
	fu, created, err := a.Store.OpenQuoteLostFollowUp(ctx, store.QuoteLost{OrderID: in.OrderID, CustomerID: in.CustomerID,
		Reason: in.Reason, At: in.At})
	if err != nil {
		return OpenQuoteLostFollowUpResult{}, classify(ctx, "open the quote-lost follow-up", err)
	}
	return OpenQuoteLostFollowUpResult{FollowUpID: fu.ID, Owner: fu.Owner, Created: created}, nil
}
