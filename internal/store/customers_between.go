package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// CustomerAuditID is the audit chain a customer's marketing decisions and
// opt-outs are written to: the customer workflow's id
// (workflows.CustomerWorkflowID), in audit_log.order_id. The chain is per
// order_id, so a customer's entries chain among themselves, apart from its
// orders'.
func CustomerAuditID(customerID string) string { return "customer-" + customerID }

// MarketingDecision is what the claim of a marketing mail decided for one
// contact.
type MarketingDecision string

// The decisions of ClaimMarketingMail.
const (
	// MarketingSent: the mail may go out (and counts against the cap).
	MarketingSent MarketingDecision = "sent"
	// MarketingOptedOut: the contact opted out; no mail.
	MarketingOptedOut MarketingDecision = "opted-out"
	// MarketingCapped: the contact had the cap's worth of marketing mails
	// in the window; no mail.
	MarketingCapped MarketingDecision = "capped"
)

// MarketingClaim asks whether a marketing mail may go to one contact.
type MarketingClaim struct {
	// Key is the mail's idempotency key; with Email it names the claim.
	Key        string
	CustomerID string
	Email      string
	Kind       string
	At         time.Time
	// Cap mails per contact per Window.
	Cap    int
	Window time.Duration
}

// MarketingOutcome is the decision of a claim, and whether the mail it
// allowed is out already (a retried send must not mail again).
type MarketingOutcome struct {
	Decision MarketingDecision
	SentAt   *time.Time
	// First is false when the claim was decided before (a replay).
	First bool
}

// ClaimMarketingMail decides, in one transaction, whether a marketing mail
// goes to a contact: not when the contact opted out of the customer's
// marketing mails, not when Cap mails were sent to it within Window
// before At; otherwise it is recorded as sent, and counts against the cap
// from then on. The decision is audited on the customer's chain
// (marketing.sent or marketing.suppressed). Claims of one contact take
// turns (an advisory lock), so two mails at once cannot both pass a cap
// of one. A replay of the same key and contact answers the first decision
// and writes nothing.
func (s *Store) ClaimMarketingMail(ctx context.Context, c MarketingClaim) (MarketingOutcome, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	what := fmt.Sprintf("claim %s mail %q for %s", c.Kind, c.Key, email)
	switch {
	case c.Key == "" || c.CustomerID == "" || email == "" || c.Kind == "":
		return MarketingOutcome{}, fmt.Errorf("%s: key, customer, email and kind are required", what)
	case c.Cap < 1 || c.Window <= 0:
		return MarketingOutcome{}, fmt.Errorf("%s: a cap of at least 1 per positive window is required", what)
	}
	at := orNow(c.At)
	var out MarketingOutcome
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('marketing:' || $1 || ':' || $2, 0))`,
			c.CustomerID, email); err != nil {
			return dbError(what+": lock the contact", err)
		}
		err := tx.QueryRow(ctx, `SELECT decision, sent_at FROM marketing_mails WHERE key = $1 AND email = $2`, c.Key, email).
			Scan(&out.Decision, &out.SentAt)
		if err == nil {
			return nil // decided before
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return dbError(what, err)
		}
		out.First = true
		var optedOut bool
		var sent int
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM marketing_optouts WHERE customer_id = $1 AND email = $2),
			       (SELECT count(*) FROM marketing_mails
			        WHERE customer_id = $1 AND email = $2 AND decision = 'sent'
			          AND decided_at > $3 AND decided_at <= $4)`,
			c.CustomerID, email, at.Add(-c.Window), at).Scan(&optedOut, &sent); err != nil {
			return dbError(what, err)
		}
		switch {
		case optedOut:
			out.Decision = MarketingOptedOut
		case sent >= c.Cap:
			out.Decision = MarketingCapped
		default:
			out.Decision = MarketingSent
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO marketing_mails (key, email, customer_id, kind, decision, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.Key, email, c.CustomerID, c.Kind, out.Decision, at); err != nil {
			return dbError(what, err)
		}
		action, reason := "marketing.sent", fmt.Sprintf("%s mail to %s", c.Kind, email)
		switch out.Decision {
		case MarketingOptedOut:
			action, reason = "marketing.suppressed", reason+" not sent: the contact opted out"
		case MarketingCapped:
			action, reason = "marketing.suppressed", reason+fmt.Sprintf(" not sent: %d marketing mail(s) in the last %s (cap %d)", sent, c.Window, c.Cap)
		}
		data, err := json.Marshal(map[string]string{"key": c.Key, "kind": c.Kind, "email": email, "decision": string(out.Decision)})
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, AuditEntry{OrderID: CustomerAuditID(c.CustomerID), At: at, Actor: order.System,
			Action: action, Reason: reason, Data: data})
	})
	if err != nil {
		return MarketingOutcome{}, err
	}
	return out, nil
}

