package money

// RegistrationNumber is a qualified invoice issuer registration number
// (適格請求書発行事業者登録番号): "T" followed by a 13-digit corporate number
// (法人番号). The corporate number's first digit is a check digit over the
// other twelve:
//
//	check = 9 − (Σ_{n=1..12} P_n × Q_n mod 9)
//
// where P_n is the n-th digit of the 12-digit base counted from the right and
// Q_n is 1 for odd n and 2 for even n. Example: T7000012050002.
type RegistrationNumber struct {
	s string // "T" + 13 digits
}

// ParseRegistrationNumber validates "T" + 13 digits and the check digit.
// A lower-case "t" is accepted and stored upper-case; nothing else is
// normalised.
func ParseRegistrationNumber(s string) (RegistrationNumber, error) {
	if len(s) != 14 || (s[0] != 'T' && s[0] != 't') {
		return RegistrationNumber{}, ErrInvalidRegistrationNumber.Withf("registration_number",
			"%q is not T followed by 13 digits.", s)
	}
	body := s[1:]
	for _, c := range []byte(body) {
		if c < '0' || c > '9' {
			return RegistrationNumber{}, ErrInvalidRegistrationNumber.Withf("registration_number",
				"%q is not T followed by 13 digits.", s)
		}
	}
	if want := CorporateNumberCheckDigit(body[1:]); int(body[0]-'0') != want {
		return RegistrationNumber{}, ErrInvalidRegistrationNumber.Withf("registration_number",
			"%q has check digit %c but the corporate number's digits give %d; check the number for a typing error.", s, body[0], want)
	}
	return RegistrationNumber{s: "T" + body}, nil
}

// CorporateNumberCheckDigit returns the check digit (1–9) for a 12-digit
// corporate number base. base must be 12 ASCII digits; anything else returns -1.
func CorporateNumberCheckDigit(base string) int {
	if len(base) != 12 {
		return -1
	}
	sum := 0
	for n := 1; n <= 12; n++ {
		c := base[12-n]
		if c < '0' || c > '9' {
			return -1
		}
		q := 1
		if n%2 == 0 {
			q = 2
		}
		sum += int(c-'0') * q
	}
	return 9 - sum%9
}

// String is "T" + 13 digits.
func (r RegistrationNumber) String() string { return r.s }

// CorporateNumber is the 13-digit corporate number without the "T".
func (r RegistrationNumber) CorporateNumber() string {
	if r.s == "" {
		return ""
	}
	return r.s[1:]
}

// IsZero reports whether r is the zero value.
func (r RegistrationNumber) IsZero() bool { return r.s == "" }

// MarshalText encodes "T" + 13 digits.
func (r RegistrationNumber) MarshalText() ([]byte, error) { return []byte(r.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (r *RegistrationNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = RegistrationNumber{}
		return nil
	}
	v, err := ParseRegistrationNumber(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
