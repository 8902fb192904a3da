package app

import (
	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/auditapi"
	cmdaudit "github.com/gantry-etc/gantry/commands/audit"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/audit"
	"github.com/gantry-etc/gantry/projections"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

// AuditFeature is the auditors' history (issue 9, auditor half): stream
// history, as-of state, consent history as of a date, recorded reads.
type AuditFeature struct {
	Service *auditapi.Service
}

func newAuditFeature(d Deps) (Feature, error) {
	return &AuditFeature{Service: &auditapi.Service{
		Record:  cmdaudit.RecordReadHandler{Streams: d.Streams, Clock: d.Clock},
		Reader:  projaudit.Reader{Pool: d.Pool, Store: d.Streams.Store, Codec: d.Streams.Codec, Hydrate: hydrateInvoices(d.Pool)},
		Clock:   d.Clock,
		WaitFor: d.WaitFor,
	}}, nil
}

func (f *AuditFeature) Events(reg *es.Registry) { es.Register[audit.ReadRecorded](reg, 1) }

func (f *AuditFeature) Projectors() []projections.Projector {
	return []projections.Projector{projaudit.ConsentHistory{}, projaudit.Reads{}}
}

func (f *AuditFeature) Handlers() []bus.Handler { return nil }

func (f *AuditFeature) Routes(s *api.Server) { f.Service.Routes(s) }

func (f *AuditFeature) Jobs() []Job { return nil }
