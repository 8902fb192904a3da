// Package api is Gantry's HTTP API (echo/v4): the route table that also
// writes /openapi.json, authentication, RFC 9457 problems from one mapping
// table, Idempotency-Key replay, If-Match versions, health and metrics.
// Features add their routes with Server.Handle from their own packages
// (api/setupapi, api/cardsapi).
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Health is what /healthz and /readyz ask.
type Health interface {
	// Ready: the database answers and every projector is running.
	Ready(ctx context.Context) (bool, []string)
	// Live: nothing has stopped for good (a failed projector).
	Live() (bool, []string)
}

// Server is the HTTP API.
type Server struct {
	echo    *echo.Echo
	tokens  *Tokens
	pool    func() *pgxpool.Pool // nil until the database is reached
	health  Health
	log     *slog.Logger
	metrics *prometheus.Registry
	ops     []Op
	reqs    *prometheus.HistogramVec
	down    func(error) bool
	cmdKey  []byte
	locks   *keyLocks
	waitFor func(ctx context.Context, pos es.Position) error
	maxWait time.Duration
	opsEcho *echo.Echo
	abuse
}

// Config of a Server.
type Config struct {
	Tokens  *Tokens
	Pool    func() *pgxpool.Pool
	Health  Health
	Log     *slog.Logger
	Metrics *prometheus.Registry
	// Unavailable says whether an error means the database cannot be
	// reached (answered 503 with Retry-After, whichever path it came from).
	Unavailable func(error) bool
	// CommandKey is the server secret that scopes Idempotency-Keys and
	// derives the values a keyed command generates (required).
	CommandKey []byte
	// WaitFor blocks until every view has applied pos (queries with ?after=).
	WaitFor func(ctx context.Context, pos es.Position) error
	// MaxWait bounds that wait (default 5s); past it the query answers 503.
	MaxWait time.Duration
	// Abuse: rate limits, trusted proxies, token revocation (abuse.go).
	Abuse AbuseConfig
}

// New returns a Server with the engine's routes (health, metrics, OpenAPI).
func New(cfg Config) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, tokens: cfg.Tokens, pool: cfg.Pool, health: cfg.Health, log: cfg.Log, metrics: cfg.Metrics, down: cfg.Unavailable,
		cmdKey: cfg.CommandKey, locks: &keyLocks{pool: cfg.Pool, held: map[string]bool{}}, waitFor: cfg.WaitFor, maxWait: cfg.MaxWait}
	if s.maxWait <= 0 {
		s.maxWait = 5 * time.Second
	}
	s.reqs = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gantry_http_request_duration_seconds", Help: "HTTP requests by route and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	cfg.Metrics.MustRegister(s.reqs)
	e.HTTPErrorHandler = s.handleError
	s.initAbuse(cfg.Abuse)
	e.Use(s.requestContext)
	e.Use(s.securityHeaders)
	e.Use(s.recoverer)

	// Public health answers carry a status only; the reasons (which name
	// projectors and streams) and the metrics are on the ops listener.
	s.Handle(Op{Method: http.MethodGet, Path: "/healthz", ID: "healthz", Tag: "ops", Summary: "Liveness: 503 when a projector has stopped on a failure (reasons on the ops listener).", Handler: s.publicHealthz})
	s.Handle(Op{Method: http.MethodGet, Path: "/readyz", ID: "readyz", Tag: "ops", Summary: "Readiness: the database answers and every projector runs (reasons on the ops listener).", Handler: s.publicReadyz})
	s.opsEcho = s.newOps(echo.WrapHandler(promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{})))
	s.authRoutes()
	s.Handle(Op{Method: http.MethodGet, Path: "/openapi.json", ID: "openapi", Tag: "ops", Summary: "This API's OpenAPI 3.1 description.", Handler: s.openapi})
	return s
}

// Echo returns the underlying echo instance (for http.Server and tests).
func (s *Server) Echo() *echo.Echo { return s.echo }

// Tokens returns the token issuer (login endpoints call Issue).
func (s *Server) Tokens() *Tokens { return s.tokens }

// Ops returns the registered operations.
func (s *Server) Ops() []Op { return s.ops }

// Op is one route: how it is served and how /openapi.json describes it.
type Op struct {
	Method  string
	Path    string // echo form: /v1/applications/:id
	ID      string // operationId
	Tag     string
	Summary string
	// Roles that may call it; empty means public.
	Roles []Role
	// Command routes accept Idempotency-Key (replay) and If-Match (version),
	// and answer Gantry-Position.
	Command bool
	// MaxBody is the largest request body (DefaultMaxBody when zero); a
	// larger one is refused with 413.
	MaxBody int64
	// Stream: the handler reads the body as a stream (large uploads); an
	// Idempotency-Key's request hash is computed as it reads.
	Stream bool
	// Paged list routes take ?limit= and ?cursor= and answer a Link to the
	// next page (api.PageOf, api.Paged).
	Paged bool
	// Query lists the query parameters the handler reads; any other is a
	// 400 (see Param). GET routes also accept after (see readAfter).
	Query []Param
	// Request and Response are example values whose types document the JSON
	// bodies (nil: none / not described).
	Request  any
	Response any
	// Status is the success status (200 when zero).
	Status int
	// Produces overrides the success content type (application/pdf, text/csv).
	Produces string
	// RateLimited: the route answers 429 with Retry-After to a caller that
	// tries too often (documented in /openapi.json); Limit sets it for the
	// engine's limiter (ratelimit.go).
	RateLimited bool
	Handler     echo.HandlerFunc
	// Limit rate-limits the route per client address and target (ratelimit.go).
	Limit Limit
}

