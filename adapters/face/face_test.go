package face_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/face"
)

func TestVerifyAsksTheServiceAndRefusesItsFailures(t *testing.T) {
	var got face.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		switch got.StaffID {
		case "slow":
			time.Sleep(300 * time.Millisecond)
		case "broken":
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(face.Response{Match: string(got.Image) == "me"})
	}))
	defer srv.Close()
	f := face.New(srv.URL, 100*time.Millisecond)
	ctx := context.Background()
	if ok, err := f.Verify(ctx, "st-1", []byte("me")); err != nil || !ok || got.StaffID != "st-1" {
		t.Fatalf("match: %v %v (asked %+v)", ok, err, got)
	}
	if ok, err := f.Verify(ctx, "st-1", []byte("not me")); err != nil || ok {
		t.Fatalf("no match: %v %v", ok, err)
	}
	if ok, err := f.Verify(ctx, "broken", nil); err == nil || ok {
		t.Fatalf("500: %v %v, want an error", ok, err)
	}
	if ok, err := f.Verify(ctx, "slow", nil); err == nil || ok {
		t.Fatalf("past the timeout: %v %v, want an error", ok, err)
	}
}
