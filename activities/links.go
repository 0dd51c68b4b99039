package activities

import (
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mail"
)

// ViewLinkFor is how long the order link in a buyer mail works;
// ApproveLinkFor the approve link of an approval request.
const (
	ViewLinkFor    = 180 * 24 * time.Hour
	ApproveLinkFor = 14 * 24 * time.Hour
)

// attachLinks gives a buyer mail its signed links: the order page (view),
// and for a quote mail the page that accepts that revision, until the
// quote's validity ends. Whoever uses a link acts as the mail's
// recipients. An approval request to the buyer's approvers carries the
// link that approves or rejects. A mail that has its links (a resend)
// keeps them.
func (a *Activities) attachLinks(in *SendMailInput, to []string) error {
	if a.Links == nil || in.Audience != AudienceBuyer {
		return nil
	}
	d := &in.Data
	// The recipients act when the link is used: a person is their address.
	who := strings.Join(to, ",")
	now := time.Now()
	if d.OrderURL == "" {
		tok, err := a.Links.Sign(links.Link{Purpose: links.View, OrderID: in.OrderID, CustomerID: in.CustomerID, To: who,
			Expires: now.Add(ViewLinkFor)})
		if err != nil {
			return err
		}
		d.OrderURL = a.linkURL(tok)
	}
	if (in.Kind == mail.KindQuote || in.Kind == mail.KindQuoteReminder) && d.Quote != nil && d.AcceptURL == "" && d.Quote.ValidUntil.After(now) {
		tok, err := a.Links.Sign(links.Link{Purpose: links.Accept, OrderID: in.OrderID, CustomerID: in.CustomerID, To: who,
			Revision: d.Quote.Revision, Expires: d.Quote.ValidUntil})
		if err != nil {
			return err
		}
		d.AcceptURL = a.linkURL(tok)
	}
	if (in.Kind == mail.KindApprovalRequest || in.Kind == mail.KindApprovalReminder) && d.ApproveURL == "" {
		tok, err := a.Links.Sign(links.Link{Purpose: links.Approve, OrderID: in.OrderID, CustomerID: in.CustomerID, To: who,
			Expires: now.Add(ApproveLinkFor)})
		if err != nil {
			return err
		}
		d.ApproveURL = a.linkURL(tok)
	}
	return nil
}

// linkURL is the page a link opens: GET /o/{token}.
func (a *Activities) linkURL(token string) string {
	return strings.TrimRight(a.PublicURL, "/") + "/o/" + token
}
