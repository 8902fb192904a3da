package card

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors; match with errors.Is. Lease checks also return
// contract.ErrLeaseMismatch, contract.ErrLeaseEnded and contract.ErrInvalidLease.
var (
	ErrInvalidCardNumber = domain.Invalid("invalid_card_number",
		"Give the card number as 16 digits ending in a valid check digit, as printed on the card.")
	ErrInvalidCardType = domain.Invalid("invalid_card_type",
		"Give the card type code (colour and design) as 1 to 10 letters, digits, hyphens or underscores.")
	ErrUnknownReissueReason = domain.Invalid("unknown_reissue_reason",
		"Give one of the four reissue reasons: 紛失 (lost), カード種類変更 (card_type_change), 磁気不良 (magnetic_fault) or 破損 (damage).")
	ErrVehicleNotLeased = domain.Invalid("vehicle_not_leased",
		"The vehicle is not one of the vehicles on the lease contract; check the registration number against the lease.")
	ErrLeaseNotExtended = domain.Invalid("lease_not_extended",
		"The lease does not end after the card's current expiry month, so a renewed card would expire no later; extend the lease first.")
	ErrSameCardNumber = domain.Invalid("same_card_number",
		"The new card needs a newly allocated card number, different from the card it replaces.")
	ErrCardTypeUnchanged = domain.Invalid("card_type_unchanged",
		"A reissue for card-type change needs a new card type different from the current one.")
	ErrCardTypeChangeReason = domain.Invalid("card_type_change_needs_reason",
		"Only a reissue for カード種類変更 (card_type_change) may change the card type.")
	ErrCardInUse = domain.Conflict("card_in_use",
		"The vehicle already has a card in use; reissue or renew that card instead of issuing a new one.")
	ErrCardExists = domain.Conflict("card_exists",
		"A card with this number has already been issued; allocate a new card number.")
	ErrCardNotInUse = domain.Conflict("card_not_in_use",
		"The card is no longer in use (renewed, cancelled or invalid); act on the card that replaced it.")
	ErrCardExpired = domain.Conflict("card_expired",
		"The card's expiry month has passed; issue a new card instead.")
	ErrRenewalNoticeNotDue = domain.Conflict("renewal_notice_not_due",
		"The renewal notice is sent from the first day of the month two months before the expiry month; it is not due yet.")
	ErrCardNotFound = domain.NotFound("card_not_found",
		"No card with this number has been issued.")
)
