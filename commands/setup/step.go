package setup

import (
	"context"
	"time"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Step is one tablet step of the setup SetupID at StoreID, done by StaffID.
// ExpectedVersion is the setup version the tablet read (If-Match), or -1
// (es.Any) to take the current one. Out of order, the domain names the
// expected step (409).
type Step struct {
	SetupID         string
	StoreID         string
	StaffID         string
	ExpectedVersion int64
	Input           StepInput
}

// StepInput is what one step records. The types below are the whole table,
// in the order the tablet runs them; each picks its domain method.
type StepInput interface {
	decide(s *setup.Setup, staffID string, now time.Time) ([]domain.Event, error)
}

type (
	// RecordVisitor is step 1: who came to the store.
	RecordVisitor setup.RecordVisitor
	// CheckIdentity is step 6: the identity check (本人確認).
	CheckIdentity setup.CheckIdentity
	// AnswerMultipleUnits says whether several OBUs are being installed.
	AnswerMultipleUnits setup.AnswerMultipleUnits
	// RecordVehicle is step 7a: the vehicle data, read from the 車検証 QR
	// payload when InspectionQR is given (Vehicle then only says Towing),
	// else Vehicle's fields.
	RecordVehicle struct {
		InspectionQR string
		Vehicle      setup.RecordVehicle
	}
	// RecordOBU is step 7b: the OBU data.
	RecordOBU setup.RecordOBU
	// WriteCard is step 8: the setup card written on the tablet.
	WriteCard struct{ CardSerial, WrittenHash string }
	// Execute is step 9: the setup executed on the OBU.
	Execute struct{}
)

func (in RecordVisitor) decide(s *setup.Setup, _ string, now time.Time) ([]domain.Event, error) {
	return s.RecordVisitor(setup.RecordVisitor(in), now)
}

func (in CheckIdentity) decide(s *setup.Setup, _ string, now time.Time) ([]domain.Event, error) {
	return s.CheckIdentity(setup.CheckIdentity(in), now)
}

func (in AnswerMultipleUnits) decide(s *setup.Setup, _ string, now time.Time) ([]domain.Event, error) {
	return s.AnswerMultipleUnits(setup.AnswerMultipleUnits(in), now)
}

func (in RecordVehicle) decide(s *setup.Setup, _ string, now time.Time) ([]domain.Event, error) {
	v := in.Vehicle
	if in.InspectionQR != "" {
		var err error
		if v, err = setup.ParseInspectionQR(in.InspectionQR, in.Vehicle.Towing); err != nil {
			return nil, err
		}
	}
	return s.RecordVehicle(v, now)
}

func (in RecordOBU) decide(s *setup.Setup, _ string, now time.Time) ([]domain.Event, error) {
	return s.RecordOBU(setup.RecordOBU(in), now)
}

func (in WriteCard) decide(s *setup.Setup, staffID string, now time.Time) ([]domain.Event, error) {
	return s.WriteCard(setup.WriteCard{CardSerial: in.CardSerial, WrittenHash: in.WrittenHash, StaffID: staffID}, now)
}

func (Execute) decide(s *setup.Setup, staffID string, now time.Time) ([]domain.Event, error) {
	return s.Execute(setup.Execute{StaffID: staffID}, now)
}

// StepHandler runs tablet steps.
type StepHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle loads the setup, checks the store and the expected version, lets the
// step decide and appends at the loaded version (a concurrent step gets 409).
func (h StepHandler) Handle(ctx context.Context, cmd Step) (es.AppendResult, error) {
	s, v, err := loadSetup(ctx, h.Streams, cmd.SetupID, cmd.StoreID, cmd.ExpectedVersion)
	if err != nil {
		return es.AppendResult{}, err
	}
	evs, err := cmd.Input.decide(s, cmd.StaffID, h.Clock.Now())
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, SetupStream(cmd.SetupID), v, evs...)
}
