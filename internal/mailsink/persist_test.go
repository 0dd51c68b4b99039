package mailsink_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

// TestRestartOnTheSameDatabaseKeepsTheMails is `orderflow dev` stopped and
// started again: the new sink lists the old mails, with the same ids, text and
// duplicate marks, and carries on numbering and spotting resends.
func TestRestartOnTheSameDatabaseKeepsTheMails(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, nil)
	open := func(max int) *mailsink.Sink {
		s := mailsink.New(mailsink.Options{SMTPAddr: ":0", MaxMessages: max, Logger: zerolog.Nop(), DB: pool})
		require.NoError(t, s.Start())
		return s
	}

	first := open(0)
	sender := senderFor(t, first)
	send(t, sender, "ord-p.survey.1", mail.KindSurvey, "ord-p", "buyer@acme.example", "How did we do?")
	send(t, sender, "ord-p.survey.1", mail.KindSurvey, "ord-p", "buyer@acme.example", "How did we do?")
	send(t, sender, "ord-p.invoice.1", mail.KindInvoice, "ord-p", "ap@acme.example", "Invoice INV-000001")
	before := first.Messages(mailsink.Filter{})
	require.Len(t, before, 3)
	require.NoError(t, first.Close())

	second := open(0)
	t.Cleanup(func() { require.NoError(t, second.Close()) })
	after := second.Messages(mailsink.Filter{})
	require.Equal(t, before, after, "the restarted sink lists the same mails")
	require.Equal(t, []bool{false, true, false}, []bool{after[0].Duplicate, after[1].Duplicate, after[2].Duplicate})
	require.Contains(t, after[0].Text, "Body of How did we do?")

	// Over HTTP, as a person at :8025 or the README walkthrough reads it.
	srv := httptest.NewServer(second.Handler())
	t.Cleanup(srv.Close)
	resp, body := get(t, srv.URL+"/messages?order=ord-p&kind=survey", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, strings.Count(body, `"subject": "How did we do?"`), body)

	// Numbering carries on, and a resend of a mail from before the restart is a duplicate.
	sender = senderFor(t, second)
	send(t, sender, "ord-p.survey.1", mail.KindSurvey, "ord-p", "buyer@acme.example", "How did we do?")
	send(t, sender, "ord-q.quote.1", mail.KindQuote, "ord-q", "buyer@acme.example", "Quote")
	msgs := second.Messages(mailsink.Filter{})
	require.Len(t, msgs, 5)
	require.Equal(t, []int64{4, 5}, []int64{msgs[3].ID, msgs[4].ID})
	require.True(t, msgs[3].Duplicate)
	require.False(t, msgs[4].Duplicate)

	// Clear empties the table too.
	require.NoError(t, second.Clear())
	require.NoError(t, second.Close())
	third := open(0)
	require.Empty(t, third.Messages(mailsink.Filter{}))
	require.NoError(t, third.Close())
}

func TestRestartKeepsOnlyTheNewest(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, nil)
	first := mailsink.New(mailsink.Options{SMTPAddr: ":0", MaxMessages: 2, Logger: zerolog.Nop(), DB: pool})
	require.NoError(t, first.Start())
	sender := senderFor(t, first)
	for i := 1; i <= 4; i++ {
		send(t, sender, "ord-r.mail."+strconv.Itoa(i), mail.KindCSAlert, "ord-r", "cs@seller.example", "Alert "+strconv.Itoa(i))
	}
	require.NoError(t, first.Close())
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM mailsink_messages`).Scan(&n))
	require.Equal(t, 2, n, "the table keeps no more than the sink")

	second := mailsink.New(mailsink.Options{SMTPAddr: ":0", MaxMessages: 2, Logger: zerolog.Nop(), DB: pool})
	require.NoError(t, second.Start())
	t.Cleanup(func() { require.NoError(t, second.Close()) })
	msgs := second.Messages(mailsink.Filter{})
	require.Len(t, msgs, 2)
	require.Equal(t, []string{"Alert 3", "Alert 4"}, []string{msgs[0].Subject, msgs[1].Subject})
}
