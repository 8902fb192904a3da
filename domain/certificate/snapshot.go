package certificate

import "time"

// Snapshot is a read-only view of a certificate's state (for auditors'
// as-of reads). Download link tokens are secrets and are left out.
type Snapshot struct {
	Issued        bool      `json:"issued"`
	Content       Content   `json:"content"`
	LinkSent      bool      `json:"link_sent"`
	LinkExpiresAt time.Time `json:"link_expires_at,omitzero"`
	LinksReissued int       `json:"links_reissued"`
	Downloads     int       `json:"downloads"`
	Prints        int       `json:"prints"`
}

// Snapshot returns the certificate's state as a value.
func (c *Certificate) Snapshot() Snapshot {
	return Snapshot{Issued: c.issued, Content: c.content, LinkSent: c.token != "", LinkExpiresAt: c.expiresAt,
		LinksReissued: len(c.oldTokens), Downloads: c.downloads, Prints: c.prints}
}
