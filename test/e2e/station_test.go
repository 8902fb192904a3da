package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/scard"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/station"
	"github.com/gantry-etc/gantry/test/jpkitest"
	"github.com/gantry-etc/gantry/test/pcsctest"
	"github.com/gantry-etc/gantry/test/smtptest"
	"github.com/gantry-etc/gantry/test/vcard"
)

// faceService is a recording fake of the external face-matching service
// (no real one can run here): it answers match when the image is
// "face-of-<staff ID>" and records every call. It is reached through the
// real HTTP adapter (adapters/face).
type faceService struct {
	mu    sync.Mutex
	calls []string // staff IDs asked about
}

func (f *faceService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		StaffID string `json:"staff_id"`
		Image   []byte `json:"image"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.calls = append(f.calls, req.StaffID)
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]bool{"match": string(req.Image) == "face-of-"+req.StaffID})
}

func (f *faceService) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// startStation starts Gantry (with extra settings), pcscd with the vpcd
// reader, and a station whose reader waits wait for a card.
func startStation(t *testing.T, extra map[string]string) (*env, *pcsctest.Daemon, *station.Station) {
	t.Helper()
	d := pcsctest.Start(t)
	e := startWith(t, &smtptest.Inbox{}, func(cfg *app.Config) {
		cfg.SMTPAddr = "127.0.0.1:1"
		for k, v := range extra {
			cfg.Extra[k] = v
		}
	})
	st := &station.Station{Cards: &scard.Reader{Wait: 5 * time.Second}, API: &station.Client{BaseURL: e.srv.URL}}
	return e, d, st
}

func problemCode(err error) string {
	var p *station.ProblemError
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

func TestStationStaffCardLogin(t *testing.T) {
	face := &faceService{}
	faceSrv := httptest.NewServer(face)
	defer faceSrv.Close()
	e, d, st := startStation(t, map[string]string{"GANTRY_FACE_URL": faceSrv.URL, "GANTRY_FACE_TIMEOUT": "2s"})
	ctx := context.Background()
	adminS := e.staff("ad-S", "store-S", "store_admin")
	e.staff("st-S", "store-S", "store_staff")
	adminT := e.staff("ad-T", "store-T", "store_admin")

	card := vcard.NewStaffCard([]byte{0x57, 0xAF, 0, 0, 0, 0, 0, 1}, "1234")
	in := d.Insert(t, card)

	// A store admin of another store may not enrol st-S's card.
	if _, err := st.Enrol(ctx, adminT, "st-S", "1234"); problemCode(err) != "other_store" {
		t.Fatalf("enrol by another store's admin: %v, want other_store", err)
	}
	serial, err := st.Enrol(ctx, adminS, "st-S", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if serial != "57AF000000000001" {
		t.Fatalf("enrolled serial %s", serial)
	}
	// From now on st-S logs in with the card only; the store admin (no
	// card) and back-office staff keep their passwords.
	if r := e.must(401, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-S", "password": "pass-st-S-long"})); !strings.Contains(string(r.body), "use_card_login") {
		t.Fatalf("password login with an enrolled card: %s", r.body)
	}
	e.login("ad-S")
	if _, err := st.Enrol(ctx, adminS, "st-S", "1234"); problemCode(err) != "card_already_enrolled" {
		t.Fatalf("second enrolment: %v, want card_already_enrolled", err)
	}

	// Right PIN and the right face: a token scoped to the staff's store.
	login, err := st.Login(ctx, "1234", []byte("face-of-st-S"))
	if err != nil {
		t.Fatal(err)
	}
	if login.Role != "store_staff" || login.Store != "store-S" || login.StaffID != "st-S" {
		t.Fatalf("login %+v", login)
	}
	e.must(200, e.do("GET", "/v1/views/setups", login.Token, "", nil))
	if got := face.asked(); len(got) != 1 || got[0] != "st-S" {
		t.Fatalf("face service asked %v, want [st-S]", got)
	}

	// The card factor passes but the face does not: no token.
	if _, err := st.Login(ctx, "1234", []byte("face-of-someone-else")); problemCode(err) != "face_not_matched" {
		t.Fatalf("wrong face: %v, want face_not_matched", err)
	}

	// A challenge is single use and short-lived.
	ch := e.must(201, e.do("POST", "/v1/auth/staff/card/challenge", "", "", nil)).json(t)
	nonce, _ := decodeB64(ch["nonce"].(string))
	dg := cardDigest(nonce)
	_, sig, err := st.Cards.StaffSign(ctx, "1234", dg[:])
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"challenge_id": ch["challenge_id"], "card_serial": serial, "signature": sig, "face_image": []byte("face-of-st-S")}
	e.must(200, e.do("POST", "/v1/auth/staff/card/login", "", "", body))
	if r := e.must(401, e.do("POST", "/v1/auth/staff/card/login", "", "", body)); !strings.Contains(string(r.body), "challenge_unknown") {
		t.Fatalf("replayed challenge: %s", r.body)
	}
	ch = e.must(201, e.do("POST", "/v1/auth/staff/card/challenge", "", "", nil)).json(t)
	nonce, _ = decodeB64(ch["nonce"].(string))
	dg = cardDigest(nonce)
	_, sig, _ = st.Cards.StaffSign(ctx, "1234", dg[:])
	e.clock.Advance(2 * time.Minute)
	body = map[string]any{"challenge_id": ch["challenge_id"], "card_serial": serial, "signature": sig, "face_image": []byte("face-of-st-S")}
	if r := e.must(401, e.do("POST", "/v1/auth/staff/card/login", "", "", body)); !strings.Contains(string(r.body), "challenge_expired") {
		t.Fatalf("expired challenge: %s", r.body)
	}

	// Wrong PIN three times locks the card; a locked card is a clear error.
	for left := 2; left >= 1; left-- {
		var wp *station.WrongPINError
		if _, err := st.Login(ctx, "9999", []byte("face-of-st-S")); !errors.As(err, &wp) || wp.Left != left {
			t.Fatalf("wrong PIN: %v, want %d tries left", err, left)
		}
	}
	if _, err := st.Login(ctx, "9999", nil); !errors.Is(err, station.ErrCardLocked) {
		t.Fatalf("third wrong PIN: %v, want locked", err)
	}
	if _, err := st.Login(ctx, "1234", []byte("face-of-st-S")); !errors.Is(err, station.ErrCardLocked) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("right PIN on a locked card: %v, want locked", err)
	}
	d.Remove(t, in)

	// A second card for the same staff; revoked, its logins fail.
	card2 := vcard.NewStaffCard([]byte{0x57, 0xAF, 0, 0, 0, 0, 0, 2}, "4321")
	in2 := d.Insert(t, card2)
	serial2, err := st.Enrol(ctx, e.staff("ops-S", "", "operator_admin"), "st-S", "4321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Login(ctx, "4321", []byte("face-of-st-S")); err != nil {
		t.Fatal(err)
	}
	e.must(403, e.do("POST", "/v1/staff-cards/"+serial2+"/revoke", adminT, "", nil))
	e.must(204, e.do("POST", "/v1/staff-cards/"+serial2+"/revoke", adminS, "", nil))
	if _, err := st.Login(ctx, "4321", []byte("face-of-st-S")); problemCode(err) != "card_revoked" {
		t.Fatalf("revoked card: %v, want card_revoked", err)
	}
	d.Remove(t, in2)

	// An unknown card (never enrolled) is refused.
	d.Insert(t, vcard.NewStaffCard([]byte{0x57, 0xAF, 0, 0, 0, 0, 0, 3}, "1111"))
	if _, err := st.Login(ctx, "1111", []byte("face-of-st-S")); problemCode(err) != "card_not_enrolled" {
		t.Fatalf("unknown card: %v, want card_not_enrolled", err)
	}
}

// Without a face service card login is refused; GANTRY_FACE=off allows
// card + PIN only.
func TestStationCardLoginNeedsFaceUnlessOff(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		code  string
	}{
		{"no_face_service", nil, "face_not_configured"},
		{"face_off", map[string]string{"GANTRY_FACE": "off"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, d, st := startStation(t, tc.extra)
			ctx := context.Background()
			admin := e.staff("ad-F", "store-F", "store_admin")
			d.Insert(t, vcard.NewStaffCard([]byte{0xFA, 0xCE, 0, 0, 0, 0, 0, 1}, "1357"))
			if _, err := st.Enrol(ctx, admin, "ad-F", "1357"); err != nil {
				t.Fatal(err)
			}
			l, err := st.Login(ctx, "1357", nil)
			if problemCode(err) != tc.code {
				t.Fatalf("login: %v, want %q", err, tc.code)
			}
			if tc.code == "" && l.Role != "store_admin" {
				t.Fatalf("card-only login %+v", l)
			}
		})
	}
}

// setupAtCard takes a new setup of staff's store up to step 8.
func (e *env) setupAtCard(staff string) (string, int64) {
	e.t.Helper()
	_, _, qr := e.apply()
	sid, v := e.receive(staff, qr)
	for _, s := range setupSteps {
		if s.path == "card" {
			break
		}
		m := e.must(200, e.do("POST", "/v1/setups/"+sid+"/"+s.path, staff, q(v), s.body)).json(e.t)
		v = int64(m["version"].(float64))
	}
	return sid, v
}

func TestStationSetupCardWrittenAndReadBack(t *testing.T) {
	e, d, st := startStation(t, nil)
	ctx := context.Background()
	staff := e.staff("st-W", "store-W", "store_staff")
	sid, v := e.setupAtCard(staff)

	nothingRecorded := func(what string, err, want error) {
		t.Helper()
		before := e.eventCount()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
		if e.eventCount() != before {
			t.Fatalf("%s recorded events", what)
		}
	}
	// No reader (a name pcscd does not know) and no card.
	noReader := &station.Station{Cards: &scard.Reader{Name: "Absent Reader 00 00"}, API: st.API}
	_, err := noReader.WriteSetupCard(ctx, staff, sid, v)
	nothingRecorded("no reader", err, station.ErrNoReader)
	impatient := &station.Station{Cards: &scard.Reader{Wait: 300 * time.Millisecond}, API: st.API}
	_, err = impatient.WriteSetupCard(ctx, staff, sid, v)
	nothingRecorded("no card", err, station.ErrNoCard)

	faults := []struct {
		name string
		card vcard.Card
		want error
	}{
		{"wrong_card_type", vcard.NewStaffCard([]byte{1, 2, 3, 4, 5, 6, 7, 8}, "1234"), station.ErrWrongCard},
		{"full", vcard.NewSetupCard([]byte{0x5C, 0, 0, 0, 0, 0, 0, 1}, 128, 64), station.ErrCardFull},
		{"write_protected", func() vcard.Card {
			c := vcard.NewSetupCard([]byte{0x5C, 0, 0, 0, 0, 0, 0, 2}, 2048, 64)
			c.WriteProtected = true
			return c
		}(), station.ErrWriteProtected},
		{"read_back_mismatch", func() vcard.Card {
			c := vcard.NewSetupCard([]byte{0x5C, 0, 0, 0, 0, 0, 0, 3}, 2048, 64)
			c.CorruptReads = true
			return c
		}(), station.ErrReadBack},
	}
	for _, f := range faults {
		in := d.Insert(t, f.card)
		_, err := st.WriteSetupCard(ctx, staff, sid, v)
		nothingRecorded(f.name, err, f.want)
		d.Remove(t, in)
	}

	// Removed mid-write: nothing recorded, no valid record left; the retry
	// starts over and succeeds.
	card := vcard.NewSetupCard([]byte{0x5C, 0, 0, 0, 0, 0, 0, 9}, 2048, 64)
	card.RemoveAfterUpdates = 3
	in := d.Insert(t, card)
	_, err = st.WriteSetupCard(ctx, staff, sid, v)
	nothingRecorded("removed mid-write", err, station.ErrCardRemoved)
	<-in.Gone()
	d.Remove(t, in)
	if bytes.HasPrefix(card.Contents(), []byte("GSC1")) {
		t.Fatal("an interrupted write left a valid record header")
	}
	d.Insert(t, card)
	w, err := st.WriteSetupCard(ctx, staff, sid, v)
	if err != nil {
		t.Fatal(err)
	}
	if w.CardSerial != "5C00000000000009" || len(w.Hash) != 64 {
		t.Fatalf("written %+v", w)
	}
	if !bytes.Contains(card.Contents(), []byte(sid)) {
		t.Fatal("the card does not hold the setup record")
	}
	evs := e.events("setup-" + sid)
	cw, ok := evs[len(evs)-1].Payload.(setup.CardWritten)
	if !ok || cw.CardSerial != w.CardSerial || cw.WrittenHash != w.Hash || cw.StaffID != "st-W" {
		t.Fatalf("last event %#v, want CardWritten of %+v by st-W", evs[len(evs)-1].Payload, w)
	}

	// The rest of the setup goes on to the certificate.
	m := e.must(200, e.do("POST", "/v1/setups/"+sid+"/execute", staff, q(w.Version), map[string]any{})).json(t)
	n := e.must(200, e.do("POST", "/v1/setups/"+sid+"/completion", staff, q(int64(m["version"].(float64))), nil)).json(t)["certificate_number"].(string)
	if n == "" {
		t.Fatal("no certificate number")
	}
}

// The server accepts step 8 only for its own record of this setup with a
// matching read-back hash (a station that lies is refused).
func TestStationCardStepServerRules(t *testing.T) {
	e := start(t)
	staff := e.staff("st-R", "store-R", "store_staff")
	sid, v := e.setupAtCard(staff)
	other, _ := e.setupAtCard(staff)
	rec := func(id string) []byte {
		b, _ := decodeB64(e.must(200, e.do("GET", "/v1/setups/"+id+"/card-record", staff, "", nil)).json(t)["record"].(string))
		return b
	}
	mine, theirs := rec(sid), rec(other)
	tampered := bytes.Replace(bytes.Clone(mine), []byte(sid), []byte(other), 1)
	before := e.eventCount()
	for _, c := range []struct {
		name string
		back []byte
		hash string
		code string
	}{
		{"other_setup", theirs, sha(theirs), "record_of_other_setup"},
		{"hash_mismatch", mine, sha(theirs), "read_back_mismatch"},
		{"not_gantry", tampered, sha(tampered), "not_gantry_record"},
		{"invented", []byte("anything"), sha([]byte("anything")), "not_gantry_record"},
	} {
		r := e.must(422, e.do("POST", "/v1/setups/"+sid+"/card", staff, q(v), map[string]any{"card_serial": "X", "read_back": c.back, "read_hash": c.hash}))
		if !strings.Contains(string(r.body), c.code) {
			t.Errorf("%s: %s, want %s", c.name, r.body, c.code)
		}
	}
	if e.eventCount() != before {
		t.Fatal("a refused step 8 recorded events")
	}
}

func TestStationJPKIIdentityCheck(t *testing.T) {
	ca := jpkitest.New(t)
	e, d, st := startStation(t, map[string]string{"GANTRY_JPKI_CA": ca.PEMFile, "GANTRY_OCSP_URL": ca.OCSPURL, "GANTRY_OCSP_TIMEOUT": "2s"})
	ctx := context.Background()
	staff := e.staff("st-J", "store-J", "store_staff")
	atIdentity := func() (string, int64) {
		_, _, qr := e.apply()
		sid, v := e.receive(staff, qr)
		m := e.must(200, e.do("POST", "/v1/setups/"+sid+"/visitor", staff, q(v), setupSteps[0].body)).json(t)
		return sid, int64(m["version"].(float64))
	}

	certDER, key := ca.Issue(t, 1001)
	card := vcard.NewJPKICard(certDER, key, "2580")
	in := d.Insert(t, card)
	sid, v := atIdentity()

	// Wrong PIN: the card says how many tries are left; nothing recorded.
	before := e.eventCount()
	var wp *station.WrongPINError
	if _, err := st.CheckIdentity(ctx, staff, sid, v, "0000"); !errors.As(err, &wp) || wp.Left != 2 {
		t.Fatalf("wrong PIN: %v", err)
	}
	// Responder down: "cannot check now", never a pass, nothing recorded.
	ca.SetDown(true)
	if _, err := st.CheckIdentity(ctx, staff, sid, v, "2580"); problemCode(err) != "revocation_check_unavailable" {
		t.Fatalf("responder down: %v, want revocation_check_unavailable", err)
	}
	if e.eventCount() != before {
		t.Fatal("a check that could not be completed recorded events")
	}
	ca.SetDown(false)
	res, err := st.CheckIdentity(ctx, staff, sid, v, "2580")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.RevocationStatus != "good" || ca.Asked() != 1 {
		t.Fatalf("good card: %+v, OCSP asked %d", res, ca.Asked())
	}
	evs := e.events("setup-" + sid)
	ic, ok := evs[len(evs)-1].Payload.(setup.IdentityChecked)
	if !ok || !ic.Passed || ic.Check.Value.Method != setup.MethodJPKI || ic.Check.Value.CertificateSerial != "1001" || !strings.Contains(ic.Check.Value.CertificateIssuer, "JPKI") {
		t.Fatalf("recorded %#v", evs[len(evs)-1].Payload)
	}
	raw := rawEvent(t, e, "setup-"+sid, evs[len(evs)-1].Version)
	if strings.Contains(raw, "1001") || strings.Contains(raw, "test-user-auth") {
		t.Fatalf("the certificate data is stored unsealed: %s", raw)
	}
	e.must(200, e.do("POST", "/v1/setups/"+sid+"/multiple-units", staff, q(res.Version), setupSteps[2].body))
	d.Remove(t, in)

	// A revoked certificate fails the check (recorded as failed).
	certDER2, key2 := ca.Issue(t, 1002)
	ca.Revoke(1002)
	card2 := vcard.NewJPKICard(certDER2, key2, "1470")
	in2 := d.Insert(t, card2)
	sid2, v2 := atIdentity()
	res, err = st.CheckIdentity(ctx, staff, sid2, v2, "1470")
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed || res.RevocationStatus != "revoked" {
		t.Fatalf("revoked card: %+v", res)
	}
	e.must(409, e.do("POST", "/v1/setups/"+sid2+"/multiple-units", staff, q(res.Version), setupSteps[2].body))
	d.Remove(t, in2)

	// A certificate the responder does not know fails the check too.
	certDER4, key4 := ca.Issue(t, 1004)
	ca.Forget(1004)
	in4 := d.Insert(t, vcard.NewJPKICard(certDER4, key4, "3690"))
	sid4, v4 := atIdentity()
	if res, err = st.CheckIdentity(ctx, staff, sid4, v4, "3690"); err != nil || res.Passed || res.RevocationStatus != "unknown" {
		t.Fatalf("unknown certificate: %+v %v", res, err)
	}
	d.Remove(t, in4)

	// Three wrong PINs lock the card.
	card3 := vcard.NewJPKICard(certDER, key, "2580")
	d.Insert(t, card3)
	sid3, v3 := atIdentity()
	for range 2 {
		_, _ = st.CheckIdentity(ctx, staff, sid3, v3, "1111")
	}
	if _, err := st.CheckIdentity(ctx, staff, sid3, v3, "1111"); !errors.Is(err, station.ErrCardLocked) {
		t.Fatalf("third wrong PIN: %v, want locked", err)
	}
	if card3.TriesLeft() != 0 {
		t.Fatal("card not locked")
	}
}

func rawEvent(t *testing.T, e *env, stream string, version int64) string {
	t.Helper()
	var data []byte
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT data::text FROM events WHERE stream_id=$1 AND version=$2`, stream, version).Scan(&data); err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var _ = io.Discard

