package setup

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// normalizeWidth maps full-width digits, Latin letters, space and hyphen-like
// characters to their ASCII forms; everything else is kept.
func normalizeWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
		case r >= 'Ａ' && r <= 'Ｚ':
			r = r - 'Ａ' + 'A'
		case r >= 'ａ' && r <= 'ｚ':
			r = r - 'ａ' + 'a'
		case r == '　':
			r = ' '
		case r == '－' || r == '‐' || r == '−' || r == '–' || r == '—':
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// PlateNumber is a vehicle registration number (自動車登録番号) in canonical
// form: "<region> <class> <kana> <serial>", single ASCII spaces, half-width
// digits, for example "品川 300 あ 12-34". The serial is written as on the
// plate: four digits as "12-34", fewer digits padded with "・" on the left
// ("・・12", "・123", "・・・1").
//
// ParsePlate accepts full-width digits, any spacing (or none:
// "品川300あ1234"), and the serial with or without hyphen or dots. The region
// is 1 to 5 characters without ASCII digits (kanji or hiragana, e.g. "いわき"),
// the class number (分類番号) 1 to 3 ASCII digits or capital letters starting
// with a digit (e.g. "330", "30A"), the kana one hiragana.
type PlateNumber struct{ s string }

// ParsePlate validates and normalises a plate number.
func ParsePlate(in string) (PlateNumber, error) {
	s := strings.Join(strings.Fields(normalizeWidth(in)), "")
	rs := []rune(s)
	i := 0
	for i < len(rs) && !(rs[i] >= '0' && rs[i] <= '9') {
		i++
	}
	region := string(rs[:i])
	if n := utf8.RuneCountInString(region); n < 1 || n > 5 || strings.ContainsFunc(region, func(r rune) bool { return r < 0x80 }) {
		return PlateNumber{}, ErrInvalidPlate.With("plate", "The plate number must start with the region name (地名), e.g. 品川.")
	}
	j := i
	for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] >= 'A' && rs[j] <= 'Z') {
		j++
	}
	class := string(rs[i:j])
	if len(class) < 1 || len(class) > 3 {
		return PlateNumber{}, ErrInvalidPlate.With("plate", "The class number (分類番号) after the region must be 1 to 3 digits or capital letters, e.g. 300.")
	}
	if j >= len(rs) || rs[j] < 'ぁ' || rs[j] > 'ゖ' {
		return PlateNumber{}, ErrInvalidPlate.With("plate", "The class number must be followed by one hiragana (ひらがな), e.g. あ.")
	}
	kana := string(rs[j])
	serial := strings.Map(func(r rune) rune {
		if r == '-' || r == '・' || r == '･' || r == '.' || r == '·' {
			return -1
		}
		return r
	}, string(rs[j+1:]))
	if !allDigits(serial) || len(serial) > 4 || serial[0] == '0' {
		return PlateNumber{}, ErrInvalidPlate.With("plate", "The serial number (一連指定番号) must be 1 to 4 digits from 1 to 9999, e.g. 12-34.")
	}
	if len(serial) == 4 {
		serial = serial[:2] + "-" + serial[2:]
	} else {
		serial = strings.Repeat("・", 4-len(serial)) + serial
	}
	return PlateNumber{region + " " + class + " " + kana + " " + serial}, nil
}

// String returns the canonical form.
func (p PlateNumber) String() string { return p.s }

// IsZero reports whether p is the zero value.
func (p PlateNumber) IsZero() bool { return p.s == "" }

// MarshalText encodes the canonical form.
func (p PlateNumber) MarshalText() ([]byte, error) { return []byte(p.s), nil }

