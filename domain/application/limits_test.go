package application_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// Every free-text field of an application is bounded before it reaches an
// event (a 7 MiB address was once accepted and stored for good).
func TestCompleteRefusesOverlongFields(t *testing.T) {
	long := func(n int) string { return strings.Repeat("あ", n) }
	tests := []struct {
		name  string
		edit  func(*application.Details)
		field string
	}{
		{"name_101", func(d *application.Details) { d.Applicant.Name = long(101) }, "applicant.name"},
		{"address_7_mib", func(d *application.Details) { d.Applicant.Address = strings.Repeat("x", 7<<20) }, "applicant.address"},
		{"corporation_101", func(d *application.Details) { d.Applicant.CorporationName = long(101) }, "applicant.corporation_name"},
		{"email_255", func(d *application.Details) { d.Applicant.Email = strings.Repeat("a", 244) + "@example.jp" }, "applicant.email"},
		{"phone_with_many_spaces", func(d *application.Details) { d.Applicant.Phone = "03" + strings.Repeat(" ", 40) + "12345678" }, "applicant.phone"},
		{"vehicle_user_101", func(d *application.Details) { d.VehicleUser = long(101) }, "vehicle_user"},
		{"agent_address_201", func(d *application.Details) {
			d.Agent = &application.Agent{Name: "佐藤", Address: long(201), Phone: "090-1111-2222"}
		}, "agent.address"},
		{"invalid_utf8_name", func(d *application.Details) { d.Applicant.Name = "\xff\xfe" }, "applicant.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := details
			tt.edit(&d)
			evs, err := application.New().Complete(application.Complete{ID: appID, Details: d, Acceptances: application.AllAccepted(), Units: 1, PasscodeHash: "hash:right"}, completedAt)
			var de *domain.Error
			if len(evs) != 0 || !errors.Is(err, domain.ErrTooLong) || !errors.As(err, &de) || de.Field != tt.field {
				t.Fatalf("got %d events, %v; want too_long on %s", len(evs), err, tt.field)
			}
		})
	}
	exact := details
	exact.Applicant.Name = long(100)
	if _, err := application.New().Complete(application.Complete{ID: appID, Details: exact, Acceptances: application.AllAccepted(), Units: 1, PasscodeHash: "hash:right"}, completedAt); err != nil {
		t.Fatalf("a 100-character name is allowed: %v", err)
	}
}
