package application_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain/application"
)

func TestConsentSnapshot(t *testing.T) {
	used := completedAt.Add(48 * time.Hour)
	c := application.LoadProxyConsent(events(consentRecorded(), unitUsed("AP-2", 1, completedAt), unitUsed("AP-1", 2, used)))
	s := c.Snapshot()
	if s.ConsentID != "C-0001" || s.Units != 2 || s.UnitsUsed != 2 || len(s.Filings) != 2 || s.Filings[0].ApplicationID != "AP-2" ||
		s.Filings[1] != (application.ConsentFiling{ApplicationID: "AP-1", Unit: 2}) || !s.RetentionEnd.Equal(c.RetentionEnd()) || s.Ended {
		t.Errorf("snapshot %+v", s)
	}
	c.Apply(application.ConsentRetentionEnded{ConsentID: "C-0001", EndedAt: used.AddDate(5, 0, 0)})
	b, err := json.Marshal(c.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, `"retention_ended":true`) || !strings.Contains(got, `"erased":true`) || strings.Contains(got, "山田") {
		t.Errorf("ended consent's snapshot: %s, want ended with the parties erased", got)
	}
}

func TestApplicationSnapshotLeavesOutThePasscodeHash(t *testing.T) {
	a := application.New()
	s := a.Snapshot()
	if s.Status != "none" || !s.CompletedAt.IsZero() || !s.RetentionEnd.IsZero() {
		t.Errorf("empty application: %+v", s)
	}
	if strings.Contains(strings.ToLower(strings.Join(fieldNames(s), ",")), "passcode_hash") {
		t.Error("the snapshot shows the passcode hash")
	}
}

func fieldNames(v any) []string {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
