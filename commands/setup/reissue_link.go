package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// ReissueLink mails a new download link; the old one dies.
// ExpectedVersion is the certificate version the caller read (If-Match), or -1.
type ReissueLink struct {
	Number          string
	StoreID         string
	ExpectedVersion int64
}

// ReissueLinkHandler reissues links.
type ReissueLinkHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle appends the new link's hash and the sealed secret for the mail.
func (h ReissueLinkHandler) Handle(ctx context.Context, cmd ReissueLink) (es.AppendResult, error) {
	c := certificate.New()
	var appID string
	v, err := h.Streams.Load(ctx, CertificateStream(cmd.Number), func(e domain.Event) {
		if i, ok := e.(certificate.Issued); ok {
			appID = i.ApplicationID
		}
		c.Apply(e)
	})
	if err != nil {
		return es.AppendResult{}, err
	}
	if v == 0 || c.Content().StoreID != cmd.StoreID {
		return es.AppendResult{}, certificate.ErrNotFound
	}
	if err := commands.CheckIfMatch(CertificateStream(cmd.Number), cmd.ExpectedVersion, v); err != nil {
		return es.AppendResult{}, err
	}
	now := h.Clock.Now()
	secret := NewLinkSecret()
	evs, err := c.Reissue(certificate.Reissue{Token: HashToken(secret)}, now)
	if err != nil {
		return es.AppendResult{}, err
	}
	evs = append(evs, certificate.SealLinkSecret(cmd.Number, appID, secret, now))
	return h.Streams.Append(ctx, CertificateStream(cmd.Number), v, evs...)
}
