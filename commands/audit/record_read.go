// Package audit runs the commands of the auditors' features: recording each
// audit read in the audit trail before it is answered.
package audit

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/audit"
)

// ReadsStream is the audit stream of one Tokyo day's reads. Durable: it is
// the stream ID on disk ("audit-reads-2026-04-10").
func ReadsStream(day domain.Date) string { return "audit-reads-" + day.String() }

// RecordRead records that the actor in ctx's metadata read history.
type RecordRead struct {
	Query  string            // audit.Query…
	Target string            // the stream or store read
	Params map[string]string // the query's parameters, reason left out
	Reason string
}

// RecordReadHandler appends audit.ReadRecorded to the day's audit stream
// (expected version Any: reads never conflict with each other). The read is
// recorded before it is answered; if recording fails, the read is refused.
type RecordReadHandler struct {
	Streams commands.Streams
	Clock   commands.Clock
}

// Handle records the read and answers where it was appended (wait for it to
// read the reads list back).
func (h RecordReadHandler) Handle(ctx context.Context, cmd RecordRead) (es.AppendResult, error) {
	md := commands.MetadataFrom(ctx)
	now := h.Clock.Now()
	evs, err := audit.RecordRead(audit.Read{ReadID: es.NewEventID().String(), ReaderID: md.Actor.ID, ReaderRole: md.Actor.Role,
		Query: cmd.Query, Target: cmd.Target, Params: cmd.Params, Reason: cmd.Reason}, now)
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, ReadsStream(domain.DateOf(now)), int64(es.Any), evs...)
}
