package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
)

// Unlock lifts the reception lock that five wrong passcodes put on an
// application. By names the operator; ExpectedVersion is the application
// version the operator read (If-Match), or -1 (es.Any).
type Unlock struct {
	ApplicationID   string
	By              string
	ExpectedVersion int64
}

// UnlockHandler runs Unlock.
type UnlockHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle appends ReceptionUnlocked at the loaded version. Not locked is
// ErrNotLocked (409); an unknown application is ErrNotFound.
func (h UnlockHandler) Handle(ctx context.Context, cmd Unlock) (es.AppendResult, error) {
	stream := ApplicationStream(cmd.ApplicationID)
	a := application.New()
	v, err := h.Streams.Load(ctx, stream, a.Apply)
	if err != nil {
		return es.AppendResult{}, err
	}
	if v == 0 {
		return es.AppendResult{}, application.ErrNotFound
	}
	if err := commands.CheckIfMatch(stream, cmd.ExpectedVersion, v); err != nil {
		return es.AppendResult{}, err
	}
	evs, err := a.Unlock(application.Unlock{By: cmd.By}, h.Clock.Now())
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, stream, v, evs...)
}
