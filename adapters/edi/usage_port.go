package edi

import (
	"errors"

	"github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain/billing"
)

// UsageParser is the usage-file parser of the card commands
// (cards.UsageParser): ParseUsage, with a rejected file reported as a
// *cards.UsageFileError (every bad line, nothing imported).
type UsageParser struct{}

// ParseUsage parses the whole file; see the package function ParseUsage.
func (UsageParser) ParseUsage(data []byte) (string, []billing.UsageRecord, error) {
	f, err := ParseUsage(data)
	var fe *FileError
	if errors.As(err, &fe) {
		ue := &cards.UsageFileError{Encoding: fe.Encoding, Problems: make([]cards.UsageLineProblem, len(fe.Problems))}
		for i, p := range fe.Problems {
			ue.Problems[i] = cards.UsageLineProblem{Line: p.Line, Field: p.Field, Reason: p.Reason}
		}
		return "", nil, ue
	}
	if err != nil {
		return "", nil, err
	}
	return f.Encoding, f.Records, nil
}
