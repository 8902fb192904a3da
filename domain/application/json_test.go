package application_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func TestEventsJSONRoundTrip(t *testing.T) {
	all := []domain.Event{
		completed(),
		func() domain.Event {
			e := completed()
			d := details
			d.Agent = agent
			e.Details = domain.Seal(appID.String(), d)
			return e
		}(),
		application.FiledByProxy{ApplicationID: appID, Details: domain.Seal(appID.String(), details), Acceptances: application.AllAccepted(), Units: 2, PasscodeHash: "h", StoreID: "S001", StaffID: "ST01", ConsentID: "C-0001", ConsentUnit: 1, CompletedAt: completedAt},
		rejected(3),
		application.ReceptionLocked{ApplicationID: appID, At: completedAt},
		application.ReceptionUnlocked{ApplicationID: appID, By: "HD1", At: completedAt},
		received(),
		application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")},
		application.RetentionEnded{ApplicationID: appID, CompletedAt: completedAt, EndedAt: domaintest.At("2031-04-01T10:00")},
		consentRecorded(),
		unitUsed("A1", 1, completedAt),
		application.ConsentRetentionEnded{ConsentID: "C-0001", EndedAt: completedAt},
		application.SealPasscode(appID, "123456", completedAt),
	}
	domaintest.RoundTrip(t, all, application.EventTypes())
}

// Expired and RetentionEnded must carry no personal data: no Personal member.
func TestEndEventsCarryNoPersonalData(t *testing.T) {
	for _, e := range []domain.Event{
		application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: completedAt},
		application.RetentionEnded{ApplicationID: appID, CompletedAt: completedAt, EndedAt: completedAt},
		application.ConsentRetentionEnded{ConsentID: "C-0001", EndedAt: completedAt},
	} {
		b, _ := json.Marshal(e)
		if bytes.Contains(b, []byte(domain.PersonalKey)) {
			t.Errorf("%s carries personal data: %s", e.EventType(), b)
		}
	}
	// And personal data in the other events is only inside Personal members.
	b, _ := json.Marshal(completed())
	if !bytes.Contains(b, []byte(domain.PersonalKey)) || bytes.Count(b, []byte("山田")) != 2 {
		t.Fatalf("unexpected encoding %s", b)
	}
}
