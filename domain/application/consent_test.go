package application_test

import (
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func recordConsent() application.RecordConsent {
	return application.RecordConsent{
		ConsentID: "C-0001", StoreID: "S001", StaffID: "ST01",
		RequestDate:               domaintest.Date("2026-04-01"),
		Applicant:                 application.Applicant{CorporationName: "株式会社ガントリー", Name: "山田 太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678"},
		Agent:                     agent,
		Acceptances:               application.AllAccepted(),
		DelegatesSetupApplication: true,
		SignedPDF:                 "sha256:abcd",
		Units:                     2,
		ValidFrom:                 domaintest.Date("2026-04-01"),
		ValidTo:                   domaintest.Date("2026-04-30"),
	}
}

func consentRecorded() application.ConsentRecorded {
	c := recordConsent()
	return application.ConsentRecorded{
		ConsentID: "C-0001", StoreID: "S001", StaffID: "ST01", RequestDate: c.RequestDate,
		Parties:     domain.Seal("C-0001", application.ConsentParties{Applicant: c.Applicant, Agent: c.Agent}),
		Acceptances: c.Acceptances, DelegatesSetupApplication: true, SignedPDF: "sha256:abcd",
		Units: 2, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, RecordedAt: completedAt,
	}
}

func unitUsed(app string, n int, t time.Time) application.ConsentUnitUsed {
	return application.ConsentUnitUsed{ConsentID: "C-0001", ApplicationID: mustID(app), Unit: n, At: t}
}

func TestRecordConsent(t *testing.T) {
	tests := []struct {
		name    string
		given   []domain.Event
		edit    func(*application.RecordConsent)
		want    []domain.Event
		wantErr error
	}{
		{name: "records_every_item", edit: func(*application.RecordConsent) {}, want: events(consentRecorded())},
		{name: "single_unit_without_period", edit: func(c *application.RecordConsent) {
			c.Units, c.ValidFrom, c.ValidTo = 1, domain.Date{}, domain.Date{}
		}, want: func() []domain.Event {
			e := consentRecorded()
			e.Units, e.ValidFrom, e.ValidTo = 1, domain.Date{}, domain.Date{}
			return events(e)
		}()},
		{name: "already_recorded", given: events(consentRecorded()), edit: func(*application.RecordConsent) {}, wantErr: application.ErrConsentExists},
		{name: "bad_consent_id", edit: func(c *application.RecordConsent) { c.ConsentID = "" }, wantErr: application.ErrInvalidConsentID},
		{name: "missing_request_date", edit: func(c *application.RecordConsent) { c.RequestDate = domain.Date{} }, wantErr: application.ErrMissingRequestDate},
		{name: "missing_applicant_address", edit: func(c *application.RecordConsent) { c.Applicant.Address = "" }, wantErr: application.ErrMissingAddress},
		{name: "incomplete_agent", edit: func(c *application.RecordConsent) { c.Agent = &application.Agent{Name: "x"} }, wantErr: application.ErrIncompleteAgent},
		{name: "regulation_missing", edit: func(c *application.RecordConsent) { c.Acceptances.DSRCTerms = false }, wantErr: application.ErrRegulationNotAccepted},
		{name: "no_delegation", edit: func(c *application.RecordConsent) { c.DelegatesSetupApplication = false }, wantErr: application.ErrNoDelegation},
		{name: "zero_units", edit: func(c *application.RecordConsent) { c.Units = 0 }, wantErr: application.ErrInvalidUnits},
		{name: "several_units_need_period", edit: func(c *application.RecordConsent) { c.ValidFrom, c.ValidTo = domain.Date{}, domain.Date{} }, wantErr: application.ErrInvalidConsentPeriod},
		{name: "half_period", edit: func(c *application.RecordConsent) { c.ValidTo = domain.Date{} }, wantErr: application.ErrInvalidConsentPeriod},
		{name: "period_reversed", edit: func(c *application.RecordConsent) { c.ValidTo = domaintest.Date("2026-03-31") }, wantErr: application.ErrInvalidConsentPeriod},
		{name: "missing_store", edit: func(c *application.RecordConsent) { c.StoreID = "" }, wantErr: application.ErrMissingStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := recordConsent()
			tt.edit(&cmd)
			got, err := application.LoadProxyConsent(tt.given).Record(cmd, completedAt)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestUseConsent(t *testing.T) {
	use := func(app string) application.UseConsent {
		return application.UseConsent{ApplicationID: mustID(app), StoreID: "S001", Applicant: recordConsent().Applicant}
	}
	useFor := func(corporation, name string) application.UseConsent {
		u := use("A1")
		u.Applicant.CorporationName, u.Applicant.Name = corporation, name
		return u
	}
	first := domaintest.At("2026-04-01T10:00")
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     application.UseConsent
		now     time.Time
		want    []domain.Event
		wantErr error
	}{
		{name: "first_unit_on_first_day", given: events(consentRecorded()), cmd: use("A1"), now: first, want: events(unitUsed("A1", 1, first))},
		{name: "second_unit_on_last_day", given: events(consentRecorded(), unitUsed("A1", 1, first)), cmd: use("A2"), now: domaintest.At("2026-04-30T23:59"), want: events(unitUsed("A2", 2, domaintest.At("2026-04-30T23:59")))},
		{name: "used_up", given: events(consentRecorded(), unitUsed("A1", 1, first), unitUsed("A2", 2, first)), cmd: use("A3"), now: first, wantErr: application.ErrConsentUsedUp},
		{name: "same_application_again_is_idempotent", given: events(consentRecorded(), unitUsed("A1", 1, first)), cmd: use("A1"), now: first},
		{name: "before_period", given: events(consentRecorded()), cmd: use("A1"), now: domaintest.At("2026-03-31T23:59"), wantErr: application.ErrConsentNotYetValid},
		{name: "after_period", given: events(consentRecorded()), cmd: use("A1"), now: domaintest.At("2026-05-01T00:00"), wantErr: application.ErrConsentPeriodOver},
		{name: "other_store", given: events(consentRecorded()), cmd: application.UseConsent{ApplicationID: mustID("A1"), StoreID: "S999", Applicant: recordConsent().Applicant}, now: first, wantErr: application.ErrConsentOtherStore},
		{name: "same_applicant_spaced_differently", given: events(consentRecorded()), cmd: useFor("株式会社　ガントリー", "山田太郎"), now: first, want: events(unitUsed("A1", 1, first))},
		{name: "other_person_in_charge", given: events(consentRecorded()), cmd: useFor("株式会社ガントリー", "佐藤花子"), now: first, wantErr: application.ErrConsentOtherApplicant},
		{name: "other_corporation", given: events(consentRecorded()), cmd: useFor("株式会社ほか", "山田 太郎"), now: first, wantErr: application.ErrConsentOtherApplicant},
		{name: "person_instead_of_corporation", given: events(consentRecorded()), cmd: useFor("", "山田 太郎"), now: first, wantErr: application.ErrConsentOtherApplicant},
		{name: "unknown_consent", cmd: use("A1"), now: first, wantErr: application.ErrConsentNotFound},
		{name: "erased_consent", given: events(consentRecorded(), application.ConsentRetentionEnded{ConsentID: "C-0001"}), cmd: use("A1"), now: first, wantErr: application.ErrConsentErased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.LoadProxyConsent(tt.given).Use(tt.cmd, tt.now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestConsentRetention(t *testing.T) {
	used := domaintest.At("2026-04-20T10:00")
	given := events(consentRecorded(), unitUsed("A1", 1, used))
	tests := []struct {
		name    string
		given   []domain.Event
		now     time.Time
		want    []domain.Event
		wantErr error
	}{
		{name: "due_5_years_after_last_use", given: given, now: domaintest.At("2031-04-20T10:00"), want: events(application.ConsentRetentionEnded{ConsentID: "C-0001", EndedAt: domaintest.At("2031-04-20T10:00")})},
		{name: "not_due_before", given: given, now: domaintest.At("2031-04-20T09:59"), wantErr: application.ErrRetentionNotDue},
		{name: "idempotent", given: append(given, application.ConsentRetentionEnded{ConsentID: "C-0001"}), now: domaintest.At("2032-01-01T00:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.LoadProxyConsent(tt.given).EndRetention(tt.now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestFileByProxy(t *testing.T) {
	noMail := details
	noMail.Applicant.Email = ""
	base := application.FileByProxy{
		ID: appID, Details: noMail, Acceptances: application.AllAccepted(), Units: 1, PasscodeHash: "hash:right",
		StoreID: "S001", StaffID: "ST01", ConsentID: "C-0001", ConsentUnit: 1,
	}
	filed := application.FiledByProxy{
		ApplicationID: appID, Details: domain.Seal(appID.String(), noMail), Acceptances: application.AllAccepted(),
		Units: 1, PasscodeHash: "hash:right", StoreID: "S001", StaffID: "ST01", ConsentID: "C-0001", ConsentUnit: 1,
		CompletedAt: completedAt,
	}
	tests := []struct {
		name    string
		given   []domain.Event
		edit    func(*application.FileByProxy)
		want    []domain.Event
		wantErr error
	}{
		{name: "files_without_email", edit: func(*application.FileByProxy) {}, want: events(filed)},
		{name: "consent_required", edit: func(c *application.FileByProxy) { c.ConsentID = "" }, wantErr: application.ErrMissingConsent},
		{name: "consent_unit_required", edit: func(c *application.FileByProxy) { c.ConsentUnit = 0 }, wantErr: application.ErrMissingConsent},
		{name: "regulation_missing", edit: func(c *application.FileByProxy) { c.Acceptances.ProbeDataPolicy = false }, wantErr: application.ErrRegulationNotAccepted},
		{name: "staff_required", edit: func(c *application.FileByProxy) { c.StaffID = "" }, wantErr: application.ErrMissingStaff},
		{name: "already_completed", given: events(completed()), edit: func(*application.FileByProxy) {}, wantErr: application.ErrAlreadyCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := base
			tt.edit(&cmd)
			a := application.Load(tt.given)
			got, err := a.FileByProxy(cmd, completedAt)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
	// A proxy filing is received like a web one, with the same 60-day rule.
	a := application.Load(events(filed))
	if !a.ByProxy() || a.ConsentID() != "C-0001" {
		t.Fatalf("ByProxy/ConsentID not applied")
	}
	if _, err := a.Receive(application.Receive{StoreID: "S001", StaffID: "ST01", Passcode: "right", Verifier: verifier}, domaintest.At("2026-05-31T10:00")); err == nil {
		t.Fatalf("proxy filing received after 60 days")
	}
}
