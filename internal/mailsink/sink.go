package mailsink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rs/zerolog"
)

// DefaultSMTPAddr is where the sink listens when Options.SMTPAddr is empty.
const DefaultSMTPAddr = "127.0.0.1:2525"

// DefaultMaxMessages is how many messages the sink keeps when Options.MaxMessages is 0.
const DefaultMaxMessages = 1000

// maxMessageBytes refuses absurd messages; orderflow's mails are a few KB.
const maxMessageBytes = 10 << 20

// Options configure a Sink.
type Options struct {
	// SMTPAddr is the address to listen on. A missing host means the
	// loopback interface, so ":0" picks a free port on 127.0.0.1.
	SMTPAddr string
	// MaxMessages bounds the messages kept; the oldest go first.
	MaxMessages int
	// Logger gets one line per received mail; the caller adds the component name.
	Logger zerolog.Logger
}

// Message is one received mail.
type Message struct {
	// ID is the sink's own sequence number, 1 for the first message.
	ID int64 `json:"id"`
	// MessageID is the Message-ID header as sent, angle brackets included.
	MessageID string `json:"message_id"`
	// From is the From header, or the envelope sender when there is none.
	From string `json:"from"`
	// To are the envelope recipients (RCPT TO), which is where the mail went.
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	// Kind, OrderID and OrderflowID come from the X-Orderflow-Kind,
	// X-Orderflow-Order and X-Orderflow-Id headers.
	Kind        string `json:"kind,omitempty"`
	OrderID     string `json:"order_id,omitempty"`
	OrderflowID string `json:"orderflow_id,omitempty"`
	// Text is the plain-text body, transfer encoding undone.
	Text       string    `json:"text,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Duplicate is true when a message with the same Message-ID was
	// already stored: a resend of the same mail.
	Duplicate bool `json:"duplicate"`
	// ParseError says why the message could not be read as RFC 5322; the
	// sink keeps it anyway, with what it could get.
	ParseError string `json:"parse_error,omitempty"`
	// Raw is the message exactly as received.
	Raw []byte `json:"-"`
}

// Filter selects messages; empty fields match everything.
type Filter struct {
	// To matches a message that has this envelope recipient (case-insensitive).
	To      string
	OrderID string
	Kind    string
}

func (f Filter) match(m *Message) bool {
	if f.OrderID != "" && m.OrderID != f.OrderID {
		return false
	}
	if f.Kind != "" && m.Kind != f.Kind {
		return false
	}
	if f.To != "" && !slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, f.To) }) {
		return false
	}
	return true
}

func (f Filter) String() string {
	return fmt.Sprintf("to=%q order=%q kind=%q", f.To, f.OrderID, f.Kind)
}

// Sink is a development SMTP server that keeps what it receives in memory.
type Sink struct {
	addr string
	max  int
	log  zerolog.Logger

	mu       sync.Mutex
	msgs     []*Message     // arrival order, oldest first
	seen     map[string]int // Message-ID → copies among msgs
	seq      int64
	changed  chan struct{} // closed and replaced on every new message
	server   *smtp.Server
	listener net.Listener
	served   chan struct{} // closed when Serve returns
}

// New builds a sink; Start makes it listen.
func New(opts Options) *Sink {
	if opts.SMTPAddr == "" {
		opts.SMTPAddr = DefaultSMTPAddr
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	return &Sink{
		addr:    opts.SMTPAddr,
		max:     opts.MaxMessages,
		log:     opts.Logger,
		seen:    make(map[string]int),
		changed: make(chan struct{}),
	}
}

// Start listens on the SMTP address and serves in the background. It
// returns once the port is bound, so Addr is valid and a sender may connect.
// A sink starts once; after Close, build a new one.
func (s *Sink) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		return errors.New("mailsink: already started")
	}
	addr := s.addr
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		// Unauthenticated SMTP belongs on loopback unless asked otherwise.
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mailsink: listen on %s: %w", addr, err)
	}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "orderflow-mailsink"
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = smtpLog{s.log}
	s.server, s.listener, s.served = srv, l, make(chan struct{})
	go func(served chan struct{}) {
		defer close(served)
		if err := srv.Serve(l); err != nil {
			s.log.Error().Err(err).Msg("mail sink stopped serving")
		}
	}(s.served)
	s.log.Info().Str("addr", l.Addr().String()).Msg("mail sink listening for SMTP")
	return nil
}

// Addr is the bound SMTP address ("127.0.0.1:2525"); empty before Start.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Close stops listening and drops open SMTP connections. The messages stay
// readable. Closing a sink that is not running does nothing.
func (s *Sink) Close() error {
	s.mu.Lock()
	srv, l, served := s.server, s.listener, s.served
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	// go-smtp learns of the listener only once Serve runs; a Close right
	// after Start can come first, so close the listener here as well.
	if lerr := l.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	<-served
	if err != nil {
		return fmt.Errorf("mailsink: close: %w", err)
	}
	return nil
}

// Messages returns copies of the stored messages that match f, oldest first.
func (s *Sink) Messages(f Filter) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matchLocked(f)
}

func (s *Sink) matchLocked(f Filter) []Message {
	out := []Message{}
	for _, m := range s.msgs {
		if f.match(m) {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns the stored message with sink ID id.
func (s *Sink) Message(id int64) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := slices.BinarySearchFunc(s.msgs, id, func(m *Message, id int64) int {
		switch {
		case m.ID < id:
			return -1
		case m.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return Message{}, false
	}
	return s.msgs[i].clone(), true
}

// WaitFor blocks until at least n stored messages match f, then returns all
// that match, oldest first. When ctx ends first it returns what matched so
// far and an error that says how many were missing.
func (s *Sink) WaitFor(ctx context.Context, f Filter, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		got := s.matchLocked(f)
		changed := s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("mailsink: waiting for %d messages matching %s, have %d: %w", n, f, len(got), ctx.Err())
		case <-changed:
		}
	}
}

// Clear forgets every message. Sequence numbers keep counting, so an ID is
// never reused.
func (s *Sink) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	clear(s.seen)
}

// store keeps a received message and wakes the waiters.
func (s *Sink) store(m *Message) {
	s.mu.Lock()
	s.seq++
	m.ID = s.seq
	if m.MessageID != "" {
		m.Duplicate = s.seen[m.MessageID] > 0
		s.seen[m.MessageID]++
	}
	s.msgs = append(s.msgs, m)
	for len(s.msgs) > s.max {
		s.forgetLocked(s.msgs[0])
		s.msgs[0] = nil
		s.msgs = s.msgs[1:]
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	s.log.Info().Int64("mail_id", m.ID).Strs("to", m.To).Str("kind", m.Kind).Str("order_id", m.OrderID).
		Str("subject", m.Subject).Bool("duplicate", m.Duplicate).Msg("mail received")
}

func (s *Sink) forgetLocked(m *Message) {
	if m.MessageID == "" {
		return
	}
	if s.seen[m.MessageID] <= 1 {
		delete(s.seen, m.MessageID)
	} else {
		s.seen[m.MessageID]--
	}
}

func (m *Message) clone() Message {
	c := *m
	c.To = slices.Clone(m.To)
	c.Raw = slices.Clone(m.Raw)
	return c
}
