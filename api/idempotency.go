package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Headers of the command protocol.
const (
	// HeaderPosition is answered by every command that appended (or found
	// appended) events: the global position of its last event. Queries that
	// send it back (?after= or Gantry-After) see the command's effect.
	HeaderPosition = "Gantry-Position"
	// HeaderAfter is the consistency token a query waits for.
	HeaderAfter = "Gantry-After"
	// HeaderReplayed is "true" on an answer to a retried Idempotency-Key.
	HeaderReplayed = "Idempotent-Replayed"
)

// command makes every command request a commands.Command. With an
// Idempotency-Key the key is the command: its scoped, hashed form becomes
// the event-store command ID, recorded by the append in the same transaction
// as the events, and the values the command generates are derived from it.
// A retry therefore runs the command again, which decides the same thing;
// the store finds the command recorded and appends nothing; the answer is
// the first one (same IDs, passcode, status and ETag). Nothing else is
// stored. While a request with a key runs, the key is held in this process
// and by a PostgreSQL session advisory lock (released with the connection
// if the process dies); a concurrent duplicate gets 409 with Retry-After.
func (s *Server) command(op Op) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			cmd := &commands.Command{}
			req := c.Request()
			if key := req.Header.Get("Idempotency-Key"); key != "" {
				if err := checkKey(key, len(op.Roles) == 0); err != nil {
					return err
				}
				p := PrincipalOf(c)
				scope := s.mac("scope", op.Method, op.Path, string(p.Role), p.Subject, key)[:16]
				cmd.ID = "k:" + hex.EncodeToString(scope)
				cmd.Seed = s.mac("seed", string(scope))
				rh := hmac.New(sha256.New, s.cmdKey)
				rh.Write([]byte(req.Method + " " + req.URL.RequestURI() + "\x00"))
				if op.Stream {
					// Hashed as the handler reads it; the handler reads the
					// whole body before it appends.
					req.Body = readCloser{io.TeeReader(req.Body, rh), req.Body}
				} else {
					body, err := io.ReadAll(req.Body)
					if err != nil {
						return bodyError(err)
					}
					rh.Write(body)
					req.Body = io.NopCloser(bytes.NewReader(body))
				}
				cmd.Request = func() string { return hex.EncodeToString(rh.Sum(nil)[:8]) }
				if !op.Stream {
					// The whole body is read: the ID is complete, and commands
					// that key side allocations by it (card numbers) see it.
					md := commands.MetadataFrom(req.Context())
					md.CommandID = cmd.Scope() + "." + cmd.Request()
					req = req.WithContext(commands.WithMetadata(req.Context(), md))
				}
				unlock, err := s.locks.lock(req.Context(), cmd.Scope())
				if err != nil {
					return err
				}
				defer unlock()
			}
			c.SetRequest(req.WithContext(commands.WithCommand(req.Context(), cmd)))
			c.Response().Before(func() {
				if p := cmd.Position(); p != (es.Position{}) {
					c.Response().Header().Set(HeaderPosition, p.String())
				}
				if cmd.Replayed() {
					c.Response().Header().Set(HeaderReplayed, "true")
				}
			})
			return next(c)
		}
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (s *Server) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.cmdKey)
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// checkKey: any key is 1–200 printable ASCII characters. On anonymous routes
// the key is the only thing that protects the replayed answer (a passcode),
// so it must be unguessable: a version-4 UUID, or at least 32 base64url
// characters (≥ 122 random bits) that do not look like a pattern.
func checkKey(key string, anonymous bool) error {
	if len(key) > 200 {
		return BadRequest("bad_idempotency_key", "Idempotency-Key must be at most 200 characters.")
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return BadRequest("bad_idempotency_key", "Idempotency-Key must be printable ASCII without spaces.")
		}
	}
	if !anonymous {
		return nil
	}
	u, err := uuid.Parse(key)
	if err == nil && u.Version() == 4 && len(key) == 36 {
		return nil
	}
	// Other UUIDs (time-based, made up) are not 122 random bits. A token
	// must not look like a pattern: few distinct characters or a run such
	// as 123456 or aaaaaa.
	distinct := map[rune]bool{}
	ok := err != nil && len(key) >= 32
	run := 1
	for i, r := range key {
		distinct[r] = true
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
		if i > 0 && (r == rune(key[i-1])+1 || r == rune(key[i-1])) {
			run++
		} else {
			run = 1
		}
		if run >= 6 {
			ok = false
		}
	}
	if ok && len(distinct) >= 10 {
		return nil
	}
	return BadRequest("weak_idempotency_key", "On this route the Idempotency-Key alone protects the replayed answer, so it must be unguessable: "+
		"send a random version-4 UUID, or at least 32 random base64url characters (122 random bits or more).")
}

// keyLocks holds the keys of running requests: in this process (a map) and
// across processes (session advisory locks on one dedicated connection, so
// a process that dies releases them with its connection).
type keyLocks struct {
	pool func() *pgxpool.Pool

	mu   sync.Mutex
	held map[string]bool

	connMu sync.Mutex
	conn   *pgxpool.Conn
	locked int // advisory locks held on conn; at 0 it goes back to the pool
}

