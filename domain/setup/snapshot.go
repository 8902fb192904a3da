package setup

// Snapshot is a read-only view of a setup's state (for auditors' as-of
// reads).
type Snapshot struct {
	SetupID        string          `json:"setup_id"`
	ApplicationID  string          `json:"application_id"`
	StoreID        string          `json:"store_id"`
	NextStep       string          `json:"next_step"`
	IdentityFailed bool            `json:"identity_failed"`
	Multiple       bool            `json:"multiple_units"`
	Vehicle        VehicleRecorded `json:"vehicle"`
	OBU            OBURecorded     `json:"obu"`
	Card           CardWritten     `json:"card"`
}

// Snapshot returns the setup's state as a value.
func (s *Setup) Snapshot() Snapshot {
	return Snapshot{SetupID: s.id, ApplicationID: s.applicationID, StoreID: s.storeID, NextStep: s.next.String(),
		IdentityFailed: s.identityFailed, Multiple: s.multiple, Vehicle: s.vehicle, OBU: s.obu, Card: s.card}
}
