package app

import (
	"strings"

	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/web"
)

// mountWeb serves the web pages (package web) from the same server, built
// on the setup feature's command handlers and readers.
func (a *App) mountWeb() error {
	var (
		sf *setupFeature
		cf *CardsFeature
		af *AuditFeature
		lf *LogFeature
	)
	for _, f := range a.Features {
		switch f := f.(type) {
		case *setupFeature:
			sf = f
		case *CardsFeature:
			cf = f
		case *AuditFeature:
			af = f
		case *LogFeature:
			lf = f
		}
	}
	if sf == nil {
		return nil
	}
	sa := sf.api
	a.Web = &web.Site{Tokens: a.API.Tokens(), Streams: sa.Streams, Clock: sa.Clock, Hasher: sa.Hasher, Views: sa.Views,
		Accounts: sa.Accounts, Stores: sa.Accounts, Documents: sa.Documents, Renderer: sa.Renderer, Codes: sa.Verifier, PublicURL: sa.PublicURL,
		WaitFor: sf.d.WaitFor, Log: a.Log, SecureCookies: strings.HasPrefix(a.Config.PublicURL, "https://"),
		BootstrapID: sa.BootstrapID, BootstrapPassword: sa.BootstrapPassword, LoginDummyHash: sa.DummyHash}
	if cf != nil {
		a.Web.Cards = cf.Service
	}
	if af != nil {
		a.Web.Audit = af.Service
		if lf != nil {
			// The auditor pages prove events against the newest signed checkpoint.
			af.Service.Reader.Prover = tlog.Prover{Pool: lf.d.Pool, VerifierKey: lf.Signer.VerifierKey()}
		}
	}
	return a.Web.Mount(a.API.Echo())
}
