package mail_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

const sender = "orderflow <noreply@orderflow.test>"

// hostPort splits a listener address into Config fields.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return host, port
}

func startSink(t *testing.T) *mailsink.Sink {
	t.Helper()
	s := mailsink.New(mailsink.Options{SMTPAddr: ":0", Logger: zerolog.Nop()})
	require.NoError(t, s.Start())
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func senderFor(t *testing.T, addr string, b *downstream.Breaker) *mail.Sender {
	t.Helper()
	host, port := hostPort(t, addr)
	return mail.NewSender(mail.Config{Host: host, Port: port, From: sender, TLS: "none"}, b)
}

func invoiceMessage(t *testing.T, orderID string) mail.Message {
	t.Helper()
	issued := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	subject, text, err := mail.Render(mail.KindInvoice, mail.Data{
		OrderID: orderID, CustomerName: "Müller Werkzeuge GmbH", PONumber: "PO-4711",
		Invoice: &order.Invoice{InvoiceID: "inv_1", Number: "INV-2026-00042", Amount: money.New(85285, "EUR"),
			IssuedAt: issued, DueDate: order.DueDate(issued, 30)},
	})
	require.NoError(t, err)
	return mail.Message{ID: orderID + ".invoice.1", Kind: mail.KindInvoice, OrderID: orderID,
		To: []string{"buyer@mueller.example"}, Subject: subject, Text: text}
}

func requireMailError(t *testing.T, err error) *downstream.Error {
	t.Helper()
	require.Error(t, err)
	de, ok := downstream.AsError(err)
	require.True(t, ok, "want *downstream.Error, got %T: %v", err, err)
	require.Equal(t, "mail", de.System)
	return de
}

func TestSendReachesSinkWithHeadersAndDuplicateOnResend(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	s := senderFor(t, sink.Addr(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	m := invoiceMessage(t, "ord-e2e-1")
	require.NoError(t, s.Send(ctx, m))

	got, err := sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-e2e-1"}, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	first := got[0]
	require.Equal(t, "<ord-e2e-1.invoice.1@orderflow>", first.MessageID)
	require.Equal(t, mail.MessageID(m.ID), first.MessageID)
	require.Equal(t, "ord-e2e-1.invoice.1", first.OrderflowID)
	require.Equal(t, "invoice", first.Kind)
	require.Equal(t, "ord-e2e-1", first.OrderID)
	require.Equal(t, []string{"buyer@mueller.example"}, first.To)
	require.Contains(t, first.From, "noreply@orderflow.test", "From defaults to Config.From")
	require.Equal(t, m.Subject, first.Subject)
	require.Equal(t, m.Text, first.Text, "body survives the transfer encoding, umlauts included")
	require.Contains(t, first.Text, "Müller Werkzeuge GmbH")
	require.False(t, first.Duplicate)
	require.Contains(t, string(first.Raw), "X-Orderflow-Kind: invoice")
	require.Contains(t, string(first.Raw), "Auto-Submitted: auto-generated")
	require.Empty(t, first.ParseError)

	// The activity retries after a send it did not see succeed.
	require.NoError(t, s.Send(ctx, m))
	got, err = sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-e2e-1"}, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.False(t, got[0].Duplicate)
	require.True(t, got[1].Duplicate, "a resend with the same ID is recognisable")
	require.Equal(t, first.MessageID, got[1].MessageID)

	// Another step of the same order is a new mail, not a duplicate.
	m2 := m
	m2.ID = "ord-e2e-1.dunning.1"
	m2.Kind = mail.KindDunning
	m2.From = "Accounts <ar@orderflow.test>"
	require.NoError(t, s.Send(ctx, m2))
	got, err = sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-e2e-1", Kind: "dunning"}, 1)
	require.NoError(t, err)
	require.False(t, got[0].Duplicate)
	require.Contains(t, got[0].From, "ar@orderflow.test", "a message's own From wins over the config")
}

func TestSendToClosedPortIsTransient(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	err = senderFor(t, addr, nil).Send(context.Background(), invoiceMessage(t, "ord-closed"))
	de := requireMailError(t, err)
	t.Log(err)
	require.False(t, de.Permanent, "connection refused is worth retrying: %v", err)
	require.False(t, de.BreakerOpen)
	require.Contains(t, de.Op, "invoice")
}

func TestSendTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	// A server that accepts the connection and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = senderFor(t, l.Addr().String(), nil).Send(ctx, invoiceMessage(t, "ord-silent"))
	de := requireMailError(t, err)
	require.False(t, de.Permanent, "a timeout is worth retrying: %v", err)
	require.Less(t, time.Since(start), 10*time.Second, "the context's deadline bounds the attempt")
}

// rejecting is a go-smtp backend that refuses one stage of the conversation.
type rejecting struct {
	stage string // "session", "mail", "rcpt" or "data"
	err   *smtp.SMTPError
}

func (b rejecting) NewSession(*smtp.Conn) (smtp.Session, error) {
	if b.stage == "session" {
		return nil, b.err
	}
	return rejectingSession{b}, nil
}

type rejectingSession struct{ b rejecting }

func (s rejectingSession) refuse(stage string) error {
	if s.b.stage == stage {
		return s.b.err
	}
	return nil
}

func (s rejectingSession) Mail(string, *smtp.MailOptions) error { return s.refuse("mail") }
func (s rejectingSession) Rcpt(string, *smtp.RcptOptions) error { return s.refuse("rcpt") }
func (s rejectingSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return s.refuse("data")
}
func (s rejectingSession) Reset()        {}
func (s rejectingSession) Logout() error { return nil }

func startRejecting(t *testing.T, b rejecting) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := smtp.NewServer(b)
	srv.Domain = "reject.test"
	srv.ErrorLog = silent{}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

type silent struct{}

func (silent) Printf(string, ...any) {}
func (silent) Println(...any)        {}

func TestSendClassifiesServerReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stage     string
		code      int
		enhanced  smtp.EnhancedCode
		permanent bool
	}{
		{"unknown mailbox", "rcpt", 550, smtp.EnhancedCode{5, 1, 1}, true},
		{"bad recipient syntax", "rcpt", 553, smtp.EnhancedCode{5, 1, 3}, true},
		{"greylisted", "rcpt", 451, smtp.EnhancedCode{4, 7, 1}, false},
		{"mailbox full for now", "rcpt", 452, smtp.EnhancedCode{4, 2, 2}, false},
		{"sender refused", "mail", 553, smtp.EnhancedCode{5, 7, 1}, true},
		{"sender rate limited", "mail", 421, smtp.EnhancedCode{4, 7, 0}, false},
		{"content rejected", "data", 554, smtp.EnhancedCode{5, 7, 1}, true},
		{"content deferred", "data", 451, smtp.EnhancedCode{4, 3, 0}, false},
		// The server refusing us as a whole is an outage, not a bad mail.
		{"session refused", "session", 554, smtp.EnhancedCode{5, 3, 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startRejecting(t, rejecting{stage: tt.stage,
				err: &smtp.SMTPError{Code: tt.code, EnhancedCode: tt.enhanced, Message: tt.name}})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := senderFor(t, addr, nil).Send(ctx, invoiceMessage(t, "ord-reject"))
			de := requireMailError(t, err)
			t.Log(err)
			require.Equal(t, tt.permanent, de.Permanent, "%v", err)
			require.Contains(t, err.Error(), strconv.Itoa(tt.code), "the reply code reaches the error text")
			require.Contains(t, err.Error(), tt.name)
		})
	}
}

