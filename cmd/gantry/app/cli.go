package app

import (
	"context"
	"io"
)

// CLIFunc runs a feature's sub-command; args[0] is the sub-command name.
type CLIFunc func(ctx context.Context, a *App, args []string, out io.Writer) error

// CLI returns the feature command for a top-level sub-command name.
func CLI(name string) (CLIFunc, bool) {
	f, ok := cliCommands()[name]
	return f, ok
}

// cliCommands lists the feature sub-commands (lease, usage, billing, privacy).
func cliCommands() map[string]CLIFunc {
	return map[string]CLIFunc{"lease": CardsCLI, "usage": CardsCLI, "billing": CardsCLI, "audit": AuditCLI, "privacy": PrivacyCLI}
}
