package certificate_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func events(es ...domain.Event) []domain.Event { return es }

var (
	issuedAt = domaintest.At("2026-04-02T11:00")
	sentAt   = domaintest.At("2026-04-02T11:05")
	content  = certificate.Content{
		Number: "CERT-0001", OBUNumber: "1234567890123456789", VehicleType: "普通乗用",
		Plate: "品川 300 あ 12-34", GrossWeightKg: 1850, Towing: false,
		SetupDate: domain.DateOf(issuedAt), StoreID: "S001",
	}
	issued = certificate.Issued{Content: withoutVehicle(content), Vehicle: domain.Seal("A2026-0001", certificate.VehicleIDs{Plate: content.Plate, OBUNumber: content.OBUNumber}),
		SetupID: "SU-1", ApplicationID: "A2026-0001", At: issuedAt}
	sent     = certificate.LinkSent{Number: "CERT-0001", Token: "tok-1", SentAt: sentAt, ExpiresAt: domaintest.At("2026-06-01T11:05")}
	reissued = certificate.LinkReissued{Number: "CERT-0001", Token: "tok-2", SentAt: domaintest.At("2026-07-01T09:00"), ExpiresAt: domaintest.At("2026-08-30T09:00")}
)

func withoutVehicle(c certificate.Content) certificate.Content {
	c.Plate, c.OBUNumber = "", ""
	return c
}

// The plate and OBU number are personal: Issued carries them sealed, and a
// certificate whose application was erased shows neither.
func TestIssuedSealsThePlate(t *testing.T) {
	if issued.FullContent() != content {
		t.Fatalf("full content %+v, want %+v", issued.FullContent(), content)
	}
	erased := issued
	erased.Vehicle = domain.Personal[certificate.VehicleIDs]{Subject: "A2026-0001", Erased: true}
	c := certificate.Load(events(erased))
	if c.Content() != withoutVehicle(content) {
		t.Fatalf("erased certificate content %+v; want no plate and no OBU number", c.Content())
	}
}

