package money

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors. Match with errors.Is; details name the exact problem.
var (
	// ErrInvalidYearMonth: a year-month is not "YYYY-MM" or "YYYY/MM" with a month 01–12.
	ErrInvalidYearMonth = domain.Invalid("invalid_year_month",
		"Give the month as YYYY-MM (for example 2026-11) with a month from 01 to 12.")
	// ErrInvalidRegistrationNumber: not "T" + 13 digits with a valid check digit.
	ErrInvalidRegistrationNumber = domain.Invalid("invalid_registration_number",
		"Give the qualified invoice registration number as T followed by the 13-digit corporate number (for example T7000012050002).")
)
