package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func decodeStrict(r io.Reader, v any) error {
	// The route's body limit (413) bounds what is read.
	body, err := io.ReadAll(r)
	if err != nil {
		return bodyError(err)
	}
	if !utf8.Valid(body) {
		return badUTF8(body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
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

// badUTF8 names the field whose string holds the first invalid UTF-8 byte
// (encoding/json would silently store U+FFFD instead).
func badUTF8(body []byte) error {
	at := 0
	for at < len(body) {
		r, n := utf8.DecodeRune(body[at:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	field := fieldAt(body, int64(at))
	detail := fmt.Sprintf("The body is not valid UTF-8 (byte %d); nothing was written. Send text as UTF-8.", at)
	if field != "" {
		detail = fmt.Sprintf("Field %q is not valid UTF-8 (byte %d); nothing was written. Send text as UTF-8.", field, at)
	}
	return &ProblemError{Problem{Status: 400, Code: "invalid_utf8", Title: "Bad request", Detail: detail, Field: field}}
}

// fieldAt returns the JSON path (a.b[2].c) of the value that holds byte
// offset at, or "".
func fieldAt(body []byte, at int64) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []frame
	path := func(extra string) string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		if extra != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(extra)
		}
		return b.String()
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := dec.InputOffset()
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', keyNow: true, index: -1})
				if t == '[' {
					stack[len(stack)-1].index = 0
				}
				continue
			default:
				stack = stack[:top]
				if top > 0 {
					advance(&stack[top-1])
				}
				continue
			}
		case string:
			if top >= 0 && stack[top].object && stack[top].keyNow {
				if end > at {
					return path(t)
				}
				stack[top].key, stack[top].keyNow = t, false
				continue
			}
		}
		if end > at {
			return path("")
		}
		if top >= 0 {
			advance(&stack[top])
		}
	}
}

type frame struct {
	object bool
	key    string
	index  int
	keyNow bool // in an object: the next string is a key
}

func advance(f *frame) {
	if f.object {
		f.keyNow = true
	} else {
		f.index++
	}
}
