package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/gantry-etc/gantry/projections/privacy"
)

// PrivacyCLIUsage is the privacy sub-command.
const PrivacyCLIUsage = `gantry privacy report SUBJECT    where the data subject's personal data lives and whether it is erased (JSON)`

// PrivacyCLI runs `gantry privacy report SUBJECT` (operator admin on the
// server): the report of projections/privacy as JSON. It opens nothing
// sealed, so it prints no personal data.
func PrivacyCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	if len(args) != 3 || args[1] != "report" || args[2] == "" {
		return errors.New(PrivacyCLIUsage)
	}
	rep, err := privacy.Reader{Pool: a.Pool}.Report(ctx, args[2])
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
