package certificate

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors; callers branch with errors.Is.
var (
	ErrInvalidNumber    = domain.Invalid("invalid_certificate_number", "The certificate number must be 1 to 40 ASCII letters, digits or hyphens.")
	ErrInvalidOBUNumber = domain.Invalid("invalid_obu_number", "The OBU management number (車載器管理番号) must be exactly 19 digits.")
	ErrMissingField     = domain.Invalid("missing_field", "Every item shown on a setup certificate is required: vehicle type, plate number, gross weight, setup date and store.")
	ErrMissingToken     = domain.Invalid("missing_token", "A download link token is required.")
	ErrSameToken        = domain.Invalid("same_token", "A reissued link needs a new token; the old one stops working.")
	ErrMissingStaff     = domain.Invalid("missing_staff", "Printing at the store needs the store ID and the ID of the staff member who prints.")

	ErrNotFound        = domain.NotFound("certificate_not_found", "No setup certificate with this number exists.")
	ErrAlreadyIssued   = domain.Conflict("certificate_exists", "A certificate with this number has already been issued.")
	ErrLinkAlreadySent = domain.Conflict("link_already_sent", "The download link was already sent; reissue it to send a new one.")
	ErrNoLink          = domain.Conflict("no_link", "No download link has been sent yet; send one first.")
	ErrUnknownToken    = domain.NotFound("unknown_token", "This download link is not valid; use the link in the latest mail.")
	ErrLinkReplaced    = domain.Gone("link_replaced", "This download link was replaced by a newer one; use the link in the latest mail.")
	ErrLinkExpired     = domain.Gone("link_expired", "This download link expired 60 days after it was sent; ask the store to reissue it or to print the certificate.")
)
