package mailsink_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
)

func startSink(t *testing.T, max int) *mailsink.Sink {
	t.Helper()
	s := mailsink.New(mailsink.Options{SMTPAddr: ":0", MaxMessages: max, Logger: zerolog.Nop()})
	require.NoError(t, s.Start())
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func senderFor(t *testing.T, s *mailsink.Sink) *mail.Sender {
	t.Helper()
	host, p, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return mail.NewSender(mail.Config{Host: host, Port: port, From: "orderflow <noreply@orderflow.test>", TLS: "none"}, nil)
}

func send(t *testing.T, s *mail.Sender, id string, kind mail.Kind, orderID, to, subject string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.Send(ctx, mail.Message{ID: id, Kind: kind, OrderID: orderID, To: []string{to},
		Subject: subject, Text: "Body of " + subject + "\n"}))
}

// sendRaw delivers a hand-written message, for shapes orderflow never sends.
func sendRaw(t *testing.T, s *mailsink.Sink, from string, to []string, raw string) {
	t.Helper()
	c, err := smtp.Dial(s.Addr()) // plain SMTP: smtp.SendMail insists on STARTTLS
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SendMail(from, to, strings.NewReader(raw)))
	require.NoError(t, c.Quit())
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSinkListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	s := startSink(t, 0)
	host, _, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host, `":0" binds the loopback interface`)
	require.Error(t, s.Start(), "a second Start is refused")

	busy := mailsink.New(mailsink.Options{SMTPAddr: s.Addr(), Logger: zerolog.Nop()})
	require.ErrorContains(t, busy.Start(), s.Addr())
	require.NoError(t, busy.Close(), "closing a sink that never ran does nothing")
}

func TestFiltersAndWaitFor(t *testing.T) {
	t.Parallel()
	sink := startSink(t, 0)
	sender := senderFor(t, sink)

	// WaitFor blocks across deliveries until enough match.
	type result struct {
		msgs []mailsink.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		msgs, err := sink.WaitFor(waitCtx(t), mailsink.Filter{OrderID: "ord-a"}, 2)
		done <- result{msgs, err}
	}()

	send(t, sender, "ord-a.quote.1", mail.KindQuote, "ord-a", "Buyer@Acme.example", "Quote A")
	send(t, sender, "ord-b.quote.1", mail.KindQuote, "ord-b", "buyer@beta.example", "Quote B")
	send(t, sender, "ord-a.invoice.1", mail.KindInvoice, "ord-a", "buyer@acme.example", "Invoice A")

	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.msgs, 2)
	require.Equal(t, []string{"Quote A", "Invoice A"}, []string{r.msgs[0].Subject, r.msgs[1].Subject}, "oldest first")
	require.Less(t, r.msgs[0].ID, r.msgs[1].ID)

	require.Len(t, sink.Messages(mailsink.Filter{}), 3)
	require.Len(t, sink.Messages(mailsink.Filter{Kind: "quote"}), 2)
	require.Len(t, sink.Messages(mailsink.Filter{To: "buyer@acme.example"}), 2, "recipients match case-insensitively")
	got := sink.Messages(mailsink.Filter{To: "buyer@beta.example", Kind: "quote"})
	require.Len(t, got, 1)
	require.Equal(t, "ord-b", got[0].OrderID)
	require.Equal(t, "Body of Quote B\n", got[0].Text)
	require.Empty(t, sink.Messages(mailsink.Filter{OrderID: "ord-a", Kind: "dunning"}))

	// WaitFor gives up with the context and says what it had.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	msgs, err := sink.WaitFor(ctx, mailsink.Filter{OrderID: "ord-b"}, 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "have 1")
	require.Len(t, msgs, 1)
}

func TestDuplicateMessageID(t *testing.T) {
	t.Parallel()
	sink := startSink(t, 0)
	sender := senderFor(t, sink)
	send(t, sender, "ord-d.survey.1", mail.KindSurvey, "ord-d", "buyer@acme.example", "Survey")
	send(t, sender, "ord-d.survey.1", mail.KindSurvey, "ord-d", "buyer@acme.example", "Survey")
	send(t, sender, "ord-d.survey-reminder.1", mail.KindSurveyReminder, "ord-d", "buyer@acme.example", "Reminder")

	msgs, err := sink.WaitFor(waitCtx(t), mailsink.Filter{OrderID: "ord-d"}, 3)
	require.NoError(t, err)
	require.Equal(t, []bool{false, true, false}, []bool{msgs[0].Duplicate, msgs[1].Duplicate, msgs[2].Duplicate})

	// After Clear the same Message-ID is new again.
	require.NoError(t, sink.Clear())
	send(t, sender, "ord-d.survey.1", mail.KindSurvey, "ord-d", "buyer@acme.example", "Survey")
	msgs, err = sink.WaitFor(waitCtx(t), mailsink.Filter{OrderID: "ord-d"}, 1)
	require.NoError(t, err)
	require.False(t, msgs[0].Duplicate)
	require.Equal(t, int64(4), msgs[0].ID, "IDs are never reused")
}

