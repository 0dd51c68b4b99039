package mailsink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"

	ofmail "github.com/orderflow/orderflow/internal/mail"
)

// maxPartDepth bounds nested multiparts; orderflow sends single-part text.
const maxPartDepth = 5

// parse reads a received message. A message that is not valid RFC 5322 is
// still kept, with the envelope, the raw bytes as text and the reason.
func parse(raw []byte, envFrom string, envTo []string) *Message {
	m := &Message{From: envFrom, envelopeFrom: envFrom, To: append([]string(nil), envTo...), Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseError = "read header: " + err.Error()
		m.Text = string(raw)
		return m
	}
	var dec mime.WordDecoder
	header := func(name string) string {
		v := strings.TrimSpace(msg.Header.Get(name))
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	if from := header("From"); from != "" {
		m.From = from
	}
	m.Subject = header("Subject")
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	m.OrderflowID = header(ofmail.HeaderID)
	m.Kind = header(ofmail.HeaderKind)
	m.OrderID = header(ofmail.HeaderOrder)

	text, err := plainText(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	if err != nil {
		m.ParseError = "read body: " + err.Error()
	}
	m.Text = strings.ReplaceAll(text, "\r\n", "\n")
	return m
}

// plainText returns the first text/plain content in a part, transfer
// encoding undone. Every orderflow mail is UTF-8, so charsets are not converted.
func plainText(h textproto.MIMEHeader, body io.Reader, depth int) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("content type %q: %w", ct, err)
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		if depth >= maxPartDepth {
			return "", errors.New("multipart nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", nil
			}
			if err != nil {
				return "", fmt.Errorf("multipart: %w", err)
			}
			text, err := plainText(p.Header, p, depth+1)
			if err != nil || text != "" {
				return text, err
			}
		}
	case mediaType == "text/plain":
		var r io.Reader
		switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		default: // 7bit, 8bit, binary
			r = body
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return string(b), fmt.Errorf("decode %s text: %w", h.Get("Content-Transfer-Encoding"), err)
		}
		return string(b), nil
	}
	return "", nil
}
