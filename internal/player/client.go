package player

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// statusError is an answer the player did not expect.
type statusError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

// client sends the player's requests. 5xx answers and transport errors
// are retried with backoff for up to retryFor: the API answers 503 while
// the order cannot be told (an outage), and the player, like a
// storefront, tries again.
type client struct {
	http     *http.Client
	retryFor time.Duration
}

// request is one call.
type request struct {
	method string
	url    string
	token  string
	header map[string]string
	// body is JSON-encoded, or sent as a form when it is url.Values.
	body any
	// ok lists the statuses that are not errors; nil means any 2xx.
	ok []int
}

// do sends req and decodes a JSON answer into out (when not nil). It
// returns the status.
func (c *client) do(ctx context.Context, req request, out any) (int, error) {
	var raw []byte
	contentType := ""
	switch b := req.body.(type) {
	case nil:
	case url.Values:
		raw, contentType = []byte(b.Encode()), "application/x-www-form-urlencoded"
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return 0, err
		}
		contentType = "application/json"
	}
	deadline := time.Now().Add(c.retryFor)
	wait := 200 * time.Millisecond
	for {
		status, body, err := c.once(ctx, req, raw, contentType)
		retry := err != nil || status >= 500
		if !retry {
			if !okStatus(status, req.ok) {
				return status, &statusError{req.method, req.url, status, string(body)}
			}
			if out != nil && len(body) > 0 {
				if err := json.Unmarshal(body, out); err != nil {
					return status, fmt.Errorf("%s %s: decode answer: %w", req.method, req.url, err)
				}
			}
			return status, nil
		}
		if err == nil {
			err = &statusError{req.method, req.url, status, string(body)}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return status, err
		}
		if err := sleep(ctx, wait); err != nil {
			return status, err
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (c *client) once(ctx context.Context, req request, raw []byte, contentType string) (int, []byte, error) {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	r, err := http.NewRequestWithContext(ctx, req.method, req.url, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	res, err := c.http.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, body, nil
}

func okStatus(status int, ok []int) bool {
	if ok == nil {
		return status >= 200 && status < 300
	}
	for _, s := range ok {
		if s == status {
			return true
		}
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isStatus reports whether err is an answer with one of the statuses.
func isStatus(err error, status ...int) bool {
	var se *statusError
	if !errors.As(err, &se) {
		return false
	}
	for _, s := range status {
		if se.Status == s {
			return true
		}
	}
	return false
}
