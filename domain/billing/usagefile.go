package billing

import "github.com/gantry-etc/gantry/domain"

// EventUsageFileImported is the stable name of UsageFileImported. Never rename.
const EventUsageFileImported = "usage.file_imported"

// UsageFileImported is the audit record of one road operator usage file:
// its SHA-256, encoding and counts. Its stream is keyed by the hash, so the
// same file is recorded once.
type UsageFileImported struct {
	SHA256       string      `json:"sha256"`
	Name         string      `json:"name"`
	Encoding     string      `json:"encoding"`
	Rows         int         `json:"rows"`
	Imported     int         `json:"imported"`      // new records
	AlreadyKnown int         `json:"already_known"` // record ids imported before
	UnknownCards []string    `json:"unknown_cards"` // card numbers not issued by us (rows skipped)
	ImportedOn   domain.Date `json:"imported_on"`
}

func (UsageFileImported) EventType() string { return EventUsageFileImported }
