package setup

import (
	"strconv"
	"strings"
)

// InspectionKind is the kind of 車検証 the QR codes came from.
type InspectionKind string

const (
	InspectionRegistered InspectionKind = "registered" // 登録自動車 (普通車): version field "2"
	InspectionKei        InspectionKind = "kei"        // 軽自動車: "K" and a version number
)

// InspectionQR is what Gantry takes from the two-dimensional codes of a
// paper 車検証 (the layout of MLIT's 自動車検査証の二次元コード
// specification; field table in docs/cards.md). The station decodes the
// codes, joins the parts of each structured-append group in sequence
// order, and sends one text per logical code; the codes Gantry does not
// read (QR 1 of a registered car) may be sent or not.
type InspectionQR struct {
	Kind                  InspectionKind
	Plate                 PlateNumber // 自動車登録番号 / 車両番号
	ChassisNumber         string      // 車台番号
	Model                 string      // 型式
	TypeDesignationNumber string      // 型式指定番号 (5 digits), empty when none
	CategoryNumber        string      // 類別区分番号 (4 digits), empty when none
	Expiry                string      // 有効期間の満了する日, YYMMDD as printed in the code
}

// Field counts of the codes Gantry reads, per kind.
const (
	registeredCode2Fields = 6  // 2/登録番号/プレート区分/車台番号/原動機型式/帳票種別
	registeredCode3Fields = 19 // 2/打刻位置/型式指定・類別/満了日/初度登録年月/型式/軸重×4/騒音/近接排気騒音/駆動方式/オパシメータ/NOx・PM モード/NOx/PM/保安基準適用年月日/燃料
	keiCode2Fields        = 7  // K/版/車両番号/プレート区分/車台番号/原動機型式/帳票種別
	keiCode3Fields        = 19 // K/版/打刻位置/型式指定・類別/満了日/初度検査年月/型式/軸重×4/騒音/近接排気騒音/駆動方式/オパシメータ/NOx・PM モード/NOx/PM/予備
)

// ParseInspectionQRCodes validates the combined codes of one 車検証 and
// extracts the plate, chassis number, model and the type-designation and
// category numbers. The codes may come in any order. A missing code, a
// field count or a version that does not match the specification, or codes
// of two different certificates are ErrInvalidInspectionQR with the reason.
func ParseInspectionQRCodes(codes []string) (InspectionQR, error) {
	var c2, c3 []string
	var kind InspectionKind
	for _, raw := range codes {
		f := strings.Split(strings.TrimRight(raw, "\r\n"), "/")
		k, which := classify(f)
		if k == "" {
			continue // a code Gantry does not read
		}
		if kind != "" && k != kind {
			return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The codes come from a registered car's and a kei car's 車検証 at once; scan one certificate.")
		}
		kind = k
		switch which {
		case 2:
			if c2 != nil {
				return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The code with the registration number was scanned twice; scan each code of one certificate once.")
			}
			c2 = f
		case 3:
			if c3 != nil {
				return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The code with the type-designation number was scanned twice; scan each code of one certificate once.")
			}
			c3 = f
		}
	}
	switch {
	case c2 == nil && c3 == nil:
		return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "None of the codes is a 車検証 code Gantry reads (registered car: version 2; kei car: K); scan the codes at the bottom right of the certificate.")
	case c2 == nil:
		return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The code with the registration number (自動車登録番号/車両番号) is missing; scan every code of the certificate.")
	case c3 == nil:
		return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The code with the type-designation and category numbers (型式指定番号・類別区分番号) is missing; scan every code of the certificate (all parts of a joined code).")
	}
	off := 0 // field offset of kei codes (their version is a field of its own)
	if kind == InspectionKei {
		off = 1
	}
	q := InspectionQR{Kind: kind, ChassisNumber: strings.TrimSpace(c2[3+off]), Model: strings.TrimSpace(c3[5+off]), Expiry: c3[3+off]}
	plate, err := ParsePlate(c2[1+off])
	if err != nil {
		return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The registration number in the code cannot be read as a plate number; enter the vehicle data by hand.")
	}
	q.Plate = plate
	td := normalizeWidth(strings.TrimSpace(c3[2+off]))
	switch {
	case td == "" || strings.Trim(td, "-* ") == "":
		// No type designation (並行輸入車, 組立車...).
	case len(td) == 9 && allDigits(td):
		q.TypeDesignationNumber, q.CategoryNumber = td[:5], td[5:]
	default:
		return InspectionQR{}, ErrInvalidInspectionQR.Withf("codes", "The type-designation and category field %q is not 9 digits (5 + 4); enter the numbers by hand.", td)
	}
	if len(q.Expiry) != 6 || !allDigits(q.Expiry) {
		return InspectionQR{}, ErrInvalidInspectionQR.With("codes", "The expiry date (有効期間の満了する日) in the code is not YYMMDD; scan the codes again.")
	}
	return q, nil
}

// classify tells which code fields f are: kind and 2 (registration
// number) or 3 (type designation); "" for other codes.
func classify(f []string) (InspectionKind, int) {
	if len(f) == 0 {
		return "", 0
	}
	switch {
	case f[0] == "2" && len(f) == registeredCode2Fields && !isASCII(f[1]):
		return InspectionRegistered, 2
	case f[0] == "2" && len(f) == registeredCode3Fields && len(f[1]) == 3 && len(f[3]) == 6 && len(f[4]) == 4:
		return InspectionRegistered, 3
	case f[0] == "K" && len(f) >= 2:
		v, err := strconv.Atoi(f[1])
		if err != nil {
			return "", 0
		}
		switch {
		case len(f) == keiCode2Fields && v >= 22:
			return InspectionKei, 2
		case len(f) == keiCode3Fields && v >= 31:
			return InspectionKei, 3
		}
	}
	return "", 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// RecordVehicleFromQR builds the vehicle step from the codes: plate and
// type-designation/category numbers from the certificate, gross weight
// and vehicle type as the staff confirm them (the codes do not carry
// them), towing as asked.
func RecordVehicleFromQR(q InspectionQR, grossWeightKg int, vehicleType string, towing bool) RecordVehicle {
	return RecordVehicle{Source: SourceInspectionQR, Plate: q.Plate.String(), TypeDesignationNumber: q.TypeDesignationNumber,
		CategoryNumber: q.CategoryNumber, GrossWeightKg: grossWeightKg, VehicleType: vehicleType, Towing: towing}
}
