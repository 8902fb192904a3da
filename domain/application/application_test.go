package application_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

var (
	appID       = mustID("A2026-0001")
	completedAt = domaintest.At("2026-04-01T10:00")
	details     = application.Details{
		Applicant: application.Applicant{
			Name: "山田 太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Email: "taro@example.jp",
		},
		VehicleUser: "山田 太郎",
	}
	agent = &application.Agent{Name: "佐藤 花子", Address: "東京都港区4-5-6", Phone: "090-1111-2222"}
)

func mustID(s string) application.ID { return domaintest.Must(application.ParseID(s)) }

// passcode "right" matches hash "hash:right".
var verifier = application.VerifyFunc(func(hash, attempt string) bool { return hash == "hash:"+attempt })

func completed() application.Completed {
	return application.Completed{
		ApplicationID: appID,
		Details:       domain.Seal(appID.String(), details),
		Acceptances:   application.AllAccepted(),
		Units:         1,
		PasscodeHash:  "hash:right",
		CompletedAt:   completedAt,
	}
}

func rejected(n int) application.PasscodeRejected {
	return application.PasscodeRejected{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ConsecutiveFailures: n, At: completedAt.Add(time.Hour)}
}

func received() application.Received {
	return application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: domaintest.At("2026-04-02T10:00"), RetainUntil: domaintest.At("2031-04-01T10:00")}
}

func events(es ...domain.Event) []domain.Event { return es }

func TestComplete(t *testing.T) {
	withDetails := func(f func(*application.Details)) application.Details {
		d := details
		f(&d)
		return d
	}
	acc := application.AllAccepted()
	base := application.Complete{ID: appID, Details: details, Acceptances: acc, Units: 1, PasscodeHash: "hash:right"}
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     func(application.Complete) application.Complete
		want    []domain.Event
		wantErr error
		field   string
	}{
		{name: "person_completes", cmd: func(c application.Complete) application.Complete { return c }, want: events(completed())},
		{name: "corporation_with_agent_completes_for_three_units", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) {
				d.Applicant.CorporationName = "株式会社ガントリー"
				d.Agent = agent
			})
			c.Units = 3
			return c
		}, want: func() []domain.Event {
			e := completed()
			e.Details = domain.Seal(appID.String(), withDetails(func(d *application.Details) {
				d.Applicant.CorporationName = "株式会社ガントリー"
				d.Agent = agent
			}))
			e.Units = 3
			return events(e)
		}()},
		{name: "second_completion_conflicts", given: events(completed()), cmd: func(c application.Complete) application.Complete { return c }, wantErr: application.ErrAlreadyCompleted},
		{name: "zero_id_invalid", cmd: func(c application.Complete) application.Complete { c.ID = application.ID{}; return c }, wantErr: application.ErrInvalidID},
		{name: "missing_name", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Name = " " })
			return c
		}, wantErr: application.ErrMissingApplicant, field: "applicant.name"},
		{name: "corporation_without_person_in_charge", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) {
				d.Applicant.CorporationName = "株式会社ガントリー"
				d.Applicant.Name = ""
			})
			return c
		}, wantErr: application.ErrMissingApplicant, field: "applicant.name"},
		{name: "missing_address", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Address = "" })
			return c
		}, wantErr: application.ErrMissingAddress},
		{name: "bad_phone", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Phone = "12-34" })
			return c
		}, wantErr: application.ErrInvalidPhone},
		{name: "full_width_phone_accepted", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Phone = "０３－１２３４－５６７８" })
			return c
		}, want: func() []domain.Event {
			e := completed()
			e.Details = domain.Seal(appID.String(), withDetails(func(d *application.Details) { d.Applicant.Phone = "０３－１２３４－５６７８" }))
			return events(e)
		}()},
		{name: "web_application_needs_email", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Email = "" })
			return c
		}, wantErr: application.ErrInvalidEmail},
		{name: "malformed_email", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Applicant.Email = "taro@example" })
			return c
		}, wantErr: application.ErrInvalidEmail},
		{name: "missing_vehicle_user", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.VehicleUser = "" })
			return c
		}, wantErr: application.ErrMissingVehicleUser},
		{name: "incomplete_agent", cmd: func(c application.Complete) application.Complete {
			c.Details = withDetails(func(d *application.Details) { d.Agent = &application.Agent{Name: "佐藤 花子"} })
			return c
		}, wantErr: application.ErrIncompleteAgent, field: "agent.address"},
		{name: "personal_data_policy_not_accepted", cmd: func(c application.Complete) application.Complete {
			c.Acceptances.PersonalDataPolicy = false
			return c
		}, wantErr: application.ErrRegulationNotAccepted, field: "acceptances.personal_data_policy"},
		{name: "etc_system_terms_not_accepted", cmd: func(c application.Complete) application.Complete {
			c.Acceptances.ETCSystemTerms = false
			return c
		}, wantErr: application.ErrRegulationNotAccepted, field: "acceptances.etc_system_terms"},
		{name: "dsrc_terms_not_accepted", cmd: func(c application.Complete) application.Complete {
			c.Acceptances.DSRCTerms = false
			return c
		}, wantErr: application.ErrRegulationNotAccepted, field: "acceptances.dsrc_terms"},
		{name: "probe_data_policy_not_accepted", cmd: func(c application.Complete) application.Complete {
			c.Acceptances.ProbeDataPolicy = false
			return c
		}, wantErr: application.ErrRegulationNotAccepted, field: "acceptances.probe_data_policy"},
		{name: "zero_units", cmd: func(c application.Complete) application.Complete { c.Units = 0; return c }, wantErr: application.ErrInvalidUnits},
		{name: "missing_passcode_hash", cmd: func(c application.Complete) application.Complete { c.PasscodeHash = ""; return c }, wantErr: application.ErrMissingPasscodeHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := application.Load(tt.given)
			got, err := a.Complete(tt.cmd(base), completedAt)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
			if tt.field != "" {
				var de *domain.Error
				if errors.As(err, &de); de.Field != tt.field {
					t.Fatalf("field = %q, want %q", de.Field, tt.field)
				}
			}
		})
	}
}

