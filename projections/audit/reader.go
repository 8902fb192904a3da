package audit

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/projections"
)

// MaxPage is the most events (or reads) one page answers.
const MaxPage = 500

var (
	ErrStreamNotFound = domain.NotFound("stream_not_found", "No stream has this ID; stream IDs look like application-…, consent-…, setup-…, certificate-…, contract-…, card-…, invoice-….")
	ErrNoAggregate    = domain.Invalid("no_aggregate", "This stream is not an aggregate whose state can be replayed; its event history can be read.")
	ErrNotYet         = domain.NotFound("stream_not_yet", "The stream had no events at that instant.")
)

// StreamReader is the part of the event store the reader uses.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, dir es.Direction, from int64, max int) ([]es.RecordedEvent, error)
}

// Reader answers the auditors' queries. Personal data comes back through
// the codec: opened where its key exists, {"$pii":{"subject":…,"erased":true}}
// once the subject was shredded.
type Reader struct {
	Pool  *pgxpool.Pool
	Store StreamReader
	Codec *es.Codec
	// Hydrate, if set, completes each event before StateAsOf folds it: an
	// invoice event commits to its lines, which are read from the line
	// store and checked against it (billing.Hydrate).
	Hydrate func(ctx context.Context, e domain.Event) (domain.Event, error)
	// Prover proves events against the newest signed checkpoint (nil:
	// no transparency log).
	Prover InclusionProver
}