func TestKeepsOnlyTheNewest(t *testing.T) {
	t.Parallel()
	sink := startSink(t, 2)
	sender := senderFor(t, sink)
	for i := 1; i <= 3; i++ {
		send(t, sender, "ord-e.mail."+strconv.Itoa(i), mail.KindCSAlert, "ord-e", "cs@seller.example", "Alert "+strconv.Itoa(i))
	}
	msgs := sink.Messages(mailsink.Filter{})
	require.Len(t, msgs, 2)
	require.Equal(t, "Alert 2", msgs[0].Subject)
	require.Equal(t, "Alert 3", msgs[1].Subject)
	_, ok := sink.Message(msgs[0].ID - 1)
	require.False(t, ok, "the oldest is gone")
}

func TestParsesForeignShapes(t *testing.T) {
	t.Parallel()
	sink := startSink(t, 0)
	multipart := "From: =?UTF-8?Q?M=C3=BCller?= <m@example.com>\r\n" +
		"To: x@example.com\r\n" +
		"Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n" +
		"Message-ID: <abc@elsewhere>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b1\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"SGFsbG8gV2VsdCDDvAo=\r\n" +
		"--b1\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<p>Hallo</p>\r\n" +
		"--b1--\r\n"
	sendRaw(t, sink, "bounce@example.com", []string{"x@example.com"}, multipart)
	sendRaw(t, sink, "bounce@example.com", []string{"y@example.com"}, "this is not a header\r\n\r\nbody\r\n")

	msgs, err := sink.WaitFor(waitCtx(t), mailsink.Filter{}, 2)
	require.NoError(t, err)
	require.Equal(t, "Müller <m@example.com>", msgs[0].From)
	require.Equal(t, "Grüße", msgs[0].Subject)
	require.Equal(t, "Hallo Welt ü\n", msgs[0].Text)
	require.Equal(t, "<abc@elsewhere>", msgs[0].MessageID)
	require.Empty(t, msgs[0].Kind, "no X-Orderflow headers, no kind")
	require.Empty(t, msgs[0].ParseError)

	require.NotEmpty(t, msgs[1].ParseError, "kept although unreadable")
	require.Equal(t, "bounce@example.com", msgs[1].From, "envelope sender stands in")
	require.Equal(t, []string{"y@example.com"}, msgs[1].To)
	require.Contains(t, msgs[1].Text, "this is not a header")
}