func TestIssue(t *testing.T) {
	edit := func(f func(*certificate.Content)) certificate.Issue {
		x := content
		f(&x)
		return certificate.Issue{Content: x, SetupID: "SU-1", ApplicationID: "A2026-0001"}
	}
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     certificate.Issue
		want    []domain.Event
		wantErr error
	}{
		{name: "issued", cmd: edit(func(*certificate.Content) {}), want: events(issued)},
		{name: "twice", given: events(issued), cmd: edit(func(*certificate.Content) {}), wantErr: certificate.ErrAlreadyIssued},
		{name: "bad_number", cmd: edit(func(x *certificate.Content) { x.Number = "" }), wantErr: certificate.ErrInvalidNumber},
		{name: "bad_obu_number", cmd: edit(func(x *certificate.Content) { x.OBUNumber = "12345" }), wantErr: certificate.ErrInvalidOBUNumber},
		{name: "missing_plate", cmd: edit(func(x *certificate.Content) { x.Plate = "" }), wantErr: certificate.ErrMissingField},
		{name: "multiline_vehicle_type", cmd: edit(func(x *certificate.Content) { x.VehicleType = "a\nb" }), wantErr: certificate.ErrMissingField},
		{name: "missing_weight", cmd: edit(func(x *certificate.Content) { x.GrossWeightKg = 0 }), wantErr: certificate.ErrMissingField},
		{name: "missing_setup_date", cmd: edit(func(x *certificate.Content) { x.SetupDate = domain.Date{} }), wantErr: certificate.ErrMissingField},
		{name: "missing_store", cmd: edit(func(x *certificate.Content) { x.StoreID = "" }), wantErr: certificate.ErrMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := certificate.Load(tt.given).Issue(tt.cmd, issuedAt)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestLinks(t *testing.T) {
	type when func(*certificate.Certificate) ([]domain.Event, error)
	download := func(tok string, now time.Time) when {
		return func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Download(certificate.Download{Token: tok}, now)
		}
	}
	tests := []struct {
		name    string
		given   []domain.Event
		when    when
		want    []domain.Event
		wantErr error
	}{
		{name: "link_sent_valid_60_days", given: events(issued), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.SendLink(certificate.SendLink{Token: "tok-1"}, sentAt)
		}, want: events(sent)},
		{name: "link_needs_token", given: events(issued), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.SendLink(certificate.SendLink{}, sentAt)
		}, wantErr: certificate.ErrMissingToken},
		{name: "link_sent_twice", given: events(issued, sent), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.SendLink(certificate.SendLink{Token: "tok-9"}, sentAt)
		}, wantErr: certificate.ErrLinkAlreadySent},
		{name: "link_before_issue", when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.SendLink(certificate.SendLink{Token: "tok-1"}, sentAt)
		}, wantErr: certificate.ErrNotFound},
		{name: "first_download", given: events(issued, sent), when: download("tok-1", domaintest.At("2026-04-03T08:00")),
			want: events(certificate.Downloaded{Number: "CERT-0001", Count: 1, At: domaintest.At("2026-04-03T08:00")})},
		{name: "downloads_counted", given: events(issued, sent, certificate.Downloaded{Number: "CERT-0001", Count: 1}, certificate.Downloaded{Number: "CERT-0001", Count: 2}),
			when: download("tok-1", domaintest.At("2026-04-03T08:00")), want: events(certificate.Downloaded{Number: "CERT-0001", Count: 3, At: domaintest.At("2026-04-03T08:00")})},
		{name: "download_one_minute_before_expiry", given: events(issued, sent), when: download("tok-1", domaintest.At("2026-06-01T11:04")),
			want: events(certificate.Downloaded{Number: "CERT-0001", Count: 1, At: domaintest.At("2026-06-01T11:04")})},
		{name: "download_at_exactly_60_days_is_gone", given: events(issued, sent), when: download("tok-1", domaintest.At("2026-06-01T11:05")), wantErr: certificate.ErrLinkExpired},
		{name: "unknown_token", given: events(issued, sent), when: download("tok-x", domaintest.At("2026-04-03T08:00")), wantErr: certificate.ErrUnknownToken},
		{name: "download_before_link", given: events(issued), when: download("tok-1", domaintest.At("2026-04-03T08:00")), wantErr: certificate.ErrUnknownToken},
		{name: "reissue_after_expiry", given: events(issued, sent), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Reissue(certificate.Reissue{Token: "tok-2"}, domaintest.At("2026-07-01T09:00"))
		}, want: events(reissued)},
		{name: "reissue_needs_new_token", given: events(issued, sent), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Reissue(certificate.Reissue{Token: "tok-1"}, domaintest.At("2026-07-01T09:00"))
		}, wantErr: certificate.ErrSameToken},
		{name: "reissue_before_send", given: events(issued), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Reissue(certificate.Reissue{Token: "tok-2"}, domaintest.At("2026-07-01T09:00"))
		}, wantErr: certificate.ErrNoLink},
		{name: "old_token_dead_after_reissue", given: events(issued, sent, reissued), when: download("tok-1", domaintest.At("2026-07-01T10:00")), wantErr: certificate.ErrLinkReplaced},
		{name: "new_token_works_after_reissue", given: events(issued, sent, reissued), when: download("tok-2", domaintest.At("2026-08-30T08:59")),
			want: events(certificate.Downloaded{Number: "CERT-0001", Count: 1, At: domaintest.At("2026-08-30T08:59")})},
		{name: "print_by_staff", given: events(issued), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Print(certificate.Print{StoreID: "S001", StaffID: "ST01"}, domaintest.At("2026-09-01T10:00"))
		}, want: events(certificate.Printed{Number: "CERT-0001", StoreID: "S001", StaffID: "ST01", At: domaintest.At("2026-09-01T10:00")})},
		{name: "print_needs_staff", given: events(issued), when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Print(certificate.Print{StoreID: "S001"}, domaintest.At("2026-09-01T10:00"))
		}, wantErr: certificate.ErrMissingStaff},
		{name: "print_unknown", when: func(c *certificate.Certificate) ([]domain.Event, error) {
			return c.Print(certificate.Print{StoreID: "S001", StaffID: "ST01"}, domaintest.At("2026-09-01T10:00"))
		}, wantErr: certificate.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.when(certificate.Load(tt.given))
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestCanonicalContent(t *testing.T) {
	c := certificate.Load(events(issued, sent, certificate.Downloaded{Number: "CERT-0001", Count: 1}))
	want := "gantry-setup-certificate/v1\n" +
		"number=CERT-0001\nobu_number=1234567890123456789\nvehicle_type=普通乗用\n" +
		"plate=品川 300 あ 12-34\ngross_weight_kg=1850\ntowing=false\nsetup_date=2026-04-02\nstore=S001\n"
	if got := string(c.CanonicalContent()); got != want {
		t.Fatalf("canonical content:\n%s\nwant\n%s", got, want)
	}
	// Links and downloads do not change the content.
	if !bytes.Equal(c.CanonicalContent(), certificate.Load(events(issued)).CanonicalContent()) {
		t.Fatal("canonical content depends on links")
	}
	towing := content
	towing.Towing = true
	other := certificate.Load(events(certificate.Issued{Content: towing, Vehicle: issued.Vehicle}))
	if bytes.Equal(c.CanonicalContent(), other.CanonicalContent()) {
		t.Fatal("canonical content ignores towing")
	}
}

func TestEventsJSONRoundTrip(t *testing.T) {
	all := []domain.Event{issued, sent, reissued,
		certificate.Downloaded{Number: "CERT-0001", Count: 2, At: sentAt},
		certificate.Printed{Number: "CERT-0001", StoreID: "S001", StaffID: "ST01", At: sentAt},
		certificate.SealLinkSecret("CERT-0001", "A-0001", "secret", sentAt)}
	domaintest.RoundTrip(t, all, certificate.EventTypes())
}
