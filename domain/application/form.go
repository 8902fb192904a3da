package application

import (
	"strings"

	"github.com/gantry-etc/gantry/domain"
)

// Applicant is the person applying: the vehicle user (車検証上の使用者) or,
// for a corporation, the corporate name plus the person in charge. All of it
// is personal data and travels in events only inside domain.Personal.
type Applicant struct {
	// CorporationName (法人名) is empty when the applicant is a person.
	CorporationName string `json:"corporation_name,omitempty"`
	// Name is the person's name, or the person in charge (担当者氏名) of a corporation.
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	// Email is required for a web application; a proxy filing may leave it empty.
	Email string `json:"email,omitempty"`
}

// IsCorporation reports whether the applicant is a corporation.
func (a Applicant) IsCorporation() bool { return a.CorporationName != "" }

// Agent is the designated agent (代理人).
type Agent struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
}

// Details is the personal part of an application.
type Details struct {
	Applicant Applicant `json:"applicant"`
	// VehicleUser is the vehicle user (使用者) as written on the 車検証.
	VehicleUser string `json:"vehicle_user"`
	// Agent is nil when there is none.
	Agent *Agent `json:"agent,omitempty"`
}

// Acceptances records the applicant's acceptance of the four regulations
// (関係規程類). All four are required.
type Acceptances struct {
	PersonalDataPolicy bool `json:"personal_data_policy"` // 個人情報取扱規程
	ETCSystemTerms     bool `json:"etc_system_terms"`     // ETCシステム利用規程
	DSRCTerms          bool `json:"dsrc_terms"`           // ETC2.0車載器 DSRC部使用規程
	ProbeDataPolicy    bool `json:"probe_data_policy"`    // 車載器のID付プローブ情報の利用および取り扱い方針
}

// AllAccepted returns the four acceptances all set.
func AllAccepted() Acceptances { return Acceptances{true, true, true, true} }

// Validate returns ErrRegulationNotAccepted naming the first regulation that
// is not accepted.
func (a Acceptances) Validate() error {
	switch {
	case !a.PersonalDataPolicy:
		return ErrRegulationNotAccepted.With("acceptances.personal_data_policy", "Accept the personal data handling regulation (個人情報取扱規程) to continue.")
	case !a.ETCSystemTerms:
		return ErrRegulationNotAccepted.With("acceptances.etc_system_terms", "Accept the ETC system terms of use (ETCシステム利用規程) to continue.")
	case !a.DSRCTerms:
		return ErrRegulationNotAccepted.With("acceptances.dsrc_terms", "Accept the ETC2.0 on-board unit DSRC terms (ETC2.0車載器 DSRC部使用規程) to continue.")
	case !a.ProbeDataPolicy:
		return ErrRegulationNotAccepted.With("acceptances.probe_data_policy", "Accept the probe data policy (車載器のID付プローブ情報の利用および取り扱い方針) to continue.")
	}
	return nil
}

// validateApplicant checks the applicant; requireEmail is false for proxy filing.
func validateApplicant(a Applicant, field string, requireEmail bool) error {
	if err := domain.CheckLengths(
		domain.LengthCheck{Field: field + ".corporation_name", Value: a.CorporationName, Max: domain.MaxNameLength},
		domain.LengthCheck{Field: field + ".name", Value: a.Name, Max: domain.MaxNameLength},
		domain.LengthCheck{Field: field + ".address", Value: a.Address, Max: domain.MaxAddressLength},
		domain.LengthCheck{Field: field + ".phone", Value: a.Phone, Max: domain.MaxPhoneLength},
		domain.LengthCheck{Field: field + ".email", Value: a.Email, Max: domain.MaxEmailLength},
	); err != nil {
		return err
	}
	if strings.TrimSpace(a.Name) == "" {
		if a.IsCorporation() {
			return ErrMissingApplicant.With(field+".name", "Enter the person in charge (担当者氏名) of the corporation.")
		}
		return ErrMissingApplicant.With(field+".name", "")
	}
	if strings.TrimSpace(a.Address) == "" {
		return ErrMissingAddress.With(field+".address", "")
	}
	if !validPhone(a.Phone) {
		return ErrInvalidPhone.With(field+".phone", "")
	}
	if a.Email != "" || requireEmail {
		if !validEmail(a.Email) {
			return ErrInvalidEmail.With(field+".email", "")
		}
	}
	return nil
}

func validateAgent(g *Agent, field string) error {
	if g == nil {
		return nil
	}
	if err := domain.CheckLengths(
		domain.LengthCheck{Field: field + ".name", Value: g.Name, Max: domain.MaxNameLength},
		domain.LengthCheck{Field: field + ".address", Value: g.Address, Max: domain.MaxAddressLength},
		domain.LengthCheck{Field: field + ".phone", Value: g.Phone, Max: domain.MaxPhoneLength},
	); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(g.Name) == "":
		return ErrIncompleteAgent.With(field+".name", "Enter the agent's (代理人) name, or leave the agent out.")
	case strings.TrimSpace(g.Address) == "":
		return ErrIncompleteAgent.With(field+".address", "Enter the agent's (代理人) address, or leave the agent out.")
	case !validPhone(g.Phone):
		return ErrIncompleteAgent.With(field+".phone", "Enter the agent's (代理人) contact phone number of 10 to 15 digits, or leave the agent out.")
	}
	return nil
}

// validateDetails checks an application's personal details.
func validateDetails(d Details, requireEmail bool) error {
	if err := validateApplicant(d.Applicant, "applicant", requireEmail); err != nil {
		return err
	}
	if err := domain.CheckLength("vehicle_user", d.VehicleUser, domain.MaxNameLength); err != nil {
		return err
	}
	if strings.TrimSpace(d.VehicleUser) == "" {
		return ErrMissingVehicleUser.With("vehicle_user", "")
	}
	return validateAgent(d.Agent, "agent")
}

// validPhone accepts 10 to 15 digits (full-width digits allowed) with
// optional hyphens, spaces, parentheses and a leading "+".
func validPhone(p string) bool {
	n := 0
	for i, r := range strings.TrimSpace(p) {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			n++
		case r == '-' || r == ' ' || r == '(' || r == ')' || r == '－' || r == '　':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return n >= 10 && n <= 15
}

// validEmail is a plausibility check, not RFC 5322: one "@", a non-empty local
// part, a domain with a dot, and no white space.
func validEmail(e string) bool {
	local, dom, ok := strings.Cut(e, "@")
	if !ok || local == "" || strings.Contains(dom, "@") || strings.ContainsAny(e, " \t\r\n　") {
		return false
	}
	i := strings.LastIndex(dom, ".")
	return i > 0 && i < len(dom)-1
}

// sealDetails marks d as personal data of the application.
func sealDetails(id ID, d Details) domain.Personal[Details] {
	return domain.Seal(id.String(), d)
}
