package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpsHandler serves the operators' endpoints: /metrics, and /readyz and
// /healthz with their reasons (projector names, errors naming streams).
// It is meant for a separate listener on a private address
// (GANTRY_OPS_ADDR, default 127.0.0.1:9090), never the public one.
func (s *Server) OpsHandler() http.Handler { return s.opsEcho }

func (s *Server) newOps(metrics echo.HandlerFunc) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.GET("/metrics", metrics)
	e.GET("/readyz", s.readyz)
	e.GET("/healthz", s.healthz)
	return e
}

// publicHealthz and publicReadyz answer the status without the reasons.
func (s *Server) publicHealthz(c echo.Context) error {
	ok, _ := s.health.Live()
	return s.healthAnswer(c, ok, nil)
}

func (s *Server) publicReadyz(c echo.Context) error {
	ok, _ := s.health.Ready(c.Request().Context())
	return s.healthAnswer(c, ok, nil)
}
