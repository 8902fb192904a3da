package station

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJPKIChallengesAreSealedToTheSetupAndExpire(t *testing.T) {
	c := JPKIChallenges{Key: []byte("0123456789abcdef0123456789abcdef"), TTL: time.Minute}
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	ch := c.Issue("SU-1", now)
	nonce, err := c.open(ch.ID, "SU-1", now.Add(59*time.Second))
	if err != nil || string(nonce) != string(ch.Nonce) || len(nonce) != 32 {
		t.Fatalf("open: %x %v", nonce, err)
	}
	body, tag, _ := strings.Cut(ch.ID, ".")
	for name, id := range map[string]string{
		"other_setup": "", "tampered": body[:len(body)-2] + "AA." + tag, "no_tag": body, "other_key": JPKIChallenges{Key: []byte("x"), TTL: time.Minute}.Issue("SU-1", now).ID,
	} {
		setup := "SU-1"
		if name == "other_setup" {
			id, setup = ch.ID, "SU-2"
		}
		if _, err := c.open(id, setup, now); !errors.Is(err, ErrChallengeUnknown) {
			t.Errorf("%s: %v, want unknown", name, err)
		}
	}
	if _, err := c.open(ch.ID, "SU-1", now.Add(time.Minute)); !errors.Is(err, ErrChallengeExpired) {
		t.Fatalf("at expiry: %v, want expired", err)
	}
}
