package mailsink

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/sim/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable is where tern records the sink's schema version.
const VersionTable = "mailsink_schema_version"

// dbTimeout bounds loading the kept messages at Start and each write.
const dbTimeout = 30 * time.Second

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
	// DB, when set, keeps the messages in PostgreSQL (table
	// mailsink_messages, migrated by Start) as well as in memory, so a new
	// sink on the same database lists what an earlier one received. Without
	// it a restart forgets all.
	DB *pgxpool.Pool
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
	// envelopeFrom is the envelope sender (MAIL FROM), kept in the database
	// with Raw so the message can be parsed again.
	envelopeFrom string
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

// Sink is a development SMTP server that keeps what it receives in memory,
// and in PostgreSQL when Options.DB is set.
type Sink struct {
	addr string
	max  int
	log  zerolog.Logger
	db   *pgxpool.Pool

	// writeMu serialises writers (deliveries and Clear) so the database's
	// ids and the order of msgs agree; mu guards the fields below it and is
	// never held across a database call.
	writeMu  sync.Mutex
	mu       sync.Mutex
	msgs     []*Message     // arrival order, oldest first
	seen     map[string]int // Message-ID → copies among msgs
	seq      int64
	changed  chan struct{} // closed and replaced on every new message
	server   *smtp.Server
	listener net.Listener
	served   chan struct{} // closed when Serve returns
	// refusing makes the sink refuse every mail with a transient error,
	// as a mail server in an outage does (SetRefusing).
	refusing atomic.Bool
}

// SetRefusing starts (true) or ends (false) a simulated outage: while it
// lasts, every MAIL FROM gets 421, a transient refusal the sender retries.
func (s *Sink) SetRefusing(on bool) {
	if s.refusing.Swap(on) != on {
		s.log.Info().Bool("refusing", on).Msg("mail sink outage switched")
	}
}

// Refusing reports whether a simulated outage is on.
func (s *Sink) Refusing() bool { return s.refusing.Load() }

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
		db:      opts.DB,
		seen:    make(map[string]int),
		changed: make(chan struct{}),
	}
}

// Start listens on the SMTP address and serves in the background. It
// returns once the port is bound, so Addr is valid and a sender may connect.
// With Options.DB it first migrates the sink's table and loads the newest
// messages kept there. A sink starts once; after Close, build a new one.
func (s *Sink) Start() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		return errors.New("mailsink: already started")
	}
	if s.db != nil {
		if err := s.loadLocked(); err != nil {
			return err
		}
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

// Clear forgets every message, in the database too. Sequence numbers keep
// counting, so an ID is never reused.
func (s *Sink) Clear() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if _, err := s.db.Exec(ctx, `DELETE FROM mailsink_messages`); err != nil {
			return fmt.Errorf("mailsink: clear: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	clear(s.seen)
	return nil
}

// store keeps a received message and wakes the waiters. With a database
// the message is written there first; a failed write refuses the delivery,
// so the sender tries again later instead of the mail being lost.
func (s *Sink) store(m *Message) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	m.Duplicate = m.MessageID != "" && s.seen[m.MessageID] > 0
	s.mu.Unlock()
	if s.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := s.db.QueryRow(ctx, `
			INSERT INTO mailsink_messages (envelope_from, envelope_to, raw, received_at, duplicate)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			m.envelopeFrom, m.To, m.Raw, m.ReceivedAt, m.Duplicate).Scan(&m.ID); err != nil {
			return fmt.Errorf("mailsink: keep message: %w", err)
		}
	}

	s.mu.Lock()
	if s.db == nil {
		s.seq++
		m.ID = s.seq
	}
	s.appendLocked(m)
	oldest := s.msgs[0].ID
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	if s.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		// The messages evicted from memory leave the table too; if this
		// fails the next delivery catches up.
		if _, err := s.db.Exec(ctx, `DELETE FROM mailsink_messages WHERE id < $1`, oldest); err != nil {
			s.log.Warn().Err(err).Msg("mail sink could not drop old messages")
		}
	}
	s.log.Info().Int64("mail_id", m.ID).Strs("to", m.To).Str("kind", m.Kind).Str("order_id", m.OrderID).
		Str("subject", m.Subject).Bool("duplicate", m.Duplicate).Msg("mail received")
	return nil
}

// appendLocked adds m to the kept messages and drops the oldest beyond max.
func (s *Sink) appendLocked(m *Message) {
	if m.MessageID != "" {
		s.seen[m.MessageID]++
	}
	s.msgs = append(s.msgs, m)
	for len(s.msgs) > s.max {
		s.forgetLocked(s.msgs[0])
		s.msgs[0] = nil
		s.msgs = s.msgs[1:]
	}
}

// loadLocked migrates the sink's table and loads the newest max messages
// from it, as received: parsed again, with their ids and duplicate marks.
func (s *Sink) loadLocked() error {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := schema.Apply(ctx, s.db, migrations, VersionTable); err != nil {
		return fmt.Errorf("mailsink: %w", err)
	}
	rows, err := s.db.Query(ctx, `
		SELECT id, envelope_from, envelope_to, raw, received_at, duplicate
		FROM (SELECT * FROM mailsink_messages ORDER BY id DESC LIMIT $1) newest
		ORDER BY id`, s.max)
	if err != nil {
		return fmt.Errorf("mailsink: load messages: %w", err)
	}
	var (
		id        int64
		from      string
		to        []string
		raw       []byte
		received  time.Time
		duplicate bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &from, &to, &raw, &received, &duplicate}, func() error {
		m := parse(slices.Clone(raw), from, slices.Clone(to))
		m.ID, m.ReceivedAt, m.Duplicate = id, received.UTC(), duplicate
		s.appendLocked(m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mailsink: load messages: %w", err)
	}
	if len(s.msgs) > 0 {
		s.log.Info().Int("messages", len(s.msgs)).Msg("mail sink loaded the messages it kept")
	}
	return nil
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
