package setup

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors; callers branch with errors.Is.
var (
	ErrInvalidSetupID          = domain.Invalid("invalid_setup_id", "The setup ID must be 1 to 40 ASCII letters, digits or hyphens.")
	ErrMissingApplication      = domain.Invalid("missing_application", "The application ID (申請ID) of the received application is required to start a setup.")
	ErrMissingStore            = domain.Invalid("missing_store", "The setup store ID (セットアップ登録店) is required.")
	ErrMissingStaff            = domain.Invalid("missing_staff", "The ID of the staff member doing this step is required.")
	ErrInvalidVisitorKind      = domain.Invalid("invalid_visitor_kind", "Say who came to the store: the vehicle user (使用者本人), the designated agent (代理人) or another person.")
	ErrMissingVisitorName      = domain.Invalid("missing_visitor_name", "Record the name of the person who came, as shown on their identity document.")
	ErrMissingIDDocument       = domain.Invalid("missing_id_document", "When neither the vehicle user nor the agent came, record the identity document (身分証明書) that was shown.")
	ErrIDDocumentNotChecked    = domain.Invalid("id_document_not_checked", "Check the visitor's identity document (身分証明書) before continuing.")
	ErrUnverifiedJPKI          = domain.Invalid("unverified_jpki_check", "A My Number card (JPKI) check is recorded by the station's card route, which verifies the card's signature, certificate and revocation; record other methods here.")
	ErrMissingIdentityMethod   = domain.Invalid("missing_identity_method", "Record how identity was checked (本人確認), for example the document compared with the application.")
	ErrInvalidPlate            = domain.Invalid("invalid_plate", "The plate number (自動車登録番号) must read like \"品川 300 あ 12-34\": region, class number, one hiragana, serial of 1 to 4 digits.")
	ErrInvalidTypeDesignation  = domain.Invalid("invalid_type_designation", "The type-designation number (型式指定番号) must be exactly 5 digits.")
	ErrInvalidCategoryNumber   = domain.Invalid("invalid_category_number", "The category number (類別区分番号) must be 3 or 4 digits.")
	ErrInvalidGrossWeight      = domain.Invalid("invalid_gross_weight", "The gross vehicle weight (車両総重量) must be a whole number of kilograms between 1 and 200000.")
	ErrMissingVehicleType      = domain.Invalid("missing_vehicle_type", "Record the vehicle type (車種), for example 普通乗用 or 小型貨物.")
	ErrInvalidVehicleSource    = domain.Invalid("invalid_vehicle_source", "Vehicle data must come from the 車検証 QR code, the type-designation and category numbers, or manual entry.")
	ErrInvalidInspectionQR     = domain.Invalid("invalid_inspection_qr", "The vehicle inspection certificate (車検証) QR code could not be read; scan it again or enter the vehicle data by hand.")
	ErrInvalidOBUKind          = domain.Invalid("invalid_obu_kind", "The on-board unit kind must be ETC or ETC2.0.")
	ErrInvalidOBUNumber        = domain.Invalid("invalid_obu_number", "The OBU management number (車載器管理番号) must be exactly 19 digits; hyphens and spaces are ignored.")
	ErrUnknownSecurityStandard = domain.Invalid("unknown_security_standard", "An OBU management number (車載器管理番号) starts with 1 (new security standard) or 0 (old standard); check the number on the unit.")
	ErrMissingCardSerial       = domain.Invalid("missing_card_serial", "Record the serial number of the setup card (セットアップカード) that was written.")
	ErrMissingWrittenHash      = domain.Invalid("missing_written_hash", "Record the hash of the data written to the setup card.")

	ErrNotStarted           = domain.NotFound("setup_not_found", "No setup with this ID exists; receive the application first.")
	ErrAlreadyStarted       = domain.Conflict("setup_exists", "A setup with this ID has already been started; use a new setup ID.")
	ErrStepOutOfOrder       = domain.Conflict("step_out_of_order", "This step cannot be done now; do the next step of the setup first.")
	ErrIdentityNotConfirmed = domain.Conflict("identity_not_confirmed", "The identity check (本人確認) failed, so this setup cannot continue; start again with a new reception once identity can be confirmed.")
	ErrAlreadyCompleted     = domain.Conflict("setup_completed", "This setup is already complete (完了通知済み); nothing more can be recorded.")
)
