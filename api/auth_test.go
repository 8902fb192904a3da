package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
)

// A token verified once is remembered, but its expiry is checked on every
// use, and a token whose signature does not check out is refused every
// time (never remembered).
func TestTokensVerifiedOnceStillExpire(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tokens := api.NewTokens([]byte("k"), time.Hour, func() time.Time { return now })
	tok := tokens.Issue(api.Principal{Role: api.RoleFinance, Subject: "fin-1"})
	for range 2 {
		if p, err := tokens.Verify(tok); err != nil || p.Subject != "fin-1" || p.Role != api.RoleFinance {
			t.Fatalf("verify: %+v %v", p, err)
		}
	}
	body, _, _ := strings.Cut(tok, ".")
	forged := body + "." + strings.Repeat("A", 43)
	for range 2 {
		if _, err := tokens.Verify(forged); err == nil {
			t.Fatal("a token with a wrong signature was accepted")
		}
	}
	if _, err := api.NewTokens([]byte("other"), time.Hour, func() time.Time { return now }).Verify(tok); err == nil {
		t.Fatal("a token signed with another key was accepted")
	}
	now = now.Add(time.Hour)
	if _, err := tokens.Verify(tok); err == nil {
		t.Fatal("an expired token was accepted from the cache")
	}
}
