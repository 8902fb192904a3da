package station

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to the Gantry API.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// ProblemError is a problem+json answer of the API.
type ProblemError struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Field  string `json:"field,omitempty"`
}

func (e *ProblemError) Error() string {
	return fmt.Sprintf("Gantry refused (%d %s): %s", e.Status, e.Code, e.Detail)
}

// call sends body as JSON and decodes a 2xx answer into out; the ETag's
// version is answered when there is one.
func (c *Client) call(ctx context.Context, method, path, token string, headers map[string]string, body, out any) (int64, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("Gantry cannot be reached at %s: %w", c.BaseURL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if res.StatusCode >= 300 {
		p := &ProblemError{Status: res.StatusCode}
		if json.Unmarshal(b, p) != nil || p.Code == "" {
			p.Code, p.Detail = "http_"+res.Status, string(b)
		}
		return 0, p
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return 0, fmt.Errorf("Gantry's answer cannot be read: %w", err)
		}
	}
	var v int64
	fmt.Sscanf(strings.Trim(res.Header.Get("ETag"), `"W/`), "%d", &v)
	return v, nil
}
