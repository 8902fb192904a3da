package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/projections/privacy"
)

// PrivacyCLIUsage is the privacy sub-command.
const PrivacyCLIUsage = `gantry privacy report SUBJECT    where the data subject's personal data lives and whether it is erased (JSON)
gantry privacy seal-legacy       seal the consent PDFs stored in plaintext before sealing existed, then rewrite the table`

// PrivacyCLI runs `gantry privacy report SUBJECT` (operator admin on the
// server): the report of projections/privacy as JSON; it opens nothing
// sealed, so it prints no personal data. `gantry privacy seal-legacy`
// seals the consent PDFs stored before sealing existed.
func PrivacyCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	if len(args) == 2 && args[1] == "seal-legacy" {
		sealed, deleted, err := postgres.ConsentDocuments{Pool: a.Pool, Sealer: a.Sealer}.SealLegacy(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "consent PDFs sealed: %d, deleted (consent already erased): %d\n", sealed, deleted)
		return err
	}
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
