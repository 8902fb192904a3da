// Package face is the HTTP adapter of the staff login's face step
// (station.FaceVerifier): it asks an external face-matching service whether
// an image shows the staff member. Protocol: POST <URL> with JSON
// {"staff_id": "...", "image": "<base64>"}; the service answers 200 with
// {"match": true|false}. Anything else is an error (the login is refused
// as "cannot check now", never passed).
package face

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTP calls the service at URL, giving up after Timeout.
type HTTP struct {
	URL    string
	client *http.Client
}

// New returns the adapter.
func New(url string, timeout time.Duration) *HTTP {
	return &HTTP{URL: url, client: &http.Client{Timeout: timeout}}
}

// Request is the body sent; Response the body expected.
type Request struct {
	StaffID string `json:"staff_id"`
	Image   []byte `json:"image"`
}

type Response struct {
	Match bool `json:"match"`
}

// Verify implements the port.
func (h *HTTP) Verify(ctx context.Context, staffID string, image []byte) (bool, error) {
	body, _ := json.Marshal(Request{StaffID: staffID, Image: image})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := h.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("face service: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("face service answered %s", res.Status)
	}
	var r Response
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&r); err != nil {
		return false, fmt.Errorf("face service answer: %w", err)
	}
	return r.Match, nil
}