// UnmarshalText parses (and re-validates) a plate; empty text is the zero value.
func (p *PlateNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = PlateNumber{}
		return nil
	}
	v, err := ParsePlate(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// SecurityStandard is the OBU's security generation, derived from the first
// digit of its management number.
type SecurityStandard string

const (
	SecurityNew SecurityStandard = "new" // management number starts with "1"
	SecurityOld SecurityStandard = "old" // starts with "0"; stops working around 2030
)

// OBUNumber is an OBU management number (車載器管理番号): exactly 19 ASCII
// digits, starting with 1 (new security standard) or 0 (old).
type OBUNumber struct{ s string }

// ParseOBUNumber normalises full-width digits, removes hyphens and spaces,
// and validates.
func ParseOBUNumber(in string) (OBUNumber, error) {
	s := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, normalizeWidth(strings.TrimSpace(in)))
	if len(s) != 19 || !allDigits(s) {
		return OBUNumber{}, ErrInvalidOBUNumber.Withf("obu_number", "The OBU management number (車載器管理番号) must be exactly 19 digits; %d digits or other characters were given.", utf8.RuneCountInString(s))
	}
	if s[0] != '0' && s[0] != '1' {
		return OBUNumber{}, ErrUnknownSecurityStandard.With("obu_number", "")
	}
	return OBUNumber{s}, nil
}

// String returns the 19 digits.
func (n OBUNumber) String() string { return n.s }

// IsZero reports whether n is the zero value.
func (n OBUNumber) IsZero() bool { return n.s == "" }

// SecurityStandard derives the security standard from the first digit.
func (n OBUNumber) SecurityStandard() SecurityStandard {
	if strings.HasPrefix(n.s, "1") {
		return SecurityNew
	}
	return SecurityOld
}

// MarshalText encodes the 19 digits.
func (n OBUNumber) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText parses (and re-validates); empty text is the zero value.
func (n *OBUNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = OBUNumber{}
		return nil
	}
	v, err := ParseOBUNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// OBUKind is ETC or ETC2.0.
type OBUKind string

const (
	OBUKindETC  OBUKind = "ETC"
	OBUKindETC2 OBUKind = "ETC2.0"
)

// VehicleSource says where vehicle data came from.
type VehicleSource string

const (
	SourceInspectionQR    VehicleSource = "inspection_qr"    // 車検証 QR code
	SourceTypeDesignation VehicleSource = "type_designation" // 型式指定・類別区分番号
	SourceManual          VehicleSource = "manual"           // 手入力
)

// InspectionQRPrefix tags the 車検証 QR subset Gantry reads.
const InspectionQRPrefix = "JCI1"

// ParseInspectionQR reads Gantry's practical subset of the vehicle inspection
// certificate (車検証) QR payload into a RecordVehicle command (source
// SourceInspectionQR). The real 車検証 QR is several codes of "/"-separated
// positional fields that the tablet app concatenates; the app extracts the
// fields Gantry needs and passes exactly this one-line subset:
//
//	JCI1/<自動車登録番号>/<型式指定番号>/<類別区分番号>/<車両総重量 kg>/<車種>
//	JCI1/品川300あ1234/12345/0001/1850/普通乗用
//
// 型式指定番号 and 類別区分番号 may both be empty (vehicles without type
// designation). Towing is not on the 車検証; the caller asks and passes it.
// Any other shape is ErrInvalidInspectionQR with the reason.
func ParseInspectionQR(payload string, towing bool) (RecordVehicle, error) {
	parts := strings.Split(strings.TrimSpace(payload), "/")
	if parts[0] != InspectionQRPrefix {
		return RecordVehicle{}, ErrInvalidInspectionQR.With("qr", "The QR code does not start with "+InspectionQRPrefix+"/; it is not a 車検証 QR payload Gantry can read.")
	}
	if len(parts) != 6 {
		return RecordVehicle{}, ErrInvalidInspectionQR.Withf("qr", "The 車検証 QR payload has %d fields; expected 6: JCI1/plate/type designation/category/gross weight kg/vehicle type.", len(parts))
	}
	w, err := strconv.Atoi(normalizeWidth(parts[4]))
	if err != nil {
		return RecordVehicle{}, ErrInvalidInspectionQR.With("qr", "The gross vehicle weight (車両総重量) in the 車検証 QR payload is not a whole number of kilograms.")
	}
	cmd := RecordVehicle{
		Source: SourceInspectionQR, Plate: parts[1], TypeDesignationNumber: parts[2],
		CategoryNumber: parts[3], GrossWeightKg: w, Towing: towing, VehicleType: parts[5],
	}
	if _, err := cmd.validate(); err != nil {
		reason := err.Error()
		var de *domain.Error
		if errors.As(err, &de) {
			reason = de.Detail
		}
		return RecordVehicle{}, ErrInvalidInspectionQR.With("qr", "The 車検証 QR payload is malformed: "+reason)
	}
	return cmd, nil
}
