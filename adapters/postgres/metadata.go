package postgres

import (
	"encoding/json"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// metadataJSON is json.Marshal(md), byte for byte, without reflection for
// the usual metadata (IDs and roles in plain ASCII); anything that
// encoding/json would escape goes through json.Marshal.
func metadataJSON(md es.Metadata) ([]byte, error) {
	fields := [...]string{md.CorrelationID, md.CausationID, md.CommandID, md.Actor.Role, md.Actor.ID, md.Actor.Store, md.Actor.Device}
	size := 64
	for _, f := range fields {
		if !plainJSON(f) {
			return json.Marshal(md)
		}
		size += len(f)
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	field := func(name, v string) {
		if v == "" {
			return
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, `",`...)
	}
	field("correlation_id", md.CorrelationID)
	field("causation_id", md.CausationID)
	field("command_id", md.CommandID)
	b = append(b, `"actor":{`...)
	n := len(b)
	field("role", md.Actor.Role)
	field("id", md.Actor.ID)
	field("store", md.Actor.Store)
	field("device", md.Actor.Device)
	if len(b) > n {
		b = b[:len(b)-1] // the last field's comma
	}
	return append(b, "}}"...), nil
}

// plainJSON reports whether encoding/json writes s between quotes as it is:
// printable ASCII other than the quote, the backslash and the HTML
// characters it escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
