package setup_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Payloads built field by field per the layout in docs/cards.md.
func registeredCodes(typeCategory string) []string {
	code2 := strings.Join([]string{"2", "品川　３００あ１２３４", "1", "NZE161-1234567", "1NZ", "1"}, "/")
	code3 := strings.Join([]string{"2", "-  ", typeCategory, "270401", "2004", "DBA-NZE161",
		"0060", "-", "0050", "-", "1", "076", "01", "0", "-", "-", "-", "-", "01"}, "/")
	return []string{code3, code2} // any order
}

func keiCodes(typeCategory string) []string {
	code2 := strings.Join([]string{"K", "22", "練馬　５８０さ　・１２３", "1", "HA36S-123456", "R06A", "1"}, "/")
	code3 := strings.Join([]string{"K", "31", "-  ", typeCategory, "280315", "1503", "DBA-HA36S",
		"0040", "-", "0030", "-", "1", "076", "01", "0", "-", "-", "-", "-"}, "/")
	return []string{code2, code3}
}

func TestParseInspectionQRCodes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		codes        []string
		kind         setup.InspectionKind
		plate, td, c string
	}{
		{"registered_car", registeredCodes("123450001"), setup.InspectionRegistered, "品川 300 あ 12-34", "12345", "0001"},
		{"kei_car", keiCodes("543210012"), setup.InspectionKei, "練馬 580 さ ・123", "54321", "0012"},
		{"full_width_digits", registeredCodes("１２３４５０００１"), setup.InspectionRegistered, "品川 300 あ 12-34", "12345", "0001"},
		{"no_type_designation", registeredCodes("-"), setup.InspectionRegistered, "品川 300 あ 12-34", "", ""},
		{"other_codes_ignored", append(registeredCodes("123450001"), "1/some/other/code"), setup.InspectionRegistered, "品川 300 あ 12-34", "12345", "0001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := setup.ParseInspectionQRCodes(tc.codes)
			if err != nil {
				t.Fatal(err)
			}
			if q.Kind != tc.kind || q.Plate.String() != tc.plate || q.TypeDesignationNumber != tc.td || q.CategoryNumber != tc.c {
				t.Fatalf("got %+v", q)
			}
		})
	}
}

func TestParseInspectionQRCodesRefuses(t *testing.T) {
	reg, kei := registeredCodes("123450001"), keiCodes("543210012")
	for _, tc := range []struct {
		name  string
		codes []string
		says  string
	}{
		{"nothing_readable", []string{"hello"}, "None of the codes"},
		{"missing_type_code", reg[1:], "type-designation"},
		{"missing_plate_code", reg[:1], "registration number"},
		{"mixed_certificates", []string{reg[0], kei[0]}, "kei car"},
		{"twice", []string{reg[0], reg[0], reg[1]}, "twice"},
		{"short_type_number", registeredCodes("1234500"), "9 digits"},
		{"truncated_code3", []string{reg[1], strings.TrimSuffix(reg[0], "/01")}, "type-designation"},
		{"old_kei_version", []string{strings.Replace(kei[0], "K/22/", "K/21/", 1), kei[1]}, "registration number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := setup.ParseInspectionQRCodes(tc.codes)
			if !errors.Is(err, setup.ErrInvalidInspectionQR) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%v, want invalid_inspection_qr saying %q", err, tc.says)
			}
		})
	}
}

// The My Number card method is recorded only with the certificate the
// station's verified route supplies; a plain request cannot claim it.
func TestJPKIIdentityNeedsItsCertificate(t *testing.T) {
	s := setup.Load([]domain.Event{setup.Started{SetupID: "SU-1", ApplicationID: "A2026-0001", StoreID: "S001", StaffID: "ST01", At: now},
		setup.VisitorRecorded{SetupID: "SU-1", Kind: setup.VisitorUser, Visitor: domain.Seal("A2026-0001", setup.Visitor{}), At: now}})
	if _, err := s.CheckIdentity(setup.CheckIdentity{Passed: true, Method: setup.MethodJPKI}, now); !errors.Is(err, setup.ErrUnverifiedJPKI) {
		t.Fatalf("%v, want unverified_jpki_check", err)
	}
	evs, err := s.CheckIdentity(setup.CheckIdentity{Passed: true, Method: setup.MethodJPKI, CertificateSerial: "1001", CertificateIssuer: "O=JPKI"}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0].(setup.IdentityChecked).Check.Value
	if got.CertificateSerial != "1001" || got.CertificateIssuer != "O=JPKI" || got.Method != setup.MethodJPKI {
		t.Fatalf("recorded %+v", got)
	}
	var body setup.CheckIdentity
	if err := json.Unmarshal([]byte(`{"Passed":true,"Method":"x","CertificateSerial":"1"}`), &body); err != nil || body.CertificateSerial != "" {
		t.Fatalf("a request body set the certificate serial: %+v %v", body, err)
	}
}
