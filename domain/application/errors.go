package application

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors. Callers branch with errors.Is; the returned errors usually
// carry a field and a more precise detail added with With.
var (
	// Input rules (422).
	ErrInvalidID             = domain.Invalid("invalid_application_id", "The application ID (申請ID) must be 1 to 40 ASCII letters, digits or hyphens.")
	ErrInvalidPasscode       = domain.Invalid("invalid_passcode", "The passcode (パスコード) must be 4 to 64 printable ASCII characters without spaces or colons.")
	ErrInvalidQR             = domain.Invalid("invalid_qr", "The QR code is not a Gantry application QR code; scan the QR code in the \"申請が完了しました\" mail again or type the application ID and passcode.")
	ErrMissingApplicant      = domain.Invalid("missing_applicant", "Enter the applicant's name (申請者氏名); for a corporation enter the corporate name and the person in charge.")
	ErrMissingAddress        = domain.Invalid("missing_address", "Enter the applicant's address (住所).")
	ErrInvalidPhone          = domain.Invalid("invalid_phone", "Enter a contact phone number (連絡先) of 10 to 15 digits; hyphens and spaces are allowed.")
	ErrInvalidEmail          = domain.Invalid("invalid_email", "Enter an e-mail address such as name@example.jp; the application ID and passcode are mailed there.")
	ErrMissingVehicleUser    = domain.Invalid("missing_vehicle_user", "Enter the vehicle user (車検証上の使用者) exactly as on the vehicle inspection certificate.")
	ErrIncompleteAgent       = domain.Invalid("incomplete_agent", "An agent (代理人) needs a name, an address and a contact phone number; leave the agent out entirely if there is none.")
	ErrRegulationNotAccepted = domain.Invalid("regulation_not_accepted", "All four regulations must be accepted before the application can be completed.")
	ErrInvalidUnits          = domain.Invalid("invalid_units", "The number of on-board units (車載器台数) must be at least 1.")
	ErrMissingPasscodeHash   = domain.Invalid("missing_passcode_hash", "The passcode hash is empty; hash the passcode before completing the application.")
	ErrMissingStore          = domain.Invalid("missing_store", "The setup store ID (セットアップ登録店) is required.")
	ErrUnknownStore          = domain.Invalid("unknown_store", "No setup store has this code; scan the store's QR code again, or apply without a store.")
	ErrMissingStaff          = domain.Invalid("missing_staff", "The staff ID of the person at the store is required.")
	ErrMissingConsent        = domain.Invalid("missing_consent", "Filing by proxy (代行申請) needs the ID of the proxy consent (委任状) and the unit it uses.")
	ErrInvalidConsentID      = domain.Invalid("invalid_consent_id", "The proxy consent ID must be 1 to 40 ASCII letters, digits or hyphens.")
	ErrMissingRequestDate    = domain.Invalid("missing_request_date", "Enter the request date (依頼日) written on the proxy consent (委任状).")
	ErrNoDelegation          = domain.Invalid("no_delegation", "The proxy consent (委任状) must state that the applicant delegates the ETC/ETC2.0 on-board-unit setup application to the store.")
	ErrConsentOtherApplicant = domain.Invalid("consent_other_applicant", "This proxy consent (委任状) was given by another applicant; a consent covers the vehicles of the customer who signed it only.")
	ErrInvalidConsentPeriod  = domain.Invalid("invalid_consent_period", "A proxy consent for several units must state its period (from and to dates), and the period must not end before it starts.")
	ErrMissingVerifier       = domain.Invalid("missing_verifier", "Reception needs a passcode verifier; the command layer must pass one.")

	// State rules.
	ErrNotFound            = domain.NotFound("application_not_found", "No application with this ID exists; check the application ID (申請ID).")
	ErrAlreadyCompleted    = domain.Conflict("application_exists", "An application with this ID has already been completed; use a new application ID.")
	ErrAlreadyReceived     = domain.Conflict("already_received", "This application has already been received (受付済み) by a store; continue the setup from the existing reception.")
	ErrWrongPasscode       = domain.Invalid("wrong_passcode", "The passcode does not match this application ID; check the passcode in the \"申請が完了しました\" mail.")
	ErrReceptionLocked     = domain.Locked("reception_locked", "Reception of this application is locked after too many wrong passcodes; ask the help desk to unlock it.")
	ErrNotLocked           = domain.Conflict("reception_not_locked", "Reception of this application is not locked; nothing to unlock.")
	ErrReceptionPeriodOver = domain.Gone("reception_period_over", "No store received this application within 60 days of completion, so its data is deleted; the customer must apply again.")
	ErrExpired             = domain.Gone("application_expired", "This application expired because no store received it within 60 days; the customer must apply again.")
	ErrErased              = domain.NotFound("application_erased", "This application's data was deleted at the end of its 5-year retention period.")
	ErrExpiryNotDue        = domain.Conflict("expiry_not_due", "The application cannot be expired yet: 60 days from completion have not passed.")
	ErrNotExpirable        = domain.Conflict("not_expirable", "A received application does not expire after 60 days; its data is kept for 5 years from completion.")
	ErrRetentionNotDue     = domain.Conflict("retention_not_due", "The retention period has not ended: received applications are kept 5 years from completion.")
	ErrNotReceived         = domain.Conflict("not_received", "Only a received application has a 5-year retention period; an unreceived one expires after 60 days instead.")

	// Proxy consent (委任状).
	ErrConsentNotFound    = domain.NotFound("consent_not_found", "No proxy consent (委任状) with this ID is recorded; record the consent before filing by proxy.")
	ErrConsentExists      = domain.Conflict("consent_exists", "A proxy consent (委任状) with this ID is already recorded; use a new consent ID.")
	ErrConsentUsedUp      = domain.Conflict("consent_used_up", "Every unit covered by this proxy consent (委任状) has been used; obtain a new consent from the customer.")
	ErrConsentNotYetValid = domain.Conflict("consent_not_yet_valid", "The period of this proxy consent (委任状) has not started yet.")
	ErrConsentPeriodOver  = domain.Gone("consent_period_over", "The period of this proxy consent (委任状) has ended; obtain a new consent from the customer.")
	ErrConsentOtherStore  = domain.Forbidden("consent_other_store", "This proxy consent (委任状) delegates to another store; only that store may file by proxy with it.")
	ErrConsentErased      = domain.NotFound("consent_erased", "This proxy consent's (委任状) data was deleted at the end of its 5-year retention period.")
)
