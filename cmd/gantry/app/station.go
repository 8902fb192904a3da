package app

import (
	"cmp"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/face"
	"github.com/gantry-etc/gantry/adapters/ocsp"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/stationapi"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/station"
	"github.com/gantry-etc/gantry/projections"
)

type stationFeature struct{ api *stationapi.API }

// newStationFeature wires issue 11, the store station's server side.
// Settings (Config.Extra):
//   - GANTRY_FACE_URL, GANTRY_FACE_TIMEOUT (default 5s): the face-matching
//     service of staff card login. GANTRY_FACE=off allows card-only login
//     (logged as a warning at start); with neither, card login is refused.
//   - GANTRY_SETUP_CARD_KEY: base64 32-byte Ed25519 seed signing setup-card
//     records (default: derived from GANTRY_TOKEN_KEY).
//   - GANTRY_JPKI_CA: PEM file of the JPKI user-authentication CA;
//     GANTRY_OCSP_URL, GANTRY_OCSP_TIMEOUT (default 5s): its OCSP responder.
//     Without the CA the My Number card check answers 503.
//   - GANTRY_CARD_CHALLENGE_TTL (default 1m): how long a challenge lives.
//   - GANTRY_CARD_RATE, GANTRY_CARD_BURST (default 5/s, 20): per client IP,
//     the public card challenge and login routes; more is 429.
func newStationFeature(d Deps) (Feature, error) {
	x := d.Config.Extra
	dur := func(k string, def time.Duration) (time.Duration, error) {
		if v := x[k]; v != "" {
			t, err := time.ParseDuration(v)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", k, err)
			}
			return t, nil
		}
		return def, nil
	}
	ttl, err := dur("GANTRY_CARD_CHALLENGE_TTL", time.Minute)
	if err != nil {
		return nil, err
	}
	login := cmds.CardLoginHandler{DB: d.Pool, Clock: d.Clock}
	switch {
	case x["GANTRY_FACE"] == "off":
		login.FaceOff = true
		d.Log.Warn("GANTRY_FACE=off: staff IC-card login is card + PIN only; the face step is skipped")
	case x["GANTRY_FACE_URL"] != "":
		t, err := dur("GANTRY_FACE_TIMEOUT", 5*time.Second)
		if err != nil {
			return nil, err
		}
		login.Face = face.New(x["GANTRY_FACE_URL"], t)
	default:
		d.Log.Info("no face verification service (GANTRY_FACE_URL): staff IC-card login is refused; password login for administrators still works")
	}
	seed := make([]byte, ed25519.SeedSize)
	if v := x["GANTRY_SETUP_CARD_KEY"]; v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != ed25519.SeedSize {
			return nil, fmt.Errorf("GANTRY_SETUP_CARD_KEY must be 32 bytes in base64")
		}
		seed = b
	} else {
		m := hmac.New(sha256.New, d.Config.TokenKey)
		m.Write([]byte("gantry setup card record v1"))
		seed = m.Sum(nil)
	}
	jm := hmac.New(sha256.New, d.Config.TokenKey)
	jm.Write([]byte("gantry jpki challenge key v1"))
	ident := cmds.JPKICheckHandler{Challenges: cmds.JPKIChallenges{Key: jm.Sum(nil), TTL: ttl}, Streams: d.Streams, Clock: d.Clock}
	if path := x["GANTRY_JPKI_CA"]; path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("GANTRY_JPKI_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("GANTRY_JPKI_CA: %s holds no PEM certificate", path)
		}
		t, err := dur("GANTRY_OCSP_TIMEOUT", 5*time.Second)
		if err != nil {
			return nil, err
		}
		ident.Roots, ident.OCSP = pool, ocsp.New(x["GANTRY_OCSP_URL"], t)
	}
	perSec, err := strconv.ParseFloat(cmp.Or(x["GANTRY_CARD_RATE"], "5"), 64)
	if err != nil || perSec <= 0 {
		return nil, fmt.Errorf("GANTRY_CARD_RATE must be a positive number of requests per second")
	}
	burst, err := strconv.Atoi(cmp.Or(x["GANTRY_CARD_BURST"], "20"))
	if err != nil || burst < 1 {
		return nil, fmt.Errorf("GANTRY_CARD_BURST must be a positive whole number")
	}
	limit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{Rate: rate.Limit(perSec), Burst: burst, ExpiresIn: 3 * time.Minute}),
		DenyHandler: func(echo.Context, string, error) error {
			return &api.ProblemError{Problem: api.Problem{Status: http.StatusTooManyRequests, Code: "too_many_requests", Detail: "Too many card challenges or logins from this station; wait a moment and try again."}}
		},
	})
	return &stationFeature{api: &stationapi.API{
		Limit:      limit,
		Challenges: cmds.IssueChallengeHandler{DB: d.Pool, Clock: d.Clock, TTL: ttl},
		Login:      login,
		Enrol:      cmds.EnrolCardHandler{DB: d.Pool, Clock: d.Clock},
		Revoke:     cmds.RevokeCardHandler{DB: d.Pool, Clock: d.Clock},
		SetupCard:  cmds.SetupCardHandler{Streams: d.Streams, Clock: d.Clock, Key: ed25519.NewKeyFromSeed(seed)},
		Identity:   ident,
	}}, nil
}

// The station's events are the setup's (CardWritten, IdentityChecked).
func (f *stationFeature) Events(*es.Registry)                 {}
func (f *stationFeature) Projectors() []projections.Projector { return nil }
func (f *stationFeature) Handlers() []bus.Handler             { return nil }
func (f *stationFeature) Routes(s *api.Server)                { f.api.Routes(s) }
func (f *stationFeature) Jobs() []Job                         { return nil }
