package contract

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// Number is a lease contract number (リース契約番号): 1–20 ASCII letters,
// digits or hyphens, stored upper-case. It identifies the ETC service contract
// and is the Subject of the contract's personal data.
type Number struct{ s string }

// ParseNumber validates and upper-cases a lease contract number.
func ParseNumber(s string) (Number, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || len(s) > 20 {
		return Number{}, ErrInvalidContractNumber.Withf("contract", "%q is not a lease contract number of 1 to 20 characters.", s)
	}
	for _, c := range []byte(s) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return Number{}, ErrInvalidContractNumber.Withf("contract", "%q contains %q; use only letters, digits and hyphens.", s, c)
		}
	}
	return Number{s}, nil
}

func (n Number) String() string { return n.s }

// IsZero reports whether n is the zero value.
func (n Number) IsZero() bool { return n.s == "" }

// MarshalText encodes the number.
func (n Number) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (n *Number) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = Number{}
		return nil
	}
	v, err := ParseNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// VehicleNumber is a vehicle registration number (自動車登録番号), e.g.
// "品川 300 あ 12-34". Parsing trims, turns full-width digits, hyphens and
// spaces into ASCII and collapses runs of spaces; it does not check the plate
// grammar (the lease system and road operators are the authorities).
//
// Two numbers name the same vehicle when their Key (the canonical form
// without spaces) is equal: compare with Same, and key DB uniqueness on Key.
type VehicleNumber struct{ s, key string }

// ParseVehicleNumber normalises and validates (non-empty, at most 32
// characters, no control characters).
func ParseVehicleNumber(s string) (VehicleNumber, error) {
	if normalVehicle(s) { // already normal (as stored): nothing to rebuild
		return vehicleOf(s), nil
	}
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		case r == '－' || r == '‐' || r == '−' || r == '—':
			r = '-'
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r):
			return VehicleNumber{}, ErrInvalidVehicleNumber.Withf("vehicle", "%q contains a control character.", s)
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	v := b.String()
	if v == "" || utf8.RuneCountInString(v) > 32 {
		return VehicleNumber{}, ErrInvalidVehicleNumber.Withf("vehicle", "%q is not a vehicle registration number of 1 to 32 characters.", s)
	}
	return vehicleOf(v), nil
}

// vehicleOf is the number with the normal form v, its Key computed once
// (leases and contract events hold many vehicles, compared by Key).
func vehicleOf(v string) VehicleNumber { return VehicleNumber{v, strings.ReplaceAll(v, " ", "")} }

// normalVehicle reports whether s is what ParseVehicleNumber makes of it
// and valid: 1 to 32 characters, none to turn into ASCII, no control
// characters, single ASCII spaces between the others.
func normalVehicle(s string) bool {
	n := 0
	space := true // no space first
	for _, r := range s {
		n++
		switch {
		case r == ' ':
			if space {
				return false
			}
			space = true
			continue
		case r < 0x80 && r > ' ' && r != 0x7f:
		case r == utf8.RuneError, r >= '０' && r <= '９', r == '－' || r == '‐' || r == '−' || r == '—', unicode.IsSpace(r), unicode.IsControl(r):
			return false
		}
		space = false
	}
	return n > 0 && n <= 32 && !space
}

func (v VehicleNumber) String() string { return v.s }

// Key is the canonical form without spaces, for equality and unique indexes.
func (v VehicleNumber) Key() string { return v.key }

// Same reports whether v and o name the same vehicle (spacing ignored).
func (v VehicleNumber) Same(o VehicleNumber) bool { return v.key == o.key }

// IsZero reports whether v is the zero value.
func (v VehicleNumber) IsZero() bool { return v.s == "" }

// MarshalText encodes the normalised number.
func (v VehicleNumber) MarshalText() ([]byte, error) { return []byte(v.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (v *VehicleNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*v = VehicleNumber{}
		return nil
	}
	x, err := ParseVehicleNumber(string(b))
	if err != nil {
		return err
	}
	*v = x
	return nil
}

// AlphaName is the customer name in alphabet (顧客アルファベット名) printed on
// the card: upper-case ASCII letters, digits, single spaces and . , & ' - ( ) /,
// 1–40 characters. Lower-case letters are upper-cased.
type AlphaName struct{ s string }

// MaxAlphaNameLen is the longest alphabet name the card printer takes.
const MaxAlphaNameLen = 40

// ParseAlphaName validates and normalises (upper-case, single spaces).
func ParseAlphaName(s string) (AlphaName, error) {
	v := strings.Join(strings.Fields(strings.ToUpper(s)), " ")
	if v == "" || len(v) > MaxAlphaNameLen {
		return AlphaName{}, ErrInvalidAlphaName.Withf("alpha_name", "%q must be 1 to %d characters.", s, MaxAlphaNameLen)
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" .,&'-()/", r)) {
			return AlphaName{}, ErrInvalidAlphaName.Withf("alpha_name", "%q contains %q, which the card printer cannot print; use A–Z, digits, spaces and . , & ' - ( ) /.", s, r)
		}
	}
	return AlphaName{v}, nil
}

func (a AlphaName) String() string { return a.s }

// IsZero reports whether a is the zero value.
func (a AlphaName) IsZero() bool { return a.s == "" }

