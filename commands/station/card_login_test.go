package station_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/commands/station"
	"github.com/gantry-etc/gantry/domain/cardauth"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Two Gantry processes (two pools) get the same signed challenge at the
// same moment: exactly one logs in, the other finds the challenge used.
func TestChallengeIsSingleUseAcrossProcesses(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	pools := make([]*pgxpool.Pool, 2)
	for i := range pools {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		pools[i] = p
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := elliptic.Marshal(elliptic.P256(), key.X, key.Y) //nolint:staticcheck
	for _, q := range []string{
		`INSERT INTO setup_stores (store_id, name) VALUES ('S1', 'S1')`,
		`INSERT INTO setup_staff_accounts (staff_id, store_id, role, password_hash) VALUES ('ST1', 'S1', 'store_staff', 'x')`,
	} {
		if _, err := pools[0].Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pools[0].Exec(ctx, `INSERT INTO station_staff_cards (card_serial, staff_id, public_key, enrolled_at, enrolled_by) VALUES ('C1', 'ST1', $1, now(), 'ops')`, pub); err != nil {
		t.Fatal(err)
	}
	clock := commands.NewManualClock(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC))
	for round := range 20 {
		ch, err := station.IssueChallengeHandler{DB: pools[0], Clock: clock, TTL: time.Minute}.Handle(ctx, station.IssueChallenge{Purpose: cardauth.PurposeStaffLogin})
		if err != nil {
			t.Fatal(err)
		}
		d := cardauth.Digest(cardauth.PurposeStaffLogin, ch.Nonce)
		sig, _ := ecdsa.SignASN1(rand.Reader, key, d[:])
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range pools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = station.CardLoginHandler{DB: p, Clock: clock, FaceOff: true}.Handle(ctx, station.CardLogin{ChallengeID: ch.ID, CardSerial: "C1", Signature: sig})
			}()
		}
		wg.Wait()
		ok, used := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, station.ErrChallengeUnknown):
				used++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || used != 1 {
			t.Fatalf("round %d: %d logins, %d refused as used; want exactly one of each", round, ok, used)
		}
	}
}

// A signature by another key, or over another purpose's digest, fails;
// and the attempt uses the challenge up.
func TestCardLoginRefusesWrongSignatures(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := elliptic.Marshal(elliptic.P256(), key.X, key.Y) //nolint:staticcheck
	for _, q := range []string{
		`INSERT INTO setup_stores (store_id, name) VALUES ('S1', 'S1')`,
		`INSERT INTO setup_staff_accounts (staff_id, store_id, role, password_hash) VALUES ('ST1', 'S1', 'store_staff', 'x')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `INSERT INTO station_staff_cards (card_serial, staff_id, public_key, enrolled_at, enrolled_by) VALUES ('C1', 'ST1', $1, now(), 'ops')`, pub); err != nil {
		t.Fatal(err)
	}
	clock := commands.NewManualClock(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC))
	login := station.CardLoginHandler{DB: db, Clock: clock, FaceOff: true}
	for _, tc := range []struct {
		name string
		sign func(nonce []byte) []byte
	}{
		{"other_key", func(n []byte) []byte {
			d := cardauth.Digest(cardauth.PurposeStaffLogin, n)
			s, _ := ecdsa.SignASN1(rand.Reader, other, d[:])
			return s
		}},
		{"enrolment_digest", func(n []byte) []byte {
			d := cardauth.Digest(cardauth.PurposeStaffEnrol, n)
			s, _ := ecdsa.SignASN1(rand.Reader, key, d[:])
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := station.IssueChallengeHandler{DB: db, Clock: clock, TTL: time.Minute}.Handle(ctx, station.IssueChallenge{Purpose: cardauth.PurposeStaffLogin})
			if err != nil {
				t.Fatal(err)
			}
			cmd := station.CardLogin{ChallengeID: ch.ID, CardSerial: "C1", Signature: tc.sign(ch.Nonce)}
			if _, err := login.Handle(ctx, cmd); !errors.Is(err, station.ErrBadSignature) {
				t.Fatalf("%v, want bad signature", err)
			}
			d := cardauth.Digest(cardauth.PurposeStaffLogin, ch.Nonce)
			cmd.Signature, _ = ecdsa.SignASN1(rand.Reader, key, d[:])
			if _, err := login.Handle(ctx, cmd); !errors.Is(err, station.ErrChallengeUnknown) {
				t.Fatalf("retry with the right signature: %v, want the challenge used up", err)
			}
		})
	}
}

// fakeFace is a recording fake of the FaceVerifier port.
type fakeFace struct {
	asked []string
	match bool
	err   error
}

func (f *fakeFace) Verify(_ context.Context, staffID string, image []byte) (bool, error) {
	f.asked = append(f.asked, staffID+":"+string(image))
	return f.match, f.err
}

func TestCardLoginFaceStep(t *testing.T) {
	ctx := context.Background()
	db, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := elliptic.Marshal(elliptic.P256(), key.X, key.Y) //nolint:staticcheck
	for _, q := range []string{
		`INSERT INTO setup_stores (store_id, name) VALUES ('S1', 'S1')`,
		`INSERT INTO setup_staff_accounts (staff_id, store_id, role, password_hash) VALUES ('ST1', 'S1', 'store_admin', 'x')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `INSERT INTO station_staff_cards (card_serial, staff_id, public_key, enrolled_at, enrolled_by) VALUES ('C1', 'ST1', $1, now(), 'ops')`, pub); err != nil {
		t.Fatal(err)
	}
	clock := commands.NewManualClock(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC))
	signed := func() station.CardLogin {
		ch, err := station.IssueChallengeHandler{DB: db, Clock: clock, TTL: time.Minute}.Handle(ctx, station.IssueChallenge{Purpose: cardauth.PurposeStaffLogin})
		if err != nil {
			t.Fatal(err)
		}
		d := cardauth.Digest(cardauth.PurposeStaffLogin, ch.Nonce)
		sig, _ := ecdsa.SignASN1(rand.Reader, key, d[:])
		return station.CardLogin{ChallengeID: ch.ID, CardSerial: "C1", Signature: sig, FaceImage: []byte("img")}
	}
	for _, tc := range []struct {
		name string
		face *fakeFace
		off  bool
		want error
	}{
		{"face_matches", &fakeFace{match: true}, false, nil},
		{"face_does_not_match", &fakeFace{match: false}, false, station.ErrFaceMismatch},
		{"face_service_down", &fakeFace{err: errors.New("connection refused")}, false, station.ErrFaceUnavailable},
		{"no_face_service", nil, false, station.ErrFaceNotConfigured},
		{"face_off", nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := station.CardLoginHandler{DB: db, Clock: clock, FaceOff: tc.off}
			if tc.face != nil {
				h.Face = tc.face
			}
			st, err := h.Handle(ctx, signed())
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if tc.want == nil && (st.StaffID != "ST1" || st.Role != "store_admin" || st.StoreID != "S1") {
				t.Fatalf("logged in %+v", st)
			}
			if tc.face != nil && (len(tc.face.asked) != 1 || tc.face.asked[0] != "ST1:img") {
				t.Fatalf("face asked %v, want once for ST1 with the image", tc.face.asked)
			}
		})
	}
}
