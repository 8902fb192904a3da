package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// NotifyCompletion is step 10, the completion notice; it issues the
// certificate and, for a web application, mails the download link (step 11).
// ExpectedVersion is the setup version the tablet read (If-Match), or -1.
type NotifyCompletion struct {
	SetupID         string
	StoreID         string
	StaffID         string
	ExpectedVersion int64
}

// Completed tells the tablet the certificate number.
type Completed struct {
	CertificateNumber string
	Result            es.AppendResult
}

// NotifyCompletionHandler runs the completion notice.
type NotifyCompletionHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	// Codes computes the certificate's verification code, recorded in the
	// issue event so that the public check outlives the plate's erasure.
	Codes CodeMaker
}

// CodeMaker computes a certificate's verification code from its canonical
// content (setupapi.CodeKey).
type CodeMaker interface {
	Code(canonical []byte) string
}

// Handle appends the notice to the setup, then the certificate's issue (and
// for web applications the link: its hash in LinkSent, the secret sealed for
// the mail) to a new certificate stream.
func (h NotifyCompletionHandler) Handle(ctx context.Context, cmd NotifyCompletion) (Completed, error) {
	s, v, err := loadSetup(ctx, h.Streams, cmd.SetupID, cmd.StoreID, cmd.ExpectedVersion)
	if err != nil {
		return Completed{}, err
	}
	now := h.Clock.Now()
	evs, err := s.NotifyCompletion(setup.NotifyCompletion{StaffID: cmd.StaffID}, now)
	if err != nil {
		return Completed{}, err
	}
	n := evs[0].(setup.CompletionNotified)
	a := application.New()
	if _, err := h.Streams.Load(ctx, ApplicationStream(n.ApplicationID), a.Apply); err != nil {
		return Completed{}, err
	}
	c := certificate.New()
	number := NewCertificateNumber()
	content := certificate.Content{
		Number: number, OBUNumber: n.OBUNumber.Value.String(), VehicleType: n.VehicleType, Plate: n.Plate.Value.String(),
		GrossWeightKg: n.GrossWeightKg, Towing: n.Towing, SetupDate: n.SetupDate, StoreID: n.StoreID,
	}
	cevs, err := c.Issue(certificate.Issue{Content: content, SetupID: n.SetupID, ApplicationID: n.ApplicationID,
		VerificationCode: h.Codes.Code(content.Canonical())}, now)
	if err != nil {
		return Completed{}, err
	}
	if !a.ByProxy() && !a.Details().Erased && a.Details().Value.Applicant.Email != "" {
		for _, e := range cevs {
			c.Apply(e)
		}
		secret := NewLinkSecret()
		link, err := c.SendLink(certificate.SendLink{Token: HashToken(secret)}, now)
		if err != nil {
			return Completed{}, err
		}
		cevs = append(cevs, link...)
		cevs = append(cevs, certificate.SealLinkSecret(number, n.ApplicationID, secret, now))
	}
	if _, err := h.Streams.Append(ctx, SetupStream(cmd.SetupID), v, evs...); err != nil {
		return Completed{}, err
	}
	res, err := h.Streams.Append(ctx, CertificateStream(number), 0, cevs...)
	if err != nil {
		return Completed{}, err
	}
	return Completed{CertificateNumber: number, Result: res}, nil
}