// MarkMarketingSent records that the mail system took the mail claimed
// under key for email.
func (s *Store) MarkMarketingSent(ctx context.Context, key, email string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE marketing_mails SET sent_at = $3 WHERE key = $1 AND email = $2 AND sent_at IS NULL`,
		key, strings.ToLower(strings.TrimSpace(email)), orNow(at))
	if err != nil {
		return dbError("mark marketing mail "+key+" sent", err)
	}
	return nil
}

// MarketingMail is one decided marketing mail to one contact.
type MarketingMail struct {
	Key        string            `json:"key"`
	Email      string            `json:"email"`
	CustomerID string            `json:"customer_id"`
	Kind       string            `json:"kind"`
	Decision   MarketingDecision `json:"decision"`
	DecidedAt  time.Time         `json:"decided_at"`
	SentAt     *time.Time        `json:"sent_at,omitempty"`
}

// MarketingMails lists a customer's decided marketing mails, oldest first.
func (s *Store) MarketingMails(ctx context.Context, customerID string) ([]MarketingMail, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT key, email, customer_id, kind, decision, decided_at, sent_at
		FROM marketing_mails WHERE customer_id = $1 ORDER BY decided_at, key, email`, customerID)
	if err != nil {
		return nil, dbError("marketing mails of "+customerID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MarketingMail, error) {
		var m MarketingMail
		err := row.Scan(&m.Key, &m.Email, &m.CustomerID, &m.Kind, &m.Decision, &m.DecidedAt, &m.SentAt)
		m.DecidedAt = m.DecidedAt.UTC()
		if m.SentAt != nil {
			t := m.SentAt.UTC()
			m.SentAt = &t
		}
		return m, err
	})
	if err != nil {
		return nil, dbError("marketing mails of "+customerID, err)
	}
	return out, nil
}

// MarketingOptOut is a contact's opt-out of a customer's marketing mails.
type MarketingOptOut struct {
	CustomerID string    `json:"customer_id"`
	Email      string    `json:"email"`
	At         time.Time `json:"opted_out_at"`
	// How it was asked for: "link" (a mail's unsubscribe link), "api".
	How string `json:"how"`
}

// OptOut records a contact's opt-out, effective for the next claim. A
// repeat keeps the first and returns false. The opt-out is audited on the
// customer's chain (marketing.opted-out), as the contact.
func (s *Store) OptOut(ctx context.Context, o MarketingOptOut) (bool, error) {
	email := strings.ToLower(strings.TrimSpace(o.Email))
	what := fmt.Sprintf("opt %s out of %s's marketing mails", email, o.CustomerID)
	if o.CustomerID == "" || email == "" || o.How == "" {
		return false, fmt.Errorf("%s: customer, email and how are required", what)
	}
	at := orNow(o.At)
	var created bool
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO marketing_optouts (customer_id, email, opted_out_at, how) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, email) DO NOTHING`, o.CustomerID, email, at, o.How)
		if err != nil {
			return dbError(what, err)
		}
		if created = tag.RowsAffected() == 1; !created {
			return nil
		}
		return appendAudit(ctx, tx, AuditEntry{OrderID: CustomerAuditID(o.CustomerID), At: at,
			Actor:  order.Actor{Subject: email, Role: order.RoleBuyer, CustomerID: o.CustomerID},
			Action: "marketing.opted-out", Reason: fmt.Sprintf("%s opted out of marketing mails (%s)", email, o.How)})
	})
	return created, err
}

// OptedOut reports whether a contact opted out of a customer's marketing mails.
func (s *Store) OptedOut(ctx context.Context, customerID, email string) (bool, error) {
	var out bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM marketing_optouts WHERE customer_id = $1 AND email = $2)`,
		customerID, strings.ToLower(strings.TrimSpace(email))).Scan(&out)
	if err != nil {
		return false, dbError("opt-out of "+email, err)
	}
	return out, nil
}

// FollowUpKindQuoteLost is a follow-up of a quote that expired or was
// rejected: the rep calls the customer; the reason is in its Comment.
const FollowUpKindQuoteLost = "quote-lost"

// QuoteLost is a quote that expired or was rejected.
type QuoteLost struct {
	OrderID    string
	CustomerID string
	// Reason says why: "expired unanswered", or the buyer's reason.
	Reason string
	At     time.Time
}

