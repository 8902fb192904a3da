package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// idempotency makes command routes safe to retry with an Idempotency-Key
// header: the first response (success or a 4xx) is stored with a hash of the
// request; the same key and the same request replay it; the same key with
// another request is refused (422); a key whose first request is still
// running answers 409. A 5xx is not stored, so a retry runs the command again.
// Keys are scoped to the caller.
func (s *Server) idempotency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" {
			return next(c)
		}
		if len(key) > 200 {
			return BadRequest("bad_idempotency_key", "Idempotency-Key must be at most 200 characters.")
		}
		pool := s.pool()
		if pool == nil {
			return es.ErrUnavailable
		}
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 32<<20))
		if err != nil {
			return BadRequest("unreadable_body", "The request body could not be read.")
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		p := PrincipalOf(c)
		scoped := string(p.Role) + "/" + p.Subject + "/" + key
		h := sha256.New()
		h.Write([]byte(c.Request().Method + " " + c.Request().URL.RequestURI() + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		ctx := c.Request().Context()

		tag, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`, scoped, hash)
		if err != nil {
			return translateDB(err)
		}
		if tag.RowsAffected() == 0 {
			var (
				stored []byte
				status *int
				ctype  *string
				resp   []byte
			)
			err := pool.QueryRow(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE key = $1`, scoped).Scan(&stored, &status, &ctype, &resp)
			if errors.Is(err, pgx.ErrNoRows) {
				return &ProblemError{Problem{Status: http.StatusConflict, Code: "idempotency_key_in_use", Detail: "A request with this Idempotency-Key is being retried; try again."}}
			}
			if err != nil {
				return translateDB(err)
			}
			if !bytes.Equal(stored, hash) {
				return &ProblemError{Problem{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
					Detail: "This Idempotency-Key was used for a different request; use a new key for a new request."}}
			}
			if status == nil {
				return &ProblemError{Problem{Status: http.StatusConflict, Code: "idempotency_key_in_use", Detail: "The first request with this Idempotency-Key is still running; retry shortly."}}
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			ct := "application/json"
			if ctype != nil {
				ct = *ctype
			}
			return c.Blob(*status, ct, resp)
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		herr := next(c)
		if herr != nil {
			c.Error(herr) // writes the problem through rec
		}
		st := c.Response().Status
		if st >= 500 || st == 0 {
			_, _ = pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = $1`, scoped)
			return nil
		}
		_, _ = pool.Exec(ctx, `UPDATE idempotency_keys SET status = $2, content_type = $3, body = $4 WHERE key = $1`,
			scoped, st, c.Response().Header().Get(echo.HeaderContentType), rec.buf.Bytes())
		return nil
	}
}

type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

func translateDB(err error) error {
	if err == nil {
		return nil
	}
	return errors.Join(es.ErrUnavailable, err)
}
