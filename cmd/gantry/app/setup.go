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
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/setupapi"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/projections/privacy"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

// Job names are durable enough to be called by tests and operators.
const (
	JobExpireApplications = "setup-expire-applications"
	JobEndRetention       = "setup-end-retention"
	JobConsentRetention   = "setup-consent-retention"
	// JobPurgeOrphanDocuments deletes signed consent PDFs no consent event
	// references (an append that failed after the PDF was stored).
	JobPurgeOrphanDocuments = "setup-purge-orphan-documents"
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
	a := &setupapi.API{Streams: d.Streams, Clock: d.Clock, Hasher: cmds.Hasher{Cost: int(cost), Key: d.Config.secretKey()},
		Renderer: r, Verifier: setupapi.CodeKey(d.Config.codeKey()), PublicURL: strings.TrimRight(d.Config.PublicURL, "/"),
		Views: proj.Reader{Pool: d.Pool, Keys: d.Sealer}, Privacy: privacy.Reader{Pool: d.Pool}, Accounts: postgres.StaffAccounts{Pool: d.Pool, Revocations: d.Revocations}, Documents: postgres.ConsentDocuments{Pool: d.Pool, Sealer: d.Sealer},
		PasswordPolicy: passwordpolicy.Policy{}}
	if a.DummyHash, err = a.Hasher.Hash(cmds.NewLinkSecret(context.Background())); err != nil {
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

func (f *setupFeature) Events(reg *es.Registry) { cmds.RegisterEvents(reg) }

func (f *setupFeature) Projectors() []projections.Projector {
	return []projections.Projector{proj.Applications{}, proj.Setups{}, proj.Certificates{Code: f.api.Verifier.Code, Seal: f.d.Sealer}, proj.Stats{}, proj.Consents{Seal: f.d.Sealer}}
}

func (f *setupFeature) Handlers() []bus.Handler {
	return []bus.Handler{
		{Name: mail.ApplicationMailHandler, Types: []string{application.EventPasscodeSealed}, Handle: f.mail.ApplicationCompleted},
		{Name: mail.CertificateMailHandler, Types: []string{certificate.EventLinkSecretSealed}, Handle: f.mail.CertificateLink},
	}
}

func (f *setupFeature) Routes(s *api.Server) { f.api.Routes(s) }

// Prepare seals the signed consent PDFs stored in plaintext before
// migration 06000 (gantry privacy seal-legacy), so that no installation
// keeps them waiting for an operator; with none left it is one query.
func (f *setupFeature) Prepare(ctx context.Context) error {
	sealed, deleted, err := postgres.ConsentDocuments{Pool: f.d.Pool, Sealer: f.d.Sealer}.SealLegacy(ctx)
	if sealed+deleted > 0 {
		f.d.Log.Info("legacy consent PDFs sealed", "sealed", sealed, "deleted", deleted)
	}
	return err
}

func (f *setupFeature) Jobs() []Job {
	views := proj.Reader{Pool: f.d.Pool, Keys: f.d.Sealer}
	expire := cmds.ExpireDue(views, cmds.ExpireHandler{Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer})
	retention := cmds.EndRetentionDue(views, cmds.EndRetentionHandler{Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer})
	consents := cmds.EndConsentRetentionDue(views, cmds.EndConsentRetentionHandler{
		Streams: f.d.Streams, Clock: f.d.Clock, Shredder: f.d.Sealer, Documents: postgres.ConsentDocuments{Pool: f.d.Pool, Sealer: f.d.Sealer}})
	return []Job{
		{Name: JobExpireApplications, Every: time.Hour, Run: f.due(JobExpireApplications, expire.Handle)},
		{Name: JobEndRetention, Every: time.Hour, Run: f.due(JobEndRetention, retention.Handle)},
		{Name: JobConsentRetention, Every: time.Hour, Run: f.due(JobConsentRetention, consents.Handle)},
		{Name: JobPurgeOrphanDocuments, Every: time.Hour, Run: func(ctx context.Context) error {
			n, err := postgres.ConsentDocuments{Pool: f.d.Pool, Sealer: f.d.Sealer}.PurgeOrphans(ctx, time.Hour)
			if n > 0 {
				f.d.Log.Info("orphan consent PDFs purged", "count", n)
			}
			return err
		}},
	}
}

// due runs a scheduled command, logs the candidates the domain refused
// (skipped, by ID only), then waits for the projections so that a second
// run sees the result (idempotent). Candidates that failed are tried again
// on the next run; they make the job's error.
func (f *setupFeature) due(job string, run func(ctx context.Context) (cmds.DueResult, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		res, err := run(ctx)
		if err != nil {
			return err
		}
		for _, r := range res.Refused {
			f.d.Log.Warn("scheduled command refused; candidate skipped", "job", job, "id", r.ID, "err", r.Err.Error())
		}
		if len(res.Done) > 0 && f.d.WaitFor != nil {
			// Read-your-writes for the caller (and for a second run).
			if head, err := f.d.Streams.Store.Head(ctx); err == nil {
				if err := f.d.WaitFor(ctx, head); err != nil {
					return err
				}
			}
		}
		return res.Err()
	}
}
