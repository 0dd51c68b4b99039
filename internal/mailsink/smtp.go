package mailsink

import (
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rs/zerolog"
)

// backend hands every SMTP connection a session that stores into the sink.
type backend struct{ sink *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{sink: b.sink}, nil
}

// session is one SMTP conversation; it accepts any sender and recipient.
type session struct {
	sink *Sink
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.Refusing() {
		// An outage as a mail server has one: a transient refusal, so the
		// sender keeps the message and retries.
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "service not available (simulated outage), try again later"}
	}
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	m := parse(raw, s.from, s.to)
	// What PostgreSQL keeps, so a message reads the same after a restart.
	m.ReceivedAt = time.Now().UTC().Truncate(time.Microsecond)
	if err := s.sink.store(m); err != nil {
		s.sink.log.Error().Err(err).Msg("mail sink refused a message it could not keep")
		// 451: a transient refusal, so the sender retries rather than drops it.
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now, try again later"}
	}
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// smtpLog sends go-smtp's own complaints (broken connections) to zerolog.
type smtpLog struct{ l zerolog.Logger }

func (l smtpLog) Printf(format string, v ...any) { l.l.Warn().Msgf(format, v...) }

func (l smtpLog) Println(v ...any) { l.l.Warn().Msg(fmt.Sprint(v...)) }