// Handle registers op.
func (s *Server) Handle(op Op) {
	if op.Paged {
		op.Query = append(op.Query, pageQuery...)
	}
	limit := op.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	mw := []echo.MiddlewareFunc{bodyLimit(limit)}
	if op.Limit.Class != "" {
		mw = append(mw, s.rateLimit(op.Limit))
	}
	if len(op.Roles) > 0 {
		mw = append(mw, s.authenticate(op.Roles))
	}
	if op.Method == http.MethodGet {
		op.Query = append(slices.Clip(op.Query), Q("after", "A Gantry-Position a command answered: the read waits (at most 5 s, then 503 views_behind) until the views include it."))
	}
	mw = append(mw, checkQuery(op.Query))
	if op.Command {
		mw = append(mw, s.ifMatch, s.command(op))
	}
	if op.Method == http.MethodGet {
		mw = append(mw, s.readAfter)
	}
	s.echo.Add(op.Method, op.Path, op.Handler, mw...)
	s.ops = append(s.ops, op)
}

// requestContext gives each request an ID (X-Request-ID), command metadata
// for the event store, a structured log line without personal data (route
// template, not the URL), and a latency metric.
func (s *Server) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		rid := req.Header.Get(echo.HeaderXRequestID)
		if rid == "" || len(rid) > 100 {
			rid = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, rid)
		corr := req.Header.Get("X-Correlation-ID")
		if corr == "" || len(corr) > 100 {
			corr = rid
		}
		start := time.Now()
		ctx := commands.WithMetadata(req.Context(), es.Metadata{CorrelationID: corr, CausationID: rid})
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		st := c.Response().Status
		s.reqs.WithLabelValues(req.Method, c.Path(), strconv.Itoa(st)).Observe(time.Since(start).Seconds())
		lvl := slog.LevelInfo
		if st >= 500 {
			lvl = slog.LevelError
		}
		s.log.Log(req.Context(), lvl, "request", "method", req.Method, "route", c.Path(), "status", st,
			"ms", time.Since(start).Milliseconds(), "request_id", rid, "role", string(PrincipalOf(c).Role))
		return nil
	}
}

// Actor fills the event metadata's actor from the authenticated principal;
// handlers call it before running a command. Device comes from X-Device-ID.
func Actor(c echo.Context) context.Context {
	p := PrincipalOf(c)
	md := commands.MetadataFrom(c.Request().Context())
	md.Actor = es.Actor{Role: string(p.Role), ID: p.Subject, Store: p.Store, Device: c.Request().Header.Get("X-Device-ID")}
	if md.Actor.Role == "" {
		md.Actor.Role = "anonymous"
	}
	return commands.WithMetadata(c.Request().Context(), md)
}

func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in handler", "route", c.Path(), "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if s.down != nil && !errors.Is(err, es.ErrUnavailable) && s.down(err) {
		err = errors.Join(es.ErrUnavailable, err)
	}
	p := ProblemFor(err)
	if p.Status >= 500 && !errors.Is(err, es.ErrUnavailable) {
		s.log.Error("request failed", "route", c.Path(), "err", err.Error(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", "5")
	}
	if p.Code == errKeyBusy.Problem.Code {
		c.Response().Header().Set("Retry-After", "1")
	}
	if tm := (*TooManyRequests)(nil); errors.As(err, &tm) {
		c.Response().Header().Set("Retry-After", retryAfter(tm.Wait))
	}
	p.Type = problemType(p.Code)
	p.Instance = c.Request().URL.Path
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_ = jsonEncode(c.Response(), p)
}

// IfMatch returns the stream version the client expects (If-Match: "7", 7
// or W/"7"), or -1 when it sent none (or "*"). Handlers of commands that
// honour If-Match pass it as the command's explicit ExpectedVersion field.
func IfMatch(c echo.Context) (int64, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" || h == "*" {
		return -1, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return -1, BadRequest("bad_if_match", `If-Match must be the version from the ETag you read, e.g. "3".`)
	}
	return v, nil
}

// ifMatch refuses a malformed If-Match with 400 before anything runs (and
// before an Idempotency-Key is recorded). It passes nothing on: handlers
// read the version with IfMatch and give it to the command explicitly.
func (s *Server) ifMatch(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := IfMatch(c); err != nil {
			return err
		}
		return next(c)
	}
}

// SetVersion sets the ETag of a response to a stream version.
func SetVersion(c echo.Context, v int64) {
	c.Response().Header().Set("ETag", `"`+strconv.FormatInt(v, 10)+`"`)
}

func (s *Server) healthz(c echo.Context) error {
	ok, problems := s.health.Live()
	return s.healthAnswer(c, ok, problems)
}

func (s *Server) readyz(c echo.Context) error {
	ok, problems := s.health.Ready(c.Request().Context())
	return s.healthAnswer(c, ok, problems)
}

func (s *Server) healthAnswer(c echo.Context, ok bool, problems []string) error {
	body := map[string]any{"status": "ok"}
	st := http.StatusOK
	if !ok {
		body["status"], st = "unavailable", http.StatusServiceUnavailable
	}
	if len(problems) > 0 {
		body["problems"] = problems
	}
	return c.JSON(st, body)
}

// Bind decodes a JSON body strictly (unknown fields are refused) into v.
func Bind(c echo.Context, v any) error {
	return decodeStrict(c.Request().Body, v)
}
