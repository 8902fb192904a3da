package edi

import "github.com/gantry-etc/gantry/domain/billing"

// UsageParser is the usage-file parser of the card commands
// (cards.UsageParser): ParseUsage, with a rejected file reported as a
// *cards.UsageFileError (every bad line, nothing imported).
type UsageParser struct{}

// ParseUsage parses the whole file; see the package function ParseUsage.
func (UsageParser) ParseUsage(data []byte) (string, []billing.UsageRecord, error) {
	f, err := ParseUsage(data)
	return f.Encoding, f.Records, err
}
