package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, 8<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return BadRequest("empty_body", "The request needs a JSON body.")
		case errors.As(err, &se):
			return BadRequest("malformed_json", fmt.Sprintf("The body is not valid JSON (at byte %d).", se.Offset))
		case errors.As(err, &te):
			return BadRequest("malformed_json", fmt.Sprintf("Field %q must be a %s.", te.Field, te.Type))
		default:
			return BadRequest("malformed_json", "The body cannot be read: "+err.Error())
		}
	}
	return noTrailingData(dec)
}
