package station

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/cardauth"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Errors of the setup-card commands.
var (
	ErrNotOurRecord    = domain.Invalid("not_gantry_record", "The record read from the card is not a setup record Gantry issued (its signature does not verify); write the record Gantry gave for this setup.")
	ErrOtherSetup      = domain.Invalid("record_of_other_setup", "The record on the card was issued for another setup; write this setup's record.")
	ErrStaleRecord     = domain.Conflict("stale_record", "The vehicle or OBU data changed after this record was issued; fetch a new record and write the card again.")
	ErrHashMismatch    = domain.Invalid("read_back_mismatch", "The SHA-256 of what was read back from the card does not match the record; nothing was recorded. Write the card again.")
	ErrNotAtCardStep   = domain.Conflict("not_at_card_step", "The setup card is written at step 8, after the vehicle and OBU data; do the next step first.")
	ErrRecordKeyAbsent = domain.Unavailable("setup_card_key_missing", "No setup-card signing key is configured (GANTRY_SETUP_CARD_KEY).")
)

// SetupCardRecord asks for the signed record of a setup at its store.
type SetupCardRecord struct {
	SetupID string
	StoreID string
}

// SetupCardHandler issues setup-card records and records verified writes.
// Key signs the records (Ed25519, from configuration).
type SetupCardHandler struct {
	Streams cmds.EventStreams
	Clock   commands.Clock
	Key     ed25519.PrivateKey
}

func (h SetupCardHandler) load(ctx context.Context, id, store string) (*setup.Setup, int64, error) {
	s := setup.New()
	v, err := h.Streams.Load(ctx, cmds.SetupStream(id), s.Apply)
	if err != nil {
		return nil, 0, err
	}
	if v == 0 || s.StoreID() != store {
		return nil, 0, setup.ErrNotStarted.With("setup_id", "No setup with this ID at your store.")
	}
	return s, v, nil
}

// Exists checks that the setup is one of store's (not found otherwise).
func (h SetupCardHandler) Exists(ctx context.Context, id, store string) error {
	_, _, err := h.load(ctx, id, store)
	return err
}

// Record answers the card bytes for the setup: the record of its vehicle
// and OBU data, signed. It is only issued at step 8.
func (h SetupCardHandler) Record(ctx context.Context, cmd SetupCardRecord) ([]byte, error) {
	if len(h.Key) == 0 {
		return nil, ErrRecordKeyAbsent
	}
	s, _, err := h.load(ctx, cmd.SetupID, cmd.StoreID)
	if err != nil {
		return nil, err
	}
	if s.NextStep() != setup.StepCard {
		return nil, ErrNotAtCardStep.Withf("", "The setup is at step %s; the setup card is written after the vehicle and OBU data.", s.NextStep())
	}
	return cardauth.SealRecord(recordOf(s, h.Clock.Now()), func(body []byte) []byte { return ed25519.Sign(h.Key, body) }), nil
}

func recordOf(s *setup.Setup, at time.Time) cardauth.SetupRecord {
	v, o := s.Vehicle(), s.OBU()
	return cardauth.SetupRecord{SetupID: s.ID(), StoreID: s.StoreID(), OBUNumber: o.Number.Value.String(), OBUKind: string(o.Kind),
		Plate: v.Plate.Value.String(), TypeDesignationNumber: v.TypeDesignationNumber, CategoryNumber: v.CategoryNumber,
		VehicleType: v.VehicleType, GrossWeightKg: v.GrossWeightKg, IssuedAt: at.UTC().Truncate(time.Second)}
}

// WriteSetupCard is step 8 as the station reports it: the bytes it read
// back from the card, their SHA-256 and the card serial.
type WriteSetupCard struct {
	SetupID string
	StoreID string
	StaffID string
	// ExpectedVersion is the setup version the station read (If-Match),
	// or -1 for the current one.
	ExpectedVersion int64
	CardSerial      string
	ReadBack        []byte
	ReadHash        string
}

// Write accepts step 8 only for a record Gantry signed for this setup's
// current vehicle and OBU data, whose SHA-256 is the reported hash. It
// appends CardWritten (serial, hash, staff) or nothing.
func (h SetupCardHandler) Write(ctx context.Context, cmd WriteSetupCard) (es.AppendResult, error) {
	if len(h.Key) == 0 {
		return es.AppendResult{}, ErrRecordKeyAbsent
	}
	// Another store's setup answers as one that does not exist, before
	// anything about the record is said.
	s, v, err := h.load(ctx, cmd.SetupID, cmd.StoreID)
	if err != nil {
		return es.AppendResult{}, err
	}
	rec, err := cardauth.OpenRecord(cmd.ReadBack, func(body, sig []byte) bool {
		return ed25519.Verify(h.Key.Public().(ed25519.PublicKey), body, sig)
	})
	if errors.Is(err, cardauth.ErrNotGantryRecord) {
		return es.AppendResult{}, ErrNotOurRecord.With("record", "")
	}
	if err != nil {
		return es.AppendResult{}, err
	}
	if !strings.EqualFold(strings.TrimSpace(cmd.ReadHash), cardauth.Hash(cmd.ReadBack)) {
		return es.AppendResult{}, ErrHashMismatch.With("read_hash", "")
	}
	if rec.SetupID != cmd.SetupID || rec.StoreID != cmd.StoreID {
		return es.AppendResult{}, ErrOtherSetup.With("record", "")
	}
	if s.NextStep() == setup.StepCard {
		cur := recordOf(s, rec.IssuedAt)
		cur.Format = rec.Format
		if cur != rec {
			return es.AppendResult{}, ErrStaleRecord
		}
	}
	// Append at the version just checked (or the station's, which then
	// must be it): data changed in between is a 409, never a stale record.
	expected := cmd.ExpectedVersion
	if expected < 0 {
		expected = v
	}
	return cmds.StepHandler{Streams: h.Streams, Clock: h.Clock}.Handle(ctx, cmds.Step{SetupID: cmd.SetupID, StoreID: cmd.StoreID, StaffID: cmd.StaffID,
		ExpectedVersion: expected, Input: cmds.WriteCard{CardSerial: cmd.CardSerial, WrittenHash: cardauth.Hash(cmd.ReadBack)}})
}