func get(t *testing.T, url, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestHandler(t *testing.T) {
	t.Parallel()
	sink := startSink(t, 0)
	sender := senderFor(t, sink)
	send(t, sender, "ord-h.quote.1", mail.KindQuote, "ord-h", "buyer@acme.example", "Quote for order ord-h: 852.85 EUR")
	send(t, sender, "ord-i.invoice.1", mail.KindInvoice, "ord-i", "ap@beta.example", "Invoice <INV-7> & co")
	_, err := sink.WaitFor(waitCtx(t), mailsink.Filter{}, 2)
	require.NoError(t, err)

	srv := httptest.NewServer(sink.Handler())
	t.Cleanup(srv.Close)

	t.Run("list with filters", func(t *testing.T) {
		for _, tt := range []struct {
			query    string
			subjects []string
		}{
			{"", []string{"Quote for order ord-h: 852.85 EUR", "Invoice <INV-7> & co"}},
			{"?order=ord-h", []string{"Quote for order ord-h: 852.85 EUR"}},
			{"?kind=invoice", []string{"Invoice <INV-7> & co"}},
			{"?to=AP@beta.example", []string{"Invoice <INV-7> & co"}},
			{"?to=buyer@acme.example&kind=invoice", []string{}},
		} {
			resp, body := get(t, srv.URL+"/messages"+tt.query, "")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var msgs []mailsink.Message
			require.NoError(t, json.Unmarshal([]byte(body), &msgs), body)
			subjects := []string{}
			for _, m := range msgs {
				subjects = append(subjects, m.Subject)
				require.Empty(t, m.Text, "the list leaves bodies out")
			}
			require.Equal(t, tt.subjects, subjects, tt.query)
		}
	})

	quote := sink.Messages(mailsink.Filter{OrderID: "ord-h"})[0]
	one := srv.URL + "/messages/" + strconv.FormatInt(quote.ID, 10)

	t.Run("one message as JSON", func(t *testing.T) {
		resp, body := get(t, one, "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		require.Equal(t, "<ord-h.quote.1@orderflow>", m["message_id"])
		require.Equal(t, "quote", m["kind"])
		require.Equal(t, "ord-h", m["order_id"])
		require.Equal(t, "ord-h.quote.1", m["orderflow_id"])
		require.Equal(t, "Body of Quote for order ord-h: 852.85 EUR\n", m["text"])
		require.Equal(t, false, m["duplicate"])
		require.NotContains(t, m, "raw")
	})

	t.Run("one message as HTML", func(t *testing.T) {
		resp, body := get(t, one, "text/html,application/xhtml+xml")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		require.Contains(t, body, "Body of Quote for order ord-h")
		require.Contains(t, body, `href="`+strconv.FormatInt(quote.ID, 10)+`/raw"`)
	})

	t.Run("raw", func(t *testing.T) {
		resp, body := get(t, one+"/raw", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, string(quote.Raw), body)
		require.Contains(t, body, "Message-ID: <ord-h.quote.1@orderflow>\r\n")
		require.Contains(t, body, "X-Orderflow-Order: ord-h\r\n")
	})

	t.Run("index page newest first, escaped", func(t *testing.T) {
		resp, body := get(t, srv.URL+"/", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		iQuote := strings.Index(body, "Quote for order ord-h: 852.85 EUR")
		iInvoice := strings.Index(body, "Invoice &lt;INV-7&gt; &amp; co")
		require.True(t, iQuote >= 0 && iInvoice >= 0, body)
		require.Less(t, iInvoice, iQuote, "newest first")
		require.Contains(t, body, `href="messages/`+strconv.FormatInt(quote.ID, 10)+`"`)
		require.Contains(t, body, "buyer@acme.example")
		require.NotContains(t, body, "<INV-7>")
	})

	t.Run("errors", func(t *testing.T) {
		resp, _ := get(t, srv.URL+"/messages/999", "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, _ = get(t, srv.URL+"/messages/abc", "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp, _ = get(t, srv.URL+"/nowhere", "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("delete clears", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodDelete, srv.URL+"/messages", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		_, body := get(t, srv.URL+"/messages", "")
		require.JSONEq(t, "[]", body)
		_, body = get(t, srv.URL+"/", "")
		require.Contains(t, body, "No mail yet")
	})
}

// TestOutageRefusesMailTransiently: during a simulated outage every mail
// is refused with a transient 421, which orderflow's sender reports as a
// failure to retry, and nothing is kept; after it the same mail goes in.
func TestOutageRefusesMailTransiently(t *testing.T) {
	s := startSink(t, 10)
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	put := func(body string) string {
		req, err := http.NewRequest(http.MethodPut, h.URL+"/faults", strings.NewReader(body))
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strconv.Itoa(res.StatusCode) + " " + strings.Join(strings.Fields(string(b)), "")
	}
	require.Equal(t, `200 {"refuse":true}`, put(`{"refuse":true}`))
	require.Equal(t, "400", put(`{"refuse":"yes"}`)[:3])

	sender := senderFor(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg := mail.Message{ID: "m-1", Kind: mail.KindQuote, OrderID: "ord-1", To: []string{"buyer@acme.test"}, Subject: "Quote", Text: "x\n"}
	err := sender.Send(ctx, msg)
	require.Error(t, err)
	require.Contains(t, err.Error(), "421")
	require.Empty(t, s.Messages(mailsink.Filter{}))

	req, err := http.NewRequest(http.MethodDelete, h.URL+"/faults", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.False(t, s.Refusing())
	require.NoError(t, sender.Send(ctx, msg))
	require.Len(t, s.Messages(mailsink.Filter{OrderID: "ord-1"}), 1)
}
