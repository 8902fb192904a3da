package contract

import "github.com/gantry-etc/gantry/domain"

// Stable event type names stored on disk. Never rename.
const (
	EventConcluded           = "contract.concluded"
	EventBusinessDaysChanged = "contract.business_days_changed"
)

// EventTypes lists every event type of this package that is stored; a test
// in cmd/gantry/app checks it against what the codec can decode.
func EventTypes() []string { return []string{EventConcluded, EventBusinessDaysChanged} }

// Concluded: the ETC service contract was concluded after the application was
// checked against the lease. It starts the contract's stream.
type Concluded struct {
	Contract     Number                       `json:"contract"`
	CustomerName string                       `json:"customer_name"`
	AlphaName    AlphaName                    `json:"alpha_name"`
	Contact      domain.Personal[Contact]     `json:"contact"`
	BankAccount  domain.Personal[BankAccount] `json:"bank_account"`
	Lease        Lease                        `json:"lease"`
	BusinessDays BusinessCalendar             `json:"business_days"`
	ConcludedOn  domain.Date                  `json:"concluded_on"`
}

// BusinessDaysChanged: the customer's business days were replaced.
type BusinessDaysChanged struct {
	Contract     Number           `json:"contract"`
	BusinessDays BusinessCalendar `json:"business_days"`
	ChangedOn    domain.Date      `json:"changed_on"`
}

func (Concluded) EventType() string           { return EventConcluded }
func (BusinessDaysChanged) EventType() string { return EventBusinessDaysChanged }