func TestBreakerOpensAfterRepeatedConnectionFailures(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	b := downstream.NewBreaker("mail", downstream.BreakerSettings{ConsecutiveFailures: 3, OpenFor: time.Minute}, nil)
	s := senderFor(t, addr, b)
	m := invoiceMessage(t, "ord-breaker")
	for i := range 3 {
		de := requireMailError(t, s.Send(context.Background(), m))
		require.False(t, de.BreakerOpen, "attempt %d reaches the server", i+1)
		require.False(t, de.Permanent)
	}
	require.Equal(t, gobreaker.StateOpen, b.State())
	de := requireMailError(t, s.Send(context.Background(), m))
	require.True(t, de.BreakerOpen, "the fourth send is refused without dialling: %v", de)
	require.Equal(t, time.Minute, de.RetryAfter)
	require.False(t, de.Permanent)
}

func TestPermanentRejectionsDoNotOpenTheBreaker(t *testing.T) {
	t.Parallel()
	addr := startRejecting(t, rejecting{stage: "rcpt",
		err: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}})
	b := downstream.NewBreaker("mail", downstream.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute}, nil)
	s := senderFor(t, addr, b)
	for range 4 {
		de := requireMailError(t, s.Send(context.Background(), invoiceMessage(t, "ord-550")))
		require.True(t, de.Permanent)
		require.False(t, de.BreakerOpen)
	}
	require.Equal(t, gobreaker.StateClosed, b.State(), "a server that answers 550 is up")
}