// Step 7a from the 車検証's codes, combined by the station (JoinQR), for
// a registered and a kei car; a bad set is 422 and writes nothing.
func TestStationVehicleFromInspectionQR(t *testing.T) {
	e := start(t)
	staff := e.staff("st-Q", "store-Q", "store_staff")
	code3 := "2/-  /123450001/270401/2004/DBA-NZE161/0060/-/0050/-/1/076/01/0/-/-/-/-/01"
	registered, err := station.JoinQR([]station.QRSymbol{
		{Text: "2/品川　３００あ１２３４/1/NZE161-1234567/1NZ/1"},
		{Text: code3[30:], Index: 1, Total: 2, Parity: 3},
		{Text: code3[:30], Index: 0, Total: 2, Parity: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	kei := []string{"K/22/練馬　５８０さ　・１２３/1/HA36S-123456/R06A/1", "K/31/-  /543210012/280315/1503/DBA-HA36S/0040/-/0030/-/1/076/01/0/-/-/-/-"}
	for _, c := range []struct {
		name          string
		codes         []string
		kind, plate   string
		td, cat, vtyp string
	}{
		{"registered", registered, "registered", "品川 300 あ 12-34", "12345", "0001", "普通乗用"},
		{"kei", kei, "kei", "練馬 580 さ ・123", "54321", "0012", "軽乗用"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, qr := e.apply()
			sid, v := e.receive(staff, qr)
			for _, s := range setupSteps[:3] {
				v = int64(e.must(200, e.do("POST", "/v1/setups/"+sid+"/"+s.path, staff, q(v), s.body)).json(t)["version"].(float64))
			}
			before := e.eventCount()
			bad := e.must(422, e.do("POST", "/v1/setups/"+sid+"/vehicle/inspection-qr", staff, q(v), map[string]any{"codes": c.codes[:1], "gross_weight_kg": 1500, "vehicle_type": c.vtyp}))
			if !strings.Contains(string(bad.body), "invalid_inspection_qr") || e.eventCount() != before {
				t.Fatalf("an incomplete set: %s (events written: %d)", bad.body, e.eventCount()-before)
			}
			r := e.must(200, e.do("POST", "/v1/setups/"+sid+"/vehicle/inspection-qr", staff, q(v), map[string]any{"codes": c.codes, "gross_weight_kg": 1500, "vehicle_type": c.vtyp})).json(t)
			if r["kind"] != c.kind || r["plate"] != c.plate || r["type_designation_number"] != c.td || r["category_number"] != c.cat {
				t.Fatalf("read %v", r)
			}
			evs := e.events("setup-" + sid)
			vr, ok := evs[len(evs)-1].Payload.(setup.VehicleRecorded)
			if !ok || vr.Source != setup.SourceInspectionQR || vr.TypeDesignationNumber != c.td || vr.CategoryNumber != c.cat || vr.Plate.Value.String() != c.plate {
				t.Fatalf("recorded %#v", evs[len(evs)-1].Payload)
			}
		})
	}
}

// The public card routes are rate-limited per client: over the limit, 429.
func TestStationCardRoutesRateLimited(t *testing.T) {
	e := startWith(t, &smtptest.Inbox{}, func(cfg *app.Config) {
		cfg.SMTPAddr = "127.0.0.1:1"
		cfg.Extra["GANTRY_CARD_RATE"], cfg.Extra["GANTRY_CARD_BURST"] = "0.001", "2"
	})
	e.must(201, e.do("POST", "/v1/auth/staff/card/challenge", "", "", nil))
	e.must(201, e.do("POST", "/v1/auth/staff/card/challenge", "", "", nil))
	r := e.must(429, e.do("POST", "/v1/auth/staff/card/challenge", "", "", nil))
	if !strings.Contains(string(r.body), "too_many_requests") {
		t.Fatalf("429 body: %s", r.body)
	}
	e.must(429, e.do("POST", "/v1/auth/staff/card/login", "", "", map[string]any{"challenge_id": "x"}))
}
