package contract

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors; match with errors.Is.
var (
	ErrInvalidContractNumber = domain.Invalid("invalid_contract_number",
		"Give the lease contract number as 1 to 20 letters, digits or hyphens, as printed on the lease contract.")
	ErrInvalidVehicleNumber = domain.Invalid("invalid_vehicle_number",
		"Give the vehicle registration number as on the vehicle inspection certificate, for example 品川 300 あ 12-34.")
	ErrInvalidCustomerName = domain.Invalid("invalid_customer_name",
		"Give the customer's corporate name as on the lease contract.")
	ErrInvalidAlphaName = domain.Invalid("invalid_alpha_name",
		"Give the customer name in alphabet using only A–Z, digits, spaces and . , & ' - ( ) /, at most 40 characters; it is printed on the card.")
	ErrInvalidContact = domain.Invalid("invalid_contact",
		"Give the address, a phone number of 10 or 11 digits (hyphens allowed) and the representative's name.")
	ErrInvalidBankAccount = domain.Invalid("invalid_bank_account",
		"Give the bank code (4 digits), branch code (3 digits), account type (ordinary or current), account number (7 digits) and the holder name in kana.")
	ErrInvalidLease = domain.Invalid("invalid_lease",
		"The lease found in the lease contract system is incomplete: it needs a contract number, customer name, start and end dates (end not before start).")
	ErrLeaseMismatch = domain.Invalid("lease_mismatch",
		"The application does not match the lease contract system; check the lease contract number and customer name on the application.")
	ErrLeaseEnded = domain.Invalid("lease_ended",
		"The lease contract has already ended; an ETC service needs a running lease.")
	ErrInvalidBusinessDays = domain.Invalid("invalid_business_days",
		"Business days must leave at least one working weekday; list the weekly days off, whether national holidays are off, and company holidays as dates.")
	ErrContractExists = domain.Conflict("contract_exists",
		"An ETC service contract for this lease contract number has already been concluded.")
	ErrContractNotFound = domain.NotFound("contract_not_found",
		"No ETC service contract has been concluded for this lease contract number.")
)
