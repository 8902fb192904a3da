package setup_test

import (
	"context"
	"errors"
	"testing"

	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func TestCustomerLogin(t *testing.T) {
	const id = "AP-LOGIN1"
	c := completedAt(id, domaintest.At("2026-04-01T10:00"))
	expired := application.Expired{ApplicationID: c.ApplicationID, CompletedAt: c.CompletedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")}
	tests := []struct {
		name    string
		given   []domain.Event
		creds   cmds.Credentials
		wantErr error
	}{
		{name: "right_passcode", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}},
		{name: "qr_payload", given: []domain.Event{c}, creds: cmds.Credentials{QR: domaintest.Must(application.NewQR(c.ApplicationID, "RIGHTPASS1")).Encode()}},
		{name: "wrong_passcode", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id, Passcode: "WRONGPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "expired_application_says_the_same", given: []domain.Event{c, expired}, creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "unknown_application_says_the_same", creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "missing_passcode_is_invalid", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id}, wantErr: application.ErrInvalidPasscode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.ApplicationStream(id), tt.given...)
			got, err := cmds.CustomerLoginHandler{Streams: st, Hasher: verifier}.Handle(context.Background(), cmds.CustomerLogin{Credentials: tt.creds})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (got == id) || len(st.appended) != 0 {
				t.Fatalf("got %q, %v, appended %v; want %v", got, err, st.appended, tt.wantErr)
			}
		})
	}
}
