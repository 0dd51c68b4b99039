package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAnswer bounds how much of an answer the driver reads.
const maxAnswer = 4 << 20

// do sends one request and decodes a 2xx answer into out (when not nil). A
// body of type url.Values is sent as a form, any other as JSON. A named
// request is timed into the report, and the API's and simulators' calls carry
// the storefront token only where they go to the API.
func (d *driver) do(ctx context.Context, name, method, rawURL string, header map[string]string, body, out any) (int, error) {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		rd, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(rawURL, d.t.API+"/v1/") {
		req.Header.Set("Authorization", "Bearer "+d.t.Token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if name != "" {
		d.observe(name, time.Since(start))
	}
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, rawURL, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, rawURL, resp.Status, bytes.TrimSpace(b[:min(len(b), 300)]))
	}
	if out != nil && resp.Header.Get("Content-Type") != "" && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, rawURL, err)
		}
	} else if out != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: answer is %q, not JSON", method, rawURL, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, nil
}