// OpenQuoteLostFollowUp opens the rep's follow-up of a lost quote, owned
// by the customer's rep, and audits it on the order. One per order: a
// repeat returns the first (created false).
func (s *Store) OpenQuoteLostFollowUp(ctx context.Context, q QuoteLost) (FollowUp, bool, error) {
	what := fmt.Sprintf("open quote-lost follow-up of order %q", q.OrderID)
	if q.OrderID == "" || q.CustomerID == "" {
		return FollowUp{}, false, fmt.Errorf("%s: order and customer are required", what)
	}
	at := orNow(q.At)
	var fu FollowUp
	var created bool
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		var err error
		fu, err = scanFollowUp(tx.QueryRow(ctx, `
			INSERT INTO followups (kind, order_id, customer_id, comment, owner, opened_at)
			SELECT $1, $2, $3, $4, COALESCE((SELECT rep_email FROM customers WHERE id = $3), ''), $5
			ON CONFLICT (order_id) WHERE kind = 'quote-lost' DO NOTHING
			RETURNING `+followUpColumns, FollowUpKindQuoteLost, q.OrderID, q.CustomerID, q.Reason, at))
		if errors.Is(err, pgx.ErrNoRows) {
			fu, err = scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM followups
				WHERE order_id = $1 AND kind = 'quote-lost'`, q.OrderID))
			if err != nil {
				return dbError(what, err)
			}
			return nil
		}
		if err != nil {
			return dbError(what, err)
		}
		created = true
		return appendAudit(ctx, tx, AuditEntry{OrderID: q.OrderID, At: at, Actor: order.System, Action: "followup.opened",
			Reason: fmt.Sprintf("quote-lost follow-up %d for %s: %s", fu.ID, fu.Owner, q.Reason)})
	})
	if err != nil {
		return FollowUp{}, false, err
	}
	return fu, created, nil
}

// CustomerInsight is the customer workflow's view of a customer, for the
// rep: written by the workflow, read by the rep's view.
type CustomerInsight struct {
	CustomerID  string     `json:"customer_id"`
	Orders      int        `json:"orders"`
	LastOrderAt *time.Time `json:"last_order_at,omitempty"`
	// UsualInterval is the median interval between the customer's orders
	// (0: fewer than two orders).
	UsualInterval   time.Duration `json:"usual_interval,omitempty"`
	NextExpectedAt  *time.Time    `json:"next_expected_at,omitempty"`
	NextExpectedSKU string        `json:"next_expected_sku,omitempty"`
	OpenQuotes      int           `json:"open_quotes"`
	DormantSince    *time.Time    `json:"dormant_since,omitempty"`
	// Version is the workflow's counter: an older write never replaces a
	// newer one.
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UpsertCustomerInsight writes the insight unless a newer version is
// stored (a retried or late write changes nothing).
func (s *Store) UpsertCustomerInsight(ctx context.Context, ci CustomerInsight) error {
	what := "customer insight of " + ci.CustomerID
	if ci.CustomerID == "" {
		return fmt.Errorf("%s: no customer", what)
	}
	var usual *time.Duration
	if ci.UsualInterval > 0 {
		usual = &ci.UsualInterval
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO customer_insights (customer_id, orders, last_order_at, usual_interval, next_expected_at,
			next_expected_sku, open_quotes, dormant_since, version, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (customer_id) DO UPDATE SET orders = excluded.orders, last_order_at = excluded.last_order_at,
			usual_interval = excluded.usual_interval, next_expected_at = excluded.next_expected_at,
			next_expected_sku = excluded.next_expected_sku, open_quotes = excluded.open_quotes,
			dormant_since = excluded.dormant_since, version = excluded.version, updated_at = excluded.updated_at
		WHERE customer_insights.version < excluded.version`,
		ci.CustomerID, ci.Orders, ci.LastOrderAt, usual, ci.NextExpectedAt, ci.NextExpectedSKU, ci.OpenQuotes,
		ci.DormantSince, ci.Version, orNow(ci.UpdatedAt))
	if err != nil {
		return dbError(what, err)
	}
	return nil
}

// CustomerInsight returns a customer's insight; ErrNotFound before the
// customer workflow wrote one.
func (s *Store) CustomerInsight(ctx context.Context, customerID string) (CustomerInsight, error) {
	var ci CustomerInsight
	var usual *time.Duration
	err := s.pool.QueryRow(ctx, `
		SELECT customer_id, orders, last_order_at, usual_interval, next_expected_at, next_expected_sku,
			open_quotes, dormant_since, version, updated_at
		FROM customer_insights WHERE customer_id = $1`, customerID).Scan(&ci.CustomerID, &ci.Orders, &ci.LastOrderAt,
		&usual, &ci.NextExpectedAt, &ci.NextExpectedSKU, &ci.OpenQuotes, &ci.DormantSince, &ci.Version, &ci.UpdatedAt)
	if err != nil {
		return CustomerInsight{}, dbError("customer insight of "+customerID, err)
	}
	if usual != nil {
		ci.UsualInterval = *usual
	}
	for _, t := range []**time.Time{&ci.LastOrderAt, &ci.NextExpectedAt, &ci.DormantSince} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	ci.UpdatedAt = ci.UpdatedAt.UTC()
	return ci, nil
}
