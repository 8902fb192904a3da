package setup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gantry-etc/gantry/commands"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
)

// Passcodes get a keyed hash (HMAC-SHA-256, no bcrypt); the bcrypt hashes
// in events written before stay verifiable; a hash made under another key,
// or checked without a key, matches nothing.
func TestHasherKeyedSecretsAndOldBcrypt(t *testing.T) {
	h := cmds.Hasher{Cost: bcrypt.MinCost, Key: []byte("0123456789abcdef0123456789abcdef")}
	pass := cmds.NewPasscode(context.Background())
	keyed, err := h.HashSecret(pass)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(keyed, "hmac-sha256$") || strings.Contains(keyed, pass) {
		t.Fatalf("keyed hash %q: want the hmac-sha256$ form, without the passcode", keyed)
	}
	if _, err := bcrypt.Cost([]byte(keyed)); err == nil {
		t.Fatal("the passcode hash is a bcrypt hash")
	}
	old, err := h.Hash(pass) // as stored in events before keyed hashes
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(old, "$2") {
		t.Fatalf("Hash gave %q, want bcrypt", old)
	}
	other := cmds.Hasher{Key: []byte("another key, another key, 32 b.")}
	for _, c := range []struct {
		name         string
		h            cmds.Hasher
		hash, passwd string
		want         bool
	}{
		{"keyed_right", h, keyed, pass, true},
		{"keyed_wrong", h, keyed, pass + "X", false},
		{"keyed_other_key", other, keyed, pass, false},
		{"keyed_without_key", cmds.Hasher{}, keyed, pass, false},
		{"keyed_truncated", h, keyed[:len(keyed)-4], pass, false},
		{"old_bcrypt_right", h, old, pass, true},
		{"old_bcrypt_wrong", h, old, pass + "X", false},
		{"old_bcrypt_other_key", other, old, pass, true},
	} {
		if got := c.h.Verify(c.hash, c.passwd); got != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.name, got, c.want)
		}
	}
	// Without a key (a Hasher built by hand), secrets fall back to bcrypt.
	fallback, err := cmds.Hasher{Cost: bcrypt.MinCost}.HashSecret(pass)
	if err != nil || !strings.HasPrefix(fallback, "$2") || !h.Verify(fallback, pass) {
		t.Fatalf("keyless HashSecret = %q, %v: want a bcrypt hash that verifies", fallback, err)
	}
	if !h.VerifyNothing(pass) || (cmds.Hasher{}).VerifyNothing(pass) {
		t.Fatal("VerifyNothing must answer true with a key and false without")
	}
}

// An application applied with a keyed Hasher stores the keyed hash; the
// customer logs in with its passcode, a wrong passcode is refused, and an
// unknown application costs one HMAC (no bcrypt dummy).
func TestApplyStoresKeyedPasscodeHash(t *testing.T) {
	h := cmds.Hasher{Cost: bcrypt.MinCost, Key: []byte("0123456789abcdef0123456789abcdef")}
	st := newStreams()
	clock := commands.NewManualClock(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC))
	out, err := cmds.ApplyHandler{Streams: st, Clock: clock, Hasher: h}.Handle(context.Background(), cmds.Apply{
		Details:     application.Details{Applicant: application.Applicant{Name: "山田太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Email: "taro@example.jp"}, VehicleUser: "山田太郎"},
		Acceptances: application.AllAccepted(), Units: 1})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	for _, e := range st.appended[cmds.ApplicationStream(out.ApplicationID)] {
		if c, ok := e.(application.Completed); ok {
			stored = c.PasscodeHash
		}
	}
	if !strings.HasPrefix(stored, "hmac-sha256$") {
		t.Fatalf("stored passcode hash %q: want a keyed hash", stored)
	}
	login, err := cmds.NewCustomerLoginHandler(st, clock, h)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := login.Handle(context.Background(), cmds.CustomerLogin{Credentials: cmds.Credentials{ApplicationID: out.ApplicationID, Passcode: out.Passcode}}); err != nil || id != out.ApplicationID {
		t.Fatalf("login with the passcode: %q, %v", id, err)
	}
	if _, err := login.Handle(context.Background(), cmds.CustomerLogin{Credentials: cmds.Credentials{ApplicationID: out.ApplicationID, Passcode: "WRONGPASS2"}}); !errors.Is(err, cmds.ErrBadCustomerCredentials) {
		t.Fatalf("wrong passcode: %v", err)
	}
	var dummies int
	login.Hasher = application.VerifyFunc(func(hash, attempt string) bool { dummies++; return h.Verify(hash, attempt) })
	if _, err := login.Handle(context.Background(), cmds.CustomerLogin{Credentials: cmds.Credentials{ApplicationID: "AP-NOSUCHAPP000", Passcode: "ABCDEFGHJK"}}); !errors.Is(err, cmds.ErrBadCustomerCredentials) || dummies != 1 {
		t.Fatalf("unknown application: %v after %d dummy checks, want the same refusal after 1", err, dummies)
	}
	if !strings.HasPrefix(login.DummyHash, "hmac-sha256$") {
		t.Fatalf("dummy hash %q: want a keyed hash", login.DummyHash)
	}
}
