package card

import (
	"strconv"
	"strings"
)

// CardNumber is a 16-digit ETC card number whose last digit is a Luhn check
// digit over the first fifteen. The zero value means "no card".
type CardNumber struct{ s string }

// NewCardNumber allocates the number prefix + serial (zero-padded to fill 15
// digits) + Luhn check digit. prefix is the issuer's configured 1–14 digits;
// serial must be 0 ≤ serial < 10^(15−len(prefix)) (ErrInvalidCardNumber when
// the serial range is exhausted).
func NewCardNumber(prefix string, serial int64) (CardNumber, error) {
	if len(prefix) < 1 || len(prefix) > 14 || !allDigits(prefix) {
		return CardNumber{}, ErrInvalidCardNumber.Withf("prefix", "The card number prefix %q must be 1 to 14 digits.", prefix)
	}
	width := 15 - len(prefix)
	s := strconv.FormatInt(serial, 10)
	if serial < 0 || len(s) > width {
		return CardNumber{}, ErrInvalidCardNumber.Withf("serial", "Serial %d does not fit in the %d digits left after prefix %s; configure a new prefix.", serial, width, prefix)
	}
	payload := prefix + strings.Repeat("0", width-len(s)) + s
	return CardNumber{payload + string(rune('0'+luhnCheckDigit(payload)))}, nil
}

var groupSeparators = strings.NewReplacer(" ", "", "-", "")

// ParseCardNumber validates 16 digits and the Luhn check digit. Spaces and
// hyphens between digit groups ("1234 5678 …") are removed first.
func ParseCardNumber(s string) (CardNumber, error) {
	d := groupSeparators.Replace(strings.TrimSpace(s))
	if len(d) != 16 || !allDigits(d) {
		return CardNumber{}, ErrInvalidCardNumber.Withf("card", "%q is not 16 digits.", s)
	}
	if want := luhnCheckDigit(d[:15]); int(d[15]-'0') != want {
		return CardNumber{}, ErrInvalidCardNumber.Withf("card", "%q fails the check digit; check the number for a typing error.", s)
	}
	return CardNumber{d}, nil
}

// luhnCheckDigit returns the digit that makes payload+digit pass Luhn:
// from the rightmost payload digit leftwards, every other digit (starting
// with the rightmost) is doubled, subtracting 9 when over 9.
func luhnCheckDigit(payload string) int {
	sum := 0
	for i := len(payload) - 1; i >= 0; i-- {
		n := int(payload[i] - '0')
		if (len(payload)-1-i)%2 == 0 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return (10 - sum%10) % 10
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// String is the 16 digits.
func (n CardNumber) String() string { return n.s }

// IsZero reports whether n is the zero value.
func (n CardNumber) IsZero() bool { return n.s == "" }

// MarshalText encodes the 16 digits.
func (n CardNumber) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (n *CardNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = CardNumber{}
		return nil
	}
	v, err := ParseCardNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// Type is the card type code (colour and design) the printer uses:
// 1–10 upper-case ASCII letters, digits, hyphens or underscores.
type Type struct{ s string }

// ParseType validates and upper-cases a card type code.
func ParseType(s string) (Type, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	if v == "" || len(v) > 10 {
		return Type{}, ErrInvalidCardType.Withf("card_type", "%q is not a card type code of 1 to 10 characters.", s)
	}
	for _, c := range []byte(v) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Type{}, ErrInvalidCardType.Withf("card_type", "%q contains %q.", s, c)
		}
	}
	return Type{v}, nil
}

func (t Type) String() string { return t.s }

// IsZero reports whether t is the zero value.
func (t Type) IsZero() bool { return t.s == "" }

// MarshalText encodes the code.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (t *Type) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Type{}
		return nil
	}
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// State is a card's state. The strings are stored on disk; Label gives the
// Japanese term.
type State string

// Card states.
const (
	StateInUse     State = "in_use"    // 利用中
	StateRenewed   State = "renewed"   // 更新済み
	StateCancelled State = "cancelled" // 解約
	StateInvalid   State = "invalid"   // 無効
)

// Label is the Japanese name of the state.
func (s State) Label() string {
	switch s {
	case StateInUse:
		return "利用中"
	case StateRenewed:
		return "更新済み"
	case StateCancelled:
		return "解約"
	case StateInvalid:
		return "無効"
	}
	return ""
}

// IssueReason is why a card was issued (発行理由). The strings are stored on
// disk; Label gives the Japanese term.
type IssueReason string

// Issue reasons: a new issue, a renewal, or one of the four reissue reasons.
const (
	ReasonNew            IssueReason = "new"              // 新規発行
	ReasonRenewal        IssueReason = "renewal"          // 更新発行
	ReasonLost           IssueReason = "lost"             // 紛失
	ReasonCardTypeChange IssueReason = "card_type_change" // カード種類変更
	ReasonMagneticFault  IssueReason = "magnetic_fault"   // 磁気不良
	ReasonDamage         IssueReason = "damage"           // 破損
)

var reissueReasons = [...]IssueReason{ReasonLost, ReasonCardTypeChange, ReasonMagneticFault, ReasonDamage}

// ParseReissueReason accepts a reissue reason by code ("magnetic_fault") or
// Japanese label ("磁気不良"); anything else is ErrUnknownReissueReason,
// whose detail lists the four.
func ParseReissueReason(s string) (IssueReason, error) {
	s = strings.TrimSpace(s)
	for _, r := range reissueReasons {
		if s == string(r) || s == r.Label() {
			return r, nil
		}
	}
	return "", ErrUnknownReissueReason.With("reason", "")
}

// Label is the Japanese name of the reason.
func (r IssueReason) Label() string {
	switch r {
	case ReasonNew:
		return "新規発行"
	case ReasonRenewal:
		return "更新発行"
	case ReasonLost:
		return "紛失"
	case ReasonCardTypeChange:
		return "カード種類変更"
	case ReasonMagneticFault:
		return "磁気不良"
	case ReasonDamage:
		return "破損"
	}
	return ""
}

// IsReissue reports whether r is one of the four reissue reasons.
func (r IssueReason) IsReissue() bool {
	return r == ReasonLost || r == ReasonCardTypeChange || r == ReasonMagneticFault || r == ReasonDamage
}

// IssueFeeExempt reports whether a card issued for r is free of the issue
// fee: reissues for magnetic fault (磁気不良) or damage (破損).
func (r IssueReason) IssueFeeExempt() bool { return r == ReasonMagneticFault || r == ReasonDamage }
