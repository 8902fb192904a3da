package api

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// MaxDeviceID is the longest X-Device-ID accepted: the header reaches every
// event's metadata, so it is bounded (and printable ASCII).
const MaxDeviceID = 64

// securityHeaders sets, on every response (problems and 404s too):
//   - X-Content-Type-Options: nosniff (a PDF or JSON is never run as HTML);
//   - Referrer-Policy: no-referrer (download-link and verification URLs
//     carry secrets and must not leak to other sites);
//   - Content-Security-Policy for a JSON/PDF API: nothing may load, nobody
//     may frame it (X-Frame-Options: DENY for older browsers);
//   - Cache-Control: no-store by default: tokens, passcodes, PDFs and
//     personal views must not be kept by browsers or shared caches. Only
//     /openapi.json, which is public, may be cached.
//
// It also refuses an X-Device-ID that is too long or not printable ASCII
// with 400, before any handler can put it into an event.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy(c.Request().URL.Path))
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if c.Path() == "/openapi.json" {
			h.Set("Cache-Control", "public, max-age=300")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		if err := checkDeviceID(c.Request().Header.Get("X-Device-ID")); err != nil {
			return err
		}
		return next(c)
	}
}

// contentSecurityPolicy is strict for the JSON/PDF API (nothing may load)
// and, for the web pages (package web), allows this origin's own style
// sheet, script and forms, and the QR code as a data: image; no page may be
// framed anywhere.
func contentSecurityPolicy(path string) string {
	if strings.HasPrefix(path, "/v1/") || path == "/openapi.json" || path == "/healthz" || path == "/readyz" {
		return "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	}
	return "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

func checkDeviceID(v string) error {
	if len(v) > MaxDeviceID {
		return BadRequest("bad_device_id", "X-Device-ID must be at most "+strconv.Itoa(MaxDeviceID)+" characters.")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return BadRequest("bad_device_id", "X-Device-ID must be printable ASCII without spaces.")
		}
	}
	return nil
}
