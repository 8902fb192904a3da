package api

import (
	"encoding/json"
	"errors"
	"io"
)

// noTrailingData refuses a body with anything but white space after its
// one JSON document (a second document, trailing garbage).
func noTrailingData(dec *json.Decoder) error {
	var extra json.RawMessage
	err := dec.Decode(&extra)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return BadRequest("trailing_data", "The body must be exactly one JSON document, with nothing after it.")
}
