// Package privacy answers where a data subject's personal data lives and
// whether it is erased: what an APPI disclosure (開示) or erasure request
// needs. A subject is an application ID, a consent ID or a contract number
// (the subjects of domain.Personal values).
//
// It reads the event store, the key table, the read models, the stored
// documents and the bus tables; it never opens a sealed value, so the
// report itself holds no personal data.
package privacy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reader builds privacy reports. Safe for concurrent use.
type Reader struct{ Pool *pgxpool.Pool }

// Report is where a subject's data lives. Key says whether the subject's
// key is "live", "shredded" (everything sealed under it is erased
// everywhere) or "none" (no key was ever made: nothing sealed exists).
type Report struct {
	Subject    string     `json:"subject"`
	Key        string     `json:"key"`
	KeyCreated *time.Time `json:"key_created_at,omitempty"`
	ShreddedAt *time.Time `json:"shredded_at,omitempty"`
	Erased     bool       `json:"erased"`
	Places     []Place    `json:"places"`
}

// Place is one copy: a stream, a read-model row, a document or bus
// messages. Personal says what personal data it holds and how ("sealed",
// "none", or "plaintext" for copies made before sealing existed); Erased
// is true when nothing personal in it can be read any more.
type Place struct {
	Kind     string `json:"kind"` // stream, read_model, document, bus
	Where    string `json:"where"`
	Count    int    `json:"count"`
	Personal string `json:"personal"`
	Erased   bool   `json:"erased"`
}

// plainStreams are the stream kinds of a contract whose events hold
// personal values in plaintext (the domain keeps the corporate name and
// the plates plain: they are printed on cards and on invoices kept seven
// years), by stream prefix.
var plainStreams = map[string]string{
	"card":    "alphabet name and plate, plaintext in the events (not sealed; not erased by the key)",
	"vehicle": "the plate, plaintext in the stream ID and events (not sealed; not erased by the key)",
	"invoice": "customer's corporate name and plates, plaintext in the events (not sealed; not erased by the key)",
}

