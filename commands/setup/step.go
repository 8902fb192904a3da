package setup

import (
	"context"
	"time"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Step is one tablet step (visitor, identity, units, vehicle, OBU, card,
// execute) of the setup SetupID at StoreID. Decide calls the matching
// domain method; out of order, the domain names the expected step (409).
type Step struct {
	SetupID string
	StoreID string
	Decide  func(s *setup.Setup, now time.Time) ([]domain.Event, error)
}

// StepHandler runs tablet steps with If-Match on the setup stream.
type StepHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle loads, decides and appends at the loaded version.
func (h StepHandler) Handle(ctx context.Context, cmd Step) (es.AppendResult, error) {
	s, v, err := loadSetup(ctx, h.Streams, cmd.SetupID, cmd.StoreID)
	if err != nil {
		return es.AppendResult{}, err
	}
	evs, err := cmd.Decide(s, h.Clock.Now())
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, SetupStream(cmd.SetupID), v, evs...)
}