var errKeyBusy = &ProblemError{Problem{Status: http.StatusConflict, Code: "idempotency_key_in_use",
	Detail: "A request with this Idempotency-Key is running right now; retry after it answers (Retry-After)."}}

func (l *keyLocks) lock(ctx context.Context, scope string) (func(), error) {
	l.mu.Lock()
	if l.held[scope] {
		l.mu.Unlock()
		return nil, errKeyBusy
	}
	l.held[scope] = true
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		delete(l.held, scope)
		l.mu.Unlock()
	}
	sum := sha256.Sum256([]byte(scope))
	id := int64(binary.BigEndian.Uint64(sum[:8]))
	var got bool
	if err := l.exec(ctx, `SELECT pg_try_advisory_lock($1)`, id, &got, 1); err != nil {
		release()
		return nil, err
	}
	if !got {
		release()
		return nil, errKeyBusy
	}
	return func() {
		var ok bool
		_ = l.exec(context.Background(), `SELECT pg_advisory_unlock($1)`, id, &ok, -1)
		release()
	}, nil
}

// exec runs a lock statement on the dedicated connection; delta counts the
// locks it takes (1) or gives back (-1). With none left, the connection goes
// back to the pool (so that the pool can close).
func (l *keyLocks) exec(ctx context.Context, sql string, id int64, out *bool, delta int) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	l.connMu.Lock()
	defer l.connMu.Unlock()
	defer func() {
		if l.conn != nil && l.locked <= 0 {
			l.locked = 0
			l.conn.Release()
			l.conn = nil
		}
	}()
	if delta < 0 && l.conn == nil {
		return nil // the connection (and its locks) is gone already
	}
	if l.conn == nil {
		pool := l.pool()
		if pool == nil {
			return es.ErrUnavailable
		}
		c, err := pool.Acquire(ctx)
		if err != nil {
			return errors.Join(es.ErrUnavailable, err)
		}
		l.conn = c
	}
	if err := l.conn.QueryRow(ctx, sql, id).Scan(out); err != nil {
		// The locks die with the connection; a new one is taken next time.
		_ = l.conn.Conn().Close(context.Background())
		l.conn.Release()
		l.conn, l.locked = nil, 0
		return errors.Join(es.ErrUnavailable, err)
	}
	if *out {
		l.locked += delta
	}
	return nil
}

// DefaultMaxBody is the body limit of routes that set none (JSON).
const DefaultMaxBody = 8 << 20

// bodyLimit refuses a body over the route's limit with 413, whether it says
// its length up front or not.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return tooLarge(limit)
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			}
			return next(c)
		}
	}
}

func tooLarge(limit int64) error {
	return &ProblemError{Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Detail: fmt.Sprintf("The request body is larger than this route's limit of %d bytes (%s); nothing was read or written.", limit, humanBytes(limit))}}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// bodyError maps a body read error: over the limit is 413, the rest 400.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return tooLarge(mb.Limit)
	}
	return BadRequest("unreadable_body", "The request body could not be read.")
}

// ReadBody reads the whole request body (within the route's limit: 413
// beyond it).
func ReadBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

// StreamedBody is a request body read as a stream by a handler (routes
// with Op.Stream). It remembers a failed read, so the handler can answer
// it as such (413 past the route's limit, 400 otherwise) rather than as an
// error of its command.
type StreamedBody struct {
	r   io.Reader
	err error
}

// BodyStream returns c's body as a StreamedBody.
func BodyStream(c echo.Context) *StreamedBody { return &StreamedBody{r: c.Request().Body} }

func (b *StreamedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

// Problem is the problem of a failed read of the body, when one failed;
// otherwise err unchanged.
func (b *StreamedBody) Problem(err error) error {
	if err != nil && b.err != nil {
		return bodyError(b.err)
	}
	return err
}

// readAfter makes a query wait until the views have applied the position a
// command answered (?after= or Gantry-After), at most MaxWait; past that it
// answers 503 with Retry-After (the views are behind; nothing is wrong with
// the request).
func (s *Server) readAfter(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := c.QueryParam("after")
		if tok == "" {
			tok = c.Request().Header.Get(HeaderAfter)
		}
		if tok == "" || s.waitFor == nil {
			return next(c)
		}
		pos, err := es.ParsePosition(strings.TrimSpace(tok))
		if err != nil {
			return BadRequest("bad_position", "after / Gantry-After must be the Gantry-Position a command answered, e.g. 1234/56.")
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.maxWait)
		defer cancel()
		if err := s.waitFor(ctx, pos); err != nil {
			if c.Request().Context().Err() != nil {
				return err
			}
			c.Response().Header().Set("Retry-After", "1")
			return &ProblemError{Problem{Status: http.StatusServiceUnavailable, Code: "views_behind",
				Detail: fmt.Sprintf("The views have not reached position %s within %s (a long-running transaction on the database holds delivery back, see gantry_xmin_horizon_age_seconds). Retry, or read without after.", pos, s.maxWait)}}
		}
		return next(c)
	}
}