func TestReceive(t *testing.T) {
	ok := application.Receive{StoreID: "S001", StaffID: "ST01", Passcode: "right", Verifier: verifier}
	wrong := ok
	wrong.Passcode = "wrong"
	four := events(completed(), rejected(1), rejected(2), rejected(3), rejected(4))
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     application.Receive
		now     time.Time
		want    []domain.Event
		wantErr error
	}{
		{name: "received_next_day", given: events(completed()), cmd: ok, now: domaintest.At("2026-04-02T10:00"), want: events(received())},
		{name: "still_receivable_59_days_23_hours_later", given: events(completed()), cmd: ok, now: domaintest.At("2026-05-31T09:00"),
			want: events(application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: domaintest.At("2026-05-31T09:00"), RetainUntil: domaintest.At("2031-04-01T10:00")})},
		{name: "refused_at_exactly_60_days", given: events(completed()), cmd: ok, now: domaintest.At("2026-05-31T10:00"), wantErr: application.ErrReceptionPeriodOver},
		{name: "unknown_application", cmd: ok, now: domaintest.At("2026-04-02T10:00"), wantErr: application.ErrNotFound},
		{name: "second_reception_conflicts", given: events(completed(), received()), cmd: ok, now: domaintest.At("2026-04-03T10:00"), wantErr: application.ErrAlreadyReceived},
		{name: "wrong_passcode_counts", given: events(completed()), cmd: wrong, now: completedAt.Add(time.Hour), want: events(rejected(1)), wantErr: application.ErrWrongPasscode},
		{name: "fifth_wrong_passcode_locks", given: four, cmd: wrong, now: completedAt.Add(time.Hour),
			want: events(rejected(5), application.ReceptionLocked{ApplicationID: appID, StoreID: "S001", At: completedAt.Add(time.Hour)}), wantErr: application.ErrReceptionLocked},
		{name: "right_passcode_after_four_failures_receives", given: four, cmd: ok, now: domaintest.At("2026-04-02T10:00"), want: events(received())},
		{name: "locked_refuses_right_passcode", given: append(four, rejected(5), application.ReceptionLocked{ApplicationID: appID, At: completedAt}), cmd: ok, now: domaintest.At("2026-04-02T10:00"), wantErr: application.ErrReceptionLocked},
		{name: "unlocked_receives", given: append(four, rejected(5), application.ReceptionLocked{ApplicationID: appID}, application.ReceptionUnlocked{ApplicationID: appID, By: "HD1"}), cmd: ok, now: domaintest.At("2026-04-02T10:00"), want: events(received())},
		{name: "unlock_restarts_count", given: append(four, rejected(5), application.ReceptionLocked{ApplicationID: appID}, application.ReceptionUnlocked{ApplicationID: appID, By: "HD1"}), cmd: wrong, now: completedAt.Add(time.Hour), want: events(rejected(1)), wantErr: application.ErrWrongPasscode},
		{name: "missing_store", given: events(completed()), cmd: application.Receive{StaffID: "ST01", Passcode: "right", Verifier: verifier}, now: domaintest.At("2026-04-02T10:00"), wantErr: application.ErrMissingStore},
		{name: "malformed_passcode_not_counted", given: events(completed()), cmd: application.Receive{StoreID: "S001", StaffID: "ST01", Passcode: "", Verifier: verifier}, now: domaintest.At("2026-04-02T10:00"), wantErr: application.ErrInvalidPasscode},
		{name: "expired_is_gone", given: events(completed(), application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")}), cmd: ok, now: domaintest.At("2026-06-01T10:00"), wantErr: application.ErrExpired},
		{name: "erased_is_not_found", given: events(completed(), received(), application.RetentionEnded{ApplicationID: appID}), cmd: ok, now: domaintest.At("2031-05-01T10:00"), wantErr: application.ErrErased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).Receive(tt.cmd, tt.now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestReceptionLockIsKindLocked(t *testing.T) {
	var de *domain.Error
	if !errors.As(application.ErrReceptionLocked, &de) || de.Kind != domain.KindLocked {
		t.Fatalf("ErrReceptionLocked kind = %v", de.Kind)
	}
	if application.MaxPasscodeFailures != 5 {
		t.Fatalf("MaxPasscodeFailures = %d", application.MaxPasscodeFailures)
	}
}

func TestUnlock(t *testing.T) {
	locked := events(completed(), rejected(5), application.ReceptionLocked{ApplicationID: appID})
	now := domaintest.At("2026-04-02T10:00")
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     application.Unlock
		want    []domain.Event
		wantErr error
	}{
		{name: "unlocks", given: locked, cmd: application.Unlock{By: "HD1"}, want: events(application.ReceptionUnlocked{ApplicationID: appID, By: "HD1", At: now})},
		{name: "not_locked", given: events(completed()), cmd: application.Unlock{By: "HD1"}, wantErr: application.ErrNotLocked},
		{name: "operator_required", given: locked, cmd: application.Unlock{}, wantErr: application.ErrMissingStaff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).Unlock(tt.cmd, now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestExpire(t *testing.T) {
	expired := application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")}
	tests := []struct {
		name    string
		given   []domain.Event
		now     time.Time
		want    []domain.Event
		wantErr error
	}{
		{name: "due_at_exactly_60_days", given: events(completed()), now: domaintest.At("2026-05-31T10:00"), want: events(expired)},
		{name: "not_due_59_days_23_hours_later", given: events(completed()), now: domaintest.At("2026-05-31T09:00"), wantErr: application.ErrExpiryNotDue},
		{name: "already_expired_is_idempotent", given: events(completed(), expired), now: domaintest.At("2026-06-10T10:00")},
		{name: "received_does_not_expire", given: events(completed(), received()), now: domaintest.At("2026-06-10T10:00"), wantErr: application.ErrNotExpirable},
		{name: "unknown_application", now: domaintest.At("2026-06-10T10:00"), wantErr: application.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).Expire(tt.now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestEndRetention(t *testing.T) {
	ended := application.RetentionEnded{ApplicationID: appID, CompletedAt: completedAt, EndedAt: domaintest.At("2031-04-01T10:00")}
	tests := []struct {
		name    string
		given   []domain.Event
		now     time.Time
		want    []domain.Event
		wantErr error
	}{
		{name: "due_at_completion_plus_5_years", given: events(completed(), received()), now: domaintest.At("2031-04-01T10:00"), want: events(ended)},
		{name: "not_due_one_minute_earlier", given: events(completed(), received()), now: domaintest.At("2031-04-01T09:59"), wantErr: application.ErrRetentionNotDue},
		{name: "already_ended_is_idempotent", given: events(completed(), received(), ended), now: domaintest.At("2031-05-01T10:00")},
		{name: "unreceived_has_no_retention", given: events(completed()), now: domaintest.At("2031-05-01T10:00"), wantErr: application.ErrNotReceived},
		{name: "expired_is_gone", given: events(completed(), application.Expired{ApplicationID: appID}), now: domaintest.At("2031-05-01T10:00"), wantErr: application.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).EndRetention(tt.now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestCommandsRefusedAfterTheEnd(t *testing.T) {
	expired := events(completed(), application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")})
	erased := events(completed(), received(), application.RetentionEnded{ApplicationID: appID})
	now := domaintest.At("2031-06-01T10:00")
	for _, tt := range []struct {
		name    string
		given   []domain.Event
		wantErr error
	}{
		{name: "after_expiry", given: expired, wantErr: application.ErrExpired},
		{name: "after_retention_end", given: erased, wantErr: application.ErrErased},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := application.Load(tt.given)
			if !a.Details().Erased {
				t.Fatalf("details not marked erased")
			}
			_, err := a.Receive(application.Receive{StoreID: "S001", StaffID: "ST01", Passcode: "right", Verifier: verifier}, now)
			domaintest.ThenErr(t, err, tt.wantErr)
			_, err = a.Unlock(application.Unlock{By: "HD1"}, now)
			domaintest.ThenErr(t, err, tt.wantErr)
			_, err = a.Complete(application.Complete{ID: appID, Details: details, Acceptances: application.AllAccepted(), Units: 1, PasscodeHash: "h"}, now)
			domaintest.ThenErr(t, err, application.ErrAlreadyCompleted)
		})
	}
}

func TestQR(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantID   string
		wantPass string
		wantErr  error
	}{
		{name: "valid", in: "GANTRY1:A2026-0001:x7Kp9qRt", wantID: "A2026-0001", wantPass: "x7Kp9qRt"},
		{name: "surrounding_space_ignored", in: " GANTRY1:A2026-0001:x7Kp9qRt\n", wantID: "A2026-0001", wantPass: "x7Kp9qRt"},
		{name: "wrong_prefix", in: "GANTRY2:A2026-0001:x7Kp9qRt", wantErr: application.ErrInvalidQR},
		{name: "no_passcode", in: "GANTRY1:A2026-0001", wantErr: application.ErrInvalidQR},
		{name: "bad_id", in: "GANTRY1:A 1:x7Kp9qRt", wantErr: application.ErrInvalidQR},
		{name: "empty_id", in: "GANTRY1::x7Kp9qRt", wantErr: application.ErrInvalidQR},
		{name: "short_passcode", in: "GANTRY1:A1:abc", wantErr: application.ErrInvalidQR},
		{name: "colon_in_passcode", in: "GANTRY1:A1:abcd:ef", wantErr: application.ErrInvalidQR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := application.ParseQR(tt.in)
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			if q.ID().String() != tt.wantID || q.Passcode() != tt.wantPass {
				t.Fatalf("got %q %q", q.ID(), q.Passcode())
			}
			again, err := application.ParseQR(q.Encode())
			if err != nil || again != q {
				t.Fatalf("encode round trip: %v %v", again, err)
			}
		})
	}
	q, err := application.NewQR(appID, "x7Kp9qRt")
	if err != nil || q.Encode() != "GANTRY1:A2026-0001:x7Kp9qRt" {
		t.Fatalf("NewQR = %q, %v", q.Encode(), err)
	}
	if _, err := application.NewQR(appID, "a b c d"); !errors.Is(err, application.ErrInvalidPasscode) {
		t.Fatalf("NewQR with space: %v", err)
	}
}

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"letters_digits_hyphen", "A2026-0001", true},
		{"empty", "", false},
		{"too_long", "A12345678901234567890123456789012345678901", false},
		{"full_width", "Ａ１", false},
		{"colon", "A:1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := application.ParseID(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseID(%q) err = %v", tt.in, err)
			}
		})
	}
}