func TestSendValidatesBeforeDialling(t *testing.T) {
	t.Parallel()
	// Breaker opens on the first transient failure: had any case dialled the
	// closed port, the later ones would come back BreakerOpen, not Permanent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	b := downstream.NewBreaker("mail", downstream.BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute}, nil)
	host, port := hostPort(t, addr)
	noFrom := mail.NewSender(mail.Config{Host: host, Port: port, TLS: "none"}, b)
	s := senderFor(t, addr, b)

	tests := []struct {
		name   string
		sender *mail.Sender
		change func(*mail.Message)
		field  string
	}{
		{"no recipients", s, func(m *mail.Message) { m.To = nil }, "to:"},
		{"bad address", s, func(m *mail.Message) { m.To = []string{"buyer@example.com", "not an address"} }, "to[1]"},
		{"header injection in address", s, func(m *mail.Message) { m.To = []string{"a@example.com\r\nBcc: x@evil.test"} }, "to[0]"},
		{"bad from", s, func(m *mail.Message) { m.From = "orderflow" }, "from:"},
		{"no from anywhere", noFrom, func(*mail.Message) {}, "from:"},
		{"no id", s, func(m *mail.Message) { m.ID = "" }, "id:"},
		{"id with space", s, func(m *mail.Message) { m.ID = "ord 1" }, "id:"},
		{"id with at", s, func(m *mail.Message) { m.ID = "ord@1" }, "id:"},
		{"no kind", s, func(m *mail.Message) { m.Kind = "" }, "kind:"},
		{"unknown kind", s, func(m *mail.Message) { m.Kind = "fax" }, "kind:"},
		{"no subject", s, func(m *mail.Message) { m.Subject = " " }, "subject:"},
		{"subject with line break", s, func(m *mail.Message) { m.Subject = "hi\r\nBcc: x@evil.test" }, "subject:"},
		{"no text", s, func(m *mail.Message) { m.Text = "" }, "text:"},
	}
	for _, tt := range tests {
		m := invoiceMessage(t, "ord-valid")
		tt.change(&m)
		err := tt.sender.Send(context.Background(), m)
		de := requireMailError(t, err)
		t.Log(err)
		require.True(t, de.Permanent, "%s: %v", tt.name, err)
		require.False(t, de.BreakerOpen, "%s: %v", tt.name, err)
		require.Contains(t, de.Detail, tt.field, tt.name)
	}
	require.Equal(t, gobreaker.StateClosed, b.State(), "nothing was dialled")
}

func TestSendWithUnusableConfigIsPermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  mail.Config
		want string
	}{
		{mail.Config{From: sender}, "host"},
		{mail.Config{Host: "127.0.0.1", From: sender, TLS: "ssl"}, "TLS mode"},
		{mail.Config{Host: "127.0.0.1", Port: 70000, From: sender}, "port"},
	}
	for _, tt := range tests {
		err := mail.NewSender(tt.cfg, nil).Send(context.Background(), invoiceMessage(t, "ord-cfg"))
		de := requireMailError(t, err)
		require.True(t, de.Permanent, "%v", err)
		require.Contains(t, err.Error(), tt.want)
	}
}

func TestSendWithEndedContextIsTransient(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := senderFor(t, sink.Addr(), nil).Send(ctx, invoiceMessage(t, "ord-cancelled-ctx"))
	de := requireMailError(t, err)
	require.False(t, de.Permanent)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.Empty(t, sink.Messages(mailsink.Filter{}))
}