// Report lists the places of subject.
func (r Reader) Report(ctx context.Context, subject string) (Report, error) {
	rep := Report{Subject: subject, Key: "none", Places: []Place{}}
	var wrapped []byte
	err := r.Pool.QueryRow(ctx, `SELECT wrapped_key, created_at, shredded_at FROM subject_keys WHERE subject=$1`, subject).Scan(&wrapped, &rep.KeyCreated, &rep.ShreddedAt)
	switch {
	case err == pgx.ErrNoRows:
	case err != nil:
		return rep, err
	case wrapped == nil:
		rep.Key = "shredded"
	default:
		rep.Key = "live"
	}
	rep.Erased = rep.Key != "live"

	// Streams: the subject's own, those of its setups and certificates,
	// and any other holding a value sealed under its key.
	rows, err := r.Pool.Query(ctx, `
		WITH own AS (
			SELECT 'application-' || $1 AS s UNION SELECT 'consent-' || $1
			UNION SELECT 'setup-' || c FROM `+r.opt(ctx, "proj_setup_setups.setups", "setup_id", "application_id")+`
			UNION SELECT 'certificate-' || c FROM `+r.opt(ctx, "proj_setup_certificates.certificates", "number", "application_id")+`
			UNION SELECT 'card-' || c FROM `+r.opt(ctx, "proj_cards.cards", "card", "contract")+`
			UNION SELECT 'invoice-' || c FROM `+r.opt(ctx, "proj_invoices.documents", "number", "contract")+`
			UNION SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'vehicle-%' AND data->>'card' IN (SELECT c FROM `+r.opt(ctx, "proj_cards.cards", "card", "contract")+`)
			UNION SELECT DISTINCT stream_id FROM events
			WHERE jsonb_path_exists(data::jsonb, '$.** ? (@.subject == $s)', jsonb_build_object('s', $1::text)))
		SELECT e.stream_id, count(*), count(*) FILTER (WHERE jsonb_path_exists(e.data::jsonb, '$.** ? (@.subject == $s)', jsonb_build_object('s', $1::text)))
		FROM events e JOIN own ON own.s = e.stream_id GROUP BY e.stream_id ORDER BY e.stream_id`, subject)
	if err != nil {
		return rep, err
	}
	var streams []string
	for rows.Next() {
		var p Place
		var sealed int
		if err := rows.Scan(&p.Where, &p.Count, &sealed); err != nil {
			rows.Close()
			return rep, err
		}
		p.Kind, p.Personal, p.Erased = "stream", "none", true
		if sealed > 0 {
			p.Personal, p.Erased = fmt.Sprintf("%d events with values sealed under the subject", sealed), rep.Erased
		}
		if plain, ok := plainStreams[strings.SplitN(p.Where, "-", 2)[0]]; ok {
			p.Personal, p.Erased = plain, false
		}
		streams = append(streams, p.Where)
		rep.Places = append(rep.Places, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}

	// Read-model rows and documents.
	for _, q := range []struct {
		kind, table, key, personal string
		sealed                     bool
	}{
		{"read_model", "proj_setup_applications.applications", "application_id", "none (status and dates)", false},
		{"read_model", "proj_setup_setups.setups", "application_id", "none (status and dates)", false},
		{"read_model", "proj_setup_certificates.certificates", "application_id", "plate and OBU number, sealed", true},
		{"read_model", "proj_setup_consents.consents", "consent_id", "applicant's name and phone, agent's name, sealed", true},
		{"read_model", "proj_setup_consents.consent_uses", "consent_id", "none (units used)", false},
		{"read_model", "proj_setup_consents.consent_uses", "application_id", "none (units used)", false},
		{"read_model", "proj_audit_consent_history.consent_history", "consent_id", "none (IDs, counts and dates)", false},
		{"read_model", "proj_cards.contracts", "contract", "customer's name and alphabet name, sealed", true},
		{"read_model", "proj_cards.cards", "contract", "plates, sealed", true},
		{"read_model", "proj_invoices.documents", "contract", "customer's corporate name, plaintext (invoices are kept 7 years; not sealed)", false},
		{"document", "setup_consent_documents", "consent_id", "signed consent PDF, sealed", true},
	} {
		if !r.exists(ctx, q.table) {
			continue
		}
		var n int
		if err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM `+q.table+` WHERE `+q.key+` = $1`, subject).Scan(&n); err != nil {
			return rep, err
		}
		if n == 0 {
			continue
		}
		p := Place{Kind: q.kind, Where: q.table + " (" + q.key + ")", Count: n, Personal: q.personal, Erased: !q.sealed && q.personal[:4] == "none" || q.sealed && rep.Erased}
		if q.table == "setup_consent_documents" {
			var plain int
			if err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM setup_consent_documents WHERE consent_id=$1 AND NOT sealed`, subject).Scan(&plain); err != nil {
				return rep, err
			}
			if plain > 0 {
				p.Personal, p.Erased = "signed consent PDF, plaintext (stored before sealing)", false
			}
		}
		rep.Places = append(rep.Places, p)
	}

	// Bus messages referring to the subject's streams (they carry a
	// reference, never the data).
	tables, err := r.Pool.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name), data_type FROM information_schema.columns
		WHERE table_schema='bus' AND column_name='payload' ORDER BY table_name`)
	if err != nil {
		return rep, err
	}
	var busTables [][2]string
	for tables.Next() {
		var t, typ string
		if err := tables.Scan(&t, &typ); err != nil {
			tables.Close()
			return rep, err
		}
		busTables = append(busTables, [2]string{t, typ})
	}
	tables.Close()
	patterns := make([]string, len(streams))
	for i, s := range streams {
		patterns[i] = `%"stream":"` + s + `"%`
	}
	for _, bt := range busTables {
		t, text := bt[0], "payload::text"
		if bt[1] == "bytea" {
			text = "convert_from(payload, 'UTF8')"
		}
		var n int
		if err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM `+t+` WHERE `+text+` LIKE ANY($1)`, patterns).Scan(&n); err != nil {
			return rep, fmt.Errorf("bus table %s: %w", t, err)
		}
		if n > 0 {
			rep.Places = append(rep.Places, Place{Kind: "bus", Where: t, Count: n, Personal: "none (a reference to the event)", Erased: true})
		}
	}
	return rep, nil
}

// exists reports whether table exists (a feature may not be installed, a
// view not built yet).
func (r Reader) exists(ctx context.Context, table string) bool {
	var ok bool
	_ = r.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok)
	return ok
}

// opt is a subquery of col (as c) of table's rows whose key is $1, or an
// empty one when the table does not exist.
func (r Reader) opt(ctx context.Context, table, col, key string) string {
	if !r.exists(ctx, table) {
		return "(SELECT NULL::text AS c WHERE $1::text IS NULL AND false) t"
	}
	return fmt.Sprintf("(SELECT %s::text AS c FROM %s WHERE %s = $1) t", col, table, key)
}
