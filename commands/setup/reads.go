package setup

import (
	"context"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Reads answers the questions that must be exact, not as of a lagging view:
// a customer's own application and a setup the tablet continues (its
// version is the next step's If-Match). They replay the stream.
type Reads struct{ Streams EventStreams }

// WithheldLoader replays a stream with personal data withheld
// (commands.Streams.LoadWithheld).
type WithheldLoader interface {
	LoadWithheld(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
}

// LiveApplication returns the application and its version. One whose data
// has ended (expired after 60 days, or 5 years over) is ErrNotFound, even
// for a token issued before.
//
// The applicant's personal data is withheld (Details reads as a zero value)
// when Streams can replay without it (WithheldLoader): no caller of a
// status needs it, and the read then fetches no data key and decrypts
// nothing.
func (r Reads) LiveApplication(ctx context.Context, id string) (*application.Application, int64, error) {
	a := application.New()
	load := r.Streams.Load
	if s, ok := r.Streams.(WithheldLoader); ok {
		load = s.LoadWithheld
	}
	v, err := load(ctx, ApplicationStream(id), a.Apply)
	if err != nil {
		return nil, 0, err
	}
	if v == 0 || a.Status() == application.StatusExpired || a.Status() == application.StatusRetentionEnded {
		return nil, 0, application.ErrNotFound
	}
	return a, v, nil
}

// Setup returns a setup of the store and its version; another store's
// setup is ErrNotStarted, as one that does not exist.
func (r Reads) Setup(ctx context.Context, id, store string) (*setup.Setup, int64, error) {
	s := setup.New()
	v, err := r.Streams.Load(ctx, SetupStream(id), func(e domain.Event) { s.Apply(e) })
	if err != nil {
		return nil, 0, err
	}
	if v == 0 || s.StoreID() != store {
		return nil, 0, setup.ErrNotStarted
	}
	return s, v, nil
}

// Certificate returns the certificate with the number and its version;
// certificate.ErrNotFound when there is none.
func (r Reads) Certificate(ctx context.Context, number string) (*certificate.Certificate, int64, error) {
	c := certificate.New()
	v, err := r.Streams.Load(ctx, CertificateStream(number), c.Apply)
	if err != nil {
		return nil, 0, err
	}
	if v == 0 {
		return nil, 0, certificate.ErrNotFound
	}
	return c, v, nil
}
