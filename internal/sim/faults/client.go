package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Put replaces a running simulator's rules over HTTP, the way dev mode and
// `orderflow bench` drive them: url is the simulator's /sim/faults. Nil
// rules clear them.
func Put(ctx context.Context, url string, rules []Rule) error {
	if rules == nil {
		rules = []Rule{}
	}
	b, err := json.Marshal(Body{Rules: rules})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("set faults at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("set faults at %s: %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