// EventView is one recorded event as an auditor sees it.
type EventView struct {
	Stream        string          `json:"stream"`
	Version       int64           `json:"version"`
	Position      string          `json:"position"` // commit/prepare in the global log
	EventID       string          `json:"event_id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"` // as stored (data is upcast to the current one)
	RecordedAt    time.Time       `json:"recorded_at"`
	Actor         es.Actor        `json:"actor"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	CommandID     string          `json:"command_id,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// EventPage is one page of a stream's history.
type EventPage struct {
	Stream string
	AsOf   *time.Time
	Events []EventView
	// Next is the version to continue from (0: this is the last page).
	Next int64
}

// StreamEvents answers up to limit events of stream from version from on,
// recorded at or before asOf (zero: no limit). A stream without events is
// ErrStreamNotFound.
func (r Reader) StreamEvents(ctx context.Context, stream string, from int64, limit int, asOf time.Time) (EventPage, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	from = max(from, 1)
	page := EventPage{Stream: stream, Events: []EventView{}}
	if !asOf.IsZero() {
		page.AsOf = &asOf
	}
	rs, err := r.Store.ReadStream(ctx, stream, es.Forwards, from, limit+1)
	if err != nil {
		return page, err
	}
	if len(rs) == 0 && from == 1 {
		return page, ErrStreamNotFound
	}
	for i, rec := range rs {
		if !asOf.IsZero() && rec.RecordedAt.After(asOf) {
			return page, nil
		}
		if i == limit {
			page.Next = rec.Version
			return page, nil
		}
		v, err := r.view(ctx, rec)
		if err != nil {
			return page, err
		}
		page.Events = append(page.Events, v)
	}
	return page, nil
}

func (r Reader) view(ctx context.Context, rec es.RecordedEvent) (EventView, error) {
	p, err := r.Codec.Decode(ctx, rec)
	if err != nil {
		return EventView{}, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return EventView{}, err
	}
	return EventView{Stream: rec.StreamID, Version: rec.Version, Position: rec.Position.String(), EventID: rec.ID.String(), Type: rec.Type,
		SchemaVersion: rec.SchemaVersion, RecordedAt: rec.RecordedAt, Actor: rec.Metadata.Actor, CorrelationID: rec.Metadata.CorrelationID,
		CausationID: rec.Metadata.CausationID, CommandID: rec.Metadata.CommandID, Data: data}, nil
}

// StateView is an aggregate's state as of an instant.
type StateView struct {
	Stream     string    `json:"stream"`
	Kind       string    `json:"kind"`
	AsOf       time.Time `json:"as_of"`
	Version    int64     `json:"version"`     // the stream's version at AsOf
	LastChange time.Time `json:"last_change"` // recorded time of that version's event
	State      any       `json:"state"`
}

// StateAsOf folds the stream's events recorded at or before asOf with the
// aggregate's own Apply. The stream's events are in version order; the fold
// stops at the first one recorded after asOf.
func (r Reader) StateAsOf(ctx context.Context, stream string, asOf time.Time) (StateView, error) {
	kind, f, ok := aggregateOf(stream)
	if !ok {
		return StateView{}, ErrNoAggregate.Withf("stream", "%s is not an aggregate whose state can be replayed (kinds: %s); read its event history instead.", stream, strings.Join(AggregateKinds(), ", "))
	}
	out := StateView{Stream: stream, Kind: kind, AsOf: asOf}
	for from := int64(1); ; {
		rs, err := r.Store.ReadStream(ctx, stream, es.Forwards, from, MaxPage)
		if err != nil {
			return out, err
		}
		if len(rs) == 0 && from == 1 {
			return out, ErrStreamNotFound
		}
		for _, rec := range rs {
			if rec.RecordedAt.After(asOf) {
				return r.done(out, f)
			}
			e, err := r.Codec.Decode(ctx, rec)
			if err != nil {
				return out, err
			}
			if r.Hydrate != nil {
				if e, err = r.Hydrate(ctx, e); err != nil {
					return out, err
				}
			}
			f.apply(e)
			out.Version, out.LastChange = rec.Version, rec.RecordedAt
		}
		if len(rs) < MaxPage {
			return r.done(out, f)
		}
		from = out.Version + 1
	}
}

func (Reader) done(out StateView, f fold) (StateView, error) {
	if out.Version == 0 {
		return out, ErrNotYet.Withf("as_of", "%s had no events at %s; its first event was recorded later.", out.Stream, out.AsOf.Format(time.RFC3339))
	}
	out.State = f.snapshot()
	return out, nil
}

// ConsentState is a proxy consent's state at an instant (no personal data:
// read the consent's stream for the applicant).
type ConsentState struct {
	ConsentID        string     `json:"consent_id"`
	Stream           string     `json:"stream"` // its history, with the applicant (read it for the personal data)
	StoreID          string     `json:"store_id"`
	Status           string     `json:"status"` // active, used_up, retention_ended
	Units            int        `json:"units"`
	UnitsUsed        int        `json:"units_used"`
	PeriodFrom       *string    `json:"period_from"` // YYYY-MM-DD; null: no period (single unit)
	PeriodTo         *string    `json:"period_to"`
	RequestDate      string     `json:"request_date"`
	RecordedAt       time.Time  `json:"recorded_at"`
	LastUsedAt       *time.Time `json:"last_used_at"`
	Filings          []string   `json:"filings"` // application IDs, in unit order
	RetentionEnd     time.Time  `json:"retention_end"`
	RetentionEndedAt *time.Time `json:"retention_ended_at"`
	StateSince       time.Time  `json:"state_since"` // recorded time of the change that made this state
	Change           string     `json:"change"`      // that change: recorded, unit_used, retention_ended
	StateNumber      int        `json:"state_number"`
}

// ConsentChange is one change of a consent and the state it made.
type ConsentChange struct {
	At            time.Time    `json:"at"`
	Change        string       `json:"change"`
	ApplicationID *string      `json:"application_id"` // the filing of a unit_used change
	State         ConsentState `json:"state"`
}

const consentCols = `consent_id, store_id, units, used, period_from::text, period_to::text, request_date::text, recorded_at, last_used_at,
	filings, retention_end, ended_at, valid_from, change, seq, application_id`

func scanConsent(rows pgx.Rows) (ConsentState, *string, error) {
	var s ConsentState
	var app *string
	err := rows.Scan(&s.ConsentID, &s.StoreID, &s.Units, &s.UnitsUsed, &s.PeriodFrom, &s.PeriodTo, &s.RequestDate, &s.RecordedAt, &s.LastUsedAt,
		&s.Filings, &s.RetentionEnd, &s.RetentionEndedAt, &s.StateSince, &s.Change, &s.StateNumber, &app)
	switch {
	case s.RetentionEndedAt != nil:
		s.Status = "retention_ended"
	case s.UnitsUsed >= s.Units:
		s.Status = "used_up"
	default:
		s.Status = "active"
	}
	s.Stream = "consent-" + s.ConsentID
	if s.Filings == nil {
		s.Filings = []string{}
	}
	return s, app, err
}

func (r Reader) table() string { return projections.Schema(ConsentHistoryName) + ".consent_history" }

// ConsentsAsOf answers every proxy consent store held on day (Tokyo), each
// in its state at the end of that day: recorded by then and whose retention
// had not ended before the day began. One page in consent ID order; one
// indexed query.
func (r Reader) ConsentsAsOf(ctx context.Context, store string, day domain.Date, page projections.PageRequest) (projections.Page[ConsentState], error) {
	rows, err := r.Pool.Query(ctx, `SELECT `+consentCols+` FROM `+r.table()+`
		WHERE store_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to >= $2) AND (ended_at IS NULL OR ended_at >= $3)
		AND consent_id > $4 ORDER BY consent_id LIMIT $5`, store, day.AddDays(1).Start(), day.Start(), page.Key(0), page.Limit())
	if err != nil {
		return projections.Page[ConsentState]{}, err
	}
	defer rows.Close()
	out := []ConsentState{}
	for rows.Next() {
		s, _, err := scanConsent(rows)
		if err != nil {
			return projections.Page[ConsentState]{}, err
		}
		out = append(out, s)
	}
	return projections.Paginate(page, out, func(s ConsentState) []string { return []string{s.ConsentID} }), rows.Err()
}

// ConsentChanges answers every change to store's proxy consents recorded
// from the start of day from to the end of day to (Tokyo), in order: one
// page, keyed by (recorded time, consent, change number).
func (r Reader) ConsentChanges(ctx context.Context, store string, from, to domain.Date, page projections.PageRequest) (projections.Page[ConsentChange], error) {
	after, err := changeKey(page)
	if err != nil {
		return projections.Page[ConsentChange]{}, err
	}
	rows, err := r.Pool.Query(ctx, `SELECT `+consentCols+` FROM `+r.table()+`
		WHERE store_id = $1 AND valid_from >= $2 AND valid_from < $3
		AND ($4::timestamptz IS NULL OR (valid_from, consent_id, seq) > ($4, $5, $6)) ORDER BY valid_from, consent_id, seq LIMIT $7`,
		store, from.Start(), to.AddDays(1).Start(), after.at, after.consent, after.seq, page.Limit())
	if err != nil {
		return projections.Page[ConsentChange]{}, err
	}
	defer rows.Close()
	out := []ConsentChange{}
	for rows.Next() {
		s, app, err := scanConsent(rows)
		if err != nil {
			return projections.Page[ConsentChange]{}, err
		}
		out = append(out, ConsentChange{At: s.StateSince, Change: s.Change, ApplicationID: app, State: s})
	}
	return projections.Paginate(page, out, func(c ConsentChange) []string {
		return []string{c.State.StateSince.UTC().Format(time.RFC3339Nano), c.State.ConsentID, strconv.Itoa(c.State.StateNumber)}
	}), rows.Err()
}

// consentChangeKey is a decoded ConsentChanges cursor (at nil: first page).
type consentChangeKey struct {
	at      *time.Time
	consent string
	seq     int
}

// changeKey decodes page's cursor; one this server could not have written
// is projections.ErrBadCursor.
func changeKey(page projections.PageRequest) (consentChangeKey, error) {
	if len(page.After) == 0 {
		return consentChangeKey{}, nil
	}
	if len(page.After) != 3 {
		return consentChangeKey{}, projections.ErrBadCursor
	}
	at, err := time.Parse(time.RFC3339Nano, page.After[0])
	if err != nil {
		return consentChangeKey{}, projections.ErrBadCursor
	}
	seq, err := strconv.Atoi(page.After[2])
	if err != nil {
		return consentChangeKey{}, projections.ErrBadCursor
	}
	return consentChangeKey{at: &at, consent: page.After[1], seq: seq}, nil
}

// ReadRow is one recorded audit read.
type ReadRow struct {
	ReadID     string            `json:"read_id"`
	At         time.Time         `json:"at"`
	ReaderID   string            `json:"reader_id"`
	ReaderRole string            `json:"reader_role"`
	Query      string            `json:"query"`
	Target     string            `json:"target"`
	Params     map[string]string `json:"params"`
	Reason     string            `json:"reason"`
	Stream     string            `json:"stream"`
	Version    int64             `json:"version"`
	n          int64
}

// ReadFilter selects recorded reads; zero fields select all.
type ReadFilter struct {
	Reader string
	From   domain.Date // first day (Tokyo)
	To     domain.Date // last day
	Before int64       // cursor: reads listed before this one
	Limit  int
}

// ReadsPage is a page of recorded reads, newest first.
type ReadsPage struct {
	Reads []ReadRow
	Next  int64 // cursor of the next page (0: last page)
}

// Reads lists recorded audit reads, newest first.
func (r Reader) Reads(ctx context.Context, f ReadFilter) (ReadsPage, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		t := f.From.Start()
		from = &t
	}
	if !f.To.IsZero() {
		t := f.To.AddDays(1).Start()
		to = &t
	}
	rows, err := r.Pool.Query(ctx, `SELECT n, read_id, at, reader_id, reader_role, query, target, params, reason, stream, version
		FROM `+projections.Schema(ReadsName)+`.reads
		WHERE ($1 = '' OR reader_id = $1) AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3) AND ($4 = 0 OR n < $4)
		ORDER BY n DESC LIMIT $5`, f.Reader, from, to, f.Before, f.Limit+1)
	if err != nil {
		return ReadsPage{}, err
	}
	defer rows.Close()
	page := ReadsPage{Reads: []ReadRow{}}
	for rows.Next() {
		var x ReadRow
		if err := rows.Scan(&x.n, &x.ReadID, &x.At, &x.ReaderID, &x.ReaderRole, &x.Query, &x.Target, &x.Params, &x.Reason, &x.Stream, &x.Version); err != nil {
			return page, err
		}
		if len(page.Reads) == f.Limit {
			page.Next = page.Reads[len(page.Reads)-1].n
			break
		}
		page.Reads = append(page.Reads, x)
	}
	return page, rows.Err()
}