// MarshalText encodes the name.
func (a AlphaName) MarshalText() ([]byte, error) { return []byte(a.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (a *AlphaName) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*a = AlphaName{}
		return nil
	}
	v, err := ParseAlphaName(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// normName trims, turns full-width spaces into ASCII and collapses runs, so
// that "株式会社　ABC" and "株式会社 ABC" compare equal.
func normName(s string) string { return strings.Join(strings.Fields(s), " ") }

// Contact is the customer's address, phone and representative (代表者名):
// personal data, always carried sealed in domain.Personal.
type Contact struct {
	address, phone, representative string
}

// NewContact validates: address and representative non-empty; phone 10 or
// 11 digits, hyphens allowed (stored as given, trimmed).
func NewContact(address, phone, representative string) (Contact, error) {
	if err := domain.CheckLengths(domain.LengthCheck{Field: "address", Value: address, Max: domain.MaxAddressLength},
		domain.LengthCheck{Field: "phone", Value: phone, Max: domain.MaxPhoneLength},
		domain.LengthCheck{Field: "representative", Value: representative, Max: domain.MaxNameLength}); err != nil {
		return Contact{}, err
	}
	address, phone, representative = normName(address), strings.TrimSpace(phone), normName(representative)
	if address == "" {
		return Contact{}, ErrInvalidContact.With("address", "Give the customer's address.")
	}
	if n, ok := countDigits(phone, "-"); !ok || n < 10 || n > 11 {
		return Contact{}, ErrInvalidContact.Withf("phone", "%q is not a phone number of 10 or 11 digits (hyphens allowed).", phone)
	}
	if representative == "" {
		return Contact{}, ErrInvalidContact.With("representative", "Give the representative's name.")
	}
	return Contact{address, phone, representative}, nil
}

// countDigits counts ASCII digits in s, allowing the runes in extra; ok is
// false when anything else occurs.
func countDigits(s, extra string) (int, bool) {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune(extra, r):
		default:
			return n, false
		}
	}
	return n, true
}

func (c Contact) Address() string        { return c.address }
func (c Contact) Phone() string          { return c.phone }
func (c Contact) Representative() string { return c.representative }

type contactJSON struct {
	Address        string `json:"address"`
	Phone          string `json:"phone"`
	Representative string `json:"representative"`
}

// MarshalJSON encodes the fields (inside a sealed Personal value).
func (c Contact) MarshalJSON() ([]byte, error) {
	return json.Marshal(contactJSON{c.address, c.phone, c.representative})
}

// UnmarshalJSON decodes without re-validating: stored events are facts.
func (c *Contact) UnmarshalJSON(b []byte) error {
	var j contactJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Contact{j.Address, j.Phone, j.Representative}
	return nil
}

// AccountType is the deposit type of a bank account.
type AccountType string

// Account types (預金種目). Stable strings stored on disk.
const (
	AccountOrdinary AccountType = "ordinary" // 普通
	AccountCurrent  AccountType = "current"  // 当座
)

// BankAccount is the direct-debit account (口座振替): bank code 4 digits,
// branch code 3 digits, type, number 7 digits, holder name in kana. It is
// confidential, always carried sealed in domain.Personal.
type BankAccount struct {
	bank, branch string
	kind         AccountType
	number       string
	holderKana   string
}

// NewBankAccount validates every part. The holder name may use full- or
// half-width katakana, A–Z, digits, spaces and ( ) . - / , as banks print it.
func NewBankAccount(bankCode, branchCode string, kind AccountType, number, holderKana string) (BankAccount, error) {
	if n, ok := countDigits(bankCode, ""); !ok || n != 4 {
		return BankAccount{}, ErrInvalidBankAccount.Withf("bank_code", "%q is not a 4-digit bank code.", bankCode)
	}
	if n, ok := countDigits(branchCode, ""); !ok || n != 3 {
		return BankAccount{}, ErrInvalidBankAccount.Withf("branch_code", "%q is not a 3-digit branch code.", branchCode)
	}
	if kind != AccountOrdinary && kind != AccountCurrent {
		return BankAccount{}, ErrInvalidBankAccount.Withf("account_type", "%q is not an account type; use ordinary (普通) or current (当座).", string(kind))
	}
	if n, ok := countDigits(number, ""); !ok || n != 7 {
		return BankAccount{}, ErrInvalidBankAccount.Withf("account_number", "%q is not a 7-digit account number.", number)
	}
	if err := domain.CheckLength("holder_kana", holderKana, domain.MaxNameLength); err != nil {
		return BankAccount{}, err
	}
	holderKana = normName(holderKana)
	if holderKana == "" {
		return BankAccount{}, ErrInvalidBankAccount.With("holder_kana", "Give the account holder's name in kana.")
	}
	for _, r := range holderKana {
		if !(r >= 0x30A0 && r <= 0x30FF || r >= 0xFF65 && r <= 0xFF9F || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ().-/", r)) {
			return BankAccount{}, ErrInvalidBankAccount.Withf("holder_kana", "%q contains %q; write the holder name in katakana as the bank registers it.", holderKana, r)
		}
	}
	return BankAccount{bankCode, branchCode, kind, number, holderKana}, nil
}

func (a BankAccount) BankCode() string   { return a.bank }
func (a BankAccount) BranchCode() string { return a.branch }
func (a BankAccount) Type() AccountType  { return a.kind }
func (a BankAccount) Number() string     { return a.number }
func (a BankAccount) HolderKana() string { return a.holderKana }

type bankAccountJSON struct {
	Bank       string      `json:"bank_code"`
	Branch     string      `json:"branch_code"`
	Type       AccountType `json:"account_type"`
	Number     string      `json:"account_number"`
	HolderKana string      `json:"holder_kana"`
}

// MarshalJSON encodes the fields (inside a sealed Personal value).
func (a BankAccount) MarshalJSON() ([]byte, error) {
	return json.Marshal(bankAccountJSON{a.bank, a.branch, a.kind, a.number, a.holderKana})
}

// UnmarshalJSON decodes without re-validating: stored events are facts.
func (a *BankAccount) UnmarshalJSON(b []byte) error {
	var j bankAccountJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = BankAccount{j.Bank, j.Branch, j.Type, j.Number, j.HolderKana}
	return nil
}
