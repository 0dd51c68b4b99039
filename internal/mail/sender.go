package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/orderflow/orderflow/internal/downstream"
)

// System is the name of the mail system in breakers, errors and metrics.
const System = "mail"

// Headers that tie a mail to the order and step that sent it.
const (
	HeaderID    = "X-Orderflow-Id"
	HeaderKind  = "X-Orderflow-Kind"
	HeaderOrder = "X-Orderflow-Order"
)

// MessageIDDomain is the right-hand side of every Message-ID orderflow sets.
const MessageIDDomain = "orderflow"

// MessageID returns the Message-ID header value of a mail with idempotency key id.
func MessageID(id string) string { return "<" + id + "@" + MessageIDDomain + ">" }

// Message is one mail. ID is the idempotency key (order + step); it becomes
// the Message-ID "<ID@orderflow>" and, with Kind and OrderID, the headers
// X-Orderflow-Id, X-Orderflow-Kind and X-Orderflow-Order, so a retried send is
// recognisable as the same mail.
type Message struct {
	ID      string
	Kind    Kind
	OrderID string
	// From is the sender's address; empty means Config.From.
	From    string
	To      []string
	Subject string
	Text    string
}

// TLS modes of Config.TLS.
const (
	TLSNone     = "none"     // plain SMTP, for the dev sink and relays on localhost
	TLSStartTLS = "starttls" // STARTTLS required; refuses a server that does not offer it
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS)
)

// Config says how to reach the SMTP server.
type Config struct {
	Host string
	// Port defaults to 25 with TLS "none", 587 with "starttls" and 465 with "tls".
	Port int
	// From is the sender of every message that names none.
	From string
	// Username and Password log in when Username is set; the mechanism is
	// the best the server offers.
	Username, Password string
	// TLS is "none", "starttls" or "tls"; empty means "none".
	TLS string
}

// sendTimeout bounds one delivery, connection to QUIT, when the context
// allows longer. go-mail applies it as the connection's deadline.
const sendTimeout = 30 * time.Second

// Sender delivers messages over SMTP through the mail system's breaker. It is
// safe for concurrent use: every Send opens its own connection.
type Sender struct {
	cfg     Config
	cfgErr  error
	breaker *downstream.Breaker
}

// NewSender builds a sender. b is the mail system's breaker; nil gets a
// breaker of its own with downstream.DefaultBreaker settings. A Config that
// cannot work (no host, unknown TLS mode) is reported by every Send as a
// permanent error, so the activity raises it instead of retrying.
func NewSender(cfg Config, b *downstream.Breaker) *Sender {
	if b == nil {
		b = downstream.NewBreaker(System, downstream.DefaultBreaker, nil)
	}
	s := &Sender{cfg: cfg, breaker: b}
	if s.cfg.TLS == "" {
		s.cfg.TLS = TLSNone
	}
	switch {
	case s.cfg.Host == "":
		s.cfgErr = errors.New("config: SMTP host is empty")
	case s.cfg.TLS != TLSNone && s.cfg.TLS != TLSStartTLS && s.cfg.TLS != TLSImplicit:
		s.cfgErr = fmt.Errorf("config: TLS mode %q: want none, starttls or tls", s.cfg.TLS)
	case s.cfg.Port < 0 || s.cfg.Port > 65535:
		s.cfgErr = fmt.Errorf("config: SMTP port %d out of range", s.cfg.Port)
	}
	if s.cfg.Port == 0 {
		s.cfg.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[s.cfg.TLS]
	}
	return s
}

// Send delivers m. It validates m before dialling and returns nil or a
// *downstream.Error (System "mail") that says whether a retry can help; see
// the package documentation for the classification.
func (s *Sender) Send(ctx context.Context, m Message) error {
	op := "send " + string(m.Kind) + " mail"
	if m.Kind == "" {
		op = "send mail"
	}
	if s.cfgErr != nil {
		return &downstream.Error{System: System, Op: op, Permanent: true, Detail: s.cfgErr.Error(), Err: s.cfgErr}
	}
	msg, err := s.build(m)
	if err != nil {
		return &downstream.Error{System: System, Op: op, Permanent: true, Detail: err.Error(), Err: err}
	}
	return s.breaker.Do(System, op, func() error { return s.deliver(ctx, op, msg) })
}

