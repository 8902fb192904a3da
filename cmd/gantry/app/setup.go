package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/certpdf"
	"github.com/gantry-etc/gantry/adapters/mail"
	"github.com/gantry-etc/gantry/adapters/passwordpolicy"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/setupapi"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

// Job names are durable enough to be called by tests and operators.
const (
	JobExpireApplications = "setup-expire-applications"
	JobEndRetention       = "setup-end-retention"
	JobConsentRetention   = "setup-consent-retention"
)

type setupFeature struct {
	d    Deps
	api  *setupapi.API
	mail mail.SetupMails
}

// newSetupFeature wires issue 3: applications, setups, certificates.
// Settings (Config.Extra): GANTRY_BOOTSTRAP_ADMIN "id:password" (an operator
// admin that can create accounts), GANTRY_CERT_FONT (TTF path),
// GANTRY_BCRYPT_COST. The certificate verification key is GANTRY_CODE_KEY
// (Config.codeKey).
func newSetupFeature(d Deps) (Feature, error) {
	font := d.Config.Extra["GANTRY_CERT_FONT"]
	if font == "" {
		font = certpdf.DefaultFont
	}
	r, err := certpdf.New(font)
	if err != nil {
		return nil, err
	}
	cost, err := d.Config.Int("GANTRY_BCRYPT_COST", 0)
	if err != nil {
		return nil, err
	}
	a := &setupapi.API{Pool: d.Pool, Streams: d.Streams, Clock: d.Clock, Hasher: cmds.Hasher{Cost: int(cost)}, Sealer: d.Sealer,
		Renderer: r, Verifier: setupapi.CodeKey(d.Config.codeKey()), PublicURL: strings.TrimRight(d.Config.PublicURL, "/"), WaitFor: d.WaitFor}
	if a.DummyHash, err = a.Hasher.Hash(cmds.NewLinkSecret()); err != nil {
		return nil, err
	}
	if id, pw, ok := strings.Cut(d.Config.Extra["GANTRY_BOOTSTRAP_ADMIN"], ":"); ok && id != "" && pw != "" {
		if err := passwordpolicy.Check(pw, id); err != nil {
			return nil, fmt.Errorf("GANTRY_BOOTSTRAP_ADMIN: %w", err)
		}
		a.BootstrapID, a.BootstrapPassword = id, pw
	}
	return &setupFeature{d: d, api: a, mail: mail.SetupMails{
		Sender: mail.Sender{Addr: d.Config.SMTPAddr, From: d.Config.MailFrom}, Streams: d.Streams, PublicURL: a.PublicURL,
	}}, nil
}

func (f *setupFeature) Events(reg *es.Registry) {
	es.Register[application.Completed](reg, 1)
	es.Register[application.FiledByProxy](reg, 1)
	es.Register[application.PasscodeRejected](reg, 1)
	es.Register[application.ReceptionLocked](reg, 1)
	es.Register[application.ReceptionUnlocked](reg, 1)
	es.Register[application.Received](reg, 1)
	es.Register[application.Expired](reg, 1)
	es.Register[application.RetentionEnded](reg, 1)
	es.Register[application.ConsentRecorded](reg, 1)
	es.Register[application.ConsentUnitUsed](reg, 1)
	es.Register[application.ConsentRetentionEnded](reg, 1)
	es.Register[application.PasscodeSealed](reg, 1)
	es.Register[setup.Started](reg, 1)
	es.Register[setup.VisitorRecorded](reg, 1)
	es.Register[setup.IdentityChecked](reg, 1)
	es.Register[setup.MultipleUnitsAnswered](reg, 1)
	es.Register[setup.VehicleRecorded](reg, 1)
	es.Register[setup.OBURecorded](reg, 1)
	es.Register[setup.CardWritten](reg, 1)
	es.Register[setup.Executed](reg, 1)
	es.Register[setup.CompletionNotified](reg, 1)
	es.Register[certificate.Issued](reg, 1)
	es.Register[certificate.LinkSent](reg, 1)
	es.Register[certificate.LinkReissued](reg, 1)
	es.Register[certificate.Downloaded](reg, 1)
	es.Register[certificate.Printed](reg, 1)
	es.Register[certificate.LinkSecretSealed](reg, 1)
}

func (f *setupFeature) Projectors() []projections.Projector {
	return []projections.Projector{proj.Applications{}, proj.Setups{}, proj.Certificates{Code: f.api.Verifier.Code}, proj.Stats{}, proj.Consents{}}
}

func (f *setupFeature) Handlers() []bus.Handler {
	return []bus.Handler{
		{Name: mail.ApplicationMailHandler, Types: []string{application.EventPasscodeSealed}, Handle: f.mail.ApplicationCompleted},
		{Name: mail.CertificateMailHandler, Types: []string{certificate.EventLinkSecretSealed}, Handle: f.mail.CertificateLink},
	}
}

func (f *setupFeature) Routes(s *api.Server) { f.api.Routes(s) }

func (f *setupFeature) Jobs() []Job {
	return []Job{
		{Name: JobExpireApplications, Every: time.Hour, Run: f.due(
			`SELECT application_id FROM `+projections.Schema(proj.ApplicationsName)+`.applications WHERE status='completed' AND deadline <= $1`,
			func(ctx context.Context, id string) error {
				return cmds.ExpireHandler{Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer}.Handle(ctx, cmds.Expire{ApplicationID: id})
			})},
		{Name: JobEndRetention, Every: time.Hour, Run: f.due(
			`SELECT application_id FROM `+projections.Schema(proj.ApplicationsName)+`.applications WHERE status='received' AND retain_until <= $1`,
			func(ctx context.Context, id string) error {
				return cmds.EndRetentionHandler{Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer}.Handle(ctx, cmds.EndRetention{ApplicationID: id})
			})},
		{Name: JobConsentRetention, Every: time.Hour, Run: f.due(
			`SELECT consent_id FROM `+projections.Schema(proj.ConsentsName)+`.consents WHERE ended_at IS NULL AND retention_end <= $1`,
			func(ctx context.Context, id string) error {
				return cmds.EndConsentRetentionHandler{Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer, Documents: f.api}.Handle(ctx, cmds.EndConsentRetention{ConsentID: id})
			})},
	}
}

// due runs fn for every ID the query finds due at the clock's now, then
// waits for the projections so a second run sees the result (idempotent).
func (f *setupFeature) due(query string, fn func(ctx context.Context, id string) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		rows, err := f.d.Pool.Query(ctx, query, f.d.Clock.Now())
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(ctx, id); err != nil {
				return err
			}
		}
		if len(ids) > 0 && f.d.WaitFor != nil {
			// Read-your-writes for the caller (and for a second run).
			if head, err := f.d.Streams.Store.Head(ctx); err == nil {
				return f.d.WaitFor(ctx, head)
			}
		}
		return nil
	}
}
