package setup_test

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func consent() application.RecordConsent {
	return application.RecordConsent{
		ConsentID: "C-0001", StoreID: "S001", StaffID: "ST01",
		RequestDate:               domaintest.Date("2026-04-01"),
		Applicant:                 application.Applicant{Name: "山田 太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678"},
		Acceptances:               application.AllAccepted(),
		DelegatesSetupApplication: true,
		Units:                     1,
	}
}

// consentRace gives another store's consent to the stream right after
// the handler loaded it.
type consentRace struct {
	*fakeStreams
	race []domain.Event
}

func (r consentRace) Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error) {
	v, err := r.fakeStreams.Load(ctx, stream, apply)
	r.fakeStreams.given(stream, r.race...)
	return v, err
}

func TestRecordConsent(t *testing.T) {
	now := domaintest.At("2026-04-01T10:00")
	pdf := []byte("%PDF-1.7 signed")
	recorded := func(ref string) application.ConsentRecorded {
		c := consent()
		return application.ConsentRecorded{ConsentID: "C-0001", StoreID: "S001", StaffID: "ST01", RequestDate: c.RequestDate,
			Parties:     domain.Seal("C-0001", application.ConsentParties{Applicant: c.Applicant}),
			Acceptances: c.Acceptances, DelegatesSetupApplication: true, SignedPDF: ref, Units: 1, RecordedAt: now}
	}
	tests := []struct {
		name       string
		given      []domain.Event
		edit       func(*application.RecordConsent)
		pdf        []byte
		failPut    error
		race       []domain.Event // appended by another store after the load
		want       []domain.Event
		wantErr    error
		wantStored bool
	}{
		{name: "with_pdf_stores_it_and_references_it", pdf: pdf, want: []domain.Event{recorded("ref:C-0001")}, wantStored: true},
		{name: "without_pdf_stores_nothing", want: []domain.Event{recorded("")}},
		{name: "taken_id_is_refused_before_the_pdf_is_stored", given: []domain.Event{recorded("")}, pdf: pdf, wantErr: application.ErrConsentExists},
		{name: "invalid_consent_is_refused_before_the_pdf_is_stored", edit: func(c *application.RecordConsent) { c.Applicant.Address = "" }, pdf: pdf, wantErr: application.ErrMissingAddress},
		{name: "not_a_pdf_is_invalid", pdf: []byte("GIF89a"), wantErr: cmds.ErrNotAPDF},
		{name: "pdf_store_down_appends_nothing", pdf: pdf, failPut: errStoreDown, wantErr: errStoreDown},
		{name: "taken_id_between_load_and_append_stores_no_pdf", pdf: pdf, race: []domain.Event{recorded("")}, wantErr: es.ErrWrongExpectedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.ConsentStream("C-0001"), tt.given...)
			docs := &fakeDocuments{failPut: tt.failPut}
			c := consent()
			if tt.edit != nil {
				tt.edit(&c)
			}
			var streams cmds.ConsentStreams = st
			if tt.race != nil {
				streams = consentRace{st, tt.race}
			}
			_, err := cmds.RecordConsentHandler{Streams: streams, Clock: commandsClock(now), Documents: docs}.Handle(context.Background(), cmds.RecordConsent{Consent: c, SignedPDF: tt.pdf})
			got := st.appended[cmds.ConsentStream("C-0001")]
			if tt.race != nil {
				if !errors.Is(err, tt.wantErr) || len(docs.stored) != 0 {
					t.Fatalf("err = %v, PDFs stored %d: want a conflict and none", err, len(docs.stored))
				}
				return
			}
			if errors.Is(tt.wantErr, errStoreDown) {
				if !errors.Is(err, errStoreDown) || len(got) != 0 {
					t.Fatalf("err = %v, appended %v", err, got)
				}
				return
			}
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
			if _, stored := docs.stored["C-0001"]; stored != tt.wantStored {
				t.Fatalf("PDF stored = %v, want %v", stored, tt.wantStored)
			}
		})
	}
}