// build validates m and turns it into a go-mail message. Every error names
// the Message field at fault.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if err := validID(m.ID); err != nil {
		return nil, err
	}
	if m.Kind == "" {
		return nil, errors.New("kind: required")
	}
	if _, ok := templates[m.Kind]; !ok {
		return nil, fmt.Errorf("kind: %q: %w", m.Kind, ErrUnknownKind)
	}
	if strings.ContainsFunc(m.OrderID, isBreak) {
		return nil, errors.New("order id: contains a line break")
	}
	from := m.From
	if from == "" {
		from = s.cfg.From
	}
	if from == "" {
		return nil, errors.New("from: required (neither the message nor the config names a sender)")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("from: %q is not an address: %w", from, err)
	}
	if len(m.To) == 0 {
		return nil, errors.New("to: at least one recipient is required")
	}
	for i, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return nil, fmt.Errorf("to[%d]: %q is not an address: %w", i, to, err)
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		return nil, errors.New("subject: required")
	}
	if strings.ContainsFunc(m.Subject, isBreak) {
		return nil, errors.New("subject: contains a line break")
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, errors.New("text: the body is empty")
	}

	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + MessageIDDomain)
	msg.SetDate()
	msg.SetGenHeader(HeaderID, m.ID)
	msg.SetGenHeader(HeaderKind, string(m.Kind))
	if m.OrderID != "" {
		msg.SetGenHeader(HeaderOrder, m.OrderID)
	}
	// RFC 3834: tells auto-responders (out-of-office) not to answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// validID accepts any ID that can stand left of the @ in a Message-ID
// header: no spaces or control characters, none of the characters that
// delimit the header ("<", ">", "@"), and short enough for one header line.
func validID(id string) error {
	switch {
	case id == "":
		return errors.New("id: required (the idempotency key of the order and step)")
	case len(id) > 200:
		return fmt.Errorf("id: %d bytes, at most 200", len(id))
	case strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r >= unicode.MaxASCII || r == '<' || r == '>' || r == '@' || r == '"' || r == '\\'
	}):
		return fmt.Errorf("id: %q cannot be part of a Message-ID (spaces, <, >, @, quotes, non-ASCII)", id)
	}
	return nil
}

func isBreak(r rune) bool { return r == '\r' || r == '\n' }

// deliver makes one SMTP delivery attempt.
func (s *Sender) deliver(ctx context.Context, op string, msg *gomail.Msg) error {
	timeout := sendTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 || ctx.Err() != nil {
		err := ctx.Err()
		if err == nil {
			err = context.DeadlineExceeded
		}
		return &downstream.Error{System: System, Op: op, Detail: "no time left: " + err.Error(), Err: err}
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(timeout)}
	switch s.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return &downstream.Error{System: System, Op: op, Permanent: true, Detail: "config: " + err.Error(), Err: err}
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// Accepted by the server; a failed RSET or QUIT afterwards does not
		// undo that, and retrying would send the mail twice.
		return nil
	}
	return classify(op, err)
}

// classify turns a go-mail error into a *downstream.Error. A 5xx reply to the
// envelope or the content is permanent; everything else (4xx, network,
// timeouts, a server refusing the session as a whole) is transient.
func classify(op string, err error) *downstream.Error {
	e := &downstream.Error{System: System, Op: op, Detail: shorten(err.Error()), Err: err}
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			e.Permanent = se.ErrorCode() >= 500 && se.ErrorCode() <= 599
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			// The message cannot be sent as built, whatever the server's mood.
			e.Permanent = true
		}
		return e
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		// A reply before the mail transaction (greeting, EHLO, STARTTLS,
		// AUTH): the server, not this mail, is the problem.
		e.Detail = shorten(fmt.Sprintf("server refused the session: %d %s", te.Code, te.Msg))
		return e
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		e.Detail = shorten("timeout: " + err.Error())
	}
	return e
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
